"""Where the kit keeps things: its home folder (state, results, plots, data cache, database).

Configuration goes flag, then environment (FASTGROUP_HOME), then the default ~/.fastgroup.
"""

import os
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parents[2]  # the checkout (or site-packages) holding grader/ and solutions/


def kit_home() -> Path:
    """The kit's home folder, created on first use."""
    home = Path(os.environ.get("FASTGROUP_HOME") or Path.home() / ".fastgroup").expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home


def subdir(name: str) -> Path:
    """A folder under the kit's home (data, results, plots...), created on first use."""
    path = kit_home() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def latest_results_path(kind: str) -> Path:
    """Where the latest result of `kind` ('grade' or 'quiz') is kept for `fastgroup submit`."""
    return subdir("results") / f"{kind}-latest.json"


def default_source() -> Path:
    """The exercises folder to grade: ./exercises when the learner is in a checkout, else the kit's."""
    here = Path.cwd() / "exercises"
    return here if here.is_dir() else KIT_ROOT / "exercises"
