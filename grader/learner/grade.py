"""`fastgroup grade` as the learner sees it: the grading service grades, then the results JSON,
the plots, the progress state and the terminal report.
"""

from pathlib import Path

from grader.core.results import Results
from grader.engine import Extracted, Request, Service, judges_needed, resolve_source, sandbox_first
from grader.engine import make_settings as settings
from grader.learner.latest import save_latest
from grader.learner.plots import Plots
from grader.learner.progress import record
from grader.learner.report import Report


def grade(
    steps: list[str] | None = None,
    source: Path | None = None,
    data: str | None = None,
    device: str | None = None,
    json_path: Path | None = None,
    quick: bool = False,
    seed: int | None = None,
    show: bool = True,
    service: Service | None = None,
    label: Path | None = None,
    kept_as: Path | None = None,
    fresh: bool = False,
    verbose: bool = False,
) -> Results:
    """Grade the learner's exercises (or their own notebook or script) and return this run's results.

    The run is merged, step by step, into the latest grade that `fastgroup submit` sends
    (grader/learner/latest.py); `json_path` gets this run's results alone. With `quick`, the
    steps that need fastai (seconds to import) run only when named. A `service` is kept warm by
    watch mode; otherwise this grade starts its own and closes it. Unset settings come from
    grader/engine/settings.py (the environment, then the kit's defaults). `source` may also be
    code already extracted (a kernel's: grader/kernel.py), which `label` then names (and `kept_as`
    keeps its latest grade and progress apart, one per kernel). A step whose
    code and settings have not changed since its last grade keeps that result (grader/engine/reuse.py)
    unless `fresh`.
    """
    wanted = settings(data, device, seed, quick)
    code = source if isinstance(source, Extracted) else resolve_source(source)
    request = Request(source=code, steps=steps or None, settings=wanted, reuse="fresh" if fresh else "on")
    report = Report(show=show, verbose=verbose, quick=wanted.quick)
    drawing = Plots()
    own = service is None
    if own:  # started first: the judges' imports overlap everything else
        main, fastai = judges_needed(code, steps, quick, reusing=None if fresh else wanted)
        service = Service(wanted, main=main, fastai=fastai, main_first=sandbox_first(code, steps, quick),
                          keep=True)
    try:
        done = service.grade(request, ui=report, on_result=drawing.add_result)
    finally:
        if own:
            service.close()
    plots, plot_problems = drawing.finish()
    results = done.results
    shown = done.shown_source or label or done.folder
    latest = save_latest(results, kept_as or shown, wanted.quick, done.codes)
    record(latest, kept_as or shown)
    if json_path:
        Path(json_path).write_text(results.model_dump_json(indent=2))
    report.summary(done.graded, results, plots, quick=wanted.quick, skipped=done.skipped, source=shown,
                   problems=plot_problems, used=done.used, latest=latest)
    return results
