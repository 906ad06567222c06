"""Check an answer's type and score it, one function per question type.

Answers are always in their stable form here (choice keys, numbers, code), whether they came
from an answers file or from the terminal; the runner translates shuffled positions first. That
is what makes a result independent of the seed that shuffled the choices.
"""

from dataclasses import dataclass

from quiz.model import CodeQuestion, MultipleQuestion, NumericQuestion, OrderQuestion, SingleQuestion
from quiz.snippets import run_code


@dataclass(frozen=True)
class Marking:
    """How one question went: the points and a one-line feedback for the results file."""

    score: float
    answered: bool
    feedback: str

    @property
    def right(self) -> bool:
        return self.answered and self.score > 0


def _kind(value) -> str:
    """A learner-readable name for a TOML/JSON value's type."""
    names = {bool: "true/false", int: "a number", float: "a number", str: "a string", list: "a list"}
    return names.get(type(value), "a table" if isinstance(value, dict) else type(value).__name__)


def _key_of(question, value, qid: str = "") -> str:
    """A choice given by key, or by its exact text; ValueError names the valid keys."""
    for choice in question.choices:
        if value in (choice.key, choice.text):
            return choice.key
    keys = ", ".join(question.choice_keys())
    raise ValueError(f"{qid or question.id} has no choice '{value}': use one of {keys}")


def normalise(question, value):
    """The stable form of a raw answer (from TOML or JSON), or ValueError saying what's expected."""
    qid = question.id
    if isinstance(question, SingleQuestion):
        if not isinstance(value, str):
            raise ValueError(f"{qid} must be one choice key ({', '.join(question.choice_keys())}), got {_kind(value)}")
        return _key_of(question, value)
    if isinstance(question, MultipleQuestion):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f'{qid} must be a list of choice keys, e.g. ["a", "c"], got {_kind(value)}')
        return sorted({_key_of(question, v) for v in value})
    if isinstance(question, NumericQuestion):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{qid} must be a number, got {_kind(value)}")
        return float(value)
    if isinstance(question, OrderQuestion):
        n = len(question.choices)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{qid} must be a list of {n} step names, got {_kind(value)}")
        keys = [_key_of(question, v) for v in value]
        if sorted(keys) != sorted(question.choice_keys()):
            raise ValueError(f"{qid} must list each of the {n} step names once: {', '.join(question.choice_keys())}")
        return keys
    if isinstance(question, CodeQuestion) and question.then is not None:
        keys = ", ".join(question.then.choice_keys())
        shape = f'{{ code = "your code", choice = "key" }} (a key: {keys})'
        if not isinstance(value, dict) or set(value) != {"code", "choice"}:
            raise ValueError(f"{qid} has two parts: write it as {shape}, got {_kind(value)}")
        if not isinstance(value["code"], str) or not isinstance(value["choice"], str):
            raise ValueError(f"{qid} must be {shape}")
        return {"code": value["code"], "choice": _key_of(question.then, value["choice"], qid)}
    if isinstance(question, CodeQuestion):
        if not isinstance(value, str):
            raise ValueError(f"{qid} must be a string of Python code, got {_kind(value)}")
        return value
    raise TypeError(f"unknown question type {type(question).__name__}")


def mark(question, answer) -> Marking:
    """Score a normalised answer (None means unanswered); code answers run in the sandbox."""
    if answer is None:
        return Marking(0.0, False, "unanswered")
    if isinstance(question, CodeQuestion) and question.then is not None:
        verdict = run_code(answer["code"], question.test, tuple(question.imports))
        chose = answer["choice"] == question.then.answer
        right = verdict.passed and chose
        detail = "; ".join(
            ([] if verdict.passed else [f"the code: {verdict.message}"])
            + ([] if chose else [f"the choice: answered {answer['choice']}; the answer is {question.then.answer}"])
        )
    elif isinstance(question, CodeQuestion):
        verdict = run_code(answer, question.test, tuple(question.imports))
        right, detail = verdict.passed, verdict.message
    elif isinstance(question, NumericQuestion):
        right = abs(answer - question.answer) <= question.tolerance + 1e-12
        detail = f"answered {answer:g}; the answer is {question.answer:g} (within {question.tolerance:g})"
    elif isinstance(question, MultipleQuestion):
        right = sorted(answer) == sorted(question.answer)
        detail = f"answered {', '.join(answer) or 'nothing'}; the answer is {', '.join(sorted(question.answer))}"
    elif isinstance(question, OrderQuestion):
        right = list(answer) == question.answer
        detail = f"answered {' > '.join(answer)}; the order is {' > '.join(question.answer)}"
    else:
        right = answer == question.answer
        detail = f"answered {answer}; the answer is {question.answer}"
    if right:
        return Marking(question.points, True, "right")
    return Marking(0.0, True, f"wrong: {detail}")
