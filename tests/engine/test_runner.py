"""The runner's judge processes: whatever the caller's main module is, whatever their checks do,
at the priority their lane needs."""

import os
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from grader.learner.grade import grade
from tests.support.kit import KIT_ROOT
from tests.support.planting import copy_solutions, grade_step, plant, replace_body

AUTOGROUP = Path("/proc/self/autogroup")


def test_a_script_without_a_main_guard_can_call_grade(tmp_path):
    """A learner's own script calls grade() at top level; the workers must not run it again."""
    folder = copy_solutions(tmp_path)
    script = tmp_path / "my_grade.py"
    script.write_text(
        textwrap.dedent(f"""
        from grader.learner.grade import grade
        print("script body ran")
        results = grade(steps=["mnist_loss"], source={str(folder)!r}, quick=True, show=False)
        print("points", sum(t.score for t in results.tests), "of", sum(t.max_score for t in results.tests))
        """)
    )
    env = {**os.environ, "PYTHONPATH": str(KIT_ROOT)}
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("script body ran") == 1
    points = done.stdout.split("points ")[1].split()
    assert points[0] == points[2] and float(points[0]) > 0


def test_grading_works_while_an_unguarded_app_is_the_main_module(tmp_path, monkeypatch):
    """Streamlit leaves its app in sys.modules as __main__; a worker must not re-run that app."""
    app = tmp_path / "app.py"
    app.write_text("raise SystemExit('the app ran inside a grading worker')\n")
    fake_main = type(sys)("__main__")
    fake_main.__file__ = str(app)
    monkeypatch.setitem(sys.modules, "__main__", fake_main)
    _, tests = grade_step(copy_solutions(tmp_path), "linear1", quick=True)
    assert tests and all(t.status == "passed" for t in tests)
    assert sys.modules["__main__"] is fake_main


def test_a_judge_killed_at_a_time_limit_leaves_no_folders_behind(tmp_path, monkeypatch):
    """The killed judge's copy of the digits and its sandbox's folder are removed by the runner."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # this process's temporary folders
    monkeypatch.setenv("TMPDIR", str(scratch))  # and the judges'
    monkeypatch.setenv("FASTGROUP_TIMEOUT_SCALE", "0.2")
    folder = plant(tmp_path, "mnist_loss", "p = predictions.sigmoid()", "while True:\n    pass")
    results, tests = grade_step(folder, "mnist_loss", quick=True)
    assert any("did not finish within" in t.output for t in tests)
    assert list(scratch.iterdir()) == []


def test_a_grade_with_both_judges_leaves_no_process_or_folder_behind(tmp_path, monkeypatch):
    """Both judges are told to stop at once at the end; each is waited for and cleaned up."""
    import multiprocessing

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("TMPDIR", str(scratch))
    results = grade(["mnist_loss", "resnet18"], source=copy_solutions(tmp_path), device="cpu", quick=True, show=False)
    assert {t.name.split(":")[0] for t in results.tests if t.status == "passed"} >= {"mnist_loss", "resnet18"}
    assert multiprocessing.active_children() == []
    assert list(scratch.iterdir()) == []


@pytest.mark.skipif(not AUTOGROUP.exists(), reason="no session scheduling (autogroup) on this machine")
def test_the_small_steps_yield_the_cpu_to_resnet18_and_the_callers_session_keeps_its_priority(tmp_path):
    """The judge of the small steps and its sandbox's session run at a lower priority beside
    resnet18's; the session the grade was started from (the learner's shell) is left alone."""
    before = (os.getpriority(os.PRIO_PROCESS, 0), AUTOGROUP.read_text())
    folder = replace_body(tmp_path, "mnist_loss", """
        import os

        def mnist_loss(predictions, targets):
            with open("/proc/self/autogroup") as group:
                raise ValueError(f"seen from the sandbox: nice {os.nice(0)}, session {group.read().strip()}")
        """)
    results = grade(steps=["mnist_loss", "resnet18"], source=folder, quick=True, show=False)
    seen = next(t.output for t in results.tests if "seen from the sandbox" in t.output)
    assert re.search(r"seen from the sandbox: nice 10, session /autogroup-\d+ nice 10", seen), seen
    assert all(t.status == "passed" for t in results.tests if t.tags == ["resnet18"])
    assert (os.getpriority(os.PRIO_PROCESS, 0), AUTOGROUP.read_text()) == before


def test_a_sandbox_denied_memory_says_so_in_one_line(bwrap, tmp_path):
    """Too small a memory cap for torch to load: the true reason and the setting to change, not
    "is PyTorch installed correctly?"."""
    from tests.support.cli import fastgroup, one_line_error

    folder = copy_solutions(tmp_path)
    done = fastgroup("grade", "mnist_loss", "--quick", "--source", str(folder),
                     env={"FASTGROUP_SANDBOX_MEMORY_GB": "0.3"}, timeout=300)
    line = one_line_error(done)
    assert "ran out of memory as it started (limit 0.3 GB)" in line and "FASTGROUP_SANDBOX_MEMORY_GB" in line, line
    assert "PyTorch installed" not in line


def test_a_judge_that_stands_still_at_start_is_not_waited_for_forever_and_one_that_moves_is(tmp_path):
    """The start is judged by progress, not a clock: a process that computes is still starting."""
    from grader.core import cpu

    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    still = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        import time

        time.sleep(0.5)
        moving, standing = cpu.Progress(busy.pid), cpu.Progress(still.pid)
        time.sleep(0.5)
        assert moving.moved() and not standing.moved()
    finally:
        for p in (busy, still):
            p.kill()
            p.wait()
