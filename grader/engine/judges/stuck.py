"""Where a hung step was stopped: the line of the learner's code that was running.

The runner kills a judge whose check runs past its time limit; the learner's code runs in the
judge's sandboxed observer, which the kill takes with it. Just before that moment the observer
dumps its stack with faulthandler into a file of the judge's scratch folder, which it holds open
from its start (FD_ENV: the sandbox's own folders are not the host's): when the runner asks
(SIGNAL, sent as the code uses up its CPU seconds: `ask_for_stack`), and shortly before the
wall-clock backstop (`arm`). The runner reads it from there before the folder goes (`where`).
The dump is learner-controlled data: only a line number in the step's file is taken from it, the
source line comes from the learner's file outside the sandbox, and it only words a message that
was a failure anyway.
"""

import contextlib
import faulthandler
import os
import re
import signal
import time
from pathlib import Path

from grader.core import cpu

DUMP = "stack-when-stopped.txt"  # in the judge's scratch folder
FD_ENV = "FASTGROUP_STACK_FD"  # the observer's descriptor for it
AHEAD_S = 1.0  # the dump is written this long before the runner's deadline (a loaded machine is slow to it)
PATIENCE_S = 1.0  # how long the runner waits past its deadline for a dump not yet written
READ_LIMIT = 64 * 1024


def dump_path(scratch: Path) -> Path:
    return Path(scratch) / DUMP


KEPT: dict[str, int] = {}  # the judge's own descriptor of its current sandbox's dump


def open_dump(path: Path) -> int:
    """Judge side: a descriptor for the sandbox's stack dump. On Linux a sealed memory file of
    READ_LIMIT bytes that cannot grow (the learner's code holds it too, and could otherwise fill a
    disk), reached at `path` through a link to this process's descriptor; elsewhere a plain file."""
    path = Path(path)
    with contextlib.suppress(OSError):
        path.unlink()
    try:
        import fcntl

        fd = os.memfd_create("fastgroup-stack", os.MFD_ALLOW_SEALING | os.MFD_CLOEXEC)
        os.ftruncate(fd, READ_LIMIT)
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_GROW | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_SEAL)
        path.symlink_to(f"/proc/{os.getpid()}/fd/{fd}")
        return fd
    except (AttributeError, ImportError, OSError):
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)


def keep_dump(fd: int) -> None:
    """Judge side, once the sandbox holds its own copy: keep a memory file open (its link names this
    descriptor), close a plain file; the previous sandbox's goes."""
    previous = KEPT.pop("fd", None)
    if previous is not None and previous != fd:
        with contextlib.suppress(OSError):
            os.close(previous)
    try:
        memory_file = os.readlink(f"/proc/self/fd/{fd}").startswith("/memfd:")
    except OSError:
        memory_file = False
    if memory_file:
        KEPT["fd"] = fd
    else:
        os.close(fd)


def opened_dump():
    """Observer side: the dump file the judge opened for it, or None."""
    with contextlib.suppress(KeyError, ValueError, OSError):
        return os.fdopen(int(os.environ[FD_ENV]), "w")
    return None


SIGNAL = getattr(signal, "SIGUSR1", None)  # "dump your stack now" (not on Windows)


def listen(dump) -> None:
    """Observer side, before any learner code runs: dump every thread's stack into `dump` when the
    runner sends SIGNAL. Never raises (see arm)."""
    with contextlib.suppress(OSError, RuntimeError, ValueError, AttributeError):
        if dump is not None and SIGNAL is not None:
            faulthandler.register(SIGNAL, file=dump, all_threads=True)


def ask_for_stack(judge_pid: int) -> None:
    """Runner side: signal the judge's observer (its first descendant running the observer) to
    dump its stack; `where` then waits for the dump."""
    if SIGNAL is None:
        return
    for pid in cpu.descendants(judge_pid):
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[1:3] == [b"-m", b"grader.engine.judges.observer"]:
                os.kill(pid, SIGNAL)  # the interpreter itself, not bubblewrap, whose arguments end with the same
                return
        except OSError:
            continue


def arm(dump, stop_at: float) -> None:
    """Observer side: dump every thread's stack into `dump` (an open file) shortly before
    `stop_at` (time.monotonic(), shared by the processes of one machine), unless disarmed.
    Never raises: the learner's code may have closed the file or used up the threads (faulthandler
    starts one), and then the message only goes without its line."""
    with contextlib.suppress(OSError, RuntimeError, ValueError):
        if stop_at > 0:
            faulthandler.dump_traceback_later(max(0.05, stop_at - AHEAD_S - time.monotonic()), file=dump)


def disarm(dump) -> None:
    """The request ended: no timer, and no dump left behind (one written in its last second would
    name a line that is no longer running if the check then ran out of time in the judge)."""
    with contextlib.suppress(OSError, RuntimeError, ValueError):
        faulthandler.cancel_dump_traceback_later()
        dump.seek(0)
        dump.write("\0" * READ_LIMIT)  # a sealed memory file cannot shrink: blanked instead
        dump.flush()
        dump.seek(0)
        dump.truncate()  # a plain file (no memory files here) can


def where(scratch: str | Path | None, step: str, learner_file: Path) -> str:
    """Runner side: ' It was stopped at STEP.py, line N: `source`.' or '' when not known."""
    if not scratch:
        return ""
    give_up = time.monotonic() + PATIENCE_S
    while (number := _read(Path(scratch), step)) is None and time.monotonic() < give_up:
        time.sleep(0.05)
    if number is None:
        return ""
    return f" It was stopped at {learner_file.name}, line {number}{_source(learner_file, number)}."


def _read(scratch: Path, step: str) -> int | None:
    """The line number of the step file's most recent frame in a dump, if one was written."""
    frame = re.compile(rf'File "(?:[^"]*/)?{re.escape(step)}\.py", line (\d+)')
    try:
        with dump_path(scratch).open("rb") as f:
            text = f.read(READ_LIMIT).decode(errors="replace")
    except OSError:
        return None
    found = frame.search(text.split("\0", 1)[0])  # faulthandler lists the most recent call first
    return int(found.group(1)) if found else None


def _source(path: Path, number: int) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    if not 1 <= number <= len(lines):
        return ""
    line = lines[number - 1].strip()
    line = line if len(line) <= 100 else line[:97] + "..."
    return f": `{line}`" if line else ""
