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


class ExtraData(BaseModel):
    model_config = ConfigDict(extra="allow")

    kind: Literal["grade", "quiz"] = "grade"
    kit_version: str = Field(default="", max_length=50)
    device: str = Field(default="cpu", max_length=20)
    data: str = Field(default="embedded", max_length=500)
    seed: int = 0
    accuracies: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _accuracies_in_range(self):
        for step, acc in self.accuracies.items():
            if not 0.0 <= acc <= 1.0:
                raise ValueError(f"accuracy of {step} is {acc}, outside 0..1")
        return self


class Results(BaseModel):
    """A whole results file."""

    model_config = ConfigDict(extra="allow")

    score: float = Field(ge=0)
    max_score: float = Field(gt=0)
    execution_time: float = Field(default=0.0, ge=0)
    tests: list[TestResult] = Field(default_factory=list, max_length=1000)
    extra_data: ExtraData = Field(default_factory=ExtraData)

    @model_validator(mode="after")
    def _consistent(self):
        if self.score > self.max_score + 1e-9:
            raise ValueError(f"score {self.score} above max_score {self.max_score}")
        return self
