"""What `fastgroup grade` tells the learner, met as they meet it: the real CLI in a subprocess.

A grade whose output is a pipe (CI's log, a notebook's cell, `| tee`) says each step as it ends;
a --quick row says it is quick and shows the full result recorded beside it; a missing step file
names the learner's command (`fastgroup reset STEP`), never the maintainers'.
"""

import contextlib
import os
import select
import signal
import subprocess
import time

from grader.core.steps import BY_ID
from tests.support.cli import ctrl_c_as_in_a_terminal
from tests.support.kit import KIT_ROOT
from tests.support.planting import copy_solutions

WIDE = {**os.environ, "COLUMNS": "200"}


def flat(text: str) -> str:
    """A rich table's text with its borders and line breaks folded away."""
    for border in "│┃┏┓┗┛┡┩└┘━─╇┳┻╈┬┴":
        text = text.replace(border, " ")
    return " ".join(text.split())


def test_a_grade_into_a_pipe_says_each_step_as_it_ends(tmp_path):
    """The learner's second step hangs: the first step's line is already out while it runs (no
    PYTHONUNBUFFERED: a pipe's buffer must not hold the lines back)."""
    src = copy_solutions(tmp_path)
    loss = src / "mnist_loss.py"
    loss.write_text(loss.read_text().replace("    p = predictions.sigmoid()\n", "    while True:\n        pass\n"))
    env = {**os.environ, "FASTGROUP_TIMEOUT_SCALE": "50", "TMPDIR": str(tmp_path)}
    env.pop("PYTHONUNBUFFERED", None)
    proc = subprocess.Popen(["fastgroup", "grade", "linear1", "mnist_loss", "--quick", "--source", str(src)],
                            cwd=KIT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, preexec_fn=ctrl_c_as_in_a_terminal)
    out = b""
    try:
        deadline = time.monotonic() + 180
        while b"linear1: 6/6 points, 2 of 2 checks passed" not in out:
            assert time.monotonic() < deadline and proc.poll() is None, out.decode()[-2000:]
            if select.select([proc.stdout], [], [], 1)[0]:
                out += os.read(proc.stdout.fileno(), 65536)
        assert proc.poll() is None  # mnist_loss is still running: the line came as linear1 ended
        assert b"Total:" not in out and b"mnist_loss:" not in out
        assert out.decode().startswith("[0:")  # the time since the grade began
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.stdout.close()


def test_a_quick_row_says_quick_and_shows_the_full_result_recorded_beside_it(tmp_path):
    assert BY_ID["pixel_similarity"].trains  # its accuracy check is what --quick leaves out
    src = copy_solutions(tmp_path)
    command = ["fastgroup", "grade", "pixel_similarity", "--source", str(src)]
    full = subprocess.run(command, cwd=KIT_ROOT, capture_output=True, text=True, env=WIDE)
    assert full.returncode == 0 and "quick" not in flat(full.stdout), full.stdout[-2000:]
    quick = subprocess.run([*command, "--quick"], cwd=KIT_ROOT, capture_output=True, text=True, env=WIDE)
    shown = flat(quick.stdout)
    assert "pixel_similarity 5/5 quick · full 8/8 recorded" in shown, shown
    assert "pixel_similarity: 5/5 points, 3 of 3 quick checks passed" in shown  # the progress line, piped
    listed = flat(subprocess.run(["fastgroup", "list"], capture_output=True, text=True, env=WIDE).stdout)
    assert "8/8" in listed  # the same full result `fastgroup list` shows
    (src / "pixel_similarity.py").write_text((src / "pixel_similarity.py").read_text() + "\nCHANGED = True\n")
    changed = flat(subprocess.run([*command, "--quick"], cwd=KIT_ROOT, capture_output=True, text=True,
                                  env=WIDE).stdout)
    assert "pixel_similarity 5/5 quick · full: not run yet" in changed
    assert "`fastgroup grade pixel_similarity` runs it in full" in changed


def test_a_missing_step_file_names_the_learners_command_to_get_it_back(tmp_path):
    src = copy_solutions(tmp_path)
    (src / "mnist_loss.py").unlink()
    command = ["fastgroup", "grade", "mnist_loss", "--quick", "--source", str(src), "--json", str(tmp_path / "r.json")]
    run = subprocess.run(command, cwd=KIT_ROOT, capture_output=True, text=True, env=WIDE)
    shown = flat(run.stdout)
    assert run.returncode == 1, run.stderr
    assert "mnist_loss.py is missing: `fastgroup reset mnist_loss` writes a fresh stub there" in shown, shown
    assert "generate" not in run.stdout + (tmp_path / "r.json").read_text()
    reset = subprocess.run(["fastgroup", "reset", "mnist_loss", "--source", str(src)], capture_output=True, text=True)
    assert reset.returncode == 0 and (src / "mnist_loss.py").is_file(), reset.stderr
    again = flat(subprocess.run(command, cwd=KIT_ROOT, capture_output=True, text=True, env=WIDE).stdout)
    assert "not started: write mnist_loss.py" in again and "mnist_loss: not started" in again
