"""The list of every step's checks, kept beside the reference's runs once a judge has given it.

A judge imports torch and every check module before it can list the checks (seconds). A grade
that runs no check at all (untouched stubs) still needs the list for its rows and points, so the
list is saved the first time a judge gives it and read back after that. It is keyed by the kit's
grading code, manifest and version (reuse.kit_key): any change to those is a new key, so a saved
list is never stale.
"""

import json
import os
from dataclasses import asdict
from pathlib import Path

from grader.engine.protocol import CheckInfo
from grader.engine.reuse import kit_key
from grader.engine.thresholds import cache_dir


def path() -> Path:
    return cache_dir() / f"checks-{kit_key()}.json"


def load() -> dict[str, list[CheckInfo]] | None:
    """The saved list, or None when there is none for this code (or it cannot be read)."""
    try:
        table = json.loads(path().read_text())
        return {step: [CheckInfo(**row) for row in rows] for step, rows in table.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def save(checks: dict[str, list[CheckInfo]]) -> None:
    file = path()
    partial = file.with_name(f"{file.name}.{os.getpid()}.part")  # a reader never sees half a file
    partial.write_text(json.dumps({step: [asdict(c) for c in rows] for step, rows in checks.items()}))
    os.replace(partial, file)
