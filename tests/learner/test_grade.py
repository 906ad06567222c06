"""Grading the reference solutions gives full marks; grading fresh stubs gives zero."""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from grader.core.results import Results
from grader.core.steps import ALL_IDS
from grader.engine.thresholds import calibrated
from grader.learner.grade import grade
from tests.support.cli import ctrl_c_as_in_a_terminal
from tests.support.kit import KIT_ROOT, SOLUTIONS
from tests.support.planting import copy_solutions


@pytest.fixture(scope="module")
def reference_results(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "results.json"
    run = subprocess.run(
        ["fastgroup", "grade", "--source", str(SOLUTIONS), "--json", str(out)],
        cwd=KIT_ROOT, capture_output=True, text=True,
    )
    return run, Results.model_validate_json(out.read_text())


def test_reference_gets_full_marks(reference_results):
    run, results = reference_results
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    failed = [t.name + ": " + t.output for t in results.tests if t.status != "passed"]
    assert not failed
    assert results.score == results.max_score == 100
    assert "Total: 100/100" in run.stdout


def test_reference_reaches_every_calibrated_threshold(reference_results):
    _, results = reference_results
    limits = calibrated("embedded")
    assert set(results.extra_data.accuracies) == set(limits)
    for step, acc in results.extra_data.accuracies.items():
        assert acc >= limits[step], step


def test_results_follow_the_gradescope_schema(reference_results):
    _, results = reference_results
    data = json.loads(results.model_dump_json())
    assert {"score", "max_score", "execution_time", "tests", "extra_data"} <= data.keys()
    assert {t["tags"][0] for t in data["tests"]} == set(ALL_IDS)  # core and bonus steps
    assert data["extra_data"]["kind"] == "grade" and data["extra_data"]["device"] == "cpu"


def test_fresh_stubs_score_zero_and_say_where_to_start(fresh_stubs):
    run = subprocess.run(
        ["fastgroup", "grade", "--quick", "--source", str(fresh_stubs)], cwd=KIT_ROOT, capture_output=True, text=True
    )
    assert run.returncode == 1
    assert "Total: 0/" in run.stdout
    assert "Next: step pixel_similarity" in run.stdout
    results = grade(source=fresh_stubs, quick=True, show=False)
    assert results.score == 0
    for test in results.tests:
        assert test.status == "failed"
        assert "not started yet" in test.output and f"{test.tags[0]}: write" in test.output


def test_fresh_stubs_score_zero_on_training_checks_too(fresh_stubs):
    results = grade(steps=["train_epoch", "learner"], source=fresh_stubs, show=False)
    assert results.score == 0 and len(results.tests) == 4


def test_same_seed_same_accuracies():
    first = grade(steps=["train_epoch", "simple_net"], source=SOLUTIONS, seed=3, show=False)
    second = grade(steps=["train_epoch", "simple_net"], source=SOLUTIONS, seed=3, show=False, fresh=True)
    assert first.extra_data.accuracies == second.extra_data.accuracies
    assert [t.score for t in first.tests] == [t.score for t in second.tests]


def test_plots_are_saved_for_training_steps_and_drawn_again_only_when_their_curve_changes(kit_home):
    grade(steps=["basic_optim"], source=SOLUTIONS, show=False)
    png = kit_home / "plots" / "basic_optim.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    drawn = png.stat().st_mtime_ns
    grade(steps=["basic_optim"], source=SOLUTIONS, show=False, fresh=True)  # the same curve: the same file
    assert png.stat().st_mtime_ns == drawn
    grade(steps=["basic_optim"], source=SOLUTIONS, seed=1, show=False)  # another seed, another curve
    assert png.stat().st_mtime_ns != drawn
    png.unlink()  # a plot the learner deleted is drawn again, whatever its key says
    grade(steps=["basic_optim"], source=SOLUTIONS, seed=1, show=False, fresh=True)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_damaged_cache_of_the_references_run_is_trained_again_and_rewritten(tmp_path, monkeypatch):
    cache = tmp_path / "data-cache"
    shutil.copytree(os.environ["FASTGROUP_DATA_CACHE"], cache, ignore=shutil.ignore_patterns("reference-curves"))
    monkeypatch.setenv("FASTGROUP_DATA_CACHE", str(cache))
    grade(steps=["basic_optim"], source=SOLUTIONS, show=False)
    (run,) = (cache / "reference-curves").glob("*-basic_optim-*.json")
    run.write_text('{"edited": true}')  # JSON, but not a run
    again = grade(steps=["basic_optim"], source=SOLUTIONS, show=False, fresh=True)
    assert again.score == again.max_score
    assert set(json.loads(run.read_text())) == {"curve", "final"}


def test_plots_that_cannot_be_saved_cost_only_the_plots(kit_home, capsys):
    (kit_home / "plots").write_text("a file where the plots folder should be")
    results = grade(steps=["basic_optim"], source=SOLUTIONS, show=True)
    assert results.score == results.max_score
    assert "the plot for basic_optim was not saved" in capsys.readouterr().out
    assert json.loads((kit_home / "results" / "grade-latest.json").read_text())["score"] == results.score


def test_quick_leaves_the_fastai_steps_to_a_run_that_names_them():
    quick = grade(source=SOLUTIONS, quick=True, show=False)
    assert {t.tags[0] for t in quick.tests}.isdisjoint({"learner", "resnet18", "my_learner"})
    assert quick.score == quick.max_score
    named = grade(steps=["learner"], source=SOLUTIONS, quick=True, show=False)
    assert {t.tags[0] for t in named.tests} == {"learner"} and named.score == named.max_score


def test_exit_code_follows_the_chapter_steps_and_bonus_steps_are_optional(tmp_path):
    from tests.support.planting import plant

    folder = plant(tmp_path, "softmax", "return exps / exps.sum(dim=-1, keepdim=True)", "return exps")
    both = subprocess.run(
        ["fastgroup", "grade", "init_params", "softmax", "--quick", "--source", str(folder)],
        capture_output=True, text=True,
    )
    assert both.returncode == 0, both.stdout[-1500:]  # every chapter check passed
    assert "Total: 6/6 points" in both.stdout and "Bonus: 8/8" not in both.stdout
    alone = subprocess.run(
        ["fastgroup", "grade", "softmax", "--quick", "--source", str(folder)], capture_output=True, text=True
    )
    assert alone.returncode == 1  # graded on its own, the bonus step sets the exit code


def test_ctrl_c_stops_the_grade_at_once_and_keeps_the_latest_results(tmp_path, kit_home):
    """Ctrl-C reaches every process of the terminal's group: the grade says it stopped, in one line,
    kills its judges mid-check instead of waiting for them, leaves nothing behind and saves nothing."""
    from grader.core.home import latest_results_path

    src = tmp_path / "src"
    shutil.copytree(SOLUTIONS, src)
    # ResNet-18's check computes until Ctrl-C, however fast the machine (its limit is minutes away)
    (src / "resnet18.py").write_text("def make_resnet_learner(dls):\n    while True:\n        pass\n")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200", "TMPDIR": str(tmp_path)}
    first = subprocess.run(["fastgroup", "grade", "mnist_loss", "--source", str(src), "--quick"],
                           cwd=KIT_ROOT, capture_output=True, text=True, env=env)
    assert first.returncode == 0, first.stdout[-2000:]
    latest = latest_results_path("grade").read_bytes()
    log_path = tmp_path / "grade.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            ["fastgroup", "grade", "--source", str(src)], cwd=KIT_ROOT, env=env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=ctrl_c_as_in_a_terminal,
        )
    try:
        deadline = time.monotonic() + 120
        while "trained: learner" not in log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)  # ResNet-18's check is running in its judge now
        assert "resnet18" not in log_path.read_text().split("trained: learner")[-1]
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    out = log_path.read_text()
    assert proc.returncode == 130 and out.rstrip().endswith("stopped (Ctrl-C)"), out[-2000:]
    assert "Traceback" not in out and "Total:" not in out, out[-2000:]
    assert latest_results_path("grade").read_bytes() == latest  # the interrupted grade saved nothing
    assert not list(tmp_path.glob("fastgroup-judge-*"))  # each killed judge's folder is removed


def test_the_report_points_a_newcomer_at_the_next_steps_file(tmp_path, fresh_stubs):
    src = tmp_path / "exercises"  # fresh stubs: CI's checkout has some steps solved in exercises/
    shutil.copytree(fresh_stubs, src, ignore=shutil.ignore_patterns("__pycache__", ".backups"))
    for step in ("linear1", "mnist_loss"):  # done; calc_grad is still its stub
        shutil.copy(SOLUTIONS / f"{step}.py", src / f"{step}.py")
    run = subprocess.run(["fastgroup", "grade", "linear1", "mnist_loss", "calc_grad", "--quick", "--source", str(src)],
                         cwd=KIT_ROOT, capture_output=True, text=True, env={**os.environ, "COLUMNS": "300"})
    assert f"Next: step calc_grad (Computing gradients) in {src / 'calc_grad.py'};" in run.stdout, run.stdout[-2000:]


def test_a_regrade_marks_the_steps_it_reused_and_fresh_grades_them_again(tmp_path):
    src = copy_solutions(tmp_path)
    command = ["fastgroup", "grade", "mnist_loss", "calc_grad", "--quick", "--source", str(src)]
    env = {**os.environ, "COLUMNS": "200"}
    first = subprocess.run(command, capture_output=True, text=True, env=env)
    assert first.returncode == 0 and "reused" not in first.stdout
    again = subprocess.run(command, capture_output=True, text=True, env=env)
    assert again.returncode == 0 and again.stdout.count("(reused)") == 5  # two rows, the note, two progress lines
    assert "2 steps (reused) kept their last result" in again.stdout and "Total: 14/14" in again.stdout
    fresh = subprocess.run([*command, "--fresh"], capture_output=True, text=True, env=env)
    assert fresh.returncode == 0 and "reused" not in fresh.stdout


def test_verbose_shows_every_failing_check_of_a_step(tmp_path):
    from tests.support.planting import plant

    folder = plant(tmp_path, "mnist_loss", "p = predictions.sigmoid()", "p = predictions.sigmoid() * 2")
    command = ["fastgroup", "grade", "mnist_loss", "--quick", "--source", str(folder)]
    env = {**os.environ, "COLUMNS": "300"}
    plain = subprocess.run(command, capture_output=True, text=True, env=env).stdout
    verbose = subprocess.run([*command, "--verbose"], capture_output=True, text=True, env=env).stdout
    names = ["the chapter's example", "matches the reference on random logits", "its gradient matches"]
    assert [name in plain for name in names] == [True, False, False]
    assert all(name in verbose for name in names) and "yours is 2x the expected" in verbose
