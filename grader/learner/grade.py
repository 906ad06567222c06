"""`fastgroup grade` as the learner sees it: the engine grades, then the results JSON, the plots,
the progress state and the terminal report.
"""

import time
from pathlib import Path

from grader.core.results import Results
from grader.core.steps import ALL_IDS, BY_ID, get_step
from grader.engine.runner import Workers, resolve_source, run_checks
from grader.engine.scoring import to_results
from grader.learner.latest import save_latest
from grader.learner.plots import Plots
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
    workers: Workers | None = None,
) -> Results:
    """Grade the learner's exercises and return this run's results.

    The run is merged, step by step, into the latest grade that `fastgroup submit` sends
    (grader/learner/latest.py); `json_path` gets this run's results alone. With `quick`, the
    steps that need fastai (seconds to import) run only when named. `workers` are kept warm by
    watch mode; otherwise this grade starts its own and closes them.
    """
    named = bool(steps)
    steps = [get_step(s).id for s in steps] if steps else list(ALL_IDS)
    source = resolve_source(source)
    skipped = [s for s in steps if BY_ID[s].fastai] if quick and not named else []
    steps = [s for s in steps if s not in skipped]
    own = workers is None
    if own:
        workers = Workers(data, device, fastai=any(BY_ID[s].fastai_judge for s in steps))
    start = time.perf_counter()
    report = Report(show=show)
    drawing = Plots()
    try:
        ready = workers.ready()
        graded = run_checks(steps, source, seed, quick, report, workers, on_result=drawing.add_result)
    except KeyboardInterrupt:  # nothing is saved: the latest results stay as they were
        workers.interrupt()
        raise
    finally:
        if own:
            workers.close()
    plots, plot_problems = drawing.finish()
    results = to_results(graded, time.perf_counter() - start, ready.device, data, seed, quick)
    record(graded, source)
    save_latest(results, source, quick)
    if json_path:
        Path(json_path).write_text(results.model_dump_json(indent=2))
    report.summary(graded, results, plots, quick=quick, skipped=skipped, source=source, problems=plot_problems)
    return results
