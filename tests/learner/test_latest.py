"""grader/learner/latest.py: what `fastgroup submit` sends is what the learner graded, step by step."""

import json
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


def test_submit_says_what_it_sends_and_a_quick_step_is_not_completed(tmp_path, kit_home):
    src = copy_solutions(tmp_path)
    grade(steps=["init_params", "linear1"], source=src, show=False)
    grade(steps=["train_epoch"], source=src, quick=True, show=False)
    db = f"sqlite:///{tmp_path / 'board.db'}"
    with Store.open(db, create=True) as store:
        token = store.add_member("ada")
    run = subprocess.run(
        [sys.executable, "-m", "grader.cli", "submit", "--token", token, "--db", db],
        capture_output=True, text=True, env=os.environ,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert out.index("Sending: grade 17/17 points") < out.index("Submitted grade result 17/17")
    assert "init_params" in out and "6/6" in out and "graded " in out
    assert "train_epoch" in out and "--quick: training not run yet" in out
    assert "not graded yet: pixel_similarity" in out
    with Store.open(db) as store:
        detail = store.member_detail("ada")
        status = {s.step_id: s.status for s in detail.steps}
        sent = json.loads(detail.latest_grade_payload)
    assert status["init_params"] == "completed" and status["train_epoch"] == "attempted"
    assert {t["tags"][0] for t in sent["tests"]} == {"init_params", "linear1", "train_epoch"}
