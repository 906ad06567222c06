"""A step's last result, kept for a regrade in which nothing that decides it has changed.

The key covers everything that decides a step's checks: the step's code (its file and the local
modules it imports: grader/engine/fingerprint.py), the kit's grading code, manifest, calibration
and reference solutions, the data, the seed, the device and quick. Any change to one of them is
a new key, so a kept result is never stale; a kept file that cannot be read is graded again.
Only the learner's own front ends reuse (`fastgroup grade`, watch); the board and the nbgrader
track grade fresh every time (Request.reuse).
"""

import json
import os
from dataclasses import asdict
from pathlib import Path

from grader.core.home import subdir
from grader.engine.keys import result_key
from grader.engine.protocol import CheckResult
from grader.engine.scoring import ScoredCheck
from grader.engine.settings import Settings


def path(step: str, code: str, wanted: Settings) -> Path:
    return subdir("reuse") / f"{step}-{result_key(step, code, wanted)}.json"


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
