"""What the grading process and a worker process tell each other: plain data, no torch.

The grading process imports only this (never torch) so that it starts in a fraction of a
second while its workers import torch in parallel.
"""

from dataclasses import dataclass, field


@dataclass
class Job:
    step: str
    index: int  # position of the check in REGISTRY[step]
    source: str
    seed: int
    stop_at: float = 0.0  # time.monotonic() of the runner's wall-clock backstop (stuck.py); 0: not set


@dataclass
class CheckResult:
    passed: bool
    message: str = ""
    mistake: str | None = None
    not_started: bool = False
    output: str = ""
    seconds: float = 0.0
    cpu_seconds: float | None = None  # the sandbox's CPU seconds, what the limit counts (None: not measured)
    outcome: dict = field(default_factory=dict)
    transient: bool = False  # may differ on a rerun of the same code (a time limit, a crash): never reused
    timed_out: bool = False  # ran past its time limit: the step's later checks are not waited for
    not_graded: bool = False  # the machine cut it short (engine/limits.py): says nothing of the learner's code
    difference: dict | None = None  # got against expected, as data (grader/engine/difference.py)


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
    """A worker's first message: the device and data it resolved, and the checks it can run."""

    device: str
    data_spec: str
    data_path: str
    checks: dict[str, list[CheckInfo]]
