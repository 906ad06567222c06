"""`fastgroup grade`: run every check of the chosen steps in a worker process, award points,
write the results, report.

The runner never runs learner code itself. It hands each check to a worker process and waits
at most the check's time limit; a worker that runs past it is killed and replaced, and the
check fails with a message saying so.
"""

import multiprocessing as mp
import os
import time
from dataclasses import dataclass
from pathlib import Path

from grader import __version__
from grader import data as data_sources
from grader.errors import KitError
from grader.home import default_source, latest_results_path
from grader.results import ExtraData, Results, TestResult
from grader.steps import ALL_IDS, get_step
from grader.worker import CheckResult, Job, serve


def timeout_scale() -> float:
    """FASTGROUP_TIMEOUT_SCALE stretches (a slow laptop) or shrinks (tests) every check's limit."""
    try:
        return float(os.environ.get("FASTGROUP_TIMEOUT_SCALE", "1"))
    except ValueError:
        raise KitError("FASTGROUP_TIMEOUT_SCALE must be a number such as 2 or 0.5") from None


WORKER_START_LIMIT = 180.0


class Worker:
    """A spawned worker process; replaced whenever a check runs past its time limit."""

    def __init__(self):
        self.process = None
        self.conn = None

    def start(self):
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=serve, args=(child,), daemon=True)
        self.process.start()
        child.close()
        # Starting Python and importing torch is not the learner's time: wait for it first.
        if not self.conn.poll(WORKER_START_LIMIT) or self.conn.recv() != ("ready", None):
            self.kill()
            raise KitError("the grading worker process did not start: is PyTorch installed correctly?")

    def run(self, job: Job, timeout: float, on_progress=None) -> CheckResult:
        if self.process is None or not self.process.is_alive():
            self.start()
        self.conn.send(job)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self.conn.poll(left):
                self.kill()
                return CheckResult(
                    False,
                    f"did not finish within {timeout:.0f} s: an infinite loop, or far more work "
                    "than the step needs? Grading moved on.",
                )
            try:
                kind, payload = self.conn.recv()
            except (EOFError, OSError):
                self.kill()
                return CheckResult(False, "your code crashed the Python process (exit or abort)")
            if kind == "result":
                return payload
            if on_progress:
                on_progress(*payload)

    def kill(self):
        if self.process is not None:
            self.process.kill()
            self.process.join(5)
        self.process = None

    def close(self):
        if self.process is not None and self.process.is_alive():
            try:
                self.conn.send(None)
                self.process.join(5)
            except OSError:
                pass
        self.kill()


@dataclass
class Graded:
    """One check's result with the points it earned."""

    step: str
    number: str
    name: str
    points: float
    max_points: float
    result: CheckResult
    trains: bool


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise KitError("--device cuda asked for, but PyTorch sees no CUDA GPU: use --device cpu")
    if device not in ("cpu", "cuda"):
        raise KitError(f"unknown device '{device}': use auto, cpu or cuda")
    return device


def resolve_source(source: Path | None) -> Path:
    path = Path(source) if source else default_source()
    if not path.is_dir():
        raise KitError(f"exercises folder {path} not found: pass --source DIR")
    return path.resolve()


def run_checks(steps, source, data_spec, data_path, device, seed, quick, ui) -> list[Graded]:
    """Run every check of `steps` in order; `ui` shows progress and is told each result."""
    from grader.checks import REGISTRY

    worker = Worker()
    graded = []
    try:
        for step in steps:
            for index, check in enumerate(REGISTRY[step]):
                if quick and check.trains:
                    continue
                job = Job(step, index, str(source), data_spec, str(data_path), device, seed)
                with ui.running(check) as on_progress:
                    result = worker.run(job, check.timeout * timeout_scale(), on_progress)
                points = check.points if result.passed else 0.0
                graded.append(
                    Graded(step, check.number, check.name, points, check.points, result, check.trains)
                )
    finally:
        worker.close()
    return graded


def to_results(graded: list[Graded], seconds: float, device, data_spec, seed, quick) -> Results:
    tests = []
    for g in graded:
        lines = [g.result.message] if g.result.message else []
        if g.result.mistake:
            lines.append(f"Likely mistake: {g.result.mistake}")
        if g.result.outcome.get("note"):
            lines.append(g.result.outcome["note"])
        if g.result.output:
            lines.append(f"Your code printed:\n{g.result.output}")
        tests.append(
            TestResult(
                name=f"{g.step}: {g.name}",
                number=g.number,
                score=g.points,
                max_score=g.max_points,
                status="passed" if g.result.passed else "failed",
                output="\n".join(lines)[:20_000],
                tags=[g.step],
            )
        )
    accuracies = {
        g.step: round(g.result.outcome["accuracy"], 4)
        for g in graded
        if g.result.outcome.get("accuracy") is not None
    }
    # Bonus steps are shown apart: score and max_score count the core steps (the chapter's 100
    # points) unless only bonus steps were graded.
    core = [g for g in graded if not get_step(g.step).bonus] or graded
    bonus = [g for g in graded if get_step(g.step).bonus]
    return Results(
        score=sum(g.points for g in core),
        max_score=sum(g.max_points for g in core) or 1.0,
        execution_time=round(seconds, 2),
        tests=tests,
        extra_data=ExtraData(
            kind="grade",
            kit_version=__version__,
            device=device,
            data=data_spec,
            seed=seed,
            accuracies=accuracies,
            quick=quick,
            **({"bonus_score": sum(g.points for g in bonus), "bonus_max_score": sum(g.max_points for g in bonus)}
               if bonus else {}),
        ),
    )


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
    """Grade the learner's exercises and return the results (also written to disk)."""
    from grader.plots import save_plots
    from grader.progress import record
    from grader.report import Report

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
    text = results.model_dump_json(indent=2)
    latest_results_path("grade").write_text(text)
    if json_path:
        Path(json_path).write_text(text)
    report.summary(graded, results, plots, quick=quick)
    return results
