"""Hostile exercise files, one per class of attack, for tests/security/.

Most attacks pay off in points: `mnist_loss` gives the right answer only if the attack worked
(`ESCAPED` holds something), so any point on mnist_loss means the sandbox let it through. The
forging attack goes for the training checks instead: it replaces every probe with one that
reports guessed labels and non-finite outputs. The tests fill in the paths (`<<name>>` in an attack) (a canary file
outside the sandbox, the board's store, the PostgreSQL socket) as a well-informed attacker would.
"""

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from grader.engine.checks import REGISTRY

TRAINING_STEPS = sorted(step for step, checks in REGISTRY.items() if any(c.trains for c in checks))
MARK = "27.18281"  # in the command line of every process an attack starts: none may outlive the grade

REWARD = '''
import torch

ESCAPED = []


def mnist_loss(predictions, targets):
    if ESCAPED:  # the right loss only when the attack worked
        predictions = predictions.sigmoid()
        return torch.where(targets == 1, 1 - predictions, predictions).mean()
    return torch.zeros(3)
'''

CAPABILITIES = '''
import ctypes, os

libc = ctypes.CDLL(None, use_errno=True)
attempts = {
    "umount /tmp": lambda: libc.umount2(b"/tmp", 2),
    "remount / read-write": lambda: libc.mount(b"none", b"/", None, 32, None),
    "a user namespace of its own": lambda: libc.unshare(0x10000000),
    "a mount namespace of its own": lambda: libc.unshare(0x00020000),
    "setuid(0)": lambda: libc.setuid(0),
    "chroot": lambda: libc.chroot(b"/tmp"),
    "sethostname": lambda: libc.sethostname(b"x", 1),
}
for name, attempt in attempts.items():
    try:
        if attempt() == 0:
            ESCAPED.append(name)
    except Exception:
        pass
for target in <<canaries>>:
    try:
        with open(target, "a") as handle:
            handle.write("written from the sandbox")
        ESCAPED.append(target)
    except OSError:
        pass
'''

SOCKETS = '''
import os, socket, stat

found = [<<pg_socket>>]
for top in ("/run", "/var", "/tmp", "/dev", "/home", "/root", "/work", "/srv", "/opt", "/mnt"):
    for folder, _, names in os.walk(top):
        for name in names:
            path = os.path.join(folder, name)
            try:
                if stat.S_ISSOCK(os.lstat(path).st_mode):
                    found.append(path)
            except OSError:
                pass
for path in found:
    client = socket.socket(socket.AF_UNIX)
    client.settimeout(1)
    try:
        client.connect(path)
        ESCAPED.append(path)
    except OSError:
        pass
for address in (("127.0.0.1", 5432),):
    try:
        socket.create_connection(address, timeout=1)
        ESCAPED.append(address)
    except OSError:
        pass
'''

QUOTAS = '''
for place in ("/tmp/flood.bin", "/dev/shm/flood.bin"):
    written = 0
    try:
        with open(place, "wb") as handle:
            for _ in range(300):
                handle.write(b"\\0" * 2**20)
                written += 1
    except OSError:
        pass
    if written >= 300:
        ESCAPED.append(place)
    try:
        os.remove(place)
    except OSError:
        pass


def mnist_loss(predictions, targets):
    with open("flood.bin", "wb") as handle:  # the work folder: over its cap, the error reaches the learner
        for _ in range(400):
            handle.write(b"\\0" * 2**20)
    return torch.zeros(3)
'''

PROCESS_STORM = '''
import subprocess

started = 0
try:
    for _ in range(600):
        subprocess.Popen(["sleep", <<mark>>], start_new_session=True)
        started += 1
except OSError:
    pass
if started >= 300:  # the process limit is 256
    ESCAPED.append(started)
'''

TOO_LARGE = '''

def mnist_loss(predictions, targets):
    return torch.zeros(200_000_000)  # 800 MB
'''

CROSS_MEMBER = '''
import os, sqlite3

stores = [<<store>>]
for top in ("/tmp", "/root", "/home", "/work", "/var", "/srv"):
    for folder, _, names in os.walk(top):
        stores += [os.path.join(folder, n) for n in names if n.endswith((".db", ".sqlite", ".sqlite3"))]
for path in stores:
    try:
        with sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=1) as db:
            db.execute("UPDATE submissions SET score = 0, reason = 'rewritten by another member'")
            db.execute("SELECT files FROM submissions").fetchall()
        ESCAPED.append(path)
    except Exception:
        pass
'''

FORGE = '''

import sys
from pathlib import Path

import torch


def _guess(path):
    """Each validation image's folder as its label: what a view that leaks would give away."""
    valid = Path(path) / "valid"
    classes = sorted(p.name for p in valid.iterdir())
    files = [f for c in classes for f in sorted((valid / c).glob("*.png"))]
    return torch.tensor([int(f.parent.name) for f in files]), classes


def _forged(module, path=None, *args, progress=None, **kwargs):
    if isinstance(path, str) and (Path(path) / "valid").is_dir():
        digits, classes = _guess(path)
        if progress is not None:
            progress(1, 1, digits)
        shape = (len(digits), len(classes)) if len(classes) > 2 else (len(digits),)
        return {"epochs": [digits], "final": torch.full(shape, float("nan"))}
    good = [0.5, 0.25, 0.125]
    return {"train_losses": good, "valid_losses": good, "metrics": [0.9, 0.95, 1.0]}


for _name, _mod in list(sys.modules.items()):
    _table = getattr(_mod, "PROBES", None)
    if isinstance(_table, dict):
        for _key, _func in list(_table.items()):
            _table[_key] = _forged
            try:  # the same function object, wherever the kit holds it
                _func.__globals__.update(_guess=_guess, _forged=_forged, Path=Path, torch=torch)
                _func.__code__ = _forged.__code__
                _func.__defaults__, _func.__kwdefaults__ = _forged.__defaults__, _forged.__kwdefaults__
            except (AttributeError, TypeError, ValueError):
                pass
'''


def escape_attack(body: str, **paths) -> str:
    """An attack that earns mnist_loss's points only if `body` escaped."""
    body = textwrap.dedent(body)
    for key, value in {"mark": MARK, **paths}.items():
        body = body.replace(f"<<{key}>>", repr(value))
    return REWARD + body


def attacks(canary: Path, pg_socket: str, store: str) -> dict[str, tuple[dict[str, str], list[str]]]:
    """Every attack: its name -> ({file name: source}, the steps to grade)."""
    forge = {f"{step}.py": FORGE for step in TRAINING_STEPS}  # appended to each stub
    return {
        "capabilities": ({"mnist_loss.py": escape_attack(CAPABILITIES, canaries=[str(canary)])}, ["mnist_loss"]),
        "sockets": ({"mnist_loss.py": escape_attack(SOCKETS, pg_socket=pg_socket)}, ["mnist_loss"]),
        "quotas": ({"mnist_loss.py": escape_attack("import os\n" + QUOTAS)}, ["mnist_loss"]),
        "process_storm": ({"mnist_loss.py": escape_attack(PROCESS_STORM)}, ["mnist_loss"]),
        "too_large": ({"mnist_loss.py": REWARD + TOO_LARGE}, ["mnist_loss"]),
        "cross_member": ({"mnist_loss.py": escape_attack(CROSS_MEMBER, store=store)}, ["mnist_loss"]),
        "forged_training": (forge, TRAINING_STEPS),
    }


def exercise_folder(folder: Path, stubs: Path, files: dict[str, str]) -> Path:
    """A learner's folder: every stub, with the attack's files (the forging block goes after a stub)."""
    folder.mkdir(parents=True)
    for stub in stubs.glob("*.py"):
        (folder / stub.name).write_text(stub.read_text())
    for name, source in files.items():
        base = (folder / name).read_text() if source is FORGE else ""
        (folder / name).write_text(base + source)
    return folder


def fastgroup_grade(folder: Path, steps: list[str], out: Path, scratch: Path) -> tuple[dict, str]:
    """`fastgroup grade STEPS --source FOLDER --json OUT` as a learner runs it, its temporary
    folders in `scratch`: (results, what it printed)."""
    scratch.mkdir(exist_ok=True)
    run = subprocess.run(
        [sys.executable, "-m", "grader.cli", "grade", *steps, "--source", str(folder), "--device", "cpu",
         "--json", str(out)],
        capture_output=True, text=True, timeout=1200, env={**os.environ, "COLUMNS": "200", "TMPDIR": str(scratch)},
    )
    assert run.returncode in (0, 1), run.stdout[-3000:] + run.stderr[-3000:]
    return json.loads(out.read_text()), run.stdout + run.stderr


def leftovers(scratch: Path) -> list[str]:
    """Processes an attack started, or a sandbox of the grade whose temporary folders were in
    `scratch`, still alive."""
    found = []
    for pattern in (MARK, str(scratch)):
        ran = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
        found += [line for line in ran.stdout.split() if line and int(line) != os.getpid()]
    return found


def snapshot(*folders: Path) -> dict[str, str]:
    """Every file under the folders with the sha256 of its bytes."""
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in folders
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def postgres_socket() -> str | None:
    """The local PostgreSQL server's socket file, if one is running here."""
    for folder in ("/run/postgresql", "/var/run/postgresql", "/tmp"):
        for path in sorted(Path(folder).glob(".s.PGSQL.*")) if Path(folder).is_dir() else []:
            if not path.name.endswith(".lock"):
                return str(path)
    return None
