"""The results JSON (Gradescope's results.json schema) as pydantic models.

Both `fastgroup grade` and `fastgroup quiz` write this shape; `extra_data.kind` tells them
apart. The store validates every submission against these models.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class TestResult(BaseModel):
    """One check (grade) or one question (quiz)."""

    model_config = ConfigDict(extra="forbid")
    __test__ = False  # not a pytest class

    name: str = Field(max_length=500)
    number: str = Field(max_length=50)
    score: float = Field(ge=0)
    max_score: float = Field(ge=0)
    status: Literal["passed", "failed"]
    output: str = Field(default="", max_length=20_000)
    tags: list[str] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _score_within_max(self):
        if self.score > self.max_score + 1e-9:
            raise ValueError(f"test {self.number}: score {self.score} above max {self.max_score}")
        return self


class StepRun(BaseModel):
    """When a step in a learner's latest grade was graded, and whether its training was skipped."""

    model_config = ConfigDict(extra="forbid")

    graded_at: str = Field(max_length=40)  # ISO 8601, UTC
    quick: bool = False  # --quick: the step trains, but its training checks did not run
    code: str | None = Field(default=None, max_length=64)  # the graded code's fingerprint (engine/fingerprint.py)


class Value(BaseModel):
    """A value's shape and dtype, as the judge saw it."""

    model_config = ConfigDict(extra="forbid")

    shape: list[int] = Field(default_factory=list, max_length=8)
    dtype: str = Field(default="", max_length=30)


class Position(BaseModel):
    """One place where the learner's value and the reference's differ (NaN and inf read as None)."""

    model_config = ConfigDict(extra="forbid")

    index: list[int] = Field(default_factory=list, max_length=8)
    got: float | None = None
    expected: float | None = None


class Difference(BaseModel):
    """A failing check's got against expected (grader/engine/difference.py): the input, both
    values' shape and dtype, the positions that differ most, the relation where one fits."""

    model_config = ConfigDict(extra="forbid")

    given: str = Field(default="", max_length=300)
    got: Value = Field(default_factory=Value)
    expected: Value = Field(default_factory=Value)
    positions: list[Position] = Field(default_factory=list, max_length=5)
    relation: str | None = Field(default=None, max_length=300)


class ExtraData(BaseModel):
    """Everything the kit adds to Gradescope's schema: each field declared, nothing else accepted."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["grade", "quiz"] = "grade"
    kit_version: str = Field(default="", max_length=50)
    device: str = Field(default="cpu", max_length=20)
    data: str = Field(default="embedded", max_length=500)
    seed: int = 0
    accuracies: dict[str, float] = Field(default_factory=dict, max_length=100)
    # grade: --quick skipped the training checks; bonus steps' points, counted apart from the core's
    quick: bool = False
    bonus_score: float | None = Field(default=None, ge=0)
    bonus_max_score: float | None = Field(default=None, ge=0)
    # the latest grade (grade-latest.json): per step, the run its result comes from
    step_runs: dict[str, StepRun] = Field(default_factory=dict, max_length=100)
    # grade: each failing check's got against expected, by check number
    differences: dict[str, Difference] = Field(default_factory=dict, max_length=100)
    # grade: the checks a busy machine cut short (engine/limits.py): they say nothing of the code
    not_graded: list[str] = Field(default_factory=list, max_length=100)
    # grade: the checks of steps still as their stubs (the engine's Verdict), by check number; None in
    # a file written before this field (Results.not_started_checks then reads the words)
    not_started: list[str] | None = Field(default=None, max_length=100)
    # grade: the CPU seconds each check's code used in the sandbox, by check number (what its limit counts)
    cpu_seconds: dict[str, float] = Field(default_factory=dict, max_length=100)
    # grade: the mistake the judge named for a failing check, by check number (never read from output)
    mistakes: dict[str, str] = Field(default_factory=dict, max_length=100)
    # nbgrader import: when the student handed the notebook in (ISO 8601), and what nbgrader's
    # in-kernel test cells said (feedback, not verified: the score is the sandboxed grade's)
    submitted_at: str | None = Field(default=None, max_length=40)
    nbgrader_score: float | None = Field(default=None, ge=0)
    # quiz: how it was taken, how long it took, the word per question, the questions to revisit
    mode: Literal["interactive", "file"] | None = None
    duration_s: float | None = Field(default=None, ge=0)
    outcomes: dict[str, str] = Field(default_factory=dict, max_length=100)
    revisit: list[str] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _accuracies_in_range(self):
        for step, acc in self.accuracies.items():
            if not 0.0 <= acc <= 1.0:
                raise ValueError(f"accuracy of {step} is {acc}, outside 0..1")
        return self


class Results(BaseModel):
    """A whole results file."""

    model_config = ConfigDict(extra="forbid")

    score: float = Field(ge=0)
    max_score: float = Field(gt=0)
    execution_time: float = Field(default=0.0, ge=0)
    tests: list[TestResult] = Field(default_factory=list, max_length=1000)
    extra_data: ExtraData = Field(default_factory=ExtraData)
    # Gradescope's own optional top-level fields, accepted so that its files validate.
    output: str | None = Field(default=None, max_length=20_000)
    output_format: str | None = Field(default=None, max_length=50)
    test_output_format: str | None = Field(default=None, max_length=50)
    test_name_format: str | None = Field(default=None, max_length=50)
    visibility: str | None = Field(default=None, max_length=50)
    stdout_visibility: str | None = Field(default=None, max_length=50)

    @model_validator(mode="after")
    def _consistent(self):
        if self.score > self.max_score + 1e-9:
            raise ValueError(f"score {self.score} above max_score {self.max_score}")
        return self

    def not_started_checks(self) -> set[str]:
        """The checks whose step is still its stub, as the judge said it (a typed field, not words)."""
        if self.extra_data.not_started is not None:
            return set(self.extra_data.not_started)
        return {t.number for t in self.tests if t.status != "passed" and t.output.startswith("not started")}

    def step_points(self) -> dict[str, tuple[float, float]]:
        """(points, max points) per step, in the tests' order: a test's first tag is its step."""
        sums: dict[str, tuple[float, float]] = {}
        for test in self.tests:
            step = test.tags[0] if test.tags else test.number.split(".")[0]
            got, most = sums.get(step, (0.0, 0.0))
            sums[step] = (got + test.score, most + test.max_score)
        return sums
