"""The judge reads only plain files inside the learner's folder (grader/core/files.py read_inside):
a step file that links out of it, a FIFO or a device earns nothing, is never read, and is one line
to the learner; the other steps are graded as usual. The same folder is never sent to a board."""

import os
import subprocess
import sys

import pytest

from grader.core.errors import KitError
from grader.core.files import read_inside
from grader.learner.grade import grade
from tests.support.kit import KIT_ROOT
from tests.support.planting import copy_solutions, plant

SECRET = "the organiser's secret 1f2e3d"


@pytest.fixture
def secret(tmp_path):
    outside = tmp_path / "outside" / "secret.py"
    outside.parent.mkdir()
    outside.write_text(f"# {SECRET}\ndef mnist_loss(predictions, targets):\n    return predictions.mean()\n")
    return outside


@pytest.mark.parametrize("kind", ["link_out", "dev_zero", "fifo"])
def test_a_step_file_that_is_not_a_plain_file_inside_the_folder_earns_nothing_and_is_not_read(kind, tmp_path,
                                                                                              secret):
    folder = copy_solutions(tmp_path)
    step = folder / "mnist_loss.py"
    step.unlink()
    if kind == "link_out":
        step.symlink_to(secret)
    elif kind == "dev_zero":
        step.symlink_to("/dev/zero")
    else:
        os.mkfifo(step)
    results = grade(steps=["mnist_loss", "init_params"], source=folder, quick=True, show=False)
    mine = [t for t in results.tests if t.tags == ["mnist_loss"]]
    assert mine and all(t.score == 0 for t in mine)
    assert SECRET not in results.model_dump_json()
    assert all("mnist_loss.py is " in t.output for t in mine), mine[0].output
    assert all(t.status == "passed" for t in results.tests if t.tags == ["init_params"])  # the others as usual


def test_a_link_that_stays_inside_the_folder_is_read(tmp_path):
    folder = copy_solutions(tmp_path)
    (folder / "mine.py").write_text("X = 1\n")
    (folder / "alias.py").symlink_to(folder / "mine.py")
    assert read_inside(folder / "alias.py", folder, 100) == b"X = 1\n"
    with pytest.raises(KitError, match="larger than"):
        read_inside(folder / "mine.py", folder, 3)


def test_submit_never_sends_a_file_a_link_points_at(tmp_path, secret):
    folder = tmp_path / "exercises"
    folder.mkdir()
    (folder / "mnist_loss.py").symlink_to(secret)
    done = subprocess.run([sys.executable, "-m", "grader.cli", "submit", "--source", str(folder), "--board",
                           "http://127.0.0.1:9", "--token", "t"], cwd=KIT_ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "mnist_loss.py is a link out of its folder" in done.stderr, done.stderr
    assert SECRET not in done.stdout + done.stderr


def test_a_step_that_imports_the_kits_own_code_earns_nothing_and_says_why(tmp_path):
    """The kit is not its own answer key: the drivers, recipes, checks and solutions stay the kit's."""
    folder = copy_solutions(tmp_path)
    (folder / "mnist_loss.py").write_text("from grader.engine.drivers import *  # noqa\n"
                                          "from solutions.mnist_loss import mnist_loss  # noqa\n")
    results = grade(steps=["mnist_loss"], source=folder, quick=True, show=False)
    assert results.score == 0
    assert all("imports the kit's own code (grader.engine.drivers, solutions.mnist_loss)" in t.output
               for t in results.tests), results.tests[0].output


def test_no_namespace_descriptor_of_the_kits_is_open_in_the_learners_process(bwrap, tmp_path):
    """As root the kit makes the sandbox's user namespace and passes it to bubblewrap; the learner's
    process starts without it (observer.close_inherited)."""
    folder = plant(tmp_path, "mnist_loss", "p = predictions.sigmoid()", """
        import os
        for n in os.listdir('/proc/self/fd'):
            try:
                print(n, os.readlink(f'/proc/self/fd/{n}'))
            except OSError:
                pass
        p = predictions.sigmoid()""")
    results = grade(steps=["mnist_loss"], source=folder, quick=True, show=False)
    shown = " ".join(t.output for t in results.tests)
    assert "Your code printed" in shown and "pipe:[" in shown  # its channel to the judge, listed
    assert "user:[" not in shown and "mnt:[" not in shown and "pid:[" not in shown


def test_the_stack_dump_the_sandbox_holds_cannot_grow_past_64_kb(bwrap, tmp_path):
    """The descriptor the observer dumps its stack into is the learner's process's too: a sealed
    memory file of 64 kB (engine/judges/stuck.py), not a host file it could fill."""
    folder = plant(tmp_path, "mnist_loss", "p = predictions.sigmoid()", """
        import os
        fd, wrote = int(os.environ['FASTGROUP_STACK_FD']), 0
        try:
            for _ in range(1000):
                wrote += os.write(fd, b'x' * 100_000)
        except OSError:
            pass
        print('wrote', wrote)
        p = predictions.sigmoid()""")
    results = grade(steps=["mnist_loss"], source=folder, quick=True, show=False)
    wrote = [int(line.split()[1]) for t in results.tests for line in t.output.splitlines() if line.startswith("wrote ")]
    assert wrote and max(wrote) <= 64 * 1024, wrote
