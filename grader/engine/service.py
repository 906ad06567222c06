"""The grading service: the one way the kit grades a learner's code.

Every front end is an adapter over it: `fastgroup grade` and watch mode (grader/learner), the
pytest plugin, the notebook track (grader/notebook), the board's worker (grader/board). An
adapter translates its input into a Request and presents the Marksheet that comes back (or, for
a front end that runs checks one by one, takes the service's plan and its stream of results);
the judges, time limits, points, verdicts, failure texts and the results contract are this module's.

A grade goes through these stages, in this order (STAGES below, each one function):

    load_code          the learner's step files as a folder: files sent in memory, a notebook's
                       or a script's definitions (grader/engine/sources: found, never run) and
                       step files written the book's way are written to a private temporary
                       folder first; a learner's own folder is never written to
    plan_checks        the checks that run, in chapter order (`quick` leaves training out, and
                       the fastai steps unless they were named), each in its lane; those said
                       without a judge (a missing file, an untouched stub, a kept result) settled
    observe_and_judge  each check in its lane's judge process (grader/engine/judges/judge.py): the
                       learner's code runs in the judge's sandbox (observe), the judge holds
                       what comes out against the reference it computes itself (judge), within
                       the check's time limit: a ResultStream, each check's ScoredCheck as it ends
    score              points if passed, then the results JSON by the core/bonus rule

Service.grade runs them all; Service.plan runs the first two and Service.stream the third, for a
front end that presents each check as it ends (the pytest plugin's items). Presenting the result
(a terminal report, pytest's summary, a board row) is the front end's. The notebook's in-kernel
feedback (`grade_in_kernel`) skips the sandbox: the same plan and stream, the learner's code
observed and judged in their own kernel (one lane, run as the cell asks), then scored here alike.
"""

import dataclasses
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from grader.core.errors import KitError
from grader.core.home import default_source
from grader.core.results import Results
from grader.core.steps import ALL_IDS, BY_ID, get_step
from grader.core.text import neutral
from grader.engine import catalogue, reuse
from grader.engine.fingerprint import fingerprint
from grader.engine.folders import check_data
from grader.engine.judges.judge import SKIPPED
from grader.engine.judges.runner import FASTAI_MODULES, Judges
from grader.engine.limits import NOT_GRADED
from grader.engine.loading import missing
from grader.engine.protocol import NOT_STARTED_YET, CheckInfo, CheckResult, Job, Ready, Verdict
from grader.engine.scoring import Graded, ScoredCheck, failure_text, to_results
from grader.engine.settings import Settings, settings, timeout_scale
from grader.engine.sources.cells import read_cells
from grader.engine.sources.extract import Extracted, adapted_folder, extract
from grader.engine.sources.light import first_imports
from grader.engine.untouched import untouched

__all__ = ["SKIPPED", "STAGES", "Graded", "Marksheet", "Quiet", "Request", "ResultStream", "ScoredCheck", "Service",
           "Verdict", "failure_text", "grade_in_kernel", "judges_needed", "resolve_source", "sandbox_first",
           "untouched_steps"]

MAIN, FASTAI, KERNEL = "main", "fastai", "kernel"  # the lanes: a judge process each, or the learner's kernel

Source = Path | Mapping[str, str] | Extracted  # a folder laid out like exercises/, a .ipynb or .py,
#                                              {"mnist_loss.py": code}, or definitions already extracted


@dataclass(frozen=True)
class Request:
    """What to grade: the code, the steps (None: every step) and the settings."""

    source: Source | None = None  # None: ./exercises in a checkout, else the kit's own
    steps: Sequence[str] | None = None
    settings: Settings = field(default_factory=settings)
    reuse: str = "off"  # "on": a step whose code and settings are unchanged keeps its last result;
    #                     "fresh": grade every step, keep the results; "off": neither (the board)
    checks: Collection[str] | None = None  # these check numbers only (pytest's selection); None: every one


class Quiet:
    """A grade's view when nobody watches (the board's worker): see Service.grade's `ui`."""

    @contextmanager
    def running(self, check: CheckInfo):
        yield lambda done, total, acc=None: None

    def finished(self, check: CheckInfo, result: CheckResult) -> None:
        pass


@dataclass
class Marksheet:
    """One request's checks as they go through the stages: planned (`plan`, in chapter order, each in
    a lane; `settled`: those said without a judge), scored (`graded`), then the results JSON
    (`results`), what a front end presents."""

    request: Request
    ui: object = field(default_factory=Quiet)  # running(check) -> on_progress; finished(check, result)
    on_result: Callable[[str, CheckResult], None] | None = None  # from the lanes' threads, as each ends
    cleanup: ExitStack = field(default_factory=ExitStack)
    started: float = field(default_factory=time.perf_counter)
    folder: Path | None = None
    shown_source: Path | None = None  # what the learner named: their folder, notebook or script
    used: dict[str, list[str]] = field(default_factory=dict)  # step -> the definitions graded (a notebook's)
    absent: dict[str, str] = field(default_factory=dict)  # step -> why its code could not be graded
    untouched: dict[str, str] = field(default_factory=dict)  # step -> its stub's message: not started
    codes: dict[str, str] = field(default_factory=dict)  # step -> its code's fingerprint (engine/fingerprint.py)
    reused: dict[str, list[ScoredCheck]] = field(default_factory=dict)  # step -> its kept result (engine/reuse.py)
    ran_code: bool = False  # a judge ran the learner's code (a service that did not is as good as new)
    steps: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # the fastai steps `quick` left out
    plan: list[CheckInfo] = field(default_factory=list)  # in chapter order
    lanes: dict[str, list[CheckInfo]] = field(default_factory=dict)  # lane -> the checks its judge runs, in order
    settled: dict[str, ScoredCheck] = field(default_factory=dict)  # check number -> said without a judge
    graded: list[ScoredCheck] = field(default_factory=list)
    device: str = ""  # as the judges resolved it
    results: Results | None = None

    def position(self, number: str) -> int:
        """Where a check comes in the plan (chapter order): a front end's sort key."""
        return next(n for n, check in enumerate(self.plan) if check.number == number)

    def lane(self, number: str) -> str | None:
        """The lane whose judge runs a check; None for one settled without a judge."""
        return next((lane for lane, checks in self.lanes.items() if any(c.number == number for c in checks)), None)

    def close(self) -> None:
        """Removes what planning made (code from memory or a notebook, written to a private folder)."""
        self.cleanup.close()

    def __enter__(self) -> "Marksheet":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def resolve_source(source: Path | None) -> Path:
    """The exercises folder, notebook or script to grade, resolved; a missing one is a one-line error."""
    path = Path(source) if source else default_source()
    if path.is_file() and path.suffix in (".ipynb", ".py"):
        return path.resolve()
    if not path.exists():
        raise KitError(f"{path} not found: pass --source with your exercises folder, notebook (.ipynb) or script (.py)")
    if not path.is_dir():
        raise KitError(f"{path}: expected an exercises folder, a notebook (.ipynb) or a Python file (.py)")
    return path.resolve()


def sandbox_first(source, steps: Sequence[str] | None = None, quick: bool = False) -> tuple[str, ...]:
    """What the main judge's sandbox imports before its first check, so that no check's time limit
    pays for it: for a notebook's, a script's or a kernel's step modules of the steps graded (a quick
    grade of every step leaves the fastai steps out), what they import of fastai (sources/light.py:
    often nothing, or only its `tensor`); for step files, nothing."""
    if isinstance(source, Path) and source.is_file():
        try:
            source = extracted(source)
        except KitError:
            return FASTAI_MODULES  # load_code says what is wrong with it
    if not isinstance(source, Extracted):
        return ()
    graded = [get_step(s).id for s in steps] if steps else [s for s in ALL_IDS if not (quick and BY_ID[s].fastai)]
    wanted = {m for step in graded if not BY_ID[step].fastai_lane
              for m in first_imports(source.files.get(f"{step}.py", ""))}
    return FASTAI_MODULES if set(FASTAI_MODULES) <= wanted else tuple(sorted(wanted))


def extracted(path: Path) -> Extracted:
    """A notebook's or a script's chapter definitions; none at all is a one-line error."""
    found = extract(read_cells(path), path.name)
    if not found.files:
        from grader.engine.sources.extract import kit_names

        names = sorted({n for s in ALL_IDS for n in kit_names(s)})
        raise KitError(f"{path}: no chapter definition found (looked for {', '.join(names[:12])}, ...): "
                       "is it your chapter 4 notebook?")
    return found


def untouched_steps(source, steps: Sequence[str] | None = None) -> dict[str, str]:
    """The steps of an exercises folder still as their stubs (grader/engine/untouched.py), with
    each stub's message; none for a notebook, a script or files in memory."""
    if not isinstance(source, Path) or not source.is_dir():
        return {}
    found = {}
    for step in [get_step(s).id for s in steps] if steps else ALL_IDS:
        message = untouched(source / f"{step}.py")
        if message:
            found[step] = message
    return found


def judges_needed(source, steps: Sequence[str] | None, quick: bool,
                  reusing: Settings | None = None) -> tuple[bool, bool]:
    """Which judges a grade needs at once, (main, fastai): none for the steps still as their stubs,
    nor, when `reusing` these settings, for steps with a kept result (see kept_results); not the
    fastai one for a quick grade of every step (see plan_checks). A judge not started here still
    starts if a check needs it after all."""
    named = [get_step(s).id for s in steps] if steps else list(ALL_IDS)
    if quick and not steps:
        named = [s for s in named if not BY_ID[s].fastai]
    left = named
    if isinstance(source, Path) and source.is_dir():  # a missing step file fails without a judge
        stubs = untouched_steps(source, named)
        left = [s for s in named if s not in stubs and (source / f"{s}.py").exists()]
        if reusing is not None:
            left = [s for s in left if not ((code := fingerprint(source, s)) and reuse.load(s, code, reusing))]
    return any(not BY_ID[s].fastai_lane for s in left), any(BY_ID[s].fastai_lane for s in left)


class Service:
    """The judges of one grade, or of a session of grades (watch mode, a pytest run, the board's
    worker between submissions): started at once, so their imports overlap the caller's start,
    kept warm between grades, closed at the end (`with Service(...)`)."""

    def __init__(self, settings: Settings | None = None, fastai: bool = True, main: bool = True, keep: bool = False,
                 main_first: tuple[str, ...] = ()):
        """`main`, `fastai`: start the main and the fastai lane's judge now (the main one starts when
        first needed anyway; see judges_needed). `main_first`: what the main judge's sandbox imports
        before its first check, so that importing it is not the learner's time: what the code needs
        where it is known (sandbox_first), ALL_OF_FASTAI for code not known yet (a notebook watched,
        the board's submissions, nbgrader's notebooks). `keep`: use judges an earlier command
        left, and leave these for the next (grader/engine/judges/warm.py: the learner's own commands)."""
        from grader.engine import settings as defaults

        self.settings = settings or defaults.settings()
        check_data(self.settings.data)  # a bad --data folder: one line now, whatever the judges need
        self.judges = Judges(self.settings.data, self.settings.device, fastai=fastai, main=main, keep=keep,
                             main_first=main_first)

    def ready(self) -> Ready:
        """Waits for the first judge: the device it resolved and the checks it can run."""
        return self.judges.ready()

    def all_ready(self) -> Ready:
        """Waits for every judge of the service (watch mode's "ready"): sandboxes started, imports done."""
        return self.judges.all_ready()

    def checks(self, step: str) -> list[CheckInfo]:
        return self.ready().checks[step]

    def catalogue(self) -> dict[str, list[CheckInfo]]:
        """Every step's checks: saved from an earlier judge's list, else this one's (then saved)."""
        known = catalogue.load()
        if known is None:
            known = self.ready().checks
            catalogue.save(known)
        return known

    def lane(self, step: str) -> str:
        """The lane whose judge runs the step's checks: the fastai one's, if this service has it."""
        return FASTAI if self.judges.fastai is not None and self.judges.for_step(step) is self.judges.fastai else MAIN

    def in_fastai_lane(self, step: str) -> bool:
        """Whether the step's checks run in a judge of their own."""
        return self.lane(step) == FASTAI

    def run(self, check: CheckInfo, folder: Path, seed: int, on_progress=None) -> ScoredCheck:
        """One check on the step files in `folder`, within its time limit, scored; a step file
        still as its stub is not started, without a judge."""
        message = untouched(Path(folder) / f"{check.step}.py")
        if message:
            return not_started(check, message)
        job = Job(check.step, index_of(check, self.checks(check.step)), str(folder), seed)
        try:
            result = self.judges.for_step(check.step).run(job, check.timeout * timeout_scale(), on_progress)
        except KitError as err:  # the judge could not restart: the check fails, saying why
            result = CheckResult(Verdict.FAILED, str(err), transient=True)
        return scored(check, result)

    def results(self, graded: list[ScoredCheck], seconds: float, seed: int, quick: bool) -> Results:
        """The results JSON of checks run one by one with run() (the pytest plugin's way)."""
        return to_results(graded, seconds, self.device(), self.settings.data, seed, quick)

    def device(self) -> str:
        """The device the judges resolved; as asked when no judge has been needed."""
        started = [j for j in (self.judges.main, self.judges.fastai) if j is not None and j.process is not None]
        return self.ready().device if started else self.settings.device

    def grade(self, request: Request, ui=None, on_result=None) -> "Marksheet":
        """Every stage, in order, for one request. Ctrl-C kills the judges at once (nothing is scored)."""
        self.check_settings(request)
        grade = Marksheet(request, ui=ui or Quiet(), on_result=on_result)
        with grade.cleanup:
            try:
                for stage in STAGES:
                    stage(grade, self)
            except KeyboardInterrupt:
                self.judges.interrupt()
                raise
        return grade

    def plan(self, request: Request) -> "Marksheet":
        """The first two stages alone: which checks the request runs, in which order and lane, and
        those said without a judge. The caller closes it (`with service.plan(request) as sheet`)
        and takes its results from stream()."""
        self.check_settings(request)
        sheet = Marksheet(request)
        try:
            load_code(sheet, self)
            plan_checks(sheet, self)
        except BaseException:
            sheet.close()
            raise
        return sheet

    def stream(self, sheet: "Marksheet", paced: bool = False,
               on_result: Callable[[str, CheckResult], None] | None = None) -> "ResultStream":
        """The planned checks' results as each ends (the observe_and_judge stage). Each lane's judge
        works through its checks in a thread of its own; `paced`: the main lane's only as each of
        its results is asked for (a pytest item runs its check when pytest runs it: `-x` stops
        there), the other lanes' ahead. A step whose check ran out of time is not waited for twice."""
        stuck: dict[str, ScoredCheck] = {}  # step -> the check that ran out of time
        seed = sheet.request.settings.seed

        def judge(check: CheckInfo, on_progress) -> ScoredCheck:
            if check.step in stuck:  # the same code would most likely hang again
                return scored(check, skipped_after(stuck[check.step]))
            done = self.run(check, sheet.folder, seed, on_progress)
            if done.result.timed_out:
                stuck[check.step] = done
            return done

        if sheet.lanes:  # the first judge ready (the checks' list, the device) before the lanes' threads ask
            self.ready()
        return ResultStream(sheet, judge, paced=(MAIN,) if paced else (), on_result=on_result)

    def check_settings(self, request: Request) -> None:
        wanted = request.settings
        if (wanted.data, wanted.device) != (self.settings.data, self.settings.device):
            raise KitError(f"this grading service runs on data {self.settings.data} and device "
                           f"{self.settings.device}: start another for {wanted.data} on {wanted.device}")

    def refresh(self, fastai: bool = True) -> None:
        """Before a grade of someone else's code (the board's next submission): the judges stay
        warm, each with a new sandbox and a new view of the data. `fastai=False`: the main judge's
        sandbox imports only torch, seconds sooner ready (see fastai_ready)."""
        self.judges.refresh(fastai)

    def fastai_ready(self, files: Mapping[str, str]) -> None:
        """Before grading `files`: if any of them uses fastai and the main judge's sandbox was
        started without it, start one with it (fastai's import is never a check's time); a main
        judge that is gone starts again with fastai anyway."""
        if any(word in text for text in files.values() for word in ("fastai", "fastbook")) \
                and self.judges.main.process is not None and not self.judges.main_sandbox_has_fastai():
            self.judges.main.wait_ready()  # the sandbox started without it, then one with it
            self.judges.main.ran_code = True
            self.judges.main.refresh(None)

    def interrupt(self) -> None:
        """Ctrl-C: the judges die now, mid-check."""
        self.judges.interrupt()

    def close(self) -> None:
        self.judges.close()

    def __enter__(self) -> "Service":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.judges.__exit__(exc_type, *exc)


class ResultStream:
    """A plan's checks as they are judged: each lane's checks in a thread of its own, but a `paced`
    lane's only when one of its results is asked for, in the asker's thread. Iterating gives each
    ScoredCheck in the plan's order as it is ready; take() one check's; `on_result` hears of each
    as soon as it ends (from the lanes' threads; kept results at once)."""

    def __init__(self, sheet: "Marksheet", judge: Callable[[CheckInfo, Callable], ScoredCheck],
                 paced: Collection[str] = (), on_result: Callable[[str, CheckResult], None] | None = None):
        self.sheet, self.judge, self.on_result = sheet, judge, on_result
        self.futures: dict[str, Future] = {check.number: Future() for check in sheet.plan}
        self.listeners: dict[str, Callable] = {}
        self.paced = {check.number: check for lane in paced for check in sheet.lanes.get(lane, [])}
        for number, done in sheet.settled.items():
            self.futures[number].set_result(done)
            if done.reused and on_result:
                on_result(done.step, done.result)
        self.threads = [threading.Thread(target=self._work, args=(checks,), daemon=True)
                        for lane, checks in sheet.lanes.items() if lane not in paced]
        for thread in self.threads:
            thread.start()

    def _work(self, checks: list[CheckInfo]) -> None:
        for n, check in enumerate(checks):
            try:
                self._judge(check)
            except BaseException as err:  # noqa: BLE001  (the asker raises it, never waits forever)
                for left in checks[n:]:
                    if not self.futures[left.number].done():
                        self.futures[left.number].set_exception(err)
                return

    def _judge(self, check: CheckInfo) -> None:
        def on_progress(*args, number=check.number):
            listener = self.listeners.get(number)
            if listener:
                listener(*args)

        done = self.judge(check, on_progress)
        self.futures[check.number].set_result(done)
        if self.on_result:  # it must not raise: the lane's remaining checks would never run
            self.on_result(check.step, done.result)

    def take(self, number: str, on_progress: Callable | None = None) -> ScoredCheck:
        """One planned check's result, waited for (a paced one judged now); `on_progress` hears
        of its training epochs meanwhile."""
        if on_progress is not None:
            self.listeners[number] = on_progress
        try:
            if number in self.paced and not self.futures[number].done():
                self._judge(self.paced[number])
            return self.futures[number].result()
        finally:
            self.listeners.pop(number, None)

    def __iter__(self) -> Iterator[ScoredCheck]:
        for check in self.sheet.plan:
            yield self.take(check.number)

    def join(self) -> None:
        """Waits for the lanes' threads (every check taken: they have ended)."""
        for thread in self.threads:
            thread.join()


def not_started(check: CheckInfo, message: str) -> ScoredCheck:
    """A check of a step still as its stub: what running it would say, without running it."""
    return scored(check, CheckResult(Verdict.NOT_STARTED, f"{NOT_STARTED_YET}{message}"))


def index_of(check: CheckInfo, checks: list[CheckInfo]) -> int:
    return [c.number for c in checks].index(check.number)


def scored(check: CheckInfo, result: CheckResult) -> ScoredCheck:
    """A check's points: all of them if it passed, none otherwise (the one place a ScoredCheck is made).
    Its words may hold what the learner's code printed or raised: control characters neutralised
    here, for every front end (core/text.py)."""
    result = dataclasses.replace(result, message=neutral(result.message), output=neutral(result.output),
                                 mistake=neutral(result.mistake) if result.mistake else result.mistake)
    return ScoredCheck(check.step, check.number, check.name, check.points if result.passed else 0.0, check.points,
                       result)


# ---------------------------------------------------------------- the stages, in order
def load_code(grade: Marksheet, service: Service) -> None:
    """The code as a folder of step files: the learner's own, or one written from memory."""
    source = grade.request.source
    files = None
    if isinstance(source, Extracted):
        files, grade.used, grade.absent = source.files, source.used, source.absent
    elif isinstance(source, Mapping):
        files = source
    else:
        grade.shown_source = resolve_source(source)
        if grade.shown_source.is_file():
            found = extracted(grade.shown_source)
            files, grade.used, grade.absent = found.files, found.used, found.absent
        else:
            files = adapted_folder(grade.shown_source)  # None: every step file is written the kit's way
    if files is None:
        grade.folder = grade.shown_source
        return
    grade.folder = Path(grade.cleanup.enter_context(tempfile.TemporaryDirectory(prefix="fastgroup-code-")))
    for name, text in files.items():
        (grade.folder / name).write_text(text, encoding="utf-8")


def plan_checks(grade: Marksheet, service: Service) -> None:
    """The checks that run, in chapter order, each in its judge's lane. `quick` leaves out the
    training checks, and the fastai steps' checks (seconds to import) unless those steps were
    named. A missing step file, an untouched stub and a kept result (Request.reuse) are settled
    here, with no judge."""
    planned(grade, service.catalogue(), service.lane)


def planned(grade: Marksheet, checks: Mapping[str, list[CheckInfo]], lane_of: Callable[[str], str]) -> None:
    """plan_checks on a given list of every step's checks and the lane of each step."""
    named = grade.request.steps
    quick = grade.request.settings.quick
    steps = [get_step(s).id for s in named] if named else list(ALL_IDS)
    if not named and (grade.used or grade.absent):  # a notebook: its bonus steps only where it has them
        steps = [s for s in steps if not BY_ID[s].bonus or s in grade.used]
    grade.skipped = [s for s in steps if BY_ID[s].fastai] if quick and not named else []
    grade.steps = [s for s in ALL_IDS if s in steps and s not in grade.skipped]
    if grade.folder is not None and not (grade.used or grade.absent):  # step files: a missing one fails at once
        grade.absent = {s: missing(grade.folder / f"{s}.py") for s in grade.steps
                        if not (grade.folder / f"{s}.py").exists()}
        grade.untouched = untouched_steps(grade.folder, grade.steps)
    if grade.folder is not None:
        grade.codes = {s: code for s in grade.steps if (code := fingerprint(grade.folder, s))}
    wanted = grade.request.checks
    grade.plan = [check for step in grade.steps for check in checks[step]
                  if not (quick and check.trains) and (wanted is None or check.number in wanted)]
    if grade.request.reuse == "on":
        grade.reused = kept_results(grade)
    for check in grade.plan:
        if check.step in grade.absent:  # no code to run: said at once
            why = grade.absent[check.step]
            verdict = Verdict.NOT_STARTED if "not found" in why else Verdict.FAILED  # sources/extract.py's words
            grade.settled[check.number] = scored(check, CheckResult(verdict, why))
        elif check.step in grade.untouched:  # still the stub: every check would raise its NotImplementedError
            grade.settled[check.number] = not_started(check, grade.untouched[check.step])
        elif check.step in grade.reused:  # the same code graded the same way before: its result stands
            grade.settled[check.number] = next(g for g in grade.reused[check.step] if g.number == check.number)
        else:
            grade.lanes.setdefault(lane_of(check.step), []).append(check)
    grade.ran_code = bool(grade.lanes)


def observe_and_judge(grade: Marksheet, service: Service) -> None:
    """The plan's stream of results (Service.stream: each lane's judge in a thread), shown by `ui`
    in chapter order, each as its result comes; `on_result` hears of each as soon as it ends."""
    stream = service.stream(grade, on_result=grade.on_result)
    for check in grade.plan:
        with grade.ui.running(check) as on_progress:
            done = stream.take(check.number, on_progress)
        if not done.reused:
            grade.ui.finished(check, done.result)
        grade.graded.append(done)
    stream.join()


def skipped_after(stopped: ScoredCheck) -> CheckResult:
    """A later check of a step whose earlier check ran out of time: not waited for again. After a
    check the busy machine cut short, it is not graded either (engine/limits.py)."""
    if stopped.result.not_graded:
        return CheckResult(Verdict.NOT_GRADED, f"{NOT_GRADED} (in {stopped.number}): it was not graded",
                           transient=True)
    return CheckResult(Verdict.SKIPPED, f"skipped: the step did not finish within its limit (in {stopped.number}); "
                                        "fix that first", transient=True)


def kept_results(grade: Marksheet) -> dict[str, list[ScoredCheck]]:
    """The planned steps whose code and settings match a kept result of the same checks."""
    found = {}
    for step, code in grade.codes.items():
        if step in grade.untouched or step in grade.absent:
            continue
        rows = reuse.load(step, code, grade.request.settings)
        planned_here = [(c.number, c.points) for c in grade.plan if c.step == step]
        if rows and [(g.number, g.max_points) for g in rows] == planned_here:
            found[step] = [dataclasses.replace(g, reused=True) for g in rows]
    return found


def score(grade: Marksheet, service: Service | None) -> None:
    """The results JSON: points per check, and the grade's score by the core/bonus rule; each
    step graded in full is kept for reuse (Request.reuse), unless a result may differ on a rerun."""
    wanted = grade.request.settings
    if service is not None:
        grade.device = service.device()  # as the judges resolved it; as asked when none was needed
    if grade.request.reuse in ("on", "fresh"):
        for step, code in grade.codes.items():
            rows = [g for g in grade.graded if g.step == step]
            if rows and not rows[0].reused and step not in grade.untouched and step not in grade.absent \
                    and not any(g.result.transient for g in rows):
                reuse.save(step, code, wanted, rows)
    grade.results = to_results(grade.graded, time.perf_counter() - grade.started, grade.device, wanted.data,
                               wanted.seed, wanted.quick)


STAGES = (load_code, plan_checks, observe_and_judge, score)


# ---------------------------------------------------------------- the notebook's in-kernel feedback
def grade_in_kernel(step: str, module, learner_file: Path | None, wanted: Settings,
                    on_check: Callable[[ScoredCheck], None] | None = None) -> Marksheet:
    """Grade one step whose code is `module`, in this process (a notebook kernel): the same plan
    and stream of results, the checks judged the same way (judge.KernelJudge, one lane run as
    each result is asked for) and scored alike, with no sandbox and no time limit. `on_check`
    hears of each check as it ends (the cell prints it)."""
    from grader.engine.judges.judge import KernelJudge, resolve_device

    sheet = Marksheet(Request(steps=(get_step(step).id,), settings=wanted))
    sheet.device = resolve_device(wanted.device)
    judge = KernelJudge(get_step(step).id, module, learner_file, wanted.data, sheet.device, wanted.seed)
    planned(sheet, {get_step(step).id: judge.checks()}, lambda _: KERNEL)
    for done in ResultStream(sheet, lambda check, _: scored(check, judge.run(check)), paced=(KERNEL,)):
        sheet.graded.append(done)
        if on_check:
            on_check(done)
    score(sheet, None)
    return sheet
