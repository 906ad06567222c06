"""The judge processes of a grade: started, timed, killed and replaced.

The runner never runs learner code itself. It hands each check to a judge process
(grader/engine/judges/judge.py) and waits at most the check's time limit; a judge that runs past it is
killed and replaced, and the check fails with a message saying so.

Two judges share the work, one per lane of the manifest: the fastai lane for resnet18, the longest
run (its sandbox imports fastai in the background at once), and the main lane for the rest (learner
and my_learner import fastai when they run), at a lower priority since it finishes first. Judges
start before anything else happens, so that their imports overlap with the grading process's own
start; `Judges` can be kept warm between grades (watch mode). A judge starts its sandboxed observer
before it imports torch, so the two imports run side by side. Only the grading service
(grader/engine/service.py) uses this module.
"""

import logging
import multiprocessing as mp
import shutil
import signal
import sys
import tempfile
import threading
import time
import types
from contextlib import contextmanager, suppress
from dataclasses import replace
from multiprocessing import connection
from pathlib import Path

from grader.core import cpu, memory
from grader.core.errors import KitError
from grader.core.steps import BY_ID
from grader.engine import limits
from grader.engine.judges import stuck
from grader.engine.judges import warm as kept
from grader.engine.judges.judge import FRESH, serve
from grader.engine.keys import judge_key
from grader.engine.protocol import CheckResult, Job, Ready
from grader.engine.settings import check_device
from grader.engine.sources.light import FULL, TORCH_CORE

STALL_S = 60.0  # a judge's start that has not moved (no CPU used or waited for) this long has failed
FASTAI_MODULES = FULL  # what the resnet18 step imports, the book's way
MAIN_NICE = 10  # the main judge's lower priority beside the fastai one (see Judges)
LOG = logging.getLogger("fastgroup.judges")  # a judge replaced, and why: the board's worker logs it
LOG.addHandler(logging.NullHandler())  # elsewhere the check's own message says it
POLL_S = 0.5  # how often the sandbox's CPU time is read during a check


@contextmanager
def caller_main_left_out():
    """A spawned process re-runs the caller's main script before its target; the judge needs nothing
    from it. A learner's script that calls grade() without a main guard, a notebook or a Streamlit app
    (whose script stays in sys.modules as __main__) would otherwise run again inside every judge."""
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = saved


def covers(imported: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    """Whether a sandbox that imported `imported` first has each of `wanted` (all of fastai has its
    torch_core)."""
    return all(m in imported or (m == TORCH_CORE and set(FULL) <= set(imported)) for m in wanted)


class Judge:
    """A spawned judge process; replaced whenever a check runs past its time limit."""

    def __init__(self, data_spec: str, device: str, warm: tuple[str, ...] = (), nice: int = 0, keep: bool = False,
                 lane: str = "main"):
        """`keep`: use the judge of `lane` kept from an earlier command, or leave this one for the
        next (grader/engine/judges/warm.py), when FASTGROUP_WARM_S allows."""
        self.data_spec, self.device, self.warm, self.nice, self.lane = data_spec, device, warm, nice, lane
        self.keep = keep and kept.idle_seconds() > 0
        self.kept_folder = None  # the kept judge's folder, while this command holds it
        self.lock = None
        self.launched = None  # a kept judge started, not connected to yet
        self.process = None
        self.conn = None
        self.ready: Ready | None = None
        self.stopping = False  # asked to stop; close() waits for it
        self.sandbox_warm = warm  # what its current sandbox imported first (see refresh)
        self.ran_code = False  # a check ran in its current sandbox (refresh replaces only such a one)
        self.interrupted = False  # the grade was stopped (Ctrl-C): never start again
        self.starting = threading.Lock()  # one thread reads the judge's first message, the others wait

    def start(self) -> None:
        """Start the process; do not wait for it (see wait_ready)."""
        if self.interrupted:
            raise KitError("grading was stopped")
        self.ready = None
        self.sandbox_warm = self.warm
        if self.keep and self.start_kept():
            return
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.scratch = tempfile.mkdtemp(prefix="fastgroup-judge-")
        self.process = ctx.Process(
            target=serve, args=(child, self.data_spec, self.device, self.warm, self.scratch, self.nice), daemon=True
        )
        with caller_main_left_out():
            self.process.start()
        child.close()

    def start_kept(self) -> bool:
        """Connect to the judge an earlier command left, or launch one to leave for the next;
        False when another command holds it (this one then starts a judge of its own)."""
        if self.lock is None:
            folder = kept.folder_for(self.lane)
            self.lock = kept.claim(folder) if folder else None
            if self.lock is None:
                return False
            self.kept_folder = folder
        # one kept judge per lane: one started with other settings (data, device, home, ...) goes;
        # its priority is not a setting, so a one-step regrade uses the judge a full grade left
        settings = judge_key(kept.absolute(self.data_spec), self.device)
        found = kept.connect(self.kept_folder) if kept.settings_of(self.kept_folder) == settings else None
        if found is None:
            kept.end(self.kept_folder)
        if found:
            self.conn, self.process = found
            self.scratch = str(kept.scratch(self.kept_folder, self.process.pid))
            self.sandbox_warm = kept.sandbox_of(self.kept_folder)
        else:
            self.launched = kept.launch(self.kept_folder, kept.absolute(self.data_spec), self.device, self.warm,
                                        self.nice)
            self.process = kept.Kept(self.launched.pid, self.launched)
            self.scratch = str(kept.scratch(self.kept_folder, self.launched.pid))
        return True

    def link(self):
        """The connection to the judge, once a launched kept judge listens."""
        if self.launched is not None:
            launched, self.launched = self.launched, None
            found = kept.attach(self.kept_folder, launched)
            if found is None:
                said = kept.last_words(self.kept_folder) or "it said nothing"
                self.kill()
                raise KitError(f"the judge process did not start ({said}): is PyTorch installed correctly?")
            self.conn = found[0]
        return self.conn

    def wait_ready(self) -> Ready:
        """Starting Python and importing torch is not the learner's time: wait for it here."""
        with self.starting:
            return self._wait_ready()

    def _wait_ready(self) -> Ready:
        if self.process is None:
            self.start()
        while self.ready is None:
            conn, progress = self.link(), cpu.Progress(self.process.pid)
            while not conn.poll(STALL_S):  # a slow start on a busy machine is waited for
                if not progress.moved():
                    self.kill()
                    raise KitError(memory.short_of_memory(killed=False) or f"the judge process made no progress "
                                   f"for {STALL_S:.0f} s as it started: is PyTorch installed correctly?")
            try:
                kind, payload = self.conn.recv()
            except (EOFError, OSError):
                said = (kept.last_words(self.kept_folder) or "it said nothing") if self.kept_folder \
                    else "its error is printed above"
                killed = self.exit_signal() == signal.SIGKILL
                self.kill()
                raise KitError(memory.short_of_memory(killed) or f"the judge process stopped at start ({said}): "
                               "is PyTorch installed correctly?") from None
            if kind == "error":
                self.kill()
                raise KitError(payload)
            if not covers(self.sandbox_warm, self.warm):  # a kept judge's sandbox without fastai: one with it
                self.conn.send((FRESH, self.warm))
                self.sandbox_warm = self.warm
                continue
            self.ready = payload
        return self.ready

    def run(self, job: Job, limit: float, on_progress=None) -> CheckResult:
        """Run one check. `limit` counts the CPU seconds of the judge's sandbox (the learner's code;
        the judge's own work is the kit's), so a busy machine never turns correct code into a
        failure; a wall-clock backstop several times the limit catches code that blocks without
        computing (grader/engine/limits.py). Where /proc is missing (macOS) the limit is wall-clock seconds."""
        if self.process is None or not self.process.is_alive():
            self.start()
        self.wait_ready()
        clock = cpu.TreeClock(self.process.pid)
        self.ran_code = True
        wall_limit = limit * limits.BACKSTOP if clock.on else limit
        started = time.monotonic()
        judge_cpu = cpu.own_seconds(self.process.pid)
        # a kept judge may have started in another folder: the learner's folder goes absolute
        self.conn.send(replace(job, source=str(Path(job.source).resolve()), stop_at=started + wall_limit))
        learner_file = Path(job.source) / f"{job.step}.py"
        while True:
            left = started + wall_limit - time.monotonic()
            if left > 0 and self.conn.poll(min(left, POLL_S)):
                try:
                    kind, payload = self.conn.recv()
                except (EOFError, OSError):
                    self.kill()
                    LOG.warning("a judge is replaced: it stopped during %s (the learner's code crashed it)", job.step)
                    return CheckResult(False, "your code crashed the Python process (exit or abort)", transient=True)
                if kind == "result":
                    payload.cpu_seconds = clock.used()  # what the limit counted (the learner's sandbox)
                    return payload
                if on_progress:
                    on_progress(*payload)
                continue
            used = clock.used()
            if used is not None and used > limit:
                stuck.ask_for_stack(self.process.pid)
                LOG.warning("a judge is replaced: %s used up its %.0f CPU seconds", job.step, limit)
                return limits.over_cpu(limit, self.stop(learner_file, job.step))
            if left <= 0:
                # what the judge and its sandbox did, or wanted to do, while the time went by
                active = (used or 0.0) + cpu.own_seconds(self.process.pid) - judge_cpu + clock.queued()
                waited = time.monotonic() - started
                LOG.warning("a judge is replaced: %s ran %.0f s (%.1f CPU seconds of %.0f)", job.step, waited,
                            used or 0.0, limit)
                return limits.over_wall(limit, waited, used, active, self.stop(learner_file, job.step))

    def stop(self, learner_file: Path, step: str) -> str:
        """Kill the judge (its sandbox goes with it) once its stack says where the code was: that place."""
        where = stuck.where(self.scratch, step, learner_file)
        self.kill()
        return where

    def exit_signal(self) -> int | None:
        """The signal that ended the judge (a dead one's), if a signal did."""
        if self.process is None:
            return None
        with suppress(Exception):
            self.process.join(1)
        code = getattr(self.process, "exitcode", None)
        if code is None and isinstance(self.process, kept.Kept) and self.process.child is not None:
            code = self.process.child.poll()
        return -code if isinstance(code, int) and code < 0 else None

    def refresh(self, warm: tuple[str, ...] | None = None) -> None:
        """A new sandbox and view of the data before the next grade (its code is someone else's):
        the judge stays, and its next ready message is waited for like its first. `warm`: the
        modules the new sandbox imports first (None: the judge's own)."""
        if self.process is None or self.ready is None or not self.ran_code:  # no learner code ran in it
            return
        try:
            if not self.process.is_alive():
                raise OSError
            self.conn.send((FRESH, self.warm if warm is None else warm))
            self.sandbox_warm = self.warm if warm is None else warm
            self.ready = None
            self.ran_code = False
        except OSError:
            self.kill()  # a new one starts when next needed

    def kill(self):
        if self.process is not None:
            self.process.kill()
            self.process.join(5)
            if self.kept_folder:  # its scratch folder, socket and pid file
                kept.forget(self.kept_folder, self.process.pid)
            else:
                shutil.rmtree(self.scratch, ignore_errors=True)  # a killed judge cleans up nothing itself
        self.process = None
        self.launched = None
        self.ready = None
        self.stopping = False

    def ask_to_stop(self) -> None:
        """Tell the judge to stop its sandbox and exit; close() waits for it."""
        if self.process is not None and self.process.is_alive() and not self.stopping:
            self.stopping = True
            with suppress(OSError, KitError):
                self.link().send(None)

    def close(self):
        self.ask_to_stop()
        if self.kept_folder and self.process is not None and self.process.is_alive():
            self.conn.close()  # the kept judge waits for the next command
            self.process = self.conn = self.ready = None
        elif self.stopping:
            self.process.join(5)
        self.kill()
        if self.lock is not None:
            self.lock.close()
            self.lock = self.kept_folder = None


class Judges:
    """The judge processes of one grade, or of a watch session: started at once, closed at the end."""

    def __init__(self, data_spec: str = "embedded", device: str = "auto", fastai: bool = True,
                 main: bool = True, keep: bool = False, main_first: tuple[str, ...] = ()):
        """`main_first`: what the main judge's sandbox imports at start too (fastai, or fastai's
        torch_core, where a notebook's code imports it: its import is not the learner's time). `main`: start the main
        judge now; without it, it starts when a check or the checks' list first needs it. `keep`:
        judges kept between commands (grader/engine/judges/warm.py)."""
        check_device(device)
        # The fastai judge (ResNet-18's run) is the longer one; the other finishes early and waits:
        # at a lower priority it takes the cores the longer one leaves, and the grade ends sooner.
        self.main = Judge(data_spec, device, warm=main_first,
                          nice=MAIN_NICE if fastai else 0, keep=keep)
        if main:
            self.main.start()
        self.fastai = Judge(data_spec, device, warm=FASTAI_MODULES, keep=keep, lane="fastai") if fastai else None
        if self.fastai:
            self.fastai.start()

    def ready(self) -> Ready:
        """The checks' list, from whichever judge is ready first: the fastai judge need not wait
        for the other, which starts at a lower priority."""
        for judge in (self.main, self.fastai):
            if judge is not None and judge.ready is not None:
                return judge.ready
        if self.fastai is not None and self.main.process is None:  # only the fastai lane has work
            return self.fastai.wait_ready()
        if self.fastai is not None:
            connection.wait([self.main.link(), self.fastai.link()], STALL_S)
            if self.fastai.conn.poll() and not self.main.conn.poll():
                with suppress(KitError):  # the fastai judge failed to start: the main one says why
                    return self.fastai.wait_ready()
        return self.main.wait_ready()

    def all_ready(self) -> Ready:
        """Every judge of the grade ready (watch mode: a save is then graded at once)."""
        ready = self.ready()
        for judge in (self.main, self.fastai):
            if judge is not None:
                judge.wait_ready()
        return ready

    def for_step(self, step: str) -> Judge:
        """The judge of the step's lane (the manifest's `lane`)."""
        return self.fastai if self.fastai and BY_ID[step].fastai_lane else self.main

    def close(self) -> None:
        """Both judges stop at once: each takes a tenth of a second to stop its sandbox."""
        judges = [j for j in (self.main, self.fastai) if j]
        for judge in judges:
            judge.ask_to_stop()
        for judge in judges:
            judge.close()

    def refresh(self, fastai: bool = True) -> None:
        """Fresh sandboxes and views for the next grade: see Judge.refresh. Without `fastai` the
        main judge's sandbox imports only torch (code that needs fastai imports it as it loads)."""
        if self.fastai is not None:
            self.fastai.refresh()
        self.main.refresh(None if fastai else ())

    def main_sandbox_has_fastai(self) -> bool:
        return FASTAI_MODULES[0] in self.main.sandbox_warm

    def __enter__(self) -> "Judges":
        return self

    def interrupt(self) -> None:
        """Ctrl-C: both judges die now, not after the checks they are running, and no lane starts
        another; close() then has nothing left to do."""
        for judge in (self.main, self.fastai):
            if judge:
                judge.interrupted = True
                judge.kill()

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is KeyboardInterrupt:
            self.interrupt()
        self.close()
