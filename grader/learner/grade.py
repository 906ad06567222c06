"""`fastgroup grade` as the learner sees it: the engine grades, then the results JSON, the plots,
the progress state and the terminal report.
"""

import time
from pathlib import Path

from grader.core.results import Results
from grader.core.steps import ALL_IDS, get_step
from grader.engine import data as data_sources
from grader.engine.runner import resolve_device, resolve_source, run_checks
from grader.engine.scoring import to_results
from grader.learner.latest import save_latest
from grader.learner.plots import save_plots
from grader.learner.progress import record
from grader.learner.report import Report


def grade(
    steps: list[str] | None = None,
    source: Path | None = None,
    data: str = "embedded",
    device: str = "auto",
    json_path: Path | None = None,
    quick: bool = False,
    seed: int = 0,
    show: bool = True,
) -> Results:
    """Grade the learner's exercises and return this run's results.

    The run is merged, step by step, into the latest grade that `fastgroup submit` sends
    (grader/learner/latest.py); `json_path` gets this run's results alone.
    """
    steps = [get_step(s).id for s in steps] if steps else list(ALL_IDS)
    source = resolve_source(source)
    device = resolve_device(device)
    data_path = data_sources.resolve(data)
    start = time.perf_counter()
    report = Report(show=show)
    graded = run_checks(steps, source, data, data_path, device, seed, quick, report)
    results = to_results(graded, time.perf_counter() - start, device, data, seed, quick)
    plots = save_plots(graded)
    record(graded, source)
    save_latest(results, source, quick)
    if json_path:
        Path(json_path).write_text(results.model_dump_json(indent=2))
    report.summary(graded, results, plots, quick=quick)
    return results
