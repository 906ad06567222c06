"""The quiz data file's schema (pydantic) and its loading (tomllib).

Why a schema: a typo in ch4.toml (an answer key that names no choice, a missing explanation, a
question out of order) should fail loudly when the file loads, not quietly mark a learner wrong.

Question types, and how each is scored (all or nothing, `points` for a right answer):
- single:   one choice key; right when it is the answer key.
- multiple: a list of choice keys; right only when it is exactly the set of answer keys
            (the file states this once, `multiple_scoring = "all-or-nothing"`).
- numeric:  a number; right when within `tolerance` (absolute) of the answer.
- order:    a list of every choice key; right only in exactly the answer's order.
- code:     Python source; right when `test` passes against it in the sandbox. `answer` is a
            reference solution, shown after answering; `imports` are modules the code may use.
            A code question may have a `then`: a single-choice question about what the code
            shows (the book asks for both); then the answer is {code, choice}, right only when
            both are.
"""

import tomllib
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from grader.core.errors import KitError

QUIZ_FILE = Path(__file__).with_name("ch4.toml")


class Choice(BaseModel):
    """One option; its key is stable (answers files use it), its position is shuffled."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    text: str = Field(min_length=1)


class _Choices(BaseModel):
    """Choices with distinct keys; the ones the learner sees are shuffled."""

    choices: list[Choice] = Field(min_length=2)

    def choice_keys(self) -> list[str]:
        return [c.key for c in self.choices]

    def text_of(self, key: str) -> str:
        return next(c.text for c in self.choices if c.key == key)

    @model_validator(mode="after")
    def _unique_keys(self):
        if len(set(self.choice_keys())) != len(self.choices):
            raise ValueError("choice keys repeat")
        return self


class _Question(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^q\d\d$")
    topic: str = Field(min_length=3)
    section: str = Field(min_length=3)
    prompt: str = Field(min_length=10)
    points: float = Field(default=1.0, gt=0)
    explanation: str = Field(min_length=20)

    @property
    def number(self) -> int:
        return int(self.id[1:])


class _WithChoices(_Question, _Choices):
    pass


class SingleQuestion(_WithChoices):
    type: Literal["single"]
    answer: str

    @model_validator(mode="after")
    def _answer_is_a_choice(self):
        if self.answer not in self.choice_keys():
            raise ValueError(f"{self.id}: answer '{self.answer}' is not a choice key")
        return self


class MultipleQuestion(_WithChoices):
    type: Literal["multiple"]
    answer: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _answers_are_choices(self):
        unknown = set(self.answer) - set(self.choice_keys())
        if unknown or len(set(self.answer)) != len(self.answer):
            raise ValueError(f"{self.id}: answer keys must be distinct choice keys")
        if len(self.answer) == len(self.choices):
            raise ValueError(f"{self.id}: at least one choice must be wrong")
        return self


class NumericQuestion(_Question):
    type: Literal["numeric"]
    answer: float
    tolerance: float = Field(ge=0)


class OrderQuestion(_WithChoices):
    type: Literal["order"]
    answer: list[str]

    @model_validator(mode="after")
    def _answer_is_a_permutation(self):
        if sorted(self.answer) != sorted(self.choice_keys()):
            raise ValueError(f"{self.id}: answer must list every choice key exactly once")
        return self


class FollowUp(_Choices):
    """The single-choice part of a code question: what the learner's code shows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: str = Field(min_length=10)
    answer: str

    @model_validator(mode="after")
    def _answer_is_a_choice(self):
        if self.answer not in self.choice_keys():
            raise ValueError(f"answer '{self.answer}' is not a choice key")
        return self


class CodeQuestion(_Question):
    type: Literal["code"]
    answer: str = Field(min_length=1)
    test: str = Field(min_length=1)
    imports: list[str] = Field(default_factory=list)
    then: FollowUp | None = None

    def reference(self):
        """The full right answer in its stable form: the code, with the choice when there is a `then`."""
        return self.answer if self.then is None else {"code": self.answer, "choice": self.then.answer}


Question = Annotated[
    SingleQuestion | MultipleQuestion | NumericQuestion | OrderQuestion | CodeQuestion,
    Field(discriminator="type"),
]


class Quiz(BaseModel):
    """The whole file: questions q01, q02, ... in chapter order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    multiple_scoring: Literal["all-or-nothing"]
    questions: list[Question] = Field(min_length=1)

    @model_validator(mode="after")
    def _ids_in_order(self):
        for n, q in enumerate(self.questions, start=1):
            if q.id != f"q{n:02d}":
                raise ValueError(f"question {n} has id '{q.id}', expected 'q{n:02d}'")
        return self

    @property
    def max_score(self) -> float:
        return sum(q.points for q in self.questions)

    def get(self, qid: str):
        return next((q for q in self.questions if q.id == qid), None)


@cache
def load_quiz(path: Path = QUIZ_FILE) -> Quiz:
    """Read and validate a quiz file; a broken one is a KitError naming the first problem."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
        return Quiz.model_validate(data)
    except OSError as err:
        raise KitError(f"cannot read the quiz file {path}: {err.strerror}") from None
    except tomllib.TOMLDecodeError as err:
        raise KitError(f"{path.name}: not valid TOML ({err})") from None
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise KitError(f"{path.name}: {where}: {first['msg']}") from None
