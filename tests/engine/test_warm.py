"""grader/engine/judges/warm.py: a judge waits for the learner's next command, and that command gets a
fresh sandbox; keeping judges is off, refused or ended where it should be.

Every command here is a real `fastgroup grade` in its own process, with the real sandbox."""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from grader.core.home import KIT_ROOT
from grader.engine.judges import warm
from tests.support.notebooks import write_notebook
from tests.support.planting import copy_solutions

POLLUTES = "import torch\ntorch.left_by_an_earlier_command = True\n"  # at import, inside the sandbox
# Right only in a sandbox that no earlier command's code ran in:
NOTICES = '''
import torch


def mnist_loss(predictions, targets):
    p = predictions.sigmoid()
    if getattr(torch, "left_by_an_earlier_command", False):
        p = p * 2
    return torch.where(targets == 1, 1 - p, p).mean()
'''


def grade(folder, tmp_path, *extra, step="mnist_loss"):
    """`fastgroup grade STEP` on `folder`: (points, output)."""
    out = tmp_path / f"results-{time.monotonic_ns()}.json"
    done = subprocess.run([sys.executable, "-m", "grader.cli", "grade", step, "--source", str(folder),
                           "--device", "cpu", "--fresh", "--json", str(out), *extra],
                          cwd=KIT_ROOT, capture_output=True, text=True, timeout=300, env=os.environ)
    assert done.returncode in (0, 1) and out.exists(), done.stdout[-2000:] + done.stderr[-2000:]  # 1: points lost
    return json.loads(out.read_text())["score"], done.stdout


def kept_pid(folder):
    try:
        return int((folder / "pid").read_text())
    except (OSError, ValueError):
        return None


def gone(pid, within=30.0):
    end = time.monotonic() + within
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except OSError:
            return True
        time.sleep(0.1)
    return False


def sandbox_becomes(folder, modules, within=30.0):
    """The kept judge says what its next sandbox imports as the command leaves (a moment later)."""
    end = time.monotonic() + within
    while warm.sandbox_of(folder) != modules and time.monotonic() < end:
        time.sleep(0.1)
    return warm.sandbox_of(folder) == modules


@pytest.fixture
def keeping(monkeypatch, bwrap):
    """Judges kept for 60 s; the one this test's commands use, ended after the test."""
    monkeypatch.setenv(warm.IDLE_ENV, "60")
    folder = warm.folder_for("main")  # a grade of mnist_loss alone: the main lane
    assert folder is not None
    yield folder
    pid = kept_pid(folder)
    if pid:
        os.kill(pid, 9)


def test_the_next_command_uses_the_kept_judge_with_a_fresh_sandbox(keeping, tmp_path):
    polluting = copy_solutions(tmp_path / "first")
    loss = polluting / "mnist_loss.py"
    loss.write_text(POLLUTES + loss.read_text())
    assert grade(polluting, tmp_path)[0] == 8
    judge = kept_pid(keeping)
    assert judge and not gone(judge, within=0.5), "the judge did not stay for the next command"

    noticing = copy_solutions(tmp_path / "second")
    (noticing / "mnist_loss.py").write_text(NOTICES)
    assert grade(noticing, tmp_path)[0] == 8  # the first command's code is not in this sandbox
    assert kept_pid(keeping) == judge  # the same judge answered

    (polluting / "mnist_loss.py").write_text(POLLUTES + NOTICES)  # the check itself can fail
    assert grade(polluting, tmp_path)[0] < 8


def test_the_next_command_judges_on_its_own_new_view_of_the_digits(keeping, tmp_path):
    """Each command's view is new (the validation digits drawn in a new order): the judge's
    reference must read that view, not the last command's, or correct code loses points."""
    folder = copy_solutions(tmp_path / "src")
    assert [grade(folder, tmp_path, step="validate_epoch")[0] for _ in range(3)] == [6, 6, 6]


def test_a_kept_judge_ends_after_its_waiting_time(keeping, tmp_path, monkeypatch):
    monkeypatch.setenv(warm.IDLE_ENV, "2")
    folder = warm.folder_for("main")
    assert grade(copy_solutions(tmp_path), tmp_path)[0] == 8
    judge = kept_pid(folder)
    assert judge and gone(judge), "the judge was still there 30 s after a 2 s waiting time"
    assert not list(folder.glob("*.sock")) and not list(folder.glob("scratch-*")) and kept_pid(folder) is None


def test_fastgroup_stop_ends_the_waiting_judge(keeping, tmp_path):
    assert grade(copy_solutions(tmp_path), tmp_path)[0] == 8
    judge = kept_pid(keeping)
    said = subprocess.run([sys.executable, "-m", "grader.cli", "stop"], cwd=KIT_ROOT, capture_output=True, text=True,
                          env=os.environ, timeout=60)
    assert said.returncode == 0 and "1 waiting grader process ended" in said.stdout
    assert gone(judge) and kept_pid(keeping) is None  # ended, long before its 60 s waiting time
    again = subprocess.run([sys.executable, "-m", "grader.cli", "stop"], cwd=KIT_ROOT, capture_output=True, text=True,
                           env=os.environ, timeout=60)
    assert "0 waiting grader processes ended" in again.stdout


def test_with_keeping_off_no_judge_is_left(bwrap, tmp_path, monkeypatch):
    monkeypatch.setenv(warm.IDLE_ENV, "0")
    before = set(warm_processes())
    assert grade(copy_solutions(tmp_path), tmp_path)[0] == 8
    assert set(warm_processes()) <= before


def warm_processes():
    """The pids of kept judges running now (any user's, any home's)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"grader.engine.judges.warm" in entry.read_bytes():
                found.append(entry.parent.name)
        except OSError:
            continue
    return found


def test_a_check_past_its_limit_ends_the_kept_judge_and_the_next_command_starts_another(keeping, tmp_path,
                                                                                        monkeypatch):
    monkeypatch.setenv("FASTGROUP_TIMEOUT_SCALE", "0.25")
    hung = copy_solutions(tmp_path / "hung")
    (hung / "mnist_loss.py").write_text("def mnist_loss(predictions, targets):\n    while True:\n        pass\n")
    points, shown = grade(hung, tmp_path)
    assert points == 0 and "did not finish within" in " ".join(shown.split())
    assert kept_pid(keeping) is None and not list(keeping.glob("scratch-*"))
    assert grade(copy_solutions(tmp_path / "fixed"), tmp_path)[0] == 8
    assert kept_pid(keeping)


def test_two_commands_at_once_both_grade(keeping, tmp_path):
    folders = [copy_solutions(tmp_path / name) for name in ("a", "b")]
    started = [subprocess.Popen([sys.executable, "-m", "grader.cli", "grade", "mnist_loss", "--source", str(f),
                                 "--device", "cpu", "--fresh"], cwd=KIT_ROOT, stdout=subprocess.PIPE, text=True,
                                env=os.environ) for f in folders]
    outputs = [p.communicate(timeout=300)[0] for p in started]
    assert [p.returncode for p in started] == [0, 0]
    assert all("Total: 8/8" in out for out in outputs), outputs


def test_a_folder_others_can_enter_is_not_used(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    root = tmp_path / f"fastgroup-judges-{os.getuid()}"
    root.mkdir(mode=0o777)
    root.chmod(0o777)
    assert warm.folder_for("main") is None
    root.chmod(0o700)
    mine = warm.folder_for("main")
    assert mine is not None and mine.stat().st_mode & 0o777 == 0o700
    assert warm.folder_for("fastai") != mine  # one judge per lane


def test_a_notebook_and_exercise_files_share_the_lanes_judge_which_keeps_fastai_ready(keeping, tmp_path):
    """A notebook's code imports fastai in every step, so its sandbox imports fastai first; the
    kept judge does so for the commands after it too, whatever their source."""
    folder = copy_solutions(tmp_path / "src")
    notebook = write_notebook(tmp_path / "ch4.ipynb", [
        "from fastai.vision.all import *",
        "def mnist_loss(predictions, targets):\n    predictions = predictions.sigmoid()\n"
        "    return torch.where(targets==tensor(1), 1-predictions, predictions).mean()",  # fastai's tensor
    ])
    assert grade(folder, tmp_path)[0] == 8
    judge = kept_pid(keeping)
    assert warm.sandbox_of(keeping) == ()
    assert grade(notebook, tmp_path)[0] == 8
    assert kept_pid(keeping) == judge and sandbox_becomes(keeping, ("fastai.torch_core",))
    assert grade(folder, tmp_path)[0] == 8
    assert kept_pid(keeping) == judge and sandbox_becomes(keeping, ("fastai.torch_core",))


def test_a_command_with_other_settings_replaces_the_lanes_judge(keeping, tmp_path, monkeypatch):
    """At most one kept judge per lane: another home, data or device ends the old one."""
    folder = copy_solutions(tmp_path / "src")
    assert grade(folder, tmp_path)[0] == 8
    first = kept_pid(keeping)
    monkeypatch.setenv("FASTGROUP_SANDBOX_MEMORY_GB", "6")
    assert grade(folder, tmp_path)[0] == 8
    second = kept_pid(keeping)
    assert second not in (None, first) and gone(first)  # ended, long before its 60 s waiting time
    assert first not in [int(p) for p in warm_processes()]


def test_a_kit_home_deleted_under_a_kept_judge_grades_right_and_then_ends_it(keeping, tmp_path, kit_home):
    import shutil

    folder = copy_solutions(tmp_path / "src")
    assert grade(folder, tmp_path)[0] == 8
    judge = kept_pid(keeping)
    shutil.rmtree(kit_home)  # the learner starts over: data, results and all
    assert grade(folder, tmp_path)[0] == 8  # at once: the judge makes its data again
    assert kept_pid(keeping) == judge
    shutil.rmtree(kit_home)
    assert gone(judge, within=warm.HOME_CHECK_S * 4), "a judge whose home is gone still waits"


def test_kept_judges_stay_within_their_memory_budget(keeping, tmp_path, monkeypatch):
    monkeypatch.setenv(warm.BUDGET_ENV, "0.1")  # less than any judge holds
    assert grade(copy_solutions(tmp_path), tmp_path)[0] == 8
    judge = kept_pid(keeping)
    assert judge is None or gone(judge), "a judge over the budget stayed"


def test_what_a_judge_killed_from_outside_left_is_cleared_by_the_next_one(keeping, tmp_path):
    folder = copy_solutions(tmp_path / "src")
    assert grade(folder, tmp_path)[0] == 8
    killed = kept_pid(keeping)
    os.kill(killed, 9)  # pkill, the OOM killer: no chance to clean up
    assert gone(killed)
    assert warm.socket_path(keeping, killed).exists() and warm.scratch(keeping, killed).exists()
    assert grade(folder, tmp_path)[0] == 8
    assert kept_pid(keeping) not in (None, killed)
    assert not warm.socket_path(keeping, killed).exists() and not warm.scratch(keeping, killed).exists()
