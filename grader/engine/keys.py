"""Every key the kit keeps something under, in one place: what decides a kept result, a kept run
of the kit's own code, the checks' list and a kept judge. A key covers all that decides what it
keeps, so nothing kept is ever stale: change one input and the key changes with it.
"""

import functools
import hashlib
import os
import sys
from pathlib import Path

from grader.core.home import KIT_ROOT, kit_home
from grader.core.steps import STEPS
from grader.engine.settings import Settings

ENGINE = Path(__file__).parent
CORE = ENGINE.parent / "core"
MANIFEST = CORE / "steps.toml"
# what a judge and its sandbox read from the environment as they start
JUDGE_ENV = ("FASTGROUP_SANDBOX", "FASTGROUP_SANDBOX_MEMORY_GB", "FASTGROUP_DATA_CACHE", "FASTGROUP_SAMPLE_URL",
             "OMP_NUM_THREADS", "MKL_NUM_THREADS", "CUDA_VISIBLE_DEVICES", "PATH", "HOME", "XDG_CACHE_HOME",
             "MPLCONFIGDIR")


def digest(parts: list[str], length: int) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:length]


@functools.lru_cache(maxsize=1)
def kit_key() -> str:
    """The kit's grading code and facts: every engine and core module, the manifest, the
    calibration and the reference solutions, with the kit's version."""
    from grader.core.version import __version__

    h = hashlib.sha256(__version__.encode())
    files = [*ENGINE.rglob("*.py"), *ENGINE.rglob("*.json"), *CORE.rglob("*.py"), *CORE.glob("*.toml"),
             *(KIT_ROOT / "solutions").glob("*.py")]
    for file in sorted(files):
        h.update(f"{file.relative_to(KIT_ROOT)}\0".encode() + file.read_bytes())
    return h.hexdigest()[:16]


@functools.lru_cache(maxsize=8)
def folder_key(path: Path) -> str:
    """A data folder's content, cheaply: its file names and sizes (read once per judge: a folder
    of 5,000 digits takes a tenth of a second to list)."""
    h = hashlib.sha256(str(path.resolve()).encode())
    for f in sorted(path.rglob("*.png")):
        h.update(f"{f.relative_to(path)}:{f.stat().st_size}".encode())
    return h.hexdigest()[:16]


def data_key(data: str) -> str:
    """The data as named (embedded, sample), or a folder's content."""
    path = Path(data)
    return folder_key(path) if data not in ("embedded", "sample") and path.is_dir() else data


def result_key(step: str, code: str, wanted: Settings) -> str:
    """A step's kept result (reuse.py): its code's fingerprint, the kit, the data and the settings."""
    return digest([step, code, kit_key(), data_key(wanted.data), str(wanted.seed), wanted.device,
                   str(wanted.quick)], 24)


def run_code_files() -> list[Path]:
    """Every file whose code shapes a kit run: the checks with their recipes beside them, the
    parts the recipes share, the drivers, the data and its views, the references."""
    return sorted([*ENGINE.glob("checks/*.py"), *ENGINE.glob("recipes/*.py"), ENGINE / "drivers.py",
                   ENGINE / "data.py", ENGINE / "views.py", *(KIT_ROOT / "solutions").glob("*.py")])


def training_key() -> str:
    """Changes whenever the training settings, the kit's version or the code of a run
    (run_code_files) change: old runs go stale. A step's time limits are not in it."""
    from grader.core.version import __version__

    h = hashlib.sha256(f"{__version__}{[(s.id, s.training) for s in STEPS]}".encode())
    for file in run_code_files():
        h.update(file.read_bytes())
    return h.hexdigest()[:10]


def run_name(source: Path, kind: str, seed: int, device: str, threads: int, code: Path | None = None) -> str:
    """A kept run of the kit's own code (thresholds.cached): the data folder, what ran, the code
    that defines it, seed, device and thread count (it changes a run's float rounding)."""
    key = training_key() + (hashlib.sha256(code.read_bytes()).hexdigest()[:8] if code else "")
    return f"{folder_key(source)}-{kind}-{key}-seed{seed}-{device}-t{threads}.json"


def checks_key() -> str:
    """The files that decide the checks' list (catalogue.py): every check module and the manifest."""
    h = hashlib.sha256()
    for file in [*sorted((ENGINE / "checks").glob("*.py")), MANIFEST]:
        h.update(f"{file.name}\0".encode() + file.read_bytes())
    return h.hexdigest()[:16]


def judge_key(data_spec: str, device: str) -> str:
    """What a kept judge was started with (judges/warm.py): a command with other settings replaces
    it. What its sandbox imports first is not a setting: a command that needs fastai there asks for
    a sandbox with it (runner.Judge), and the judge keeps importing it for the next commands."""
    return digest([kit_key(), str(KIT_ROOT), sys.executable, str(kit_home()), data_spec, data_key(data_spec), device,
                   *(f"{k}={os.environ.get(k, '')}" for k in JUDGE_ENV)], 20)
