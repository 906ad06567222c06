"""grader/engine/service.py: one grading service, whatever the front end and the code's form."""

import dataclasses

import pytest

from grader.core import steps
from grader.core.errors import KitError
from grader.engine.checks import step_points
from grader.engine.loading import load_reference
from grader.engine.protocol import CheckInfo, CheckResult
from grader.engine.service import Request, Service, grade_in_kernel
from grader.engine.settings import Settings, settings
from grader.learner.hints import next_hint
from grader.pytest_plugin import explain
from tests.support.kit import SOLUTIONS
from tests.support.planting import plant

QUICK = Settings(device="cpu", quick=True)


@pytest.fixture(scope="module")
def service():
    with Service(QUICK, fastai=False) as started:
        yield started


def test_files_in_memory_grade_as_the_same_files_in_a_folder(service):
    files = {f"{s}.py": (SOLUTIONS / f"{s}.py").read_text() for s in ("mnist_loss", "calc_grad")}
    from_memory = service.grade(Request(source=files, steps=["mnist_loss", "calc_grad"], settings=QUICK)).results
    from_folder = service.grade(Request(source=SOLUTIONS, steps=["mnist_loss", "calc_grad"], settings=QUICK)).results
    assert from_memory.score == from_folder.score == step_points("mnist_loss") + step_points("calc_grad")
    assert [(t.number, t.status) for t in from_memory.tests] == [(t.number, t.status) for t in from_folder.tests]


def test_a_step_missing_from_the_files_sent_fails_its_checks_and_costs_only_its_points(service):
    files = {"mnist_loss.py": (SOLUTIONS / "mnist_loss.py").read_text()}
    grade = service.grade(Request(source=files, steps=["mnist_loss", "calc_grad"], settings=QUICK))
    points = grade.results.step_points()
    assert points["mnist_loss"] == (step_points("mnist_loss"),) * 2
    assert points["calc_grad"][0] == 0 and all(not g.result.passed for g in grade.graded if g.step == "calc_grad")


def test_quick_leaves_out_the_fastai_steps_unless_they_are_named(service):
    everything = service.grade(Request(source=SOLUTIONS, settings=QUICK))
    assert everything.skipped == ["learner", "resnet18", "my_learner"]
    assert not {"learner", "resnet18", "my_learner"} & set(everything.steps)
    assert all(not c.trains for c in everything.plan)


def test_a_request_on_other_data_than_the_service_is_refused_in_one_line(service):
    with pytest.raises(KitError, match="start another"):
        service.grade(Request(source=SOLUTIONS, steps=["mnist_loss"], settings=Settings(data="sample", quick=True)))


def test_the_in_kernel_path_scores_like_the_service(tmp_path, service):
    folder = plant(tmp_path, "mnist_loss", "p = predictions.sigmoid()", "p = predictions")
    module = load_reference("mnist_loss")  # the reference, then a planted copy, each as a kernel's names
    right = grade_in_kernel("mnist_loss", module, None, QUICK).results
    assert right.score == step_points("mnist_loss")
    from grader.engine.loading import load_file

    wrong_module = load_file(folder / "mnist_loss.py", "planted_mnist_loss")
    in_kernel = grade_in_kernel("mnist_loss", wrong_module, folder / "mnist_loss.py", QUICK).results
    sandboxed = service.grade(Request(source=folder, steps=["mnist_loss"], settings=QUICK)).results
    assert in_kernel.score == sandboxed.score < step_points("mnist_loss")
    assert [t.status for t in in_kernel.tests] == [t.status for t in sandboxed.tests]


def test_settings_come_from_the_caller_then_the_environment_then_the_default(monkeypatch):
    monkeypatch.delenv("FASTGROUP_DATA", raising=False)
    assert settings() == Settings(data="embedded", device="auto", seed=0, quick=False)
    monkeypatch.setenv("FASTGROUP_DATA", "sample")
    assert settings().data == "sample"
    assert settings(data="/some/folder").data == "/some/folder"
    with pytest.raises(KitError, match="use auto, cpu or cuda"):
        settings(device="gpu")


def test_a_step_without_hints_fails_in_pytest_with_its_text_and_no_crash(monkeypatch):
    bare = dataclasses.replace(steps.BY_ID["mnist_loss"], hints=())
    monkeypatch.setitem(steps.BY_ID, "mnist_loss", bare)
    info = CheckInfo("mnist_loss", "mnist_loss.1", "values", 2.0, False, 20.0)
    text = explain(info, CheckResult(False, "got 0.5, expected 0.25", "no sigmoid"))
    assert text.splitlines() == ["mnist_loss.1 values: got 0.5, expected 0.25", "Likely mistake: no sigmoid",
                                 "Hints, one at a time: fastgroup hint mnist_loss"]
    with pytest.raises(KitError, match="no hints yet"):
        next_hint("mnist_loss")


def test_pytest_shows_the_first_hint_only_where_no_mistake_was_named():
    info = CheckInfo("mnist_loss", "mnist_loss.1", "values", 2.0, False, 20.0)
    plain = explain(info, CheckResult(False, "got 0.5, expected 0.25"))
    named = explain(info, CheckResult(False, "got 0.5, expected 0.25", "no sigmoid"))
    assert f"Hint: {steps.BY_ID['mnist_loss'].hints[0]}" in plain
    assert steps.BY_ID["mnist_loss"].hints[0] not in named and "Likely mistake: no sigmoid" in named
