"""What the grading process and a judge process tell each other: plain data, no torch.

The grading process imports only this (never torch) so that it starts in a fraction of a
second while its judges import torch in parallel.
"""

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass
class Job:
    step: str
    index: int  # position of the check in REGISTRY[step]
    source: str
    seed: int
    stop_at: float = 0.0  # time.monotonic() of the runner's wall-clock backstop (stuck.py); 0: not set


class Verdict(StrEnum):
    """A check's outcome as a typed value, set where its result is made: what every consumer reads
    (never the words of its message). Only PASSED earns points; the results JSON says "passed" or
    "failed" (SKIPPED, NOT_STARTED and NOT_GRADED are "failed" there, with 0 points)."""

    PASSED = "passed"
    FAILED = "failed"  # the learner's code ran and did not give what the reference gives
    NOT_STARTED = "not started"  # the step is still its stub (it raised the stub's NotImplementedError), or absent
    NOT_GRADED = "not graded"  # the machine cut it short (engine/limits.py): says nothing of the learner's code
    SKIPPED = "skipped"  # not run: an earlier check of the step failed or ran out of time


NOT_STARTED_YET = "not started yet: "  # the start of a stub's message, in the kit's words


@dataclass
class CheckResult:
    verdict: Verdict
    message: str = ""
    mistake: str | None = None
    output: str = ""
    seconds: float = 0.0
    cpu_seconds: float | None = None  # the sandbox's CPU seconds, what the limit counts (None: not measured)
    outcome: dict = field(default_factory=dict)
    transient: bool = False  # may differ on a rerun of the same code (a time limit, a crash): never reused
    timed_out: bool = False  # ran past its time limit: the step's later checks are not waited for
    difference: dict | None = None  # got against expected, as data (grader/engine/difference.py)

    def __post_init__(self):
        if isinstance(self.verdict, bool):  # CheckResult(True) / CheckResult(False, message): passed or failed
            self.verdict = Verdict.PASSED if self.verdict else Verdict.FAILED
        self.verdict = Verdict(self.verdict)  # a kept result (engine/reuse.py) reads it back as its string

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASSED

    @property
    def not_started(self) -> bool:
        return self.verdict is Verdict.NOT_STARTED

    @property
    def not_graded(self) -> bool:
        return self.verdict is Verdict.NOT_GRADED


@dataclass(frozen=True)
class CheckInfo:
    """A check as the grading process knows it: no code, just what it is worth."""

    step: str
    number: str
    name: str
    points: float
    trains: bool
    timeout: float


@dataclass
class Ready:
    """A judge's first message: the device and data it resolved, and the checks it can run."""

    device: str
    data_spec: str
    data_path: str
    checks: dict[str, list[CheckInfo]]
