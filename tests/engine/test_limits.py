"""A check's limit counts the CPU seconds of the learner's sandbox, not the clock (engine/limits.py)."""

import subprocess
import sys

import pytest

from grader.core import cpu
from grader.engine import limits
from grader.engine.protocol import Verdict
from tests.support.planting import copy_solutions, grade_step, plant

needs_proc = pytest.mark.skipif(not cpu.supported(), reason="no /proc here: the limits are wall-clock seconds")


@needs_proc
def test_time_spent_waiting_is_not_counted_against_the_learner(tmp_path, monkeypatch):
    """Correct code that waits 3 s on its first call keeps its points under a 2 s limit: the
    limit counts computing, and the backstop (8 s) is far off. A wall-clock limit would fail it."""
    monkeypatch.setenv("FASTGROUP_TIMEOUT_SCALE", "0.1")  # mnist_loss's 20 s: 2 CPU seconds
    folder = plant(tmp_path, "mnist_loss", "p = predictions.sigmoid()", """
        import time
        if not getattr(time, "waited", False):
            time.waited = True
            time.sleep(3)
        p = predictions.sigmoid()""")
    _, tests = grade_step(folder, "mnist_loss", quick=True)
    assert tests and all(t.status == "passed" for t in tests), [t.output for t in tests]


@needs_proc
def test_a_sleeping_step_stops_at_the_backstop_with_its_own_message_and_line(tmp_path, monkeypatch):
    monkeypatch.setenv("FASTGROUP_TIMEOUT_SCALE", "0.1")
    folder = plant(tmp_path, "mnist_loss", "p = predictions.sigmoid()", "import time\ntime.sleep(600)")
    _, tests = grade_step(folder, "mnist_loss", quick=True)
    first = tests[0]
    assert first.status == "failed"
    assert "while computing for only" in first.output and "a sleep, input()" in first.output, first.output
    assert "`time.sleep(600)`" in first.output  # the line it was stopped at
    assert limits.NOT_GRADED not in first.output  # the code blocked: the learner's to fix


def test_correct_code_beside_cpu_hogs_keeps_every_point(tmp_path):
    """Four hogs on a 2-core machine: every check of two steps passes as on an idle one."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(4)]
    try:
        folder = copy_solutions(tmp_path)
        for step in ("mnist_loss", "validate_epoch"):
            _, tests = grade_step(folder, step, quick=True)
            assert tests and all(t.status == "passed" for t in tests), [t.output for t in tests]
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def test_the_backstop_tells_a_starved_check_from_a_blocked_one():
    """What the runner measured decides the words: computing or queued for a core is a busy machine
    (not graded, never the learner's failure); neither is code that blocked."""
    busy = limits.over_wall(2, 8.2, 0.6, 0.6 + 7.0, "")
    assert busy.verdict is Verdict.NOT_GRADED and busy.transient and busy.message.startswith(limits.NOT_GRADED)
    blocked = limits.over_wall(2, 8.1, 0.01, 0.02, " It was stopped at x.py, line 3.")
    assert blocked.verdict is Verdict.FAILED and "a sleep, input()" in blocked.message and "line 3" in blocked.message
    no_clock = limits.over_wall(20, 20.0, None, 0.0, "")
    assert no_clock.verdict is Verdict.FAILED and "did not finish within 20 s" in no_clock.message
