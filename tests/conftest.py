"""Fixtures for every kit test. Helpers live in the tests.support package, not here.

Services (PostgreSQL, Chromium) skip cleanly on a laptop without them, but fail when
FASTGROUP_REQUIRE_SERVICES=1 (set by .ci/run).
"""

import os
import tempfile

import pytest

# fresh_stubs, warm_service; and nothing a test starts outlives pytest (Ctrl-C, SIGTERM, SIGKILL)
pytest_plugins = ["tests.support.stubs", "tests.support.planting", "tests.support.reaper"]


def pytest_configure(config):
    """Before any fixture of any scope runs: a temporary kit home, no database URL, no token.

    The user's real kit home (FASTGROUP_HOME or ~/.fastgroup) is never read or written by a
    test; tests/test_isolation.py proves it.
    """
    session_home = tempfile.mkdtemp(prefix="fastgroup-test-home-")
    os.environ["FASTGROUP_HOME"] = session_home
    os.environ["FASTGROUP_DATA_CACHE"] = tempfile.mkdtemp(prefix="fastgroup-test-data-")  # shared, built once
    for name in ("FASTGROUP_DB_URL", "FASTGROUP_TOKEN", "FASTGROUP_DATA"):
        os.environ.pop(name, None)
    # Judges end with their command: hundreds of grades would otherwise leave as many judges
    # waiting. tests/engine/test_warm.py turns keeping on where it is tested.
    os.environ["FASTGROUP_WARM_S"] = "0"


@pytest.fixture(autouse=True)
def kit_home(tmp_path_factory, monkeypatch):
    """Every test gets its own kit home, so no test sees another's state or database.

    The embedded data cache is shared (building it is slow and it is read-only once built).
    """
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("FASTGROUP_HOME", str(home))
    monkeypatch.setenv("FASTGROUP_DATA_CACHE", os.environ["FASTGROUP_DATA_CACHE"])
    monkeypatch.delenv("FASTGROUP_DB_URL", raising=False)
    monkeypatch.delenv("FASTGROUP_TOKEN", raising=False)
    return home


@pytest.fixture
def bwrap():
    """Tests of the real sandbox: skip on a laptop without bubblewrap, fail in CI."""
    from grader.core import sandbox
    from tests.support.kit import need_service

    if sandbox.isolation() != "bubblewrap":
        need_service("bubblewrap", "bwrap is missing or cannot create namespaces here (apt-get install bubblewrap)")


# The slow tier (`pytest -m slow`; README's command runs `-m "not slow"`, .ci/run both). Whole
# modules and tests carry `pytest.mark.slow` themselves; besides those, a test is slow when it
# needs a service (the `service` marker: PostgreSQL or Chromium), uses one of these fixtures, or
# is one of these cases of a parametrised test whose other cases stay fast.
SLOW_FIXTURES = {
    "pg_url": "a PostgreSQL schema",
    "chromium": "a browser",
}
# Loaded 2-core times, as measured for bench/RESULTS.md.
SLOW_CASES = {  # node id pattern (fnmatch; [[] is a literal "[") -> why
    # full training grades
    "tests/learner/test_grade.py::test_reference_gets_full_marks": "every step of the reference in full (80 s)",
    "tests/learner/test_grade.py::test_same_seed_same_accuracies": "trains two steps twice (12 s)",
    "tests/learner/test_grade.py::test_plots_are_saved_*": "trains basic_optim four times (12 s)",
    "tests/learner/test_grade.py::test_a_damaged_cache_of_the_references_run_*": "trains the reference again (10 s)",
    "tests/learner/test_grade.py::test_quick_leaves_the_fastai_steps_*": "a grade of every step, then fastai's (14 s)",
    "tests/learner/test_latest.py::test_a_quick_run_never_lowers_*": "a full grade, then a quick one (9 s)",
    "tests/learner/test_report.py::test_a_quick_row_says_quick_*": "a full grade, then a quick one (17 s)",
    "tests/learner/test_sources_state.py::*": "a notebook's grade beside the exercises' (30 s)",
    "tests/engine/test_alternatives.py::*[[]resnet18-*]": "trains ResNet-18, 20 s a case (other steps: fast)",
    "tests/engine/test_bonus_steps.py::test_reference_gets_full_bonus_marks": "trains every bonus step (20 s)",
    "tests/security/test_grade.py::*[[]forged_training]": "trains three steps (45 s; the other attacks: fast)",
    "tests/test_kernel.py::test_check_grades_the_definitions_*": "a kernel's full grade and the CLI's (42 s)",
    # the fast tier's longest, each with a faster relative above (README: the fast tier fits 10 minutes on 2 cores)
    "tests/learner/test_grade.py::test_reference_reaches_every_calibrated_threshold": "trains every step (26 s)",
    "tests/engine/test_bonus_steps.py::test_ten_class_checks_name_the_most_*": "trains a ten-class step (14 s)",
    "tests/board/test_api.py::test_a_member_submits_waits_and_reads_*": "a worker grades the reference (14 s)",
    "tests/board/test_submit.py::test_cli_members_and_submit*": "the CLI's whole round, a worker grading (12 s)",
    "tests/engine/test_data.py::test_damaged_cache_is_detected_and_rebuilt": "builds the embedded digits again (10 s)",
    "tests/engine/test_warm.py::test_a_kit_home_deleted_under_a_kept_*": "three grades, the data made again (8 s)",
    "tests/engine/test_warm.py::test_kept_judges_stay_within_their_memory_budget": "grades beside a kept judge (6 s)",
    "tests/engine/test_warm.py::test_what_a_judge_killed_from_outside_left_*": "two grades around a kill (6 s)",
    "tests/learner/test_loop.py::test_watch_regrades_the_step_that_was_saved": "watch grades twice (8 s)",
    # limits waited out for real (tests/engine/test_runner.py stops a judge at a short limit, fast)
    "tests/engine/test_robustness.py::test_infinite_loop_*": "waits out a real 20 s limit (26 s)",
    "tests/engine/test_limits.py::test_correct_code_beside_cpu_hogs_*": "grades beside CPU hogs (46 s)",
    "tests/engine/test_limits.py::test_a_sleeping_step_stops_at_the_backstop_*": "waits out the backstop (13 s)",
    "tests/engine/test_warm.py::test_a_check_past_its_limit_*": "waits out a check's limit (15 s)",
    # GitHub Classroom
    "tests/authoring/test_classroom.py::*": "the template's commands, full grades of two checkouts (480 s)",
    # long end-to-end runs, and nested pytest sessions
    "tests/learner/test_grade.py::test_ctrl_c_stops_the_grade_at_once_*": "a full grade, stopped (70 s)",
    "tests/learner/test_loop.py::test_watch_a_notebook_*": "watch grades a notebook twice (70 s)",
    "tests/security/test_worker.py::*": "every attack through a real worker (170 s; each attack: fast tier)",
    "tests/board/test_worker.py::*": "real workers' full grades (170 s)",
    "tests/board/test_app.py::test_upload_flow_from_queued_to_graded": "an in-process worker grades (60 s)",
    "tests/board/test_grading.py::*": "two grades through the board's judges (27 s)",
    "tests/board/test_launch.py::test_a_member_submits_to_the_api_it_serves_*": "the leaderboard grades (16 s)",
    "tests/board/test_launch.py::test_an_api_that_keeps_dying_*": "the board restarts its API until it gives up (12 s)",
    "tests/board/test_launch.py::test_an_api_or_worker_that_dies_*": "the board restarts its API and worker (12 s)",
    "tests/engine/test_data.py::test_two_workers_building_the_cache_at_once_*": "two cache builds (20 s)",
    "tests/engine/test_sources.py::test_a_file_that_is_not_a_chapter_*[[]empty.ipynb-*]": "a CLI run (11 s)",
    "tests/engine/test_cells.py::test_a_cell_whose_source_is_not_text_*[[]a *]": "a CLI run each (6 s)",
    "tests/test_isolation.py::*": "a nested pytest with a full grade (210 s; .ci/run checks the kit home too)",
    "tests/test_pytest_plugin.py::test_the_reference_passes_every_item_*": "a nested pytest, full grade (110 s)",
    "tests/test_pytest_plugin.py::test_k_x_a_single_file_and_junit_*": "three nested pytest grades (55 s)",
    "tests/test_pytest_plugin.py::test_a_planted_mistake_fails_exactly_*": "a nested pytest grade (40 s)",
    "tests/test_pytest_plugin.py::test_the_kits_own_test_run_never_collects_*": "collects this suite again (25 s)",
}


def pytest_collection_modifyitems(config, items):
    """Mark the slow tier before `-m` picks a tier (this hook runs before pytest's own)."""
    import fnmatch
    import warnings

    matched = set()
    for item in items:
        cases = [pattern for pattern in SLOW_CASES if fnmatch.fnmatchcase(item.nodeid, pattern)]
        matched.update(cases)
        why = next((f"uses {SLOW_FIXTURES[name]}" for name in getattr(item, "fixturenames", ())
                    if name in SLOW_FIXTURES), None)
        why = why or ("needs a service" if item.get_closest_marker("service") else None)
        why = why or (SLOW_CASES[cases[0]] if cases else None)
        if why and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow(reason=why))
    # A renamed test would quietly join the fast tier: name the entries that no longer match.
    collected = {item.nodeid.split("::")[0] for item in items}
    whole = not config.option.keyword and not any("::" in arg for arg in config.args)
    stale = [p for p in SLOW_CASES if p not in matched and p.split("::")[0] in collected]
    if whole and stale:
        warnings.warn(pytest.PytestWarning(f"tests/conftest.py SLOW_CASES matches no test: {stale}"), stacklevel=1)


def pytest_sessionfinish(session, exitstatus):
    """No tests ran is a failure, never a quiet success."""
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
