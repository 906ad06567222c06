"""The learner's progress between runs: the status of every step, kept in the kit's home.

A step is 'done' when all its checks passed in the latest grade, 'failing' when some failed,
'not finished' when its unit checks pass but --quick left its training for later, 'not started'
while it was never graded or still raises NotImplementedError.

The exercises' statuses are the ones `fastgroup list` shows; a notebook's or a kernel's are kept
apart, under their source, and only summed up below the table: they never change the exercises'.
"""

import json
from collections import defaultdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from grader.core.files import write_atomic
from grader.core.home import kit_home
from grader.core.results import Results
from grader.core.steps import STEPS
from grader.learner.latest import NOT_RUN

SHOWN_SOURCES = 5  # the notebooks and kernels `list` names below the exercises' table, the latest graded


def state_path() -> Path:
    return kit_home() / "progress.json"


def load() -> dict:
    """The saved state; an unreadable file counts as no progress (it is rewritten next grade)."""
    try:
        state = json.loads(state_path().read_text())
        return state if isinstance(state, dict) else {}
    except (OSError, ValueError):
        return {}


def is_exercises(source: Path) -> bool:
    """A folder of step files (the exercises), not a notebook, a script or a kernel."""
    return Path(source).suffix not in (".ipynb", ".py") and Path(source).is_dir()


def record(latest: Results, source: Path) -> None:
    """The saved state of every step from the latest grade (grader/learner/latest.py), so the two
    always agree: a --quick run never turns a step graded in full into 'done' or back to 'failing'.
    A notebook's, a script's or a kernel's are kept under their source, apart from the exercises'."""
    state = load()
    if is_exercises(source):
        steps = state.setdefault("steps", {})
        state["source"] = str(source)
    else:
        sources = state["sources"] = state.get("sources") if isinstance(state.get("sources"), dict) else {}
        prior = sources.pop(str(source), None)
        steps = sources[str(source)] = prior if isinstance(prior, dict) else {}  # the latest graded last
    by_step = defaultdict(list)
    for test in latest.tests:
        by_step[test.tags[0]].append(test)
    runs = latest.extra_data.step_runs
    stubs = latest.not_started_checks()
    for step, (got, most) in latest.step_points().items():
        tests = by_step[step]
        failing = [t for t in tests if t.status != "passed" and not t.output.startswith(NOT_RUN)]
        if failing and all(t.number in stubs for t in failing):
            status = "not started"
        elif failing:
            status = "failing"
        elif step in runs and runs[step].quick:
            status = "not finished"  # its training has not run on this code
        else:
            status = "done"
        steps[step] = {"status": status, "points": got, "max_points": most}
    write_atomic(state_path(), json.dumps(state, indent=2))


def forget(step: str) -> None:
    """A step reset to its stub (`fastgroup reset`): not started again, at once."""
    state = load()
    if state.get("steps", {}).pop(step, None) is not None:
        write_atomic(state_path(), json.dumps(state, indent=2))


def print_step_list() -> None:
    """`fastgroup list`: the steps in order with their status in the exercises; the first unfinished
    one marked; a line for each notebook or kernel graded as well."""
    state = load()
    steps = state.get("steps", {})
    if state.get("source") and not is_exercises(Path(state["source"])):
        steps = {}  # a kit home from before sources were kept apart: those were a notebook's
    table = Table(title="Chapter 4, step by step")
    for column in ("#", "step", "what you write", "status", "points"):
        table.add_column(column)
    marked = False
    for n, step in enumerate(STEPS, 1):
        row = steps.get(step.id, {})
        status = row.get("status", "not started")
        colour = {"done": "green", "failing": "red", "not finished": "yellow"}.get(status, "dim")
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
    sources = state.get("sources") if isinstance(state.get("sources"), dict) else {}
    others = [(source, rows) for source, rows in sources.items() if isinstance(rows, dict) and rows]
    for source, rows in others[-SHOWN_SOURCES:]:
        done = sum(1 for r in rows.values() if r.get("status") == "done")
        got = sum(r.get("points", 0) for r in rows.values())
        most = sum(r.get("max_points", 0) for r in rows.values())
        console.print(f"Also graded, apart from the exercises: {source}: {got:g}/{most:g} points, {done} of "
                      f"{len(rows)} steps done", soft_wrap=True)
    if len(others) > SHOWN_SOURCES:
        console.print(f"[dim]and {len(others) - SHOWN_SOURCES} more notebooks or kernels graded before those[/dim]")
