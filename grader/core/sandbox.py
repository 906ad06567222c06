"""Run untrusted code (a learner's) where it cannot reach what matters: the one sandbox of the kit.

On Linux with bubblewrap (`bwrap`): the process sees the system read-only, a private working
folder, an empty /tmp, no network (`--unshare-net`), its own PID namespace (every process it
starts dies with it), a new session, and an environment built from nothing. The kit home, the
reference solutions and the user's home folder are not visible at all (the Python installation
is mounted back, read-only, where it lives under the home folder). Resource limits are set hard
(soft = hard, so the code cannot raise them): address space, CPU seconds, file size, open files.
Output is read from the file descriptors and capped, so `os.write(1, ...)` cannot flood anything.

Without bubblewrap (macOS, Windows, a container without user namespaces) the fallback is a
separate process group with the same hard limits where the OS has them, a scrubbed
environment, and a kill of the whole group at the end; `isolation()` says which one is in use,
and the caller says once, in one line, that grading is then not isolated.
"""

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

try:
    import resource
except ImportError:  # Windows
    resource = None

from grader.core.home import KIT_ROOT

GIB = 1024**3
NOT_ISOLATED = "grading is not isolated here (bubblewrap is missing): learner code runs with your permissions"


@dataclass(frozen=True)
class Limits:
    """Hard resource limits of a sandboxed process (and everything it starts)."""

    memory_bytes: int = 4 * GIB  # address space; FASTGROUP_SANDBOX_MEMORY_GB changes it
    cpu_seconds: int = 900
    file_bytes: int = 256 * 1024**2
    open_files: int = 512
    processes: int = 256  # RLIMIT_NPROC: counted per user, so it binds an ordinary user, not root
    output_bytes: int = 200_000  # what is kept of stdout and stderr together


@dataclass
class Finished:
    """How a sandboxed run ended."""

    returncode: int
    output: bytes  # stdout and stderr together, capped
    dropped: int = 0  # bytes of output beyond the cap, read and thrown away
    timed_out: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def default_limits() -> Limits:
    try:
        gb = float(os.environ.get("FASTGROUP_SANDBOX_MEMORY_GB", "4"))
    except ValueError:
        gb = 4.0
    return Limits(memory_bytes=int(gb * GIB))


@functools.cache
def isolation() -> str:
    """'bubblewrap' when bwrap runs here, else 'process group' (the weaker fallback)."""
    if os.environ.get("FASTGROUP_SANDBOX") == "off" or sys.platform != "linux":
        return "process group"
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return "process group"
    probe = subprocess.run(
        [bwrap, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"],
        capture_output=True,
        timeout=30,
    )
    return "bubblewrap" if probe.returncode == 0 else "process group"


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """An environment built from nothing: no tokens, no database URLs, no proxies."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "MPLBACKEND": "Agg",
    }
    env.update(extra or {})
    return env


def hidden_paths() -> list[Path]:
    """What learner code must never see: the kit home, the references (and the git history
    that holds them), the user's home."""
    home = Path.home()
    kit_home = Path(os.environ.get("FASTGROUP_HOME") or home / ".fastgroup").expanduser()
    paths = [home, kit_home, KIT_ROOT / "solutions", *git_dirs()]
    return [p.resolve() for p in paths if p.exists()]


def git_dirs() -> list[Path]:
    """The kit's git folder (its history holds the solutions); for a worktree, whose .git is a
    file naming its folder, that folder's shared repository too."""
    dot_git = KIT_ROOT / ".git"
    if dot_git.is_file():
        text = dot_git.read_text(errors="replace").strip()
        if text.startswith("gitdir:"):
            gitdir = (KIT_ROOT / text.removeprefix("gitdir:").strip()).resolve()
            common = gitdir / "commondir"
            shared = (gitdir / common.read_text().strip()).resolve() if common.exists() else gitdir
            return [dot_git, gitdir, shared]
    return [dot_git]


def hidden_args(path: Path) -> list[str]:
    """bubblewrap arguments that make `path` invisible: an empty folder, or an empty file."""
    return ["--tmpfs", str(path)] if path.is_dir() else ["--ro-bind", "/dev/null", str(path)]


def python_paths() -> list[Path]:
    """Where this Python and its packages live: mounted back (read-only) inside a hidden home."""
    candidates = {Path(sys.base_prefix), Path(sys.prefix), Path(sys.executable).resolve().parent}
    candidates |= {Path(p) for p in sys.path if p and Path(p).is_dir()}
    candidates.add(KIT_ROOT / "grader")
    return sorted(p.resolve() for p in candidates if p.exists())


def gpu_devices() -> list[Path]:
    """NVIDIA's device files: CUDA inside the sandbox needs them (and nothing else of /dev)."""
    return sorted(Path("/dev").glob("nvidia*"))


def bwrap_argv(
    argv: list[str], workdir: Path, env: dict[str, str], binds: tuple[Path, ...] = (), hide: tuple[Path, ...] = ()
) -> list[str]:
    """The bubblewrap command line that runs `argv` in `workdir` with nothing else writable."""
    out = [shutil.which("bwrap") or "bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for device in gpu_devices():
        out += ["--dev-bind", str(device), str(device)]
    out += ["--tmpfs", "/tmp"]
    hidden = hidden_paths() + [p.resolve() for p in hide if p.exists()]
    for path in hidden:
        out += hidden_args(path)
    for path in python_paths():  # Python and its packages, back on top of a hidden home, read-only
        out += ["--ro-bind", str(path), str(path)]
    for path in binds:  # read-only data the code may read (the digits)
        out += ["--ro-bind", str(path), str(path)]
    for path in hidden[1:]:  # hidden again, in case a bind above showed them (never the home: Python lives there)
        out += hidden_args(path)
    out += ["--bind", str(workdir), str(workdir), "--chdir", str(workdir)]
    out += ["--unshare-all", "--die-with-parent", "--new-session", "--clearenv"]
    for key, value in env.items():
        out += ["--setenv", key, value]
    return out + ["--", *argv]


def die_with_parent() -> None:
    """Linux: the child gets SIGKILL when the process that started it dies (the fallback's
    stand-in for bubblewrap's --die-with-parent)."""
    if sys.platform != "linux":
        return
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _limit(limits: Limits):
    """Set in the child before exec: hard limits (soft = hard), inherited by all it starts."""

    def apply():
        die_with_parent()
        if resource is None:
            return
        for name, value in (
            ("RLIMIT_AS", limits.memory_bytes),
            ("RLIMIT_CPU", limits.cpu_seconds),
            ("RLIMIT_FSIZE", limits.file_bytes),
            ("RLIMIT_NOFILE", limits.open_files),
            ("RLIMIT_NPROC", limits.processes),
            ("RLIMIT_CORE", 0),
        ):
            kind = getattr(resource, name, None)
            if kind is not None:
                with contextlib.suppress(ValueError, OSError):
                    resource.setrlimit(kind, (value, value))

    return apply


def start(
    argv: list[str],
    workdir: Path,
    *,
    limits: Limits | None = None,
    env: dict[str, str] | None = None,
    binds: tuple[Path, ...] = (),
    pass_fds: tuple[int, ...] = (),
    stdin=subprocess.DEVNULL,
    hide: tuple[Path, ...] = (),
) -> subprocess.Popen:
    """Start `argv` sandboxed; its stdout and stderr come back on one pipe (read it capped).
    `binds` are shown read-only, `hide` hidden on top of what is always hidden."""
    limits = limits or default_limits()
    env = clean_env(env)
    if isolation() == "bubblewrap":
        argv = bwrap_argv(argv, Path(workdir), env, binds, hide)
    return subprocess.Popen(
        argv,
        cwd=workdir,
        env=env,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        pass_fds=pass_fds,
        start_new_session=True,  # one process group: the fallback kills it whole
        preexec_fn=_limit(limits),  # noqa: PLW1509  (no threads are started before exec)
    )


class CappedReader(threading.Thread):
    """Drains a pipe: keeps the first `cap` bytes, reads and counts the rest (so no writer blocks)."""

    def __init__(self, pipe, cap: int):
        super().__init__(daemon=True)
        self.pipe, self.cap = pipe, cap
        self.kept = bytearray()
        self.dropped = 0

    def run(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            while chunk := self.pipe.read1(65536) if hasattr(self.pipe, "read1") else self.pipe.read(65536):
                room = self.cap - len(self.kept)
                self.kept += chunk[: max(room, 0)]
                self.dropped += max(0, len(chunk) - max(room, 0))


def stop(proc: subprocess.Popen) -> None:
    """Kill the sandboxed process and everything it started; never raises."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(10)


def run(
    argv: list[str],
    workdir: Path,
    *,
    input: bytes = b"",
    timeout: float = 60.0,
    limits: Limits | None = None,
    env: dict[str, str] | None = None,
    binds: tuple[Path, ...] = (),
) -> Finished:
    """Run `argv` sandboxed to the end (or the timeout); never raises for what the code does."""
    limits = limits or default_limits()
    started = time.monotonic()
    proc = start(argv, workdir, limits=limits, env=env, binds=binds, stdin=subprocess.PIPE)
    reader = CappedReader(proc.stdout, limits.output_bytes)
    reader.start()
    timed_out = False
    try:
        with contextlib.suppress(BrokenPipeError, OSError):
            proc.stdin.write(input)
            proc.stdin.close()
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        stop(proc)
    reader.join(5)
    return Finished(
        returncode=proc.returncode,
        output=bytes(reader.kept),
        dropped=reader.dropped,
        timed_out=timed_out,
        seconds=time.monotonic() - started,
    )
