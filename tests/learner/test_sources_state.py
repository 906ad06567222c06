"""Each source keeps its own latest grade and progress: a notebook's grade never changes the
exercises' (grader/learner/latest.py, progress.py), through the real `fastgroup` commands."""

import re

from grader.core.home import latest_results_path
from grader.core.results import Results
from grader.learner.latest import load_latest
from tests.support.cli import fastgroup
from tests.support.notebooks import write_notebook
from tests.support.planting import copy_solutions

WRONG_LOSS = ["import torch", "def mnist_loss(predictions, targets):\n    return predictions.mean()"]


def listed(run) -> str:
    return " ".join(re.sub(r"[│┃|]", " ", run.stdout).split())


def test_a_notebook_grade_leaves_the_exercises_state_as_it_was(tmp_path):
    exercises = copy_solutions(tmp_path)
    first = fastgroup("grade", "--quick", "mnist_loss", "--source", str(exercises), timeout=600)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    before = listed(fastgroup("list"))
    assert "mnist_loss" in before and "done" in before

    notebook = write_notebook(tmp_path / "mine.ipynb", WRONG_LOSS)
    graded = fastgroup("grade", "--quick", "mnist_loss", "--source", str(notebook), timeout=600)
    assert graded.returncode == 1, graded.stdout[-2000:]
    after = listed(fastgroup("list"))
    assert after.split("Total:")[0] == before.split("Total:")[0]  # the exercises' table, unchanged
    assert f"Also graded, apart from the exercises: {notebook}: " in after and "0 of 1 steps done" in after, after

    # the latest grade `submit` sends is the notebook's now; each source's own record stays
    sent = Results.model_validate_json(latest_results_path("grade").read_text())
    assert sent.score < sent.max_score
    assert load_latest(exercises.resolve()).score == sent.max_score
    again = fastgroup("grade", "--quick", "batch_accuracy", "--source", str(exercises), timeout=600)
    assert again.returncode == 0, again.stdout[-2000:]
    merged = load_latest(exercises.resolve()).step_points()
    assert merged["mnist_loss"][0] == merged["mnist_loss"][1] > 0  # the exercises' record went on
