"""Validate a results payload before anything reaches the store.

The results file comes from a learner's machine, so it is untrusted input: it is checked for
size before parsing, parsed with the shared pydantic models (grader.core.results), and then held
to the rules of its kind. Anything else is refused with a one-line reason (a PayloadError,
which is a KitError) and nothing is written.
"""

import functools
import json
import math
import re
from dataclasses import dataclass

from pydantic import ValidationError

from grader.core import steps
from grader.core.errors import KitError
from grader.core.results import Results
from quiz.model import load_quiz

MAX_PAYLOAD_BYTES = 1_000_000
QUIZ_NUMBER = re.compile(r"quiz\.([0-9]{1,2})")

IDENTITY_FIELDS = {"name", "member", "member_id", "member_name", "user", "username", "token"}


def quiz_size() -> int:
    """The number of questions in the quiz file: a quiz result's maximum."""
    return len(load_quiz().questions)


class PayloadError(KitError):
    """A results payload that the store refuses (the message says why and what to do)."""


@dataclass(frozen=True)
class StepOutcome:
    """What one grade submission says about one step."""

    step_id: str
    completed: bool  # every test of the step passed
    accuracy: float | None


@dataclass(frozen=True)
class Payload:
    """A validated submission, ready to store."""

    kind: str  # 'grade' | 'quiz'
    score: float
    max_score: float
    kit_version: str
    text: str  # canonical JSON of the validated results: what the store keeps
    steps: tuple[StepOutcome, ...]  # empty for a quiz

    @classmethod
    def of(cls, results: Results) -> "Payload":
        """The kit's own results (the board's worker graded them through the grading service or the
        quiz), as the store keeps them: no JSON to read back, nothing to doubt."""
        return cls(
            kind=results.extra_data.kind,
            score=results.score,
            max_score=results.max_score,
            kit_version=results.extra_data.kit_version,
            text=results.model_dump_json(),
            steps=step_outcomes(results) if results.extra_data.kind == "grade" else (),
        )


@functools.cache
def kit_checks() -> dict[str, tuple[str, float]]:
    """check number -> (step, points) of every check this kit grades (imports the checks: torch)."""
    from grader.engine import REGISTRY

    return {c.number: (c.step, c.points) for checks in REGISTRY.values() for c in checks}


def core_points() -> float:
    """The chapter's total, the sum of the core steps' checks' points (imports the checks: torch)."""
    from grader.engine import CORE_POINTS

    return CORE_POINTS


def parse_payload(raw: bytes | str, self_reported: bool = False) -> Payload:
    """Check and parse one results file's content, or raise PayloadError.

    A self-reported grade (computed on the member's machine) must also add up: the kit's
    check ids and points, its score their sum, its maximum the kit's total.
    """
    data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    if len(data) > MAX_PAYLOAD_BYTES:
        raise PayloadError(
            f"results file is {len(data):,} bytes, over the {MAX_PAYLOAD_BYTES:,}-byte limit: "
            "submit the file that `fastgroup grade` or `fastgroup quiz` wrote"
        )
    try:
        doc = json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise PayloadError(
            f"results file is not valid JSON ({reason[:120]}): "
            "submit the file that `fastgroup grade` or `fastgroup quiz` wrote"
        ) from None
    if not isinstance(doc, dict):
        raise PayloadError("results file must hold a JSON object: rerun `fastgroup grade`")
    _refuse_extra_fields(doc)
    try:
        results = Results.model_validate(doc)
    except ValidationError as err:
        raise PayloadError(f"results file does not match the schema: {_first_error(err)}") from None
    _check_finite(results)
    (_check_grade if results.extra_data.kind == "grade" else _check_quiz)(results)
    if self_reported and results.extra_data.kind == "grade":
        _check_adds_up(results)
    return Payload.of(results)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _refuse_extra_fields(doc: dict) -> None:
    known = set(Results.model_fields)
    extra = sorted(str(k) for k in doc if k not in known)
    if extra:
        raise PayloadError(
            f"unexpected field '{extra[0][:50]}' in the results file: the member is taken from "
            "the token, nothing else; submit the file the kit wrote, unedited"
        )
    extra_data = doc.get("extra_data")
    if isinstance(extra_data, dict):
        claimed = sorted(str(k) for k in extra_data if k in IDENTITY_FIELDS)
        if claimed:
            raise PayloadError(
                f"unexpected field 'extra_data.{claimed[0]}': the member is taken from the "
                "token, nothing else; submit the file the kit wrote, unedited"
            )


def _first_error(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "top level"
    return f"{where}: {first['msg']}"[:200]


def _check_finite(results: Results) -> None:
    numbers = [results.score, results.max_score, results.execution_time]
    numbers += [n for t in results.tests for n in (t.score, t.max_score)]
    if not all(math.isfinite(n) for n in numbers):
        raise PayloadError("results file holds a score that is not a finite number")


def _check_grade(results: Results) -> None:
    known = [s.id for s in steps.STEPS]  # core and bonus, read now: the registry may grow
    for test in results.tests:
        if not test.tags or test.tags[0] not in known:
            tag = test.tags[0] if test.tags else "(none)"
            raise PayloadError(f"test {test.number[:50]} has unknown step '{tag[:50]}': steps are {', '.join(known)}")
    for step in results.extra_data.accuracies:
        if step not in known:
            raise PayloadError(f"accuracy given for unknown step '{step[:50]}': steps are {', '.join(known)}")


def step_outcomes(results: Results) -> tuple[StepOutcome, ...]:
    """Per step of a grade's results: completed (every check passed, training not skipped), its accuracy."""
    known = [s.id for s in steps.STEPS]
    passed: dict[str, bool] = {}
    for test in results.tests:
        step = test.tags[0] if test.tags else None
        if step in known:
            passed[step] = passed.get(step, True) and test.status == "passed"
    accuracies = results.extra_data.accuracies
    runs = results.extra_data.step_runs
    for step in steps.STEPS:  # --quick skipped training: not finished yet
        skipped = runs[step.id].quick if step.id in runs else results.extra_data.quick
        if step.trains and step.id in passed and skipped:
            passed[step.id] = False
    ids = [s for s in known if s in passed or s in accuracies]  # chapter order
    return tuple(StepOutcome(s, passed.get(s, False), accuracies.get(s)) for s in ids)


def _check_adds_up(results: Results) -> None:
    """A self-reported grade: the kit's checks, each at most once, at their points, summed."""
    known, again = kit_checks(), "submit the file the kit wrote"
    seen: set[str] = set()
    for test in results.tests:
        step, points = known.get(test.number, (None, None))
        if step is None or test.tags[:1] != [step]:
            raise PayloadError(f"test '{test.number[:50]}' is not one of the kit's checks: {again}")
        if test.number in seen:
            raise PayloadError(f"test {test.number} appears twice: {again}")
        if abs(test.max_score - points) > 1e-9:
            raise PayloadError(f"test {test.number} is worth {points:g} points, not {test.max_score:g}")
        seen.add(test.number)
    if abs(results.max_score - core_points()) > 1e-9:
        raise PayloadError(
            f"max_score is {results.max_score:g}, the kit's total is {core_points():g}: "
            "grade every step (`fastgroup grade`) and submit the file it wrote"
        )
    core = sum(t.score for t in results.tests if not steps.BY_ID[t.tags[0]].bonus)
    if abs(results.score - core) > 1e-6:
        raise PayloadError(f"score is {results.score:g} but its tests add up to {core:g}: {again}")


def _check_quiz(results: Results) -> None:
    if abs(results.max_score - quiz_size()) > 1e-9:
        raise PayloadError(
            f"quiz max_score is {results.max_score}, expected {quiz_size()}: submit the file `fastgroup quiz` wrote"
        )
    if results.extra_data.accuracies:
        raise PayloadError("a quiz result carries no accuracies: submit the file `fastgroup quiz` wrote")
    if abs(results.score - sum(t.score for t in results.tests)) > 1e-6:
        raise PayloadError("quiz score is not the sum of its questions: submit the file `fastgroup quiz` wrote")
    seen: set[int] = set()
    for test in results.tests:
        match = QUIZ_NUMBER.fullmatch(test.number)
        number = int(match.group(1)) if match else 0
        if not 1 <= number <= quiz_size():
            raise PayloadError(f"quiz question '{test.number[:50]}' is not quiz.1 to quiz.{quiz_size()}")
        if number in seen:
            raise PayloadError(f"quiz question {test.number} appears twice")
        seen.add(number)
