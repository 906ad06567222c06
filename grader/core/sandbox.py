"""Run untrusted code (a learner's) where it cannot reach what matters: the one sandbox of the kit.

On Linux with bubblewrap (`bwrap`) the process sees only what is bound by name, read-only: the
system's programs and libraries (/usr and its links), a few files of /etc, this Python, its
packages and the kit's own code, and the data it is given. Nothing else of the host exists in
there: no /home, no kit home, no reference solutions, no /run or /var (so no socket file of the
host), no network (`--unshare-net`, which also cuts abstract sockets). Its /tmp, /dev/shm and
working folder are empty size-capped tmpfs, so a flood fills RAM up to the cap and never the
host's disk. It has its own PID namespace (every process it starts dies with it), a new
session and an environment built from nothing.

It runs as an unprivileged uid and gid (65534) with every capability dropped and no_new_privs,
whoever starts it. A user's bubblewrap maps 65534 onto that user; root's would keep every
capability and the host's uid 0, so as root the kit makes the user namespace itself, mapping
65534 onto the host's 65534, and `setpriv` drops to it before the learner's code starts: the
process-count limit (RLIMIT_NPROC, which never binds uid 0) binds, and no file of root's is the
sandbox's own; where cgroup v1's pids controller is writable (root), each sandbox also gets a
pids cgroup of its own with the same cap, threads counted. Resource limits are hard (soft =
hard, so the code cannot raise them): address space, CPU seconds, file size, open files,
processes. Output is read from the file descriptors and capped, so `os.write(1, ...)` cannot
flood anything.

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
import site
import subprocess
import sys
import tempfile
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
MIB = 1024**2
NOT_ISOLATED = "grading is not isolated here (bubblewrap is missing): learner code runs with your permissions"
SANDBOX_UID = SANDBOX_GID = 65534  # "nobody": owns nothing of the host's
MEMORY_GB = 8.0  # the address-space cap of a grading sandbox unless FASTGROUP_SANDBOX_MEMORY_GB says otherwise
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("passwd", "group", "nsswitch.conf", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime",
             "alternatives", "fonts", "ssl/certs")  # what Python, the loader and fontconfig read; no secret
SYSTEM_INFO = ("/sys/devices/system/cpu", "/sys/devices/system/node")  # core counts for OpenMP and CUDA
PIDS_CGROUP = Path("/sys/fs/cgroup/pids")  # cgroup v1's pids controller: where root may give each sandbox one


@dataclass(frozen=True)
class Limits:
    """Hard resource limits of a sandboxed process (and everything it starts)."""

    memory_bytes: int = int(MEMORY_GB * GIB)  # address space
    cpu_seconds: int = 900
    file_bytes: int = 256 * MIB
    open_files: int = 512
    processes: int = 256  # RLIMIT_NPROC: the sandbox's uid is never 0, so it binds
    output_bytes: int = 200_000  # what is kept of stdout and stderr together
    work_bytes: int = 128 * MIB  # the working folder (a tmpfs in RAM): a flood past it fails with ENOSPC
    tmp_bytes: int = 64 * MIB  # /tmp and /dev/shm, each


@dataclass
class Finished:
    """How a sandboxed run ended."""

    returncode: int
    output: bytes  # stdout and stderr together, capped
    dropped: int = 0  # bytes of output beyond the cap, read and thrown away
    timed_out: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def memory_gb() -> float:
    """The address-space cap in GiB: FASTGROUP_SANDBOX_MEMORY_GB, else 8 (fastai with ResNet-18
    maps about 4.4 GB)."""
    try:
        return float(os.environ.get("FASTGROUP_SANDBOX_MEMORY_GB", MEMORY_GB))
    except ValueError:
        return MEMORY_GB


def default_limits() -> Limits:
    return Limits(memory_bytes=int(memory_gb() * GIB))


@functools.cache
def isolation() -> str:
    """'bubblewrap' when bwrap runs here, else 'process group' (the weaker fallback)."""
    if os.environ.get("FASTGROUP_SANDBOX") == "off" or sys.platform != "linux" or not shutil.which("bwrap"):
        return "process group"
    with tempfile.TemporaryDirectory(prefix="fastgroup-probe-") as folder:
        try:
            with user_namespace() as userns:
                probe = subprocess.run(bwrap_argv(["true"], Path(folder), clean_env(), userns=userns),
                                       capture_output=True, timeout=30, pass_fds=tuple(fds(userns)))
        except (OSError, subprocess.TimeoutExpired):
            return "process group"
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
    """What learner code must never see, should a bound folder hold it: the kit home, the
    references (and the git history that holds them), the user's home."""
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


def kit_code() -> list[Path]:
    """The kit's own packages (never its root: that holds solutions/, exercises/ and the board)."""
    return [KIT_ROOT / name for name in ("grader", "quiz") if (KIT_ROOT / name).is_dir()]


def python_paths() -> list[Path]:
    """Where this Python and its packages live, and the kit's code: bound read-only by name. A
    folder on sys.path outside the prefixes (a script's own folder, the current one) is not."""
    prefixes = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), Path(sys.executable).resolve().parent}
    candidates = prefixes | {Path(p).resolve() for p in site.getsitepackages() if Path(p).is_dir()}
    candidates |= {Path(p).resolve() for p in sys.path if p and Path(p).is_dir() and under(Path(p).resolve(), prefixes)}
    candidates = {p for p in candidates if p.exists()}
    candidates.discard(KIT_ROOT.resolve())
    candidates |= {p.resolve() for p in kit_code()}
    return sorted(p for p in candidates if not any(q != p and q in p.parents for q in candidates))


def system_paths() -> list[Path]:
    """The system's programs, libraries and the few files of /etc they read."""
    found = [Path(d) for d in SYSTEM_DIRS if os.path.lexists(d)]
    found += [Path("/etc") / name for name in ETC_FILES if os.path.exists(Path("/etc") / name)]
    return found + [Path(d) for d in SYSTEM_INFO if os.path.isdir(d)]


def gpu_devices() -> list[Path]:
    """NVIDIA's device files: CUDA inside the sandbox needs them (and nothing else of /dev)."""
    return sorted(Path("/dev").glob("nvidia*"))


def under(path: Path, folders: list[Path]) -> bool:
    return any(path == f or f in path.parents for f in folders)


def bind_args(path: Path) -> list[str]:
    """Show `path` read-only at the same place; a symbolic link (merged /usr: /bin -> usr/bin)
    is made again as a link."""
    if path.is_symlink() and path.parent == Path("/"):
        return ["--symlink", os.readlink(path), str(path)]
    return ["--ro-bind", str(path), str(path)]


def bwrap_argv(
    argv: list[str], workdir: Path, env: dict[str, str], binds: tuple[Path, ...] = (), hide: tuple[Path, ...] = (),
    limits: Limits | None = None, files: dict[str, Path] | None = None, userns: int | None = None,
) -> list[str]:
    """The bubblewrap command line that runs `argv` in `workdir` (an empty tmpfs, with `files`
    shown read-only in it) seeing only what is bound by name; as root, inside the user namespace
    `userns` (see `user_namespace`)."""
    limits = limits or default_limits()
    out = [shutil.which("bwrap") or "bwrap", *identity_args(userns)]
    out += ["--proc", "/proc", "--dev", "/dev"]
    for device in gpu_devices():
        out += ["--dev-bind", str(device), str(device)]
    out += ["--size", str(limits.tmp_bytes), "--perms", "1777", "--tmpfs", "/dev/shm", "--remount-ro", "/dev"]
    out += ["--size", str(limits.tmp_bytes), "--perms", "1777", "--tmpfs", "/tmp"]
    out += ["--size", str(MIB), "--tmpfs", "/run", "--remount-ro", "/run", "--symlink", "../run", "/var/run"]
    shown = [*system_paths(), *python_paths(), *(Path(p).resolve() for p in binds if Path(p).exists())]
    for folder in sorted({a for p in shown for a in p.parents if a != Path("/") and not under(a, shown)}):
        out += ["--perms", "0755", "--dir", str(folder)]  # bwrap would copy a 0700 /root: no way through
    for path in shown:
        out += bind_args(path)
    folders = [p for p in shown if not p.is_symlink()]
    for path in hidden_paths() + [p.resolve() for p in hide if p.exists()]:
        if under(path, folders) and not any(path in p.parents for p in folders):
            out += hidden_args(path)
    out += ["--size", str(limits.work_bytes), "--perms", "0777", "--tmpfs", str(workdir)]
    for name, source in (files or {}).items():
        target = workdir / name
        for parent in reversed(target.relative_to(workdir).parents[:-1]):
            out += ["--perms", "0777", "--dir", str(workdir / parent)]
        out += ["--ro-bind", str(source), str(target)]
    out += ["--chdir", str(workdir)]
    out += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    out += ["--die-with-parent", "--new-session", "--clearenv"]
    for key, value in env.items():
        out += ["--setenv", key, value]
    return out + ["--", *drop_privileges(), *argv]


def as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def identity_args(userns: int | None) -> list[str]:
    """Who the sandbox is. A user's bwrap makes a user namespace mapping 65534 onto the user
    and drops every capability. Root's user namespace is made here (`user_namespace`): bwrap
    sets up inside it as root, then `drop_privileges` leaves root for good."""
    if userns is not None:
        return ["--userns", str(userns)]
    return ["--unshare-user", "--disable-userns", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_GID),
            "--cap-drop", "ALL"]


def drop_privileges() -> list[str]:
    """As root: the command that becomes 65534 with no capability, no groups and no way back
    (no_new_privs), run by bwrap just before the learner's program."""
    if not as_root():
        return []
    return [shutil.which("setpriv") or "/usr/bin/setpriv", f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_GID}",
            "--clear-groups", "--bounding-set=-all", "--inh-caps=-all", "--ambient-caps=-all", "--no-new-privs", "--"]


@contextlib.contextmanager
def user_namespace():
    """As root: a fresh user namespace, as an open descriptor bwrap joins (--userns), that maps
    root to root (bwrap mounts as root inside it) and 65534 to the host's 65534 (what the
    learner's code becomes). One per sandbox, so the process limit counts each on its own.
    Yields None when not root: the user's bwrap makes its own."""
    if not as_root():
        yield None
        return
    fd = new_user_namespace()
    try:
        yield fd
    finally:
        os.close(fd)


def new_user_namespace() -> int:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    clone_newuser = 0x10000000

    def unshare():
        if libc.unshare(clone_newuser) != 0:
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWUSER)")
        with contextlib.suppress(OSError):  # no user namespace inside it (bwrap's --disable-userns)
            Path("/proc/sys/user/max_user_namespaces").write_text("0")

    holder = subprocess.Popen([shutil.which("sleep") or "sleep", "30"], preexec_fn=unshare)  # noqa: PLW1509
    try:
        Path(f"/proc/{holder.pid}/uid_map").write_text(f"0 0 1\n{SANDBOX_UID} {SANDBOX_UID} 1\n")
        Path(f"/proc/{holder.pid}/gid_map").write_text(f"0 0 1\n{SANDBOX_GID} {SANDBOX_GID} 1\n")
        return os.open(f"/proc/{holder.pid}/ns/user", os.O_RDONLY)
    finally:
        holder.kill()
        holder.wait()


def fds(userns: int | None) -> list[int]:
    return [] if userns is None else [userns]


def die_with_parent() -> None:
    """Linux: the child gets SIGKILL when the process that started it dies (the fallback's
    stand-in for bubblewrap's --die-with-parent)."""
    if sys.platform != "linux":
        return
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def pids_group(limit: int) -> Path | None:
    """A pids cgroup of the sandbox's own, capped at `limit` tasks (threads count too), where
    this process may make one (root, with cgroup v1's pids controller); else None, and
    RLIMIT_NPROC binds alone."""
    if not (as_root() and os.access(PIDS_CGROUP, os.W_OK)):
        return None
    group = PIDS_CGROUP / f"fastgroup-{os.getpid()}-{time.monotonic_ns()}"
    try:
        group.mkdir()
        (group / "pids.max").write_text(str(limit))
    except OSError:
        with contextlib.suppress(OSError):
            group.rmdir()
        return None
    return group


def remove_group(group: Path | None) -> None:
    """Remove a sandbox's pids cgroup once its last task has gone: now, or from a thread that
    tries for a minute (a killed sandbox's processes are reaped a little after it ends)."""
    if group is None or _removed(group):
        return

    def retry():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _removed(group):
            time.sleep(0.2)

    threading.Thread(target=retry, daemon=True).start()


def _removed(group: Path) -> bool:
    try:
        group.rmdir()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


def _limit(limits: Limits, group: Path | None = None):
    """Set in the child before exec: hard limits (soft = hard), inherited by all it starts, and
    the pids cgroup, if there is one."""

    def apply():
        die_with_parent()
        if group is not None:
            with contextlib.suppress(OSError):
                (group / "cgroup.procs").write_text(str(os.getpid()))
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
    files: dict[str, Path] | None = None,
) -> subprocess.Popen:
    """Start `argv` sandboxed in `workdir`; its stdout and stderr come back on one pipe (read it
    capped). `binds` are shown read-only, `hide` hidden on top of what is always hidden, and
    `files` (relative name: host file) appear in the working folder. With bubblewrap the working
    folder inside is a fresh tmpfs: nothing the code writes reaches the host's `workdir`."""
    limits = limits or default_limits()
    env = clean_env(env)
    isolated = isolation() == "bubblewrap"
    if not isolated:
        for name, source in (files or {}).items():
            (Path(workdir) / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, Path(workdir) / name)
    group = pids_group(limits.processes) if isolated else None
    with user_namespace() if isolated else contextlib.nullcontext() as userns:
        if isolated:
            argv = bwrap_argv(argv, Path(workdir), env, binds, hide, limits, files, userns)
        proc = subprocess.Popen(
            argv,
            cwd=workdir,
            env=env,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(*pass_fds, *fds(userns)),
            start_new_session=True,  # one process group: the fallback kills it whole
            preexec_fn=_limit(limits, group),  # noqa: PLW1509  (no threads are started before exec)
        )
    proc.pids_group = group
    return proc


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
    remove_group(getattr(proc, "pids_group", None))


def run(
    argv: list[str],
    workdir: Path,
    *,
    input: bytes = b"",
    timeout: float = 60.0,
    limits: Limits | None = None,
    env: dict[str, str] | None = None,
    binds: tuple[Path, ...] = (),
    files: dict[str, Path] | None = None,
) -> Finished:
    """Run `argv` sandboxed to the end (or the timeout); never raises for what the code does."""
    limits = limits or default_limits()
    started = time.monotonic()
    proc = start(argv, workdir, limits=limits, env=env, binds=binds, stdin=subprocess.PIPE, files=files)
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
