"""`pytest exercises/`: the kit's checks as pytest items, for IDEs, CI and GitHub Classroom.

Installed as a pytest plugin (entry point `pytest11`), so it is active wherever the kit is, but
it collects nothing except step files (`<step id>.py`) in a folder laid out like exercises/.
Each check of a step is one item, run by the grading service `fastgroup grade` uses
(grader/engine/service.py: the same judges, time limits, points, data and seed): no check is
written twice. The service plans the items (which checks, in which order and lane: Service.plan)
and streams their results (Service.stream): an item takes its check's result, its judge's other
checks running ahead, the main judge's when the item runs. A failing item reports the kit's
message, the named mistake and the hint, not a traceback of the grader; a step not started (its
verdict) is skipped as "not started". The end of the run prints the points per step and the
total, and `--fastgroup-json FILE` writes the results.

    pytest exercises/                       # every step
    pytest exercises/mnist_loss.py -x       # one step, stop at the first failing check
    pytest exercises -k calc_grad --fastgroup-quick
"""

import importlib.util
import time
from pathlib import Path

import pytest

from grader.core.errors import KitError
from grader.core.steps import ALL_IDS
from grader.engine import (
    DEFAULT_DATA,
    DEFAULT_DEVICE,
    DEFAULT_SEED,
    NOT_STARTED_YET,
    CheckInfo,
    Marksheet,
    Request,
    ResultStream,
    ScoredCheck,
    Service,
    Verdict,
    failure_text,
    judges_needed,
    make_settings,
)
from grader.learner.hints import first_hint

MIN_STEP_FILES = 3  # a folder with at least this many step files is an exercises folder


def pytest_addoption(parser, pluginmanager):
    # The kit's pyproject sets `timeout` for its own tests: without pytest-timeout (a plain install)
    # pytest would warn about it on every `pytest exercises/`.
    if importlib.util.find_spec("pytest_timeout") is None or pluginmanager.is_blocked("timeout"):
        parser.addini("timeout", "pytest-timeout's limit (set for the kit's own tests; unused without it)")
    group = parser.getgroup("fastgroup", "fastgroup: the chapter 4 checks on exercises/")
    group.addoption("--fastgroup-data", default=None,
                    help=f"embedded | sample | PATH (default: FASTGROUP_DATA, else {DEFAULT_DATA})")
    group.addoption("--fastgroup-device", default=None, help=f"auto | cpu | cuda (default: {DEFAULT_DEVICE})")
    group.addoption("--fastgroup-seed", type=int, default=None,
                    help=f"seed for every random choice (default: {DEFAULT_SEED})")
    group.addoption("--fastgroup-quick", action="store_true", help="unit checks only, no training")
    group.addoption("--fastgroup-json", default=None, help="write the results JSON (Gradescope schema) here")


def pytest_configure(config):
    """Each step id and `trains` are markers: `pytest exercises -m "not trains"` works too."""
    for step in ALL_IDS:
        config.addinivalue_line("markers", f"{step}: the checks of step {step}")
    config.addinivalue_line("markers", "trains: a check that trains a model on the digits")


def is_step_file(path: Path) -> bool:
    """`<step id>.py` in a folder that holds several step files (an exercises/ folder)."""
    if path.suffix != ".py" or path.stem not in ALL_IDS:
        return False
    return sum((path.parent / f"{s}.py").is_file() for s in ALL_IDS) >= MIN_STEP_FILES


def pytest_collect_file(file_path: Path, parent):
    if is_step_file(Path(file_path)):
        return StepFile.from_parent(parent, path=Path(file_path))
    return None


class Session:
    """The grading service of one pytest run, started at the first step file, closed at the end."""

    def __init__(self, config):
        self.config = config
        option = config.getoption
        self.settings = make_settings(option("--fastgroup-data"), option("--fastgroup-device"),
                                          option("--fastgroup-seed"), option("--fastgroup-quick"))
        self.service: Service | None = None
        self.graded: list[ScoredCheck] = []
        self.started = time.perf_counter()
        self.sheets: list[Marksheet] = []  # the run's plans, one per exercises folder (closed at the end)
        self.streams: dict[Path, ResultStream] = {}  # folder -> its plan's results, as each check ends

    def plan(self, folder: Path, steps: list[str], checks: list[str] | None = None) -> Marksheet:
        """The service's plan for these steps of `folder` (these checks only, if named): which
        checks, in which order and lane. The caller closes it."""
        if self.service is None:
            main, fastai = judges_for(self.config.args)
            self.service = Service(self.settings, main=main, fastai=fastai, keep=True)  # a learner's own command
            if main or fastai:  # ready before the items' checks run in the judges' lanes
                self.service.ready()
        return self.service.plan(Request(source=folder, steps=steps, settings=self.settings, checks=checks))

    def start(self, items) -> None:
        """The selected items' checks, planned and streamed by the service, folder by folder: the
        fastai steps' judge works ahead in the background, as `fastgroup grade` does, while the
        main judge runs each item's check as pytest runs the item (paced)."""
        by_folder: dict[Path, list[CheckItem]] = {}
        for item in items:
            if isinstance(item, CheckItem):
                by_folder.setdefault(item.path.parent, []).append(item)
        for folder, mine in by_folder.items():
            steps = list(dict.fromkeys(i.info.step for i in mine))
            sheet = self.plan(folder, steps, [i.info.number for i in mine])
            self.sheets.append(sheet)
            self.streams[folder] = self.service.stream(sheet, paced=True)

    def take(self, item: "CheckItem") -> ScoredCheck:
        """An item's check's result from its folder's stream."""
        stream = self.streams.get(item.path.parent)
        if stream is None or item.info.number not in stream.futures:  # not planned at collection's end
            self.start([item])
            stream = self.streams[item.path.parent]
        return stream.take(item.info.number)

    def close(self) -> None:
        for sheet in self.sheets:
            sheet.close()
        if self.service is not None:
            self.service.close()


def judges_for(args: list[str]) -> tuple[bool, bool]:
    """The judges to start at once, (main, fastai), for the step files the run names: none for
    stubs not started (grader/engine/untouched.py); the main one still starts if needed."""
    main = fastai = False
    for arg in args:
        path = Path(arg.split("::")[0])
        folder, steps = (path, [s for s in ALL_IDS if (path / f"{s}.py").is_file()]) if path.is_dir() else \
            (path.parent, [path.stem] if path.stem in ALL_IDS else [])
        if steps:
            wanted = judges_needed(folder, steps, quick=False)
            main, fastai = main or wanted[0], fastai or wanted[1]
    return main, fastai


def session_of(config) -> Session:
    if not hasattr(config, "_fastgroup"):
        config._fastgroup = Session(config)
    return config._fastgroup


class StepFile(pytest.File):
    """One exercise file: one item per check of its step."""

    def collect(self):
        step = self.path.stem
        try:
            with session_of(self.config).plan(self.path.parent, [step]) as sheet:
                checks = sheet.plan  # the step's checks the service runs (`quick`: no training), in order
        except KitError as err:
            raise pytest.UsageError(f"fastgroup: {err}") from None
        for index, info in enumerate(checks):
            yield CheckItem.from_parent(self, name=f"{info.number} {info.name}", info=info, index=index)


class CheckFailed(Exception):
    """A check's verdict, reported as the kit's words (see CheckItem.repr_failure)."""


class CheckItem(pytest.Item):
    def __init__(self, *, info: CheckInfo, index: int, **kwargs):
        super().__init__(**kwargs)
        self.info, self.index = info, index
        self.add_marker(info.step)  # `-m mnist_loss` works too
        if info.trains:
            self.add_marker("trains")

    def runtest(self):
        session = session_of(self.config)
        graded = session.take(self)
        session.graded.append(graded)
        result = graded.result
        if result.verdict is Verdict.NOT_STARTED:  # reported at the exercise, not at this line
            reason = f"not started: {result.message.removeprefix(NOT_STARTED_YET)}"
            raise pytest.skip.Exception(reason, _use_item_location=True)
        if result.verdict is not Verdict.PASSED:
            raise CheckFailed(explain(self.info, result))

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, CheckFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, f"{self.info.number}: {self.info.name} ({self.info.points:g} points)"


def explain(info: CheckInfo, result) -> str:
    """A failed check in the kit's words (the results JSON's), then the step's first hint, unless
    a mistake was named (the hint that fits it)."""
    lines = [f"{info.number} {info.name}: {failure_text(result)}"]
    hint = first_hint(info.step)
    if result.mistake:  # the named mistake is the hint that fits; the first hint may point elsewhere
        lines.append(f"Hints, one at a time: fastgroup hint {info.step}")
    elif hint:
        lines.append(f"Hint: {hint} (more: fastgroup hint {info.step})")
    return "\n".join(lines)


def pytest_collection_modifyitems(session, config, items):
    """The service's order (chapter order), whatever order the files were found in."""
    state = getattr(config, "_fastgroup", None)
    checks = [i for i in items if isinstance(i, CheckItem)]
    if state is None or not checks:
        return
    position: dict[tuple[Path, str], int] = {}
    for folder in dict.fromkeys(i.path.parent for i in checks):
        steps = list(dict.fromkeys(i.info.step for i in checks if i.path.parent == folder))
        with state.plan(folder, steps) as sheet:
            position.update({(folder, c.number): sheet.position(c.number) for c in sheet.plan})
    items.sort(key=lambda i: position[i.path.parent, i.info.number] if isinstance(i, CheckItem) else -1)


def pytest_collection_finish(session):
    state = getattr(session.config, "_fastgroup", None)
    if state is not None and not session.config.getoption("collectonly"):
        state.start(session.items)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    session = getattr(config, "_fastgroup", None)
    if session is None or not session.graded:
        return
    wanted = session.settings
    results = session.service.results(session.graded, time.perf_counter() - session.started, wanted.seed, wanted.quick)
    terminalreporter.section("fastgroup: points per step")
    for step, (got, most) in results.step_points().items():
        terminalreporter.write_line(f"{step:<18} {got:g}/{most:g}")
    terminalreporter.write_line(f"Total: {results.score:g}/{results.max_score:g} points")
    bonus = results.extra_data
    if bonus.bonus_max_score:
        terminalreporter.write_line(f"Bonus: {bonus.bonus_score:g}/{bonus.bonus_max_score:g} points")
    path = config.getoption("--fastgroup-json")
    if path:
        Path(path).write_text(results.model_dump_json(indent=2))
        terminalreporter.write_line(f"Results written to {path}")


def pytest_sessionfinish(session, exitstatus):
    """A check that did not pass, a step not started included, makes the run fail (exit 1):
    a skipped item alone would let CI and GitHub Classroom count a fresh stub as passing."""
    state = getattr(session.config, "_fastgroup", None)
    if state and any(not g.result.passed for g in state.graded) and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config):
    session = getattr(config, "_fastgroup", None)
    if session is not None:
        session.close()
