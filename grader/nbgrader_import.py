"""`fastgroup nbgrader import`: bring the notebook track's central grades into the store.

After `nbgrader autograde ch4`, nbgrader's gradebook holds one grade per test cell and
student; a test cell's grade_id is its step id (grader/notebook.py). Each student's grades
become one `grade` submission, like a `fastgroup grade` result without accuracies.

Students map to members by name: nbgrader's student id is the fastgroup member name. The
organiser adds the members first (`fastgroup members add NAME`); a gradebook with a student
who is not a member is refused as a whole, so that nothing is half imported. Importing the
same autograde twice adds nothing (the store skips a payload the member already has).
"""

from pathlib import Path

from grader import __version__
from grader.errors import KitError
from grader.results import ExtraData, Results, TestResult
from grader.steps import ALL_IDS, BY_ID
from grader.store import Store


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


def to_results(assignment: str, submitted_at: str, scores: dict[str, tuple[float, float]]) -> Results:
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
    # As in `fastgroup grade`: bonus steps are counted apart, the score is the core steps'.
    core = [t for t in tests if not BY_ID[t.tags[0]].bonus] or tests
    bonus = [t for t in tests if BY_ID[t.tags[0]].bonus]
    extra = {"bonus_score": sum(t.score for t in bonus), "bonus_max_score": sum(t.max_score for t in bonus)}
    return Results(
        score=sum(t.score for t in core),
        max_score=sum(t.max_score for t in core) or 1.0,
        tests=tests,
        extra_data=ExtraData(
            kind="grade",
            kit_version=__version__,
            data=f"nbgrader:{assignment}",
            submitted_at=submitted_at,
            **(extra if bonus else {}),
        ),
    )


def import_gradebook(gradebook: Path, assignment: str = "ch4", db_url: str | None = None) -> str:
    """Record every student's autograded step scores as a grade submission; a one-line summary."""
    graded = read_gradebook(gradebook, assignment)
    if not graded:
        return f"Nothing to import: no autograded submission of '{assignment}' in {gradebook}."
    with Store.open(db_url) as store:
        unknown = sorted(set(graded) - set(store.member_names()))
        if unknown:
            raise KitError(
                f"nbgrader students who are not members: {', '.join(unknown)}: add each with "
                "`fastgroup members add NAME` (the member name is the nbgrader student id), then import again"
            )
        added = 0
        for student, (stamp, scores) in sorted(graded.items()):
            payload = to_results(assignment, stamp, scores).model_dump_json()
            added += store.submit_as_member(student, payload) is not None
    skipped = len(graded) - added
    return (
        f"Imported {added} nbgrader result(s) of '{assignment}' into the store"
        + (f" ({skipped} already there)." if skipped else ".")
    )
