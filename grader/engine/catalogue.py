"""The list of every step's checks, shipped with the kit and kept beside the reference's runs
once a judge has given it.

A judge imports torch and every check module before it can list the checks (seconds). A grade
that runs no check at all (untouched stubs, a learner's very first command) still needs the list
for its rows and points. The kit ships it (checks.json, written by `fastgroup generate` and held
to the checks by its --check and by tests/engine/test_catalogue.py), with a key over the files
that decide it (the check modules and the manifest): an edited checkout whose key differs falls
back to the list saved the first time a judge gave it, keyed by the kit's grading code, manifest
and version (keys.kit_key), and then to a judge. No list is ever stale.
"""

import json
from dataclasses import asdict
from pathlib import Path

from grader.core.files import write_atomic
from grader.engine.keys import checks_key, kit_key
from grader.engine.protocol import CheckInfo
from grader.engine.thresholds import cache_dir

SHIPPED = Path(__file__).parent / "checks.json"


def path() -> Path:
    return cache_dir() / f"checks-{kit_key()}.json"


def shipped_text(checks: dict[str, list[CheckInfo]]) -> str:
    """checks.json as `fastgroup generate` writes it."""
    table = {step: [asdict(c) for c in rows] for step, rows in checks.items()}
    return json.dumps({"key": checks_key(), "checks": table}, indent=1) + "\n"


def listed() -> dict[str, list[CheckInfo]]:
    """Every registered check, from the check modules themselves (imports torch: seconds)."""
    from grader.engine.checks import REGISTRY

    return {step: [info(c) for c in checks] for step, checks in REGISTRY.items()}


def info(check) -> CheckInfo:
    """A registered check as the grading process knows it: what it is worth, no code."""
    return CheckInfo(check.step, check.number, check.name, check.points, check.trains, check.timeout)


def shipped_files(root: Path) -> dict[Path, str]:
    """checks.json for `fastgroup generate`, in a checkout of the kit (nothing for an install)."""
    engine = root / "grader" / "engine"
    return {engine / SHIPPED.name: shipped_text(listed())} if engine.is_dir() else {}


def parsed(table: dict) -> dict[str, list[CheckInfo]]:
    return {step: [CheckInfo(**row) for row in rows] for step, rows in table.items()}


def load() -> dict[str, list[CheckInfo]] | None:
    """The shipped list when it matches the code, else the saved one; None when there is none for
    this code (or it cannot be read)."""
    try:
        shipped = json.loads(SHIPPED.read_text())
        if shipped.get("key") == checks_key():
            return parsed(shipped["checks"])
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        pass
    try:
        return parsed(json.loads(path().read_text()))
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def save(checks: dict[str, list[CheckInfo]]) -> None:
    write_atomic(path(), json.dumps({step: [asdict(c) for c in rows] for step, rows in checks.items()}))
