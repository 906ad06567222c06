"""The process that runs the learner's code, one check at a time, on the runner's request.

It lives in its own process so that the runner can kill it when a check runs past its time
limit (an infinite loop) and start a fresh one for the next check. It resolves the device and
the data itself and imports torch (and, for the steps that need it, fastai) while the grading
process gets on with other work; this module imports nothing heavy until `serve` runs.
"""

import importlib
import os
import time
import warnings
from dataclasses import asdict
from pathlib import Path

from grader.core.errors import KitError
from grader.engine.loading import (
    ModuleLoadError,
    captured_output,
    describe_exception,
    known_mistake,
    load_file,
    load_reference,
)
from grader.engine.protocol import CheckInfo, CheckResult, Job, Ready

# Filled by `serve` in the worker process: the resolved data and device every job uses.
SETTINGS: dict = {}


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
    import torch

    from grader.engine.checks import REGISTRY
    from grader.engine.checks.base import Context

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
        data_spec=SETTINGS["data_spec"],
        data_path=Path(SETTINGS["data_path"]),
        device=torch.device(SETTINGS["device"]),
        seed=job.seed,
        progress=send_progress,
    )
    result = run_check(check, ctx, learner_path)
    result.seconds = time.perf_counter() - start
    return result


def run_check(check, ctx, learner_file: Path | None) -> CheckResult:
    """Reseed, run one check on the learner's code, capture its output; never raises.

    Shared by the worker and the notebook track (grader/notebook/inline.py). `learner_file` is where
    the learner's code lives, so that tracebacks are trimmed to it.
    """
    from grader.engine.checks.base import Fail, Outcome

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


def resolve_device(device: str) -> str:
    """'auto' -> cuda when PyTorch sees a GPU, else cpu; a cuda request without one is refused."""
    import torch

    if device not in ("auto", "cpu", "cuda"):
        raise KitError(f"unknown device '{device}': use auto, cpu or cuda")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise KitError("--device cuda asked for, but PyTorch sees no CUDA GPU: use --device cpu")
    return device


def start(data_spec: str, device: str) -> Ready:
    """Import the checks, resolve device and data: what a worker does before its first job."""
    from grader.engine import data as data_sources
    from grader.engine.checks import REGISTRY

    SETTINGS.update(device=resolve_device(device), data_spec=data_spec, data_path=str(data_sources.resolve(data_spec)))
    checks = {
        step: [CheckInfo(step, c.number, c.name, c.points, c.trains, c.timeout) for c in checks]
        for step, checks in REGISTRY.items()
    }
    return Ready(SETTINGS["device"], data_spec, SETTINGS["data_path"], checks)


def serve(conn, data_spec: str = "embedded", device: str = "auto", warm: tuple[str, ...] = ()) -> None:
    """Worker loop: start, say ('ready', Ready) or ('error', message); then receive a Job,
    send ('progress', ...) messages, then ('result', ...). `warm` modules (fastai) are imported
    right after the ready message, before the first job arrives.

    Two workers train side by side: with OpenMP's default busy-waiting their idle threads spin
    against each other and a 2 s training run took up to 44 s; passive waiting (set before
    torch loads OpenMP) removes that."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        conn.send(("ready", start(data_spec, device)))
    except KitError as err:
        conn.send(("error", str(err)))
        return
    for module in warm:
        with warnings.catch_warnings():  # known noise of fastai's own imports, by exact message
            warnings.filterwarnings("ignore", message="`torch.jit.script` is deprecated", category=FutureWarning)
            warnings.filterwarnings("ignore", message="The 'mode.chained_assignment' option is deprecated")
            importlib.import_module(module)
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
