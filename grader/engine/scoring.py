"""Points: a check's result with the points it earned (ScoredCheck), its failure text, the results JSON.

The core/bonus rule is written here once: a grade's score and max_score count the core steps
(the chapter's points) unless only bonus steps were graded; bonus points ride apart in
extra_data. The grading service (grader/engine/service.py) calls it for every front end, and
the latest grade and the nbgrader import (`totals`) too.
"""

from dataclasses import dataclass

from grader.core.results import ExtraData, Results, TestResult
from grader.core.steps import get_step
from grader.core.version import __version__
from grader.engine.protocol import CheckResult


@dataclass
class ScoredCheck:
    """One check's result with the points it earned (its verdict: `result.verdict`)."""

    step: str
    number: str
    name: str
    points: float
    max_points: float
    result: CheckResult
    reused: bool = False  # kept from an earlier grade of the same code (grader/engine/reuse.py)


Graded = ScoredCheck  # its earlier name, still on the engine's face


def failure_text(result: CheckResult) -> str:
    """What a check's result says, in the kit's words: the message, the named mistake, a note,
    what the learner's code printed (the results JSON's `output`, and pytest's failure text)."""
    lines = [result.message] if result.message else []
    if result.mistake:
        lines.append(f"Likely mistake: {result.mistake}")
    if result.outcome.get("note"):
        lines.append(result.outcome["note"])
    if result.output:
        lines.append(f"Your code printed:\n{result.output}")
    return "\n".join(lines)


def test_result(g: ScoredCheck) -> TestResult:
    """One check as a results-JSON test."""
    return TestResult(
        name=f"{g.step}: {g.name}",
        number=g.number,
        score=g.points,
        max_score=g.max_points,
        status="passed" if g.result.passed else "failed",
        output=failure_text(g.result)[:20_000],
        tags=[g.step],
    )


def totals(tests: list[TestResult]) -> dict:
    """score and max_score by the core/bonus rule, and the bonus fields when bonus steps ran."""
    core = [t for t in tests if not get_step(t.tags[0]).bonus] or tests
    bonus = [t for t in tests if get_step(t.tags[0]).bonus]
    extra = (
        {"bonus_score": sum(t.score for t in bonus), "bonus_max_score": sum(t.max_score for t in bonus)}
        if bonus
        else {}
    )
    return {"score": sum(t.score for t in core), "max_score": sum(t.max_score for t in core) or 1.0, "bonus": extra}


def to_results(graded: list[ScoredCheck], seconds: float, device, data_spec, seed, quick) -> Results:
    """A grade's results JSON (Gradescope's schema) from its checks' results."""
    tests = [test_result(g) for g in graded]
    accuracies = {
        g.step: round(g.result.outcome["accuracy"], 4)
        for g in graded
        if g.result.outcome.get("accuracy") is not None
    }
    sums = totals(tests)
    return Results(
        score=sums["score"],
        max_score=sums["max_score"],
        execution_time=round(seconds, 2),
        tests=tests,
        extra_data=ExtraData(
            kind="grade",
            kit_version=__version__,
            device=device,
            data=data_spec,
            seed=seed,
            accuracies=accuracies,
            quick=quick,
            differences={g.number: g.result.difference for g in graded if g.result.difference and not g.result.passed},
            not_graded=[g.number for g in graded if g.result.not_graded],
            not_started=[g.number for g in graded if g.result.not_started],
            cpu_seconds={g.number: round(g.result.cpu_seconds, 2) for g in graded
                         if g.result.cpu_seconds is not None and not g.reused},
            mistakes={g.number: g.result.mistake[:300] for g in graded if g.result.mistake and not g.result.passed},
            **sums["bonus"],
        ),
    )
