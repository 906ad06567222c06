"""Grade one step inside a notebook kernel: the notebook track's test cells call check_step.

The checks are the very ones `fastgroup grade` runs (grader.engine.checks.REGISTRY), run through the
worker's own run_check, on the functions the notebook defined. nbgrader awards a test cell's
points only when the cell does not raise, so any failing check raises AssertionError.

Unlike `fastgroup grade` there is no per-check time limit and no separate process: nbgrader's
cell timeout (course/nbgrader_config.py) stops a runaway cell. Output is captured per check
(prints and warnings go into the report on stdout), because nbgrader gives a test cell no
points when it writes anything to stderr.
"""

import functools
import tempfile
import textwrap
import time
from pathlib import Path
from types import ModuleType

import torch

from grader.core.steps import get_step
from grader.engine import data as data_sources
from grader.engine import views
from grader.engine.checks.base import Context, LocalLearner
from grader.engine.loading import LazyReference, load_reference
from grader.engine.protocol import CheckResult
from grader.engine.scoring import Graded, to_results
from grader.engine.worker import resolve_device, run_check

SKIPPED = "skipped: an earlier check of this step failed, fix that first (training would not help)"


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


@functools.cache
def notebook_view(data: str, full: bool = False):
    """The data as the checks read it (the same view as `fastgroup grade` uses), made once per kernel."""
    from grader.engine.data import ALL_CLASSES, SAMPLE_CLASSES

    root = Path(tempfile.mkdtemp(prefix="fastgroup-views-"))
    return views.make_view(data_sources.resolve(data, full=full), root, ALL_CLASSES if full else SAMPLE_CLASSES)


def check_step(
    step: str,
    namespace: dict,
    data: str = "embedded",
    device: str = "cpu",
    seed: int = 0,
    quick: bool = False,
) -> float:
    """Run every check of `step` on the functions in `namespace` (a notebook's globals()).

    Prints a short report and returns the points; raises AssertionError naming the first
    failing check (and the likely mistake). `quick` skips the training checks. Once a check
    has failed, the training checks are skipped: the cell has lost its points anyway.
    """
    from grader.engine.checks import REGISTRY

    step = get_step(step).id
    learner, learner_file = learner_module(step, namespace)
    device = resolve_device(device)
    view = notebook_view(data)
    ctx = Context(
        step=step,
        learner=LocalLearner(learner, seed),
        ref=LazyReference(step),
        data_spec=data,
        data_path=view.path,
        device=torch.device(device),
        seed=seed,
        view=view,
        full_view=lambda: notebook_view("embedded", full=True),
    )
    start = time.perf_counter()
    graded = []
    for check in REGISTRY[step]:
        if quick and check.trains:
            continue
        if check.trains and any(not g.result.passed for g in graded):
            result = CheckResult(False, SKIPPED)
        else:
            result = run_check(check, ctx, learner_file)
        points = check.points if result.passed else 0.0
        graded.append(Graded(step, check.number, check.name, points, check.points, result))
        mark = "ok  " if result.passed else "FAIL"
        print(f"{mark} {check.number} {check.name} ({points:g}/{check.points:g})", flush=True)
        if not result.passed and result.message != SKIPPED:
            print(textwrap.indent(result.message, "       "), flush=True)
    results = to_results(graded, time.perf_counter() - start, device, data, seed, quick)
    print(f"{step}: {results.score:g}/{results.max_score:g} points (seed {seed})", flush=True)
    failed = [t for t in results.tests if t.status == "failed"]
    if failed:
        raise AssertionError(f"{failed[0].number} {failed[0].name}\n{failed[0].output}")
    return results.score
