"""Run every check of the chosen steps in worker processes and award points.

The runner never runs learner code itself. It hands each check to a worker process and waits
at most the check's time limit; a worker that runs past it is killed and replaced, and the
check fails with a message saying so.

Two workers share the work: one for resnet18, the longest run (its sandbox imports fastai in the
background at once), and one for the rest (learner and my_learner import fastai when they run),
at a lower priority since it finishes first. Workers start before anything else happens, so that
their imports overlap with the grading process's own start; `Workers` can be kept warm between
grades (watch mode). A judge starts its sandboxed observer before it imports torch, so the two
imports run side by side.
"""

import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import threading
import time
import types
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from multiprocessing import connection
from pathlib import Path

from grader.core.errors import KitError
from grader.core.home import default_source
from grader.core.steps import BY_ID
from grader.engine.protocol import CheckInfo, CheckResult, Job, Ready
from grader.engine.scoring import Graded
from grader.engine.worker import serve

WORKER_START_LIMIT = 180.0
DEVICES = ("auto", "cpu", "cuda")
FASTAI_MODULES = ("fastai.vision.all",)  # what the resnet18 step imports, the book's way
MAIN_NICE = 10  # the main judge's lower priority beside the fastai one (see Workers)


def timeout_scale() -> float:
    """FASTGROUP_TIMEOUT_SCALE stretches (a slow laptop) or shrinks (tests) every check's limit."""
    try:
        return float(os.environ.get("FASTGROUP_TIMEOUT_SCALE", "1"))
    except ValueError:
        raise KitError("FASTGROUP_TIMEOUT_SCALE must be a number such as 2 or 0.5") from None


def check_device(device: str) -> str:
    """Refuse an unknown device name at once; whether CUDA is there is the worker's to say."""
    if device not in DEVICES:
        raise KitError(f"unknown device '{device}': use auto, cpu or cuda")
    return device


def resolve_source(source: Path | None) -> Path:
    path = Path(source) if source else default_source()
    if not path.is_dir():
        raise KitError(f"exercises folder {path} not found: pass --source DIR")
    return path.resolve()


@contextmanager
def caller_main_left_out():
    """A spawned process re-runs the caller's main script before its target; the worker needs nothing
    from it. A learner's script that calls grade() without a main guard, a notebook or a Streamlit app
    (whose script stays in sys.modules as __main__) would otherwise run again inside every worker."""
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = saved


class Worker:
    """A spawned worker process; replaced whenever a check runs past its time limit."""

    def __init__(self, data_spec: str, device: str, warm: tuple[str, ...] = (), nice: int = 0):
        self.data_spec, self.device, self.warm, self.nice = data_spec, device, warm, nice
        self.process = None
        self.conn = None
        self.ready: Ready | None = None
        self.stopping = False  # asked to stop; close() waits for it
        self.interrupted = False  # the grade was stopped (Ctrl-C): never start again

    def start(self) -> None:
        """Start the process; do not wait for it (see wait_ready)."""
        if self.interrupted:
            raise KitError("grading was stopped")
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.scratch = tempfile.mkdtemp(prefix="fastgroup-judge-")
        self.process = ctx.Process(
            target=serve, args=(child, self.data_spec, self.device, self.warm, self.scratch, self.nice), daemon=True
        )
        with caller_main_left_out():
            self.process.start()
        child.close()
        self.ready = None

    def wait_ready(self) -> Ready:
        """Starting Python and importing torch is not the learner's time: wait for it here."""
        if self.process is None:
            self.start()
        if self.ready is None:
            if not self.conn.poll(WORKER_START_LIMIT):
                self.kill()
                raise KitError("the grading worker process did not start: is PyTorch installed correctly?")
            try:
                kind, payload = self.conn.recv()
            except (EOFError, OSError):
                self.kill()
                raise KitError(
                    "the grading worker process stopped at start (its error is printed above): "
                    "is PyTorch installed correctly?"
                ) from None
            if kind == "error":
                self.kill()
                raise KitError(payload)
            self.ready = payload
        return self.ready

    def run(self, job: Job, timeout: float, on_progress=None) -> CheckResult:
        if self.process is None or not self.process.is_alive():
            self.start()
        self.wait_ready()
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
            shutil.rmtree(self.scratch, ignore_errors=True)  # a killed judge cleans up nothing itself
        self.process = None
        self.ready = None
        self.stopping = False

    def ask_to_stop(self) -> None:
        """Tell the judge to stop its sandbox and exit; close() waits for it."""
        if self.process is not None and self.process.is_alive() and not self.stopping:
            self.stopping = True
            with suppress(OSError):
                self.conn.send(None)

    def close(self):
        self.ask_to_stop()
        if self.stopping:
            self.process.join(5)
        self.kill()


class Workers:
    """The grading processes of one grade, or of a watch session: started at once, closed at the end."""

    def __init__(self, data_spec: str = "embedded", device: str = "auto", fastai: bool = True):
        check_device(device)
        # The fastai judge (ResNet-18's run) is the longer one; the other finishes early and waits:
        # at a lower priority it takes the cores the longer one leaves, and the grade ends sooner.
        self.main = Worker(data_spec, device, nice=MAIN_NICE if fastai else 0)
        self.main.start()
        self.fastai = Worker(data_spec, device, warm=FASTAI_MODULES) if fastai else None
        if self.fastai:
            self.fastai.start()

    def ready(self) -> Ready:
        """The checks' list, from whichever judge is ready first: the fastai judge need not wait
        for the other, which starts at a lower priority."""
        for worker in (self.main, self.fastai):
            if worker is not None and worker.ready is not None:
                return worker.ready
        if self.fastai is not None:
            connection.wait([self.main.conn, self.fastai.conn], WORKER_START_LIMIT)
            if self.fastai.conn.poll() and not self.main.conn.poll():
                with suppress(KitError):  # the fastai judge failed to start: the main one says why
                    return self.fastai.wait_ready()
        return self.main.wait_ready()

    def for_step(self, step: str) -> Worker:
        return self.fastai if self.fastai and BY_ID[step].fastai_judge else self.main

    def close(self) -> None:
        """Both judges stop at once: each takes a tenth of a second to stop its sandbox."""
        workers = [w for w in (self.main, self.fastai) if w]
        for worker in workers:
            worker.ask_to_stop()
        for worker in workers:
            worker.close()

    def __enter__(self) -> "Workers":
        return self

    def interrupt(self) -> None:
        """Ctrl-C: both judges die now, not after the checks they are running, and no lane starts
        another; close() then has nothing left to do."""
        for worker in (self.main, self.fastai):
            if worker:
                worker.interrupted = True
                worker.kill()

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is KeyboardInterrupt:
            self.interrupt()
        self.close()


def planned_checks(steps, checks: dict[str, list[CheckInfo]], quick: bool) -> list[tuple[CheckInfo, int]]:
    """(check, its index in the step) for every check that runs, in chapter order."""
    return [
        (check, index)
        for step in steps
        for index, check in enumerate(checks[step])
        if not (quick and check.trains)
    ]


def run_checks(steps, source, seed, quick, ui, workers: Workers, on_result=None) -> list[Graded]:
    """Run every check of `steps`; each worker works through its own checks in a thread while
    `ui` shows them in chapter order, each as its result comes. `on_result(step, result)` is
    called from those threads as soon as a check ends (the plots are drawn meanwhile)."""
    plan = planned_checks(steps, workers.ready().checks, quick)
    futures = {check.number: Future() for check, _ in plan}
    listeners: dict[str, object] = {}

    def work(worker: Worker, mine):
        for check, index in mine:
            job = Job(check.step, index, str(source), seed)

            def on_progress(*args, number=check.number):
                listener = listeners.get(number)
                if listener:
                    listener(*args)

            try:
                result = worker.run(job, check.timeout * timeout_scale(), on_progress)
            except KitError as err:  # the worker could not restart: fail the check, say why
                result = CheckResult(False, str(err))
            futures[check.number].set_result(result)
            if on_result:  # it must not raise: the lane's remaining checks would never run
                on_result(check.step, result)

    threads = []
    for worker in {workers.for_step(check.step) for check, _ in plan}:
        mine = [(c, i) for c, i in plan if workers.for_step(c.step) is worker]
        threads.append(threading.Thread(target=work, args=(worker, mine), daemon=True))
        threads[-1].start()
    graded = []
    for check, _ in plan:
        with ui.running(check) as on_progress:
            listeners[check.number] = on_progress
            result = futures[check.number].result()
            listeners.pop(check.number, None)
        ui.finished(check, result)
        points = check.points if result.passed else 0.0
        graded.append(Graded(check.step, check.number, check.name, points, check.points, result))
    for thread in threads:
        thread.join()
    return graded
