"""`fastgroup nbgrader import`: bring the notebook track's central grades into the store.

After `nbgrader autograde ch4`, nbgrader's gradebook holds one grade per test cell and
student; a test cell's grade_id is its step id (grader/authoring/notebook.py). Those grades
were computed in the student's own kernel, where a cell of the student's could replace the
check the test cells call: they are the student's feedback, never a verified score. So each
student's submitted notebook is graded again by the sandboxed grading service, as
`fastgroup grade --source NOTEBOOK` does (one service for all, a fresh sandbox for each), and
that is the payload grader/board/imports.py records for the member of the same name;
nbgrader's own figure rides along (extra_data.nbgrader_score) and the summary names every
student whose figures differ.
"""

from pathlib import Path

from grader.core.errors import KitError
from grader.core.results import ExtraData, Results, TestResult
from grader.core.steps import ALL_IDS, BY_ID
from grader.core.version import __version__
from grader.engine import totals


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
    """{nbgrader student id: their autograded grade as a results payload} (nbgrader's own figures)."""
    return {
        student: gradebook_results(assignment, stamp, scores)
        for student, (stamp, scores) in read_gradebook(gradebook, assignment).items()
    }


def submitted_notebook(gradebook: Path, assignment: str, student: str) -> Path:
    """The notebook the student handed in, where nbgrader keeps it beside its gradebook."""
    folder = Path(gradebook).resolve().parent / "submitted" / student / assignment
    found = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
    if not found:
        raise KitError(f"{student}'s submitted notebook is not in {folder}: `fastgroup nbgrader import` grades the "
                       "notebooks nbgrader collected there (run it in the course folder, or pass --gradebook)")
    return found[0]


def verified_by_student(gradebook: Path, assignment: str = "ch4", on_student=None) -> dict[str, Results]:
    """{student: the sandboxed grade of their submitted notebook}, nbgrader's own figure beside it."""
    from grader.engine import ALL_OF_FASTAI, Request, Service
    from grader.engine import make_settings as settings

    reported = results_by_student(gradebook, assignment)
    notebooks = {student: submitted_notebook(gradebook, assignment, student) for student in reported}
    verified = {}
    with Service(settings(), main_first=ALL_OF_FASTAI) as service:
        for student, notebook in sorted(notebooks.items()):
            done = service.grade(Request(source=notebook))
            service.refresh()  # the next student's code gets a new sandbox
            extra = done.results.extra_data.model_copy(update={
                "submitted_at": reported[student].extra_data.submitted_at,
                "nbgrader_score": reported[student].score,
            })
            verified[student] = done.results.model_copy(update={"extra_data": extra})
            if on_student:
                on_student(student, verified[student])
    return verified


def differences(verified: dict[str, Results]) -> list[str]:
    """One line per student whose verified score is not nbgrader's own figure."""
    return [f"{student}: verified {r.score:g}/{r.max_score:g}, nbgrader's test cells said "
            f"{r.extra_data.nbgrader_score:g}" for student, r in sorted(verified.items())
            if r.extra_data.nbgrader_score is not None and abs(r.extra_data.nbgrader_score - r.score) > 1e-9]
