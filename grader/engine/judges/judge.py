"""The judge: runs the checks, one at a time, in a process of its own (the runner's request) or,
for the notebook's in-kernel feedback, in the learner's kernel (`judge_in_kernel`).

It never imports the learner's module: the learner's code runs in a sandboxed observer
(grader/engine/judges/observer.py, started here through grader/engine/judges/remote.py) that this process
sends inputs to and gets data back from; the checks compare that data with the reference's
outputs, which this process computes itself. It lives in its own process so that the runner
can kill it (and its sandbox with it) when a check runs past its time limit, and start a fresh
one for the next check. It resolves the device and the data itself and imports torch (and, for
the steps that need it, fastai) while the grading process gets on with other work; this module
imports nothing heavy until `serve` runs.
"""

import functools
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from grader.core import memory, priority
from grader.core.errors import KitError
from grader.engine.catalogue import info as check_info
from grader.engine.loading import (
    OUTPUT_CAP,
    LazyReference,
    ModuleLoadError,
    captured_output,
    describe_exception,
    explained,
    ignore_library_warnings,
    known_mistake,
    raised_by_a_stub,
)
from grader.engine.protocol import NOT_STARTED_YET, CheckInfo, CheckResult, Job, Ready, Verdict
from grader.engine.settings import check_device

# Filled by `serve` in the judge process: the resolved data and device every job uses, the
# sandboxed observer, and the views of the data it sees.
SETTINGS: dict = {}
STATE: dict = {}


def full_view():
    """The 10-class digits' view, made on first use (only the bonus steps need it)."""
    from grader.engine import views
    from grader.engine.data import ALL_CLASSES
    from grader.engine.recipes.ten_digits import full_path

    if "full_view" not in STATE:
        STATE["full_view"] = views.make_view(full_path(), STATE["views_root"], ALL_CLASSES)
    return STATE["full_view"]


def run_job(job: Job, send_progress) -> CheckResult:
    """Run one check and turn whatever happens into a CheckResult; never raises."""
    from grader.engine.checks import REGISTRY
    from grader.engine.judges.remote import RemoteLearner

    check = REGISTRY[job.step][job.index]
    learner_path = Path(job.source) / f"{job.step}.py"
    start = time.perf_counter()
    learner = RemoteLearner(STATE["observer"], job.step, learner_path, job.seed, SETTINGS["device"], job.stop_at)
    ctx = context(job.step, learner, SETTINGS["data_spec"], SETTINGS["device"], job.seed, STATE["view"],
                  full_view, send_progress)
    result = run_check(check, ctx, learner_path)
    result.seconds = time.perf_counter() - start
    return result


def context(step: str, learner, data_spec: str, device: str, seed: int, view, full_view, progress=None):
    """What a check sees (checks/base.py Context): built here alone, for the judge process and the kernel."""
    import torch

    from grader.engine.checks.base import Context

    return Context(
        step=step,
        learner=learner,
        ref=LazyReference(step),
        data_spec=data_spec,
        data_path=view.path,
        device=torch.device(device),
        seed=seed,
        progress=progress or (lambda done, total, acc: None),
        view=view,
        full_view=full_view,
    )


def run_check(check, ctx, learner_file: Path | None) -> CheckResult:
    """Reseed, run one check (the judge) on the learner's code (behind ctx.learner); never raises.

    Shared by the judge process and the in-kernel judge. `learner_file` is where
    the learner's code lives, so that tracebacks are trimmed to it.
    """
    from grader.engine import diagnosis
    from grader.engine.checks.base import Fail, Outcome
    from grader.engine.judges.remote import LearnerLoadError, LearnerRaised

    start = time.perf_counter()
    ctx = diagnosis.watched(ctx)  # the learner's calls, kept for a diagnosis after a failure
    ctx.reseed()
    result = CheckResult(True)
    with captured_output() as out:
        try:
            outcome = check.func(ctx) or Outcome()
            result.outcome = asdict(outcome)
        except Fail as verdict:
            result = CheckResult(False, verdict.message, verdict.mistake, difference=verdict.difference)
            if verdict.outcome is not None:
                result.outcome = asdict(verdict.outcome)
        except LearnerLoadError as err:
            result = CheckResult(False, str(err))
        except LearnerRaised as err:
            if err.not_started:
                result = CheckResult(Verdict.NOT_STARTED, f"{NOT_STARTED_YET}{err.message}")
            elif err.type_name in ("Crash", "TooLarge"):  # already a sentence for the learner
                result = CheckResult(False, err.text, transient=err.type_name == "Crash")
            elif err.type_name == "MemoryError":
                from grader.core.sandbox import memory_gb

                result = CheckResult(False, f"your code ran out of memory (limit {memory_gb():g} GB): does it build "
                                            f"far larger tensors than the step needs? {err.text}")
            elif err.type_name in ("SystemExit", "KeyboardInterrupt"):
                result = CheckResult(False, f"your code stopped the grader: {err.type_name}: {err.message}")
            else:
                result = CheckResult(False, f"your code raised {err.text}{explained(err)}", known_mistake(err))
        except ModuleLoadError as err:
            result = CheckResult(False, str(err))
        except Exception as err:  # noqa: BLE001  (learner code may raise anything)
            if raised_by_a_stub(err):  # a stub's own raise; PyTorch's NotImplementedError is a real error
                result = CheckResult(Verdict.NOT_STARTED, f"{NOT_STARTED_YET}{err}")
            else:
                text = describe_exception(err, learner_file)
                result = CheckResult(False, f"your code raised {text}{explained(err)}", known_mistake(err))
        if not (result.passed or result.not_started):
            diagnosis.amend(result, check.step, ctx, result.mistake, learner_file)  # after a failure only
    result.output = capped("".join(getattr(ctx.learner, "output", []) or []) + out.text())
    result.seconds = time.perf_counter() - start
    return result


def capped(text: str) -> str:
    """A check's output from all its calls together, cut to what one check may print."""
    if len(text) <= OUTPUT_CAP:
        return text
    return text[:OUTPUT_CAP] + f"\n[... {len(text) - OUTPUT_CAP} more characters of output cut]"


def resolve_device(device: str) -> str:
    """'auto' -> cuda when PyTorch sees a GPU, else cpu; a cuda request without one is refused."""
    import torch

    if check_device(device) == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise KitError("--device cuda asked for, but PyTorch sees no CUDA GPU: use --device cpu")
    return device


def start(data_spec: str, device: str) -> Ready:
    """Import the checks, resolve device and data, make the sandbox's view of the data: what a
    judge does before its first job."""
    from grader.engine import data as data_sources
    from grader.engine import views
    from grader.engine.catalogue import listed
    from grader.engine.data import SAMPLE_CLASSES

    SETTINGS.update(device=resolve_device(device), data_spec=data_spec, data_path=str(data_sources.resolve(data_spec)))
    STATE["view"] = views.make_view(Path(SETTINGS["data_path"]), STATE["views_root"], SAMPLE_CLASSES)
    return Ready(SETTINGS["device"], data_spec, SETTINGS["data_path"], listed())


def serve(conn, data_spec: str = "embedded", device: str = "auto", warm: tuple[str, ...] = (),
          scratch: str | None = None, nice: int = 0) -> None:
    """The judge process's loop: start, say ('ready', Ready) or ('error', message); then receive a Job,
    send ('progress', ...) messages, then ('result', ...), until told to stop. A judge kept for the
    next command (grader/engine/judges/warm.py) runs the same steps around its connections."""
    opening = begin(data_spec, device, warm, scratch, nice)
    conn.send(opening)
    if opening[0] == "ready":
        handle(conn)
    finish()


def begin(data_spec: str, device: str, warm: tuple[str, ...], scratch: str | None, nice: int) -> tuple:
    """Start the sandbox and this judge: ('ready', Ready) or ('error', message). `warm` modules
    (fastai) are imported in the sandbox before the ready message, so no check's time limit pays
    for them; the judge itself needs them only to train the kit's own runs, once per data, seed
    and device (cached).

    Two judges train side by side: with OpenMP's default busy-waiting their idle threads spin
    against each other and a 2 s training run took up to 44 s; passive waiting (set before
    torch loads OpenMP) removes that.

    `scratch` is a folder the runner made for this judge and removes even when it has to kill it:
    the data's views and the sandbox's private folder go there. `nice` lowers the priority of this
    judge and its sandbox (see runner.Judges)."""
    # Ctrl-C reaches every process of the terminal's group: the grading process decides when its
    # judges stop (it sends None, or its end closes the pipe), so a judge never dies mid-message.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    priority.lower(nice)
    if nice:
        os.environ[priority.ENV] = str(nice)  # the observer lowers its own session's priority too
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from grader.engine.judges.remote import Observer

    # The sandboxed observer starts first, so its imports overlap this process's own.
    STATE["views_root"] = Path(tempfile.mkdtemp(prefix="fastgroup-views-", dir=scratch))
    STATE["views_root"].chmod(0o755)  # the sandbox's own uid reads it (the judge's scratch stays closed)
    STATE["observer"] = Observer(warm=warm, binds=(STATE["views_root"],), device=device,
                                 scratch=Path(scratch) if scratch else None)
    STATE["observer"].start()
    try:
        ready = start(data_spec, device)
    except KitError as err:
        return ("error", str(err))
    ignore_library_warnings()  # the judge imports fastai only to train the kit's own runs
    STATE["ready"] = ready
    return opened()


def opened() -> tuple:
    """('ready', Ready) once the sandbox is ready (its start-up is not the learner's time either),
    or ('error', why it did not start)."""
    from grader.engine.judges.remote import ObserverStopped

    if SETTINGS.get("data_path") and not Path(SETTINGS["data_path"]).exists():  # a kit home deleted under a
        drop_views()                                                               # kept judge: made again
        try:
            STATE["ready"] = start(SETTINGS["data_spec"], SETTINGS["device"])
        except KitError as err:
            return ("error", str(err))
    try:
        STATE["observer"].wait_ready()
    except ObserverStopped as err:
        if str(err).startswith(memory.SHORT):
            return ("error", str(err))
        if any(sign in str(err) for sign in memory.SIGNS):
            from grader.core.sandbox import memory_gb

            return ("error", f"the grading sandbox ran out of memory as it started (limit {memory_gb():g} GB): "
                             f"set FASTGROUP_SANDBOX_MEMORY_GB higher (8 by default) ({str(err)[-200:]})")
        if "ImportError" in str(err) or "ModuleNotFoundError" in str(err):
            return ("error", f"the grading sandbox could not import what it needs ({err}): reinstall the kit "
                             "(pip install -e .)")
        return ("error", f"the grading sandbox did not start ({err}): is bubblewrap working? "
                         "FASTGROUP_SANDBOX=off grades without it")
    return ("ready", STATE["ready"])


def handle(conn) -> None:
    """Run the jobs one connection sends, until it sends None or is gone."""
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # the grading process is gone: clean up all the same
            job = None
        if job is None:
            return
        if isinstance(job, tuple) and job[:1] == (FRESH,):  # (FRESH, the modules its sandbox imports first)
            fresh_sandbox(tuple(str(m) for m in job[1]))
            conn.send(opened())
            continue

        def send_progress(done, total, acc=None):
            conn.send(("progress", (done, total, acc)))

        try:
            result = run_job(job, send_progress)
        except BaseException as err:  # noqa: BLE001  (SystemExit from learner code, say)
            result = CheckResult(False, f"your code stopped the grader: {type(err).__name__}: {err}")
        try:
            conn.send(("result", result))
        except OSError:  # the grading process stopped waiting (Ctrl-C): nobody to tell
            return


def drop_views() -> None:
    for key in ("view", "full_view"):
        if key in STATE:
            shutil.rmtree(STATE.pop(key).path, ignore_errors=True)


FRESH = "fresh"  # (FRESH, modules): a new sandbox and view (the board's worker between submissions)


def fresh_sandbox(warm: tuple[str, ...] | None = None) -> None:
    """A new sandbox and a new view of the data for the next command or submission: nothing one
    command's learner code did inside the sandbox is there for the next, and the validation
    digits' order and names are drawn again. The sandbox imports while this judge waits: `warm`
    (None: as before) are the modules it imports before it says it is ready."""
    from grader.engine import views
    from grader.engine.data import SAMPLE_CLASSES

    STATE["observer"].stop()
    drop_views()
    if warm is not None:
        STATE["observer"].warm = warm
    STATE["observer"].start()
    STATE["view"] = views.make_view(Path(SETTINGS["data_path"]), STATE["views_root"], SAMPLE_CLASSES)


def finish() -> None:
    """Stop the sandbox, remove the views, and exit."""
    STATE["observer"].stop()
    shutil.rmtree(STATE["views_root"], ignore_errors=True)
    # Nothing is left to write: skip the interpreter's teardown (with torch loaded it takes a
    # third of a second, which the grading process would wait for).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


# ---------------------------------------------------------------- in the learner's kernel
SKIPPED = "skipped: an earlier check of this step failed, fix that first (training would not help)"


@functools.cache
def kernel_view(data_spec: str, full: bool = False):
    """The data as the checks read it (the same kind of view a judge process makes), made once per kernel."""
    from grader.engine import data as data_sources
    from grader.engine import views
    from grader.engine.data import ALL_CLASSES, SAMPLE_CLASSES

    root = Path(tempfile.mkdtemp(prefix="fastgroup-views-"))
    return views.make_view(data_sources.resolve(data_spec, full=full), root, ALL_CLASSES if full else SAMPLE_CLASSES)


class KernelJudge:
    """The judge of one step in the learner's kernel (the notebook's own feedback: the learner and
    the kernel are one person), the learner's code being `module` in this very process, on
    `device` (resolved). There is no time limit here: nbgrader's cell timeout stops a runaway
    cell. Once a check has failed, the training checks are skipped: the step has lost its points
    anyway. The grading service plans and streams its checks (service.grade_in_kernel)."""

    def __init__(self, step: str, module, learner_file: Path | None, data_spec: str, device: str, seed: int):
        from grader.engine.checks import REGISTRY
        from grader.engine.checks.base import LocalLearner

        self.learner_file, self.failed = learner_file, False
        self.registry = {check_info(check).number: check for check in REGISTRY[step]}
        self.ctx = context(step, LocalLearner(module, seed), data_spec, device, seed, kernel_view(data_spec),
                           lambda: kernel_view("embedded", full=True))

    def checks(self) -> list[CheckInfo]:
        """The step's checks, in order, as the grading process knows them."""
        return [check_info(check) for check in self.registry.values()]

    def run(self, info: CheckInfo) -> CheckResult:
        check = self.registry[info.number]
        result = CheckResult(Verdict.SKIPPED, SKIPPED) if check.trains and self.failed else \
            run_check(check, self.ctx, self.learner_file)
        self.failed = self.failed or not result.passed
        return result


def judge_in_kernel(step: str, module, learner_file: Path | None, data_spec: str, device: str, seed: int,
                    quick: bool):
    """Yield (CheckInfo, CheckResult) for every check of `step` (see KernelJudge); `quick` leaves
    the training checks out."""
    judge = KernelJudge(step, module, learner_file, data_spec, device, seed)
    for info in judge.checks():
        if not (quick and info.trains):
            yield info, judge.run(info)
