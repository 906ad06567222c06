"""The kit's tests never touch the user's kit home, whatever the scope of a fixture."""

import hashlib
import os
import subprocess
import sys

from tests.support.kit import KIT_ROOT


def snapshot(folder) -> dict[str, str]:
    """Every file under folder with the sha256 of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def prefilled_home(folder):
    """A kit home as a learner's looks after some work: results, progress, hints seen, a store."""
    (folder / "results").mkdir(parents=True)
    (folder / "results" / "grade-latest.json").write_text('{"score": 12, "max_score": 100}')
    (folder / "progress.json").write_text('{"steps": {"init_params": {"status": "done"}}}')
    (folder / "hints-seen.json").write_text('{"mnist_loss": 1}')
    (folder / "fastgroup.db").write_bytes(b"not touched")
    return folder


def test_tests_with_module_scoped_grading_leave_a_prefilled_home_byte_identical(tmp_path):
    home = prefilled_home(tmp_path / "real-home")
    before = snapshot(home)
    env = {**os.environ, "FASTGROUP_HOME": str(home), "HOME": str(tmp_path)}
    # These grade, write results and progress, and take hints, some from module-scoped fixtures.
    selection = [
        "tests/learner/test_loop.py::test_list_shows_every_step_in_order_and_progress_after_grading",
        "tests/learner/test_loop.py::test_hints_come_one_at_a_time_from_nudge_to_nearly_the_answer",
        "tests/engine/test_robustness.py::test_cli_usage_errors_are_one_line_with_exit_2",
        "tests/learner/test_grade.py::test_results_follow_the_gradescope_schema",  # module-scoped full grade
    ]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *selection],
        cwd=KIT_ROOT, env=env, capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert snapshot(home) == before
    assert not (tmp_path / ".fastgroup").exists()  # nor a kit home under ~
