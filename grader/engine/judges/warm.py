"""Judges kept ready between commands, so that a regrade does not wait for Python, PyTorch and
fastai to start again.

A judge that `fastgroup grade` starts runs in a process of its own (a session of its own, so the
terminal's Ctrl-C reaches only the grading process, which decides). When the command ends, the
judge waits up to FASTGROUP_WARM_S seconds (600 unless set; 0 turns this off) for the next
command with the same kit code, kit home, data, device, lane and settings: that command
connects to it over a Unix socket in a private folder, with a key only its user can read,
instead of starting one. Then it exits.

The judge never runs learner code; its sandbox does, and every command gets a fresh sandbox: as
one command leaves, the judge starts a new sandbox and lets it import while it waits, so nothing
a learner's code did in one command is there in the next. One command at a time uses a kept
judge (a lock); another at the same time starts its own, as without this. A judge killed for a
check that ran too long is gone; the next command starts a new one.
"""

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Client, Listener
from pathlib import Path

from grader.core.home import KIT_ROOT, kit_home
from grader.engine.keys import judge_key

IDLE_ENV = "FASTGROUP_WARM_S"
IDLE_DEFAULT = 600.0
BUDGET_ENV = "FASTGROUP_WARM_GB"
BUDGET_DEFAULT = 1.5
HOME_CHECK_S = 5.0  # how often a waiting judge looks for its kit home (deleted: it ends)
LAUNCH_LIMIT = 20.0  # seconds for a new judge process to listen (Python's own start)

def idle_seconds() -> float:
    """How long a judge waits for the next command; 0: judges end with their command (always on
    Windows, which has neither the Unix sockets nor the file locks this needs)."""
    if os.name != "posix":
        return 0.0
    try:
        return max(0.0, float(os.environ.get(IDLE_ENV, IDLE_DEFAULT)))
    except ValueError:
        return IDLE_DEFAULT


def folder_for(lane: str) -> Path | None:
    """The private folder of this user's kept judge of `lane` (made if missing): one judge per
    lane, whatever the settings; None where a private folder cannot be had (then the command
    starts a judge of its own)."""
    root = judges_root()
    try:
        for path in (root, root / lane):
            path.mkdir(mode=0o700, exist_ok=True)
            info = path.lstat()
            if info.st_uid != os.getuid() or info.st_mode & 0o077 or not path.is_dir() or path.is_symlink():
                return None  # someone else's, or open to others: not ours to trust
    except OSError:
        return None
    return root / lane


SANDBOX = "sandbox"  # the modules the kept judge's current sandbox imported first, comma-separated


def sandbox_of(folder: Path) -> tuple[str, ...]:
    try:
        return tuple(m for m in (folder / SANDBOX).read_text().split(",") if m)
    except OSError:
        return ()


def settings_of(folder: Path) -> str:
    try:
        return (folder / "settings").read_text()
    except OSError:
        return ""


def end(folder: Path) -> None:
    """End the judge waiting in `folder` (its lock is held): another command's settings replace it."""
    with contextlib.suppress(OSError, ValueError):
        pid = int((folder / "pid").read_text())
        if is_judge(folder, pid):
            kill(folder, pid)
        else:
            forget(folder, pid)


def kill(folder: Path, pid: int) -> None:
    """End judge `pid` of `folder` now (its lock is held) and clear what it leaves."""
    judge = Kept(pid)
    judge.kill()
    judge.join(5)
    forget(folder, pid)


def budget_gb() -> float:
    """FASTGROUP_WARM_GB: the memory all of a user's kept judges may hold together, sandboxes
    included (1.5 GB unless set: an 8 GB laptop keeps room for a browser and a notebook)."""
    try:
        return max(0.0, float(os.environ.get(BUDGET_ENV, BUDGET_DEFAULT)))
    except ValueError:
        return BUDGET_DEFAULT


def held() -> dict[int, tuple[Path, float]]:
    """Every kept judge of this user, waiting or working: pid -> (its folder, the GB it holds
    with its sandbox)."""
    from grader.core import cpu, memory

    found = {}
    for pid_file in judges_root().glob("*/pid"):
        with contextlib.suppress(OSError, ValueError):
            pid = int(pid_file.read_text())
            if is_judge(pid_file.parent, pid):
                found[pid] = (pid_file.parent, memory.resident_gb([pid, *cpu.descendants(pid)]))
    return found


def within_budget(me: int) -> bool:
    """End waiting judges, the largest first, until this user's kept judges hold no more than
    budget_gb() together; False when this one (between commands) must end too."""
    judges = held()
    total = sum(gb for _, gb in judges.values())
    for pid, (folder, gb) in sorted(judges.items(), key=lambda item: -item[1][1]):
        if total <= budget_gb():
            break
        if pid == me:  # this one holds the most of those left: it goes, the smaller ones stay
            return False
        lock = claim(folder)
        if lock is None:  # a command is using it
            continue
        with lock:
            kill(folder, pid)
        total -= gb
    return total <= budget_gb()


def judges_root() -> Path:
    return Path(tempfile.gettempdir()) / f"fastgroup-judges-{os.getuid()}"  # short: a socket's path is short


def stop_all() -> tuple[int, int]:
    """End the judges of this kit home that wait for a command: (ended, busy). A judge a command
    is using now is left alone."""
    ended = busy = 0
    for folder in sorted(judges_root().glob("*/")):
        try:
            pid = int((folder / "pid").read_text())
            mine = (folder / "home").read_text() == str(kit_home())
        except (OSError, ValueError):
            continue
        if not (mine and is_judge(folder, pid)):
            continue
        lock = claim(folder)
        if lock is None:
            busy += 1
            continue
        with lock:
            kill(folder, pid)
        ended += 1
    return ended, busy


def is_judge(folder: Path, pid: int) -> bool:
    """Whether `pid` is still the judge its folder names (not a process that got its number since)."""
    if Path("/proc/self").exists():
        try:
            return b"grader.engine.judges.warm" in Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False
    return socket_path(folder, pid).exists() and Kept(pid).is_alive()  # no /proc (macOS)


def absolute(data_spec: str) -> str:
    """A data folder as an absolute path (a kept judge outlives the folder it was started in)."""
    return data_spec if data_spec in ("embedded", "sample") else str(Path(data_spec).expanduser().resolve())


def claim(folder: Path):
    """The folder's lock, held while a command uses its judge; None when another command holds it."""
    import fcntl  # POSIX only: idle_seconds() keeps nothing elsewhere

    try:
        lock = open(folder / "lock", "a")  # noqa: SIM115  (held until the command lets it go)
    except OSError:
        return None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        return None
    return lock


class Kept:
    """A kept judge's process as the runner handles one: alive, killed, waited for."""

    def __init__(self, pid: int, child: subprocess.Popen | None = None):
        self.pid, self.child = pid, child

    def is_alive(self) -> bool:
        if self.child is not None:
            return self.child.poll() is None
        try:
            os.kill(self.pid, 0)
        except OSError:
            return False
        return True

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)

    def join(self, timeout: float) -> None:
        end = time.monotonic() + timeout
        while self.is_alive() and time.monotonic() < end:
            time.sleep(0.01)


def connect(folder: Path):
    """(connection, Kept) to the judge waiting in `folder`, or None when none waits there."""
    try:
        pid = int((folder / "pid").read_text())
        conn = Client(str(socket_path(folder, pid)), "AF_UNIX", authkey=(folder / "key").read_bytes())
    except (OSError, ValueError, EOFError):
        return None
    return conn, Kept(pid)


def launch(folder: Path, data_spec: str, device: str, warm: tuple[str, ...], nice: int) -> subprocess.Popen:
    """Start a judge in `folder`; `attach` connects to it once it listens. Its start-up goes on
    while the command does other work (its first message says when it is ready)."""
    with contextlib.suppress(OSError):
        (folder / "pid").unlink()  # a judge that is gone left it
    left = {p.name.removeprefix("scratch-").removesuffix(".sock") for p in [*folder.glob("*.sock"),
                                                                           *folder.glob("scratch-*")]}
    for pid in (int(p) for p in left if p.isdigit()):  # what a judge killed from outside left
        if not is_judge(folder, pid):
            forget(folder, pid)
    key = folder / "key"
    key.write_bytes(secrets.token_bytes(32))
    key.chmod(0o600)
    (folder / "home").write_text(str(kit_home()))  # whose judge: `fastgroup stop` ends a home's own
    (folder / "settings").write_text(judge_key(data_spec, device))
    (folder / SANDBOX).write_text(",".join(warm))
    with open(folder / "log", "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "grader.engine.judges.warm", str(folder), data_spec, device, str(nice), *warm],
            cwd=KIT_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(KIT_ROOT)}, start_new_session=True,
        )


def attach(folder: Path, child: subprocess.Popen):
    """(connection, Kept) to the judge just launched, or None if it never listened (killed then)."""
    end = time.monotonic() + LAUNCH_LIMIT
    while time.monotonic() < end and child.poll() is None:
        found = connect(folder) if (folder / "pid").exists() else None
        if found:
            return found[0], Kept(child.pid, child)
        time.sleep(0.01)
    child.kill()
    return None


def socket_path(folder: Path, pid: int) -> Path:
    return folder / f"{pid}.sock"


def scratch(folder: Path, pid: int) -> Path:
    """The judge's own scratch folder (data views, the sandbox's private folder, its stack dump)."""
    return folder / f"scratch-{pid}"


def forget(folder: Path, pid: int) -> None:
    """Judge `pid` is gone (killed, or idle long enough): its scratch folder goes, and its socket
    and pid file unless a newer judge's are there now."""
    with contextlib.suppress(OSError, ValueError):
        if int((folder / "pid").read_text()) == pid:
            (folder / "pid").unlink()
    with contextlib.suppress(OSError):
        socket_path(folder, pid).unlink()
    shutil.rmtree(scratch(folder, pid), ignore_errors=True)


def last_words(folder: Path) -> str:
    """The end of a judge's log, on one line (why it did not start)."""
    try:
        lines = (folder / "log").read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(lines[-3:])[-600:]


class Idle(Exception):
    """No command came within the judge's waiting time."""


WAITING = {"now": False}  # whether the judge is between commands (accept), where ending it loses nothing


def accept(listener: Listener, seconds: float):
    """The next command's connection, or raise Idle after `seconds` (or once the kit home is gone)."""

    def waited_enough(*_):
        raise Idle

    signal.signal(signal.SIGALRM, waited_enough)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    WAITING["now"] = True
    try:
        while True:
            with contextlib.suppress(OSError, EOFError):  # a client that failed the key, or left
                return listener.accept()
    finally:
        WAITING["now"] = False
        signal.setitimer(signal.ITIMER_REAL, 0)


def watch_home(home: Path) -> None:
    """End this judge, between commands, once its kit home is gone (deleted by its learner): its
    data and results went with it."""

    def look():
        while True:
            time.sleep(HOME_CHECK_S)
            if WAITING["now"] and not home.exists():
                os.kill(os.getpid(), signal.SIGALRM)  # accept() raises Idle: the usual way out
                return

    threading.Thread(target=look, daemon=True).start()


def main() -> None:
    """A kept judge: `python -m grader.engine.judges.warm FOLDER DATA DEVICE NICE [MODULE ...]`."""
    from grader.core import priority
    from grader.engine.judges import judge

    folder, data_spec, device, nice, *warm = sys.argv[1:]
    priority.lower_session(int(nice))  # a session of its own: its nice value counts beside the other judge's
    folder = Path(folder)
    listener = Listener(str(socket_path(folder, os.getpid())), "AF_UNIX", authkey=(folder / "key").read_bytes())
    told = folder / f"pid.{os.getpid()}"
    told.write_text(str(os.getpid()))
    os.replace(told, folder / "pid")  # a reader never sees half a number
    try:
        conn = accept(listener, max(60.0, idle_seconds()))  # the command that started it
    except Idle:  # it is gone
        listener.close()
        forget(folder, os.getpid())
        return
    own = scratch(folder, os.getpid())
    own.mkdir(mode=0o700, exist_ok=True)
    opening = judge.begin(data_spec, device, tuple(warm), str(own), int(nice))
    watch_home(kit_home())
    try:
        while opening[0] == "ready":
            with contextlib.suppress(OSError):
                conn.send(opening)
                judge.handle(conn)
            conn.close()
            (folder / SANDBOX).write_text(",".join(judge.STATE["observer"].warm))
            judge.fresh_sandbox()  # with the modules the last command wanted (runner.Judge.wait_ready)
            if judge.opened()[0] != "ready" or not within_budget(os.getpid()):  # its new sandbox counted too
                break
            conn = accept(listener, idle_seconds())
            opening = judge.opened()
        with contextlib.suppress(OSError):
            conn.send(opening)  # why it did not start
    except Idle:
        pass
    finally:
        listener.close()  # removes its socket
        if "observer" in judge.STATE:
            judge.STATE["observer"].stop()
        forget(folder, os.getpid())
        judge.finish()


if __name__ == "__main__":
    main()
