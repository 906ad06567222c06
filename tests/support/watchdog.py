"""The test session's watchdog (tests/support/reaper.py starts it): `python -S watchdog.py PID TOKEN`.

It waits for pytest (PID) to end: told so (its stdin, a pipe whose only writer is pytest, reads
EOF) or gone (a pidfd). Then it stops every process whose environment carries the session's mark
(FASTGROUP_TEST_SESSION=TOKEN): SIGTERM, then SIGKILL for what is left GRACE_S later, and prints
what it stopped. Standard library only, so it starts at once. Linux: it reads /proc.
"""

import contextlib
import os
import select
import signal
import sys
import time

MARK = "FASTGROUP_TEST_SESSION"
GRACE_S = 2.0


def marked(token: str) -> list[int]:
    """The live processes whose environment carries this session's mark (other users' are unreadable)."""
    needle, me, found = f"{MARK}={token}".encode(), os.getpid(), []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as environ:  # a zombie's reads empty
                if needle in environ.read().split(b"\0"):
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().replace(b"\0", b" ").decode(errors="replace").strip()[:160]
    except OSError:
        return "?"


def stop_marked(token: str) -> list[str]:
    """SIGTERM to every marked process, SIGKILL to what is still there GRACE_S later (or forked
    meanwhile); the command lines of what was running."""
    left = marked(token)
    named = [f"{pid} {command_line(pid)}" for pid in left]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        deadline = time.monotonic() + GRACE_S
        while left and time.monotonic() < deadline:
            time.sleep(0.05)
            left = marked(token)
    return named


def wait_for_pytest(pytest_pid: int) -> None:
    lifeline = sys.stdin.fileno()
    waits = [lifeline]
    pidfd = None
    with contextlib.suppress(AttributeError, OSError):  # pidfd_open: Linux 5.3, Python 3.9
        pidfd = os.pidfd_open(pytest_pid)
        waits.append(pidfd)
    while True:
        ready, _, _ = select.select(waits, [], [], 1.0)
        if pidfd is not None and pidfd in ready:
            return
        if lifeline in ready and not os.read(lifeline, 4096):
            return
        if pidfd is None and not os.path.exists(f"/proc/{pytest_pid}"):
            return


def main(pytest_pid: int, token: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    wait_for_pytest(pytest_pid)
    if not os.path.isdir("/proc"):
        return  # not Linux: die_with_pytest and the tests' own cleanup are all there is
    named = stop_marked(token)
    if named:
        with contextlib.suppress(OSError):  # pytest was killed: no one reads this
            print(f"fastgroup tests: {len(named)} process(es) that tests left running were stopped:")
            print("\n".join(f"  {line}" for line in named), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
