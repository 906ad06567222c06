"""Run every check of the chosen steps in a worker process and award points.

The runner never runs learner code itself. It hands each check to a worker process and waits
at most the check's time limit; a worker that runs past it is killed and replaced, and the
check fails with a message saying so.
"""

import multiprocessing as mp
import os
import time
from pathlib import Path

from grader.core.errors import KitError
from grader.core.home import default_source
from grader.engine.scoring import Graded
from grader.engine.worker import CheckResult, Job, serve


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
    from grader.engine.checks import REGISTRY

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
                graded.append(Graded(step, check.number, check.name, points, check.points, result))
    finally:
        worker.close()
    return graded
