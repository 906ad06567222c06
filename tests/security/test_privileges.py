"""Unprivileged inside, whoever starts it: as root (CI runs as root) and as a plain user.

One probe (standard library only) asks from inside the sandbox everything a privilege would
give: who it is, its capabilities, no_new_privs, the calls that need a capability (umount,
mount, unshare, setuid), the host's socket files (a real PostgreSQL socket among them), and how
many processes it may start. As root the test also creates a plain user (`useradd`) and runs the
same probe through the kit's sandbox from that user (`setpriv`).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from grader.core import sandbox
from tests.support.hostile import postgres_socket
from tests.support.kit import KIT_ROOT, need_service

PROBE = r'''
import ctypes, json, os, socket, stat, time

libc = ctypes.CDLL(None, use_errno=True)
seen = {"uid": os.getuid(), "gid": os.getgid(), "euid": os.geteuid(), "groups": os.getgroups()}
for line in open("/proc/self/status"):
    key, _, value = line.partition(":")
    if key in ("CapEff", "CapPrm", "CapBnd", "CapAmb", "NoNewPrivs"):
        seen[key] = value.strip()
calls = {
    "umount": lambda: libc.umount2(b"/tmp", 2),
    "mount": lambda: libc.mount(b"none", b"/", None, 32, None),
    "unshare-user": lambda: libc.unshare(0x10000000),
    "unshare-mount": lambda: libc.unshare(0x00020000),
    "setuid": lambda: libc.setuid(0),
}
seen["calls"] = {name: call() for name, call in calls.items()}
sockets = []
for top in ("/run", "/var", "/tmp", "/dev", "/root", "/home", "/work"):
    for folder, _, names in os.walk(top):
        for name in names:
            try:
                if stat.S_ISSOCK(os.lstat(os.path.join(folder, name)).st_mode):
                    sockets.append(os.path.join(folder, name))
            except OSError:
                pass
seen["sockets"] = sockets
client = socket.socket(socket.AF_UNIX)
try:
    client.connect(PG_SOCKET)
    seen["postgres"] = "connected"
except OSError as err:
    seen["postgres"] = err.strerror
children = []
try:
    for _ in range(400):
        pid = os.fork()
        if pid == 0:
            time.sleep(5)
            os._exit(0)
        children.append(pid)
except OSError:
    pass
seen["forks"] = len(children)
print("SEEN " + json.dumps(seen), flush=True)
'''


def probe_source(pg_socket: str) -> str:
    return PROBE.replace("PG_SOCKET", repr(pg_socket))


def assert_unprivileged(seen: dict, limits: sandbox.Limits) -> None:
    assert (seen["uid"], seen["gid"], seen["euid"]) == (sandbox.SANDBOX_UID, sandbox.SANDBOX_GID, sandbox.SANDBOX_UID)
    assert seen["groups"] in ([], [sandbox.SANDBOX_GID])
    assert all(int(seen[cap], 16) == 0 for cap in ("CapEff", "CapPrm", "CapBnd", "CapAmb")), seen
    assert seen["NoNewPrivs"] == "1"
    assert all(result != 0 for result in seen["calls"].values()), seen["calls"]
    assert seen["sockets"] == [] and seen["postgres"] != "connected"
    assert seen["forks"] < limits.processes


def seen_in(output: bytes) -> dict:
    lines = [line for line in output.decode(errors="replace").splitlines() if line.startswith("SEEN ")]
    assert lines, output.decode(errors="replace")[-2000:]
    return json.loads(lines[-1].removeprefix("SEEN "))


@pytest.fixture
def pg_socket():
    path = postgres_socket()
    if path is None:
        need_service("PostgreSQL", "no server socket in /run/postgresql (.ci/start-postgres.sh starts one)")
    return path


def test_whoever_runs_the_kit_the_sandbox_holds_no_privilege(bwrap, tmp_path, pg_socket):
    (tmp_path / "probe.py").write_text(probe_source(pg_socket))
    (tmp_path / "work").mkdir()
    done = sandbox.run([sys.executable, "probe.py"], tmp_path / "work", timeout=120,
                       files={"probe.py": tmp_path / "probe.py"})
    assert_unprivileged(seen_in(done.output), sandbox.default_limits())


def a_plain_user() -> tuple[int, int]:
    """A user with no privilege and no home (made once with useradd)."""
    name = "fastgroup-probe"
    if subprocess.run(["id", "-u", name], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                       check=True, capture_output=True)
    ids = [int(subprocess.run(["id", flag, name], capture_output=True, text=True, check=True).stdout)
           for flag in ("-u", "-g")]
    return ids[0], ids[1]


def as_user(uid: int, gid: int, argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    setpriv = [shutil.which("setpriv") or "/usr/bin/setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
               "--inh-caps=-all", "--bounding-set=-all"]
    return subprocess.run([*setpriv, *argv], capture_output=True, timeout=180,
                          env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/nonexistent"}, **kwargs)


def test_as_a_plain_user_the_sandbox_holds_no_privilege_either(bwrap, pg_socket):
    if os.geteuid() != 0:
        pytest.skip("this run is already a plain user's: the test above is that case")
    if not (shutil.which("useradd") and shutil.which("setpriv")):
        need_service("useradd and setpriv", "install passwd and util-linux")
    uid, gid = a_plain_user()
    python = next((p for p in ("/usr/bin/python3", sys.executable) if Path(p).exists()
                   and as_user(uid, gid, [p, "-c", "pass"]).returncode == 0), None)
    if python is None:
        need_service("a Python a plain user may run", f"{sys.executable} is not readable by other users")
    folder = Path(tempfile.mkdtemp(prefix="fastgroup-as-user-"))
    try:
        # The sandbox and what it imports are standard library only: a copy the user may read.
        for name in ("grader/__init__.py", "grader/core/__init__.py", "grader/core/version.py", "grader/core/home.py",
                         "grader/core/sandbox.py"):
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(KIT_ROOT / name, folder / name)
        (folder / "probe.py").write_text(probe_source(pg_socket))
        (folder / "run.py").write_text(
            "import sys, tempfile\nfrom pathlib import Path\n"
            f"sys.path.insert(0, {str(folder)!r})\n"
            "from grader.core import sandbox\n"
            "print('ISOLATION', sandbox.isolation())\n"
            "work = Path(tempfile.mkdtemp())\n"
            f"done = sandbox.run([sys.executable, 'probe.py'], work, timeout=120, files={{'probe.py': Path({str(folder / 'probe.py')!r})}})\n"  # noqa: E501
            "sys.stdout.write(done.output.decode(errors='replace'))\n"
        )
        for path in (folder, *folder.rglob("*")):
            path.chmod(0o755 if path.is_dir() else 0o644)
        ran = as_user(uid, gid, [python, str(folder / "run.py")], cwd=folder)
        assert ran.returncode == 0, ran.stderr.decode(errors="replace")[-2000:]
        assert b"ISOLATION bubblewrap" in ran.stdout, ran.stdout.decode(errors="replace")[-2000:]
        assert_unprivileged(seen_in(ran.stdout), sandbox.default_limits())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
