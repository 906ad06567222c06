"""The learner's loop: list shows progress, hint gives hints one at a time, watch regrades on save."""

import os
import shutil
import signal
import subprocess
import sys
import time

from grader.core.steps import ALL_IDS
from grader.learner.hints import all_hints, next_hint
from tests.support.cli import ctrl_c_as_in_a_terminal
from tests.support.kit import KIT_ROOT, SOLUTIONS


def fastgroup(*args, cwd=KIT_ROOT):
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(["fastgroup", *args], cwd=cwd, capture_output=True, text=True, env=env)


def test_list_shows_every_step_in_order_and_progress_after_grading():
    before = fastgroup("list")
    assert before.returncode == 0
    positions = [before.stdout.index(step) for step in ALL_IDS]
    assert positions == sorted(positions)
    first = next(line for line in before.stdout.splitlines() if "pixel_similarity" in line)
    assert "not started" in first and "<- next" in first
    fastgroup("grade", "pixel_similarity", "init_params", "--source", str(SOLUTIONS), "--quick")
    after = fastgroup("list").stdout
    init_row = next(line for line in after.splitlines() if "init_params" in line)
    assert "done" in init_row and "6/6" in init_row
    pixel_row = next(line for line in after.splitlines() if "pixel_similarity" in line)
    assert "not finished" in pixel_row and "<- next" in pixel_row  # --quick: its training has not run
    linear_row = next(line for line in after.splitlines() if "linear1" in line)
    assert "not started" in linear_row and "<- next" not in linear_row
    assert "Total: 11/11 points on the 2 chapter steps graded so far; 11 not graded yet" in " ".join(after.split())


def test_reset_shows_in_list_at_once(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(SOLUTIONS, src)
    fastgroup("grade", "mnist_loss", "--source", str(src), "--quick")
    assert "done" in next(line for line in fastgroup("list").stdout.splitlines() if "mnist_loss" in line)
    assert fastgroup("reset", "mnist_loss", "--source", str(src)).returncode == 0
    row = next(line for line in fastgroup("list").stdout.splitlines() if "mnist_loss" in line)
    assert "not started" in row and "8/8" not in row


def test_list_marks_failing_steps(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(SOLUTIONS, src)
    (src / "mnist_loss.py").write_text(
        (src / "mnist_loss.py").read_text().replace("p = predictions.sigmoid()", "p = predictions")
    )
    fastgroup("grade", "mnist_loss", "--source", str(src), "--quick")
    row = next(line for line in fastgroup("list").stdout.splitlines() if "mnist_loss" in line)
    assert "failing" in row


def test_hints_come_one_at_a_time_from_nudge_to_nearly_the_answer():
    hints = all_hints("mnist_loss")
    assert len(hints) >= 3
    shown = [next_hint("mnist_loss") for _ in range(len(hints) + 1)]
    assert [h.split(": ", 1)[1].split(" (this was the last hint")[0] for h in shown[:-1]] == hints
    assert shown[-1] == shown[-2]  # the last hint stays, and says it is the last
    assert all("this was the last hint" in h for h in shown[-2:]) and "last hint" not in shown[-3]
    assert "torch.where" in hints[-1] and "torch.where" not in hints[0]
    for step in ALL_IDS:
        assert len(all_hints(step)) >= 3, step


def watch_one_save(source, log_path, save) -> str:
    """`fastgroup watch --source SOURCE --poll`, `save()` once it is ready, Ctrl-C after the regrade: its output."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "grader.cli", "watch", "--source", str(source), "--poll"],
            cwd=KIT_ROOT, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            preexec_fn=ctrl_c_as_in_a_terminal,
        )
    try:
        deadline = time.monotonic() + 120
        while "Grader ready" not in log_path.read_text() and time.monotonic() < deadline + 180:
            time.sleep(0.5)  # every judge started and imported (a busy machine takes longer)
        assert "starting the grader" in log_path.read_text().split("Grader ready")[0]
        time.sleep(1.5)
        save()
        while "Total:" not in log_path.read_text() and time.monotonic() < deadline + 360:
            time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal: the whole process group
        proc.wait(20)
    out = log_path.read_text()
    assert out.rstrip().endswith("Stopped watching.") and "Traceback" not in out, out[-2000:]
    return out


def test_watch_regrades_the_step_that_was_saved(tmp_path, fresh_stubs):
    src = tmp_path / "src"
    shutil.copytree(fresh_stubs, src)
    out = watch_one_save(src, tmp_path / "watch.log",
                         lambda: shutil.copy(SOLUTIONS / "batch_accuracy.py", src / "batch_accuracy.py"))
    assert "batch_accuracy" in out and "6/6" in out, out[-2000:]
    assert "mnist_loss" not in out.split("Grader ready", 1)[1]


def test_hint_all_shows_again_every_hint_seen_so_far():
    assert fastgroup("hint", "calc_grad", "--all").stdout.count("Hint ") == 1  # the first, before any
    fastgroup("hint", "calc_grad")
    fastgroup("hint", "calc_grad")
    shown = fastgroup("hint", "calc_grad", "--all").stdout.strip().splitlines()
    assert [line.split("/")[0] for line in shown] == ["Hint 1", "Hint 2"]


def test_quiz_template_lists_every_question_and_answers_nothing(tmp_path):
    from quiz.model import load_quiz

    path = tmp_path / "answers.toml"
    made = fastgroup("quiz", "--template", str(path))
    assert made.returncode == 0 and path.exists(), made.stderr
    text = path.read_text()
    quiz = load_quiz()
    assert all(f"# {q.id} ({q.type}, " in text for q in quiz.questions)
    assert "#   a: " in text
    again = fastgroup("quiz", "--template", str(path))
    assert again.returncode == 2 and "already exists" in again.stderr
    taken = fastgroup("quiz", "--answers", str(path))
    assert taken.returncode == 1 and f"Score 0/{len(quiz.questions)}" in taken.stdout
    assert "--template" in fastgroup("quiz", "--help").stdout and "[answers]" in fastgroup("quiz", "--help").stdout


def test_watch_a_notebook_regrades_only_the_steps_whose_definitions_changed(tmp_path):
    from tests.support.notebooks import LINEAR, write_notebook

    no_sigmoid, with_sigmoid, accuracy = LINEAR[4], LINEAR[6], LINEAR[10]  # the book's two mnist_loss
    notebook = write_notebook(tmp_path / "ch4.ipynb", ["import torch", no_sigmoid, accuracy])
    out = watch_one_save(notebook, tmp_path / "watch.log",
                         lambda: write_notebook(notebook, ["import torch", with_sigmoid, accuracy]))
    after = out.split("Grader ready", 1)[1]
    assert "mnist_loss" in after and "8/8" in after, out[-2000:]
    assert "batch_accuracy" not in after  # its definition did not change: not regraded
