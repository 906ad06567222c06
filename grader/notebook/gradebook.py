"""`fastgroup nbgrader import`: bring the notebook track's central grades into the store.

After `nbgrader autograde ch4`, nbgrader's gradebook holds one grade per test cell and
student; a test cell's grade_id is its step id (grader/authoring/notebook.py). Each student's
grades become one `grade` results payload, like a `fastgroup grade` result without
accuracies; grader/board/imports.py records them for the members of the same names.
"""

from pathlib import Path

from grader.core.errors import KitError
from grader.core.results import ExtraData, Results, TestResult
from grader.core.steps import ALL_IDS, BY_ID
from grader.core.version import __version__
from grader.engine.scoring import totals


def read_gradebook(gradebook: Path, assignment: str) -> dict[str, tuple[str, dict[str, tuple[float, float]]]]:
    """{student id: (submission time, {step: (score, max score)})} for students who submitted."""
    from nbgrader.api import Gradebook, MissingEntry

    path = Path(gradebook)
    if not path.is_file():
        raise KitError(f"gradebook {path} not found: run `nbgrader autograde {assignment}` first, or pass --gradebook")
    out = {}
    with Gradebook(f"sqlite:///{path.resolve()}") as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise KitError(
                f"assignment '{assignment}' is not in {path}: run `nbgrader generate_assignment {assignment}` "
                "and `nbgrader autograde` first, or pass --assignment"
            ) from None
        for student in gb.students:
            try:
                submission = gb.find_submission(assignment, student.id)
            except MissingEntry:
                continue  # this student handed nothing in
            scores = {}
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    if grade.name in ALL_IDS:
                        scores[grade.name] = (float(grade.score or 0.0), float(grade.max_score))
            if scores:
                stamp = submission.timestamp.isoformat() if submission.timestamp else ""
                out[student.id] = (stamp, scores)
    return out


def gradebook_results(assignment: str, submitted_at: str, scores: dict[str, tuple[float, float]]) -> Results:
    """One student's grades as a grade payload: one test per step, in chapter order."""
    tests = [
        TestResult(
            name=f"{step}: {BY_ID[step].title} (nbgrader test cell)",
            number=f"{step}.1",
            score=score,
            max_score=max_score,
            status="passed" if score >= max_score else "failed",
            tags=[step],
        )
        for step, (score, max_score) in sorted(scores.items(), key=lambda item: ALL_IDS.index(item[0]))
    ]
    sums = totals(tests)  # as in `fastgroup grade`: bonus steps counted apart
    return Results(
        score=sums["score"],
        max_score=sums["max_score"],
        tests=tests,
        extra_data=ExtraData(
            kind="grade",
            kit_version=__version__,
            data=f"nbgrader:{assignment}",
            submitted_at=submitted_at,
            **sums["bonus"],
        ),
    )


def results_by_student(gradebook: Path, assignment: str = "ch4") -> dict[str, Results]:
    """{nbgrader student id: their autograded grade as a results payload}."""
    return {
        student: gradebook_results(assignment, stamp, scores)
        for student, (stamp, scores) in read_gradebook(gradebook, assignment).items()
    }
