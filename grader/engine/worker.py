"""The process that runs the learner's code, one check at a time, on the runner's request.

It lives in its own process so that the runner can kill it when a check runs past its time
limit (an infinite loop) and start a fresh one for the next check.
"""

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from grader.engine.checks import REGISTRY
from grader.engine.checks.base import Check, Context, Fail, Outcome
from grader.engine.loading import (
    ModuleLoadError,
    captured_output,
    describe_exception,
    known_mistake,
    load_file,
    load_reference,
)


@dataclass
class Job:
    step: str
    index: int  # position of the check in REGISTRY[step]
    source: str
    data_spec: str
    data_path: str
    device: str
    seed: int


@dataclass
class CheckResult:
    passed: bool
    message: str = ""
    mistake: str | None = None
    not_started: bool = False
    output: str = ""
    seconds: float = 0.0
    outcome: dict = field(default_factory=dict)


_MODULES: dict[tuple[str, int], object] = {}


def learner_module(path: Path, step: str):
    """The learner's module, re-imported only when its file changed (watch mode saves time)."""
    key = (str(path), path.stat().st_mtime_ns if path.exists() else 0)
    if key not in _MODULES:
        try:
            _MODULES[key] = load_file(path, f"fastgroup_learner_{step}")
        except ModuleLoadError as err:
            _MODULES[key] = err
    return _MODULES[key]


def run_job(job: Job, send_progress) -> CheckResult:
    """Run one check and turn whatever happens into a CheckResult; never raises."""
    check = REGISTRY[job.step][job.index]
    learner_path = Path(job.source) / f"{job.step}.py"
    start = time.perf_counter()
    module = learner_module(learner_path, job.step)
    if isinstance(module, ModuleLoadError):
        return CheckResult(False, str(module), mistake=None)
    ctx = Context(
        step=job.step,
        learner=module,
        ref=load_reference(job.step),
        data_spec=job.data_spec,
        data_path=Path(job.data_path),
        device=torch.device(job.device),
        seed=job.seed,
        progress=send_progress,
    )
    result = run_check(check, ctx, learner_path)
    result.seconds = time.perf_counter() - start
    return result


def run_check(check: Check, ctx: Context, learner_file: Path | None) -> CheckResult:
    """Reseed, run one check on the learner's code, capture its output; never raises.

    Shared by the worker and the notebook track (grader/notebook/inline.py). `learner_file` is where
    the learner's code lives, so that tracebacks are trimmed to it.
    """
    start = time.perf_counter()
    ctx.reseed()
    result = CheckResult(True)
    with captured_output() as out:
        try:
            outcome = check.func(ctx) or Outcome()
            result.outcome = asdict(outcome)
        except Fail as verdict:
            result = CheckResult(False, verdict.message, verdict.mistake)
            if verdict.outcome is not None:
                result.outcome = asdict(verdict.outcome)
        except NotImplementedError as err:
            result = CheckResult(False, f"not started yet: {err}", not_started=True)
        except Exception as err:  # noqa: BLE001  (learner code may raise anything)
            text = describe_exception(err, learner_file)
            result = CheckResult(False, f"your code raised {text}", known_mistake(err))
    result.output = out.text()
    result.seconds = time.perf_counter() - start
    return result


def serve(conn) -> None:
    """Worker loop: receive a Job, send ('progress', ...) messages, then ('result', ...)."""
    conn.send(("ready", None))
    while True:
        job = conn.recv()
        if job is None:
            return

        def send_progress(done, total, acc=None):
            conn.send(("progress", (done, total, acc)))

        try:
            result = run_job(job, send_progress)
        except BaseException as err:  # noqa: BLE001  (SystemExit from learner code, say)
            result = CheckResult(False, f"your code stopped the grader: {type(err).__name__}: {err}")
        conn.send(("result", result))
