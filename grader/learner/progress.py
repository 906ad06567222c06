"""The learner's progress between runs: the status of every step, kept in the kit's home.

A step is 'done' when all its checks passed in the latest grade that ran them, 'failing'
when some failed, 'not started' while it was never graded or still raises NotImplementedError.
"""

import json
from collections import defaultdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from grader.core.home import kit_home
from grader.core.results import Results
from grader.core.steps import STEPS


def state_path() -> Path:
    return kit_home() / "progress.json"


def load() -> dict:
    """The saved state; an unreadable file counts as no progress (it is rewritten next grade)."""
    try:
        state = json.loads(state_path().read_text())
        return state if isinstance(state, dict) else {}
    except (OSError, ValueError):
        return {}


def record(graded, results: Results, source: Path) -> None:
    """Merge this run's step statuses into the saved state."""
    state = load()
    steps = state.setdefault("steps", {})
    by_step = defaultdict(list)
    for g in graded:
        by_step[g.step].append(g)
    points = results.step_points()
    for step, rows in by_step.items():
        if all(g.result.passed for g in rows):
            status = "done"
        elif all(g.result.not_started for g in rows if not g.result.passed):
            status = "not started"
        else:
            status = "failing"
        steps[step] = {"status": status, "points": points[step][0], "max_points": points[step][1]}
    state["source"] = str(source)
    state_path().write_text(json.dumps(state, indent=2))


def forget(step: str) -> None:
    """A step reset to its stub (`fastgroup reset`): not started again, at once."""
    state = load()
    if state.get("steps", {}).pop(step, None) is not None:
        state_path().write_text(json.dumps(state, indent=2))


def print_step_list() -> None:
    """`fastgroup list`: the steps in order with their status; the first unfinished one marked."""
    steps = load().get("steps", {})
    table = Table(title="Chapter 4, step by step")
    for column in ("#", "step", "what you write", "status", "points"):
        table.add_column(column)
    marked = False
    for n, step in enumerate(STEPS, 1):
        row = steps.get(step.id, {})
        status = row.get("status", "not started")
        colour = {"done": "green", "failing": "red"}.get(status, "dim")
        label = f"[{colour}]{status}[/]"
        if status != "done" and not marked:
            label += "  <- next"
            marked = True
        points = f"{row['points']:g}/{row['max_points']:g}" if row else ""
        name = f"{step.id}{' (bonus)' if step.bonus else ''}"
        table.add_row(str(n), name, step.title, label, points)
    console = Console(highlight=False)
    console.print(table)
    core = [steps[s.id] for s in STEPS if not s.bonus and s.id in steps]
    left = sum(1 for s in STEPS if not s.bonus) - len(core)
    got, most = sum(r.get("points", 0) for r in core), sum(r.get("max_points", 0) for r in core)
    console.print(f"Total: {got:g}/{most:g} points on the {len(core)} chapter steps graded so far"
                  + (f"; {left} not graded yet" if left else ""))
