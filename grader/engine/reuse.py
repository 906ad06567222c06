"""A step's last result, kept for a regrade in which nothing that decides it has changed.

The key covers everything that decides a step's checks: the step's code (its file and the local
modules it imports: grader/engine/fingerprint.py), the kit's grading code, manifest, calibration
and reference solutions, the data, the seed, the device and quick. Any change to one of them is
a new key, so a kept result is never stale; a kept file that cannot be read is graded again.
Only the learner's own front ends reuse (`fastgroup grade`, watch); the board and the nbgrader
track grade fresh every time (Request.reuse).
"""

import functools
import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

from grader.core.home import KIT_ROOT, subdir
from grader.engine.protocol import CheckResult
from grader.engine.scoring import ScoredCheck
from grader.engine.settings import Settings

ENGINE = Path(__file__).parent
CORE = ENGINE.parent / "core"


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


def data_key(data: str) -> str:
    """The data as named (embedded, sample), or a folder's content (its files' names and sizes)."""
    from grader.engine.thresholds import data_key as folder_key

    path = Path(data)
    return folder_key(path) if data not in ("embedded", "sample") and path.is_dir() else data


def key(step: str, code: str, wanted: Settings) -> str:
    parts = [step, code, kit_key(), data_key(wanted.data), str(wanted.seed), wanted.device, str(wanted.quick)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


def path(step: str, code: str, wanted: Settings) -> Path:
    return subdir("reuse") / f"{step}-{key(step, code, wanted)}.json"


def load(step: str, code: str, wanted: Settings) -> list[ScoredCheck] | None:
    """The step's kept checks for this key, or None (none kept, or a file that cannot be read)."""
    try:
        rows = json.loads(path(step, code, wanted).read_text())
        return [ScoredCheck(**{**row, "result": CheckResult(**row["result"])}) for row in rows]
    except (OSError, ValueError, TypeError, KeyError):
        return None


def save(step: str, code: str, wanted: Settings, graded: list[ScoredCheck]) -> None:
    file = path(step, code, wanted)
    partial = file.with_name(f"{file.name}.{os.getpid()}.part")  # a reader never sees half a file
    partial.write_text(json.dumps([asdict(g) for g in graded]))
    os.replace(partial, file)
