"""Grade one step inside a notebook kernel: the notebook track's test cells call check_step.

The checks are the very ones `fastgroup grade` runs, planned, judged and scored by the grading service
(grader/engine/service.py, `grade_in_kernel`: its plan and its stream of results, each printed as
it ends) on the functions the notebook defined. nbgrader awards a test cell's
points only when the cell does not raise, so any failing check raises AssertionError.

Unlike `fastgroup grade` there is no per-check time limit and no separate process: nbgrader's
cell timeout (course/nbgrader_config.py) stops a runaway cell. Output is captured per check
(prints and warnings go into the report on stdout), because nbgrader gives a test cell no
points when it writes anything to stderr.
"""

import textwrap
from pathlib import Path
from types import ModuleType

from grader.core.steps import get_step
from grader.engine import ScoredCheck, Verdict, grade_in_kernel, load_reference
from grader.engine import make_settings as settings


def step_names(step: str) -> list[str]:
    """The functions and classes a step asks for: those its reference module defines."""
    ref = load_reference(step)
    return [name for name, value in vars(ref).items() if getattr(value, "__module__", None) == ref.__name__]


def learner_module(step: str, namespace: dict) -> tuple[ModuleType, Path | None]:
    """The notebook's names as a module (what ctx.learner is), and the cell file they come from."""
    missing = [name for name in step_names(step) if name not in namespace]
    if missing:
        raise AssertionError(
            f"{step}: {', '.join(missing)} not defined: run the cell where you wrote "
            f"{'it' if len(missing) == 1 else 'them'} (and keep the names), then this one"
        )
    module = ModuleType(f"notebook_{step}")
    for name, value in namespace.items():
        if not name.startswith("__"):
            setattr(module, name, value)
    code = getattr(namespace[step_names(step)[0]], "__code__", None)
    return module, Path(code.co_filename) if code else None


def print_check(g: ScoredCheck) -> None:
    """One line per check as it ends, and what went wrong under a failing one (not under one skipped)."""
    mark = "ok  " if g.result.passed else "FAIL"
    print(f"{mark} {g.number} {g.name} ({g.points:g}/{g.max_points:g})", flush=True)
    if g.result.verdict not in (Verdict.PASSED, Verdict.SKIPPED):
        print(textwrap.indent(g.result.message, "       "), flush=True)


def check_step(
    step: str,
    namespace: dict,
    data: str | None = None,
    device: str = "cpu",
    seed: int | None = None,
    quick: bool = False,
) -> float:
    """Run every check of `step` on the functions in `namespace` (a notebook's globals()).

    Prints a short report and returns the points; raises AssertionError naming the first
    failing check (and the likely mistake). `quick` skips the training checks. Once a check
    has failed, the training checks are skipped: the cell has lost its points anyway.
    """
    step = get_step(step).id
    module, learner_file = learner_module(step, namespace)
    wanted = settings(data, device, seed, quick)
    results = grade_in_kernel(step, module, learner_file, wanted, on_check=print_check).results
    print(f"{step}: {results.score:g}/{results.max_score:g} points (seed {wanted.seed})", flush=True)
    failed = [t for t in results.tests if t.status == "failed"]
    if failed:
        raise AssertionError(f"{failed[0].number} {failed[0].name}\n{failed[0].output}")
    return results.score
