"""grader/engine/reuse.py: a step whose code and settings have not changed keeps its last result."""

import dataclasses
import json

import pytest

from grader.core.home import subdir
from grader.engine.checks import step_points
from grader.engine.service import Request, Service, judges_needed
from grader.engine.settings import Settings
from tests.support.planting import copy_solutions, plant

QUICK = Settings(device="cpu", quick=True)
STEPS = ["mnist_loss", "calc_grad"]


@pytest.fixture(scope="module")
def service():
    with Service(QUICK, fastai=False) as started:
        yield started


def graded(service, folder, reuse="on", settings=QUICK, steps=STEPS):
    return service.grade(Request(source=folder, steps=steps, settings=settings, reuse=reuse))


def rows(grade):
    return [(g.number, g.points, g.result.passed, g.result.message) for g in grade.graded]


def test_a_regrade_of_unchanged_code_keeps_every_result_and_runs_nothing(service, tmp_path):
    folder = copy_solutions(tmp_path)
    first = graded(service, folder)
    assert not first.reused and first.results.score == sum(step_points(s) for s in STEPS)
    again = graded(service, copy_solutions(tmp_path / "copy"))  # the same code elsewhere is the same code
    assert set(again.reused) == set(STEPS) and all(g.reused for g in again.graded)
    assert rows(again) == rows(first) and again.results.score == first.results.score
    assert judges_needed(folder, STEPS, quick=True, reusing=QUICK) == (False, False)


def test_only_the_edited_step_is_graded_again(service, tmp_path):
    folder = copy_solutions(tmp_path)
    graded(service, folder)
    edited = plant(tmp_path / "edited", "mnist_loss", "p = predictions.sigmoid()", "p = predictions")
    again = graded(service, edited)
    assert set(again.reused) == {"calc_grad"}
    assert again.results.step_points()["mnist_loss"][0] < step_points("mnist_loss")
    assert judges_needed(edited, STEPS, quick=True, reusing=QUICK) == (False, False)  # now kept too


def test_other_settings_fresh_and_off_grade_again(service, tmp_path):
    folder = copy_solutions(tmp_path)
    graded(service, folder)
    assert not graded(service, folder, settings=dataclasses.replace(QUICK, seed=1)).reused  # another seed
    fresh = graded(service, folder, reuse="fresh")
    assert not fresh.reused and not any(g.reused for g in fresh.graded)
    assert not graded(service, folder, reuse="off").reused


def test_the_board_and_other_callers_that_do_not_ask_keep_nothing(service, tmp_path):
    graded(service, copy_solutions(tmp_path), reuse="off")
    assert not list(subdir("reuse").glob("*.json"))


def test_a_kept_file_that_cannot_be_read_is_graded_again_and_rewritten(service, tmp_path):
    folder = copy_solutions(tmp_path)
    graded(service, folder)
    for kept in subdir("reuse").glob("mnist_loss-*.json"):
        kept.write_text("{not json")
    again = graded(service, folder)
    assert set(again.reused) == {"calc_grad"} and again.results.score == sum(step_points(s) for s in STEPS)
    (kept,) = subdir("reuse").glob("mnist_loss-*.json")
    assert len(json.loads(kept.read_text())) == len(service.checks("mnist_loss"))


def test_a_result_that_may_differ_on_a_rerun_is_never_kept(service, tmp_path, monkeypatch):
    monkeypatch.setenv("FASTGROUP_TIMEOUT_SCALE", "0.1")
    folder = plant(tmp_path, "mnist_loss", "p = predictions.sigmoid()", "while True:\n    pass")
    first = graded(service, folder, steps=["mnist_loss"])
    assert any(g.result.transient for g in first.graded)
    assert not graded(service, folder, steps=["mnist_loss"]).reused
