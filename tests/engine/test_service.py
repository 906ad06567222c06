"""grader/engine/service.py: one grading service, whatever the front end and the code's form."""

import dataclasses
import json
import shutil

import pytest

from grader.core import steps
from grader.core.errors import KitError
from grader.engine import catalogue, limits
from grader.engine.checks import step_points
from grader.engine.loading import load_reference
from grader.engine.protocol import CheckInfo, CheckResult, Verdict
from grader.engine.service import Request, Service, grade_in_kernel, judges_needed
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


def test_the_checks_list_is_the_shipped_one_else_saved_once_and_read_back_as_the_judge_gave_it(
        service, monkeypatch, tmp_path):
    given = service.ready().checks
    assert service.catalogue() == given and catalogue.load() == given  # the kit's own list
    monkeypatch.setattr(catalogue, "SHIPPED", tmp_path / "none.json")  # an edited checkout's: none holds
    monkeypatch.setattr(catalogue, "path", lambda: tmp_path / "saved.json")
    assert catalogue.load() is None
    assert service.catalogue() == given
    assert catalogue.load() == given and catalogue.path().exists()


def test_untouched_stubs_are_not_started_at_once_with_no_judge_started(service, fresh_stubs):
    service.catalogue()  # the checks' list, saved as a first grade saves it
    assert judges_needed(fresh_stubs, None, quick=False) == (False, False)
    with Service(settings(device="cpu"), main=False, fastai=False) as idle:
        grade = idle.grade(Request(source=fresh_stubs, settings=settings(device="cpu")))
        assert idle.judges.main.process is None and idle.judges.fastai is None
    assert grade.results.score == 0 and grade.results.max_score == 100
    assert len(grade.graded) == sum(len(service.checks(s)) for s in steps.ALL_IDS)
    assert all(g.result.verdict is Verdict.NOT_STARTED for g in grade.graded)  # the typed value, not the words
    assert all(g.result.message.startswith(f"not started yet: {g.step}: write ") for g in grade.graded)


def test_a_started_step_among_stubs_is_graded_and_wakes_only_its_lanes_judge(service, fresh_stubs, tmp_path):
    folder = shutil.copytree(fresh_stubs, tmp_path / "exercises")
    shutil.copy(SOLUTIONS / "mnist_loss.py", folder / "mnist_loss.py")
    assert judges_needed(folder, None, quick=False) == (True, False)
    shutil.copy(SOLUTIONS / "resnet18.py", folder / "resnet18.py")
    assert judges_needed(folder, None, quick=True) == (True, False)  # quick leaves the fastai steps out
    assert judges_needed(folder, ["resnet18"], quick=False) == (False, True)
    grade = service.grade(Request(source=folder, steps=["mnist_loss", "calc_grad"], settings=QUICK))
    assert grade.results.step_points() == {"mnist_loss": (step_points("mnist_loss"),) * 2,
                                           "calc_grad": (0, step_points("calc_grad"))}


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


# ---------------------------------------------------------------- the typed verdict, the plan and the stream
def mixed_folder(tmp_path, fresh_stubs):
    """mnist_loss right, linear1 with its bias left out, calc_grad still its stub."""
    folder = plant(tmp_path, "linear1", "return xb @ weights + bias", "return xb @ weights")
    shutil.copy(fresh_stubs / "calc_grad.py", folder / "calc_grad.py")
    return folder


def test_each_checks_verdict_is_a_typed_value_set_where_its_result_is_made(service, fresh_stubs, tmp_path):
    folder = mixed_folder(tmp_path, fresh_stubs)
    sheet = service.grade(Request(source=folder, steps=["mnist_loss", "linear1", "calc_grad"], settings=QUICK))
    verdicts = {step: {g.result.verdict for g in sheet.graded if g.step == step}
                for step in ("mnist_loss", "linear1", "calc_grad")}
    assert verdicts["mnist_loss"] == {Verdict.PASSED}
    assert Verdict.FAILED in verdicts["linear1"] and Verdict.NOT_STARTED not in verdicts["linear1"]
    assert verdicts["calc_grad"] == {Verdict.NOT_STARTED}
    by_number = {t.number: t for t in sheet.results.tests}  # the results JSON: passed or failed, as before
    assert all(by_number[g.number].status == ("passed" if g.result.verdict is Verdict.PASSED else "failed")
               for g in sheet.graded)
    assert sheet.results.extra_data.not_graded == []


def test_a_verdict_crosses_json_and_old_callers_still_say_passed_or_failed():
    kept = CheckResult(**json.loads(json.dumps(dataclasses.asdict(CheckResult(Verdict.NOT_GRADED, "busy")))))
    assert kept.verdict is Verdict.NOT_GRADED and kept.not_graded and not kept.passed
    assert CheckResult(True).verdict is Verdict.PASSED and CheckResult(False, "no").verdict is Verdict.FAILED
    assert limits.over_wall(20, 80, 10, 80, "").verdict is Verdict.NOT_GRADED


def test_the_service_plans_order_and_lanes_and_streams_results_in_any_order_asked(service, fresh_stubs, tmp_path):
    folder = mixed_folder(tmp_path, fresh_stubs)
    request = Request(source=folder, steps=["calc_grad", "linear1", "mnist_loss"], settings=QUICK)
    with service.plan(request) as sheet:
        numbers = [c.number for c in sheet.plan]
        assert [c.step for c in sheet.plan] == sorted((c.step for c in sheet.plan), key=steps.ALL_IDS.index)
        assert {sheet.lane(c.number) for c in sheet.plan if c.step == "calc_grad"} == {None}  # settled: a stub
        assert set(sheet.settled) == {c.number for c in sheet.plan if c.step == "calc_grad"}
        assert {sheet.lane(c.number) for c in sheet.plan if c.step != "calc_grad"} == {"main"}
        heard = []
        stream = service.stream(sheet, paced=True, on_result=lambda step, result: heard.append(step))
        last = stream.take(numbers[-1])  # paced: judged when asked for, whatever the order
        taken = [stream.take(n) for n in numbers]
        assert [g.number for g in taken] == numbers and taken[-1] is last
        assert [g.number for g in stream] == numbers  # iterating: the plan's order
        assert len(heard) == len(sheet.lanes["main"])  # every judged check, once
    whole = service.grade(request)
    assert [(g.number, g.result.verdict) for g in taken] == [(g.number, g.result.verdict) for g in whole.graded]
    with service.plan(dataclasses.replace(request, checks=[numbers[0], numbers[-1]])) as only:
        assert [c.number for c in only.plan] == [numbers[0], numbers[-1]]  # a front end's selection (pytest -k)


def test_the_in_kernel_path_takes_the_services_plan_and_stream(tmp_path):
    folder = plant(tmp_path, "mnist_loss", "p = predictions.sigmoid()", "p = predictions")
    from grader.engine.loading import load_file

    heard = []
    wrong = grade_in_kernel("mnist_loss", load_file(folder / "mnist_loss.py", "planted_mnist_loss"),
                            folder / "mnist_loss.py", QUICK, on_check=heard.append)
    assert heard == wrong.graded and [c.number for c in wrong.plan] == [g.number for g in wrong.graded]
    assert [c.number for c in wrong.plan] == [c.number for c in catalogue.load()["mnist_loss"] if not c.trains]
    assert wrong.lanes == {"kernel": wrong.plan} and not wrong.settled
    assert Verdict.FAILED in {g.result.verdict for g in wrong.graded}
    right = grade_in_kernel("mnist_loss", load_reference("mnist_loss"), None, QUICK)
    assert {g.result.verdict for g in right.graded} == {Verdict.PASSED}
