"""grader/learner/latest.py: what `fastgroup submit` sends is what the learner graded, step by step."""

import os
import subprocess
import sys

from grader.board.store import Store
from grader.core.home import latest_results_path
from grader.core.results import Results
from grader.learner.grade import grade
from tests.support.planting import copy_solutions


def latest() -> Results:
    return Results.model_validate_json(latest_results_path("grade").read_text())


def points(results: Results) -> dict[str, float]:
    out: dict[str, float] = {}
    for t in results.tests:
        out[t.tags[0]] = out.get(t.tags[0], 0) + t.score
    return out


def test_a_single_step_or_quick_run_updates_only_its_steps(tmp_path):
    src = copy_solutions(tmp_path)
    grade(steps=["init_params", "mnist_loss"], source=src, show=False)
    assert points(latest()) == {"init_params": 6, "mnist_loss": 8}
    loss = src / "mnist_loss.py"
    loss.write_text(loss.read_text().replace("p = predictions.sigmoid()", "p = predictions"))
    this_run = grade(steps=["mnist_loss"], source=src, show=False)
    lost = points(this_run)
    assert set(lost) == {"mnist_loss"} and lost["mnist_loss"] < 8  # the return value: this run only
    assert points(latest()) == {"init_params": 6, **lost}  # the other step kept
    assert latest().score == 6 + lost["mnist_loss"]
    grade(steps=["train_epoch"], source=src, quick=True, show=False)
    merged = latest()
    assert set(points(merged)) == {"init_params", "mnist_loss", "train_epoch"}
    assert merged.extra_data.step_runs["train_epoch"].quick is True
    assert merged.extra_data.step_runs["init_params"].quick is False


def test_grading_another_folder_starts_a_new_latest_grade(tmp_path):
    mine = copy_solutions(tmp_path / "mine")
    grade(steps=["init_params"], source=mine, show=False)
    grade(steps=["linear1"], source=copy_solutions(tmp_path / "other"), show=False)
    assert set(points(latest())) == {"linear1"}


def test_submit_says_what_it_sends_and_a_partial_grade_is_not_self_reported(tmp_path, kit_home):
    from grader.board.payload import parse_payload
    from grader.board.submit import describe

    src = copy_solutions(tmp_path)
    grade(steps=["init_params", "linear1"], source=src, show=False)
    grade(steps=["train_epoch"], source=src, quick=True, show=False)
    out = "\n".join(describe(parse_payload(latest().model_dump_json())))
    assert out.startswith("Sending: grade 17/17 points")
    assert "init_params" in out and "6/6" in out and "graded " in out
    assert "train_epoch" in out and "--quick: training not run yet" in out
    assert "not graded yet: pixel_similarity" in out
    db = f"sqlite:///{tmp_path / 'board.db'}"
    with Store.open(db, create=True) as store:
        token = store.add_member("ada")
        store.set_accept_self_reported(True)
    run = subprocess.run(
        [sys.executable, "-m", "grader.cli", "submit", "--results", str(latest_results_path("grade")),
         "--token", token, "--db", db],
        capture_output=True, text=True, env=os.environ,
    )  # fmt: skip
    assert run.returncode == 2 and "the kit's total is 100" in run.stderr  # a partial grade adds up to less
    with Store.open(db) as store:
        assert store.counts()["submissions"] == 0


def test_a_quick_run_never_lowers_what_a_full_grade_of_the_same_code_established(tmp_path):
    from grader.learner.latest import NOT_RUN
    from grader.learner.progress import load

    src = copy_solutions(tmp_path)
    full = grade(steps=["train_epoch"], source=src, show=False)
    assert full.score == full.max_score > 0
    grade(steps=["train_epoch"], source=src, quick=True, show=False)
    kept = latest()
    assert (kept.score, kept.max_score) == (full.score, full.max_score)
    assert [(t.number, t.status, t.score) for t in kept.tests] == [(t.number, t.status, t.score) for t in full.tests]
    assert kept.extra_data.step_runs["train_epoch"].quick is False
    assert kept.extra_data.accuracies == full.extra_data.accuracies
    assert load()["steps"]["train_epoch"] == {"status": "done", "points": full.score, "max_points": full.max_score}

    step_file = src / "train_epoch.py"
    step_file.write_text(step_file.read_text() + "\n# tidied up\n")  # other code: its training has not run
    grade(steps=["train_epoch"], source=src, quick=True, show=False)
    changed = latest()
    assert changed.max_score == full.max_score and changed.score < full.score
    not_run = [t for t in changed.tests if t.output.startswith(NOT_RUN)]
    assert not_run and all(t.score == 0 for t in not_run)
    assert changed.extra_data.step_runs["train_epoch"].quick is True
    assert load()["steps"]["train_epoch"]["status"] == "not finished"


def test_a_check_the_busy_machine_cut_short_never_lowers_the_recorded_result(tmp_path):
    """A step with a "not graded" check (engine/limits.py) keeps what its last grade recorded."""
    from grader.engine.limits import NOT_GRADED
    from grader.learner.latest import save_latest

    src = copy_solutions(tmp_path)
    full = grade(steps=["mnist_loss"], source=src, show=False)
    assert full.score == full.max_score > 0
    first = full.tests[0]
    cut = first.model_copy(update={"score": 0.0, "status": "failed", "output": f"{NOT_GRADED} (20 s went by)"})
    busy = full.model_copy(update={
        "tests": [cut, *full.tests[1:]], "score": full.score - first.max_score,
        "extra_data": full.extra_data.model_copy(update={"not_graded": [first.number]}),
    })
    kept = save_latest(busy, src, quick=False)
    assert (kept.score, [t.status for t in kept.tests]) == (full.score, [t.status for t in full.tests])
    assert kept.extra_data.not_graded == []

    fresh = tmp_path / "fresh"  # nothing recorded before: the cut-short grade is what there is, marked
    fresh.mkdir()
    first_ever = save_latest(busy, fresh, quick=False)
    assert first_ever.extra_data.not_graded == [first.number] and first_ever.score == busy.score
