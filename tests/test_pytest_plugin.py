"""grader/pytest_plugin.py: `pytest exercises/` runs the kit's checks as a pytest user expects."""

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from grader.core.steps import STEP_IDS
from grader.engine.checks import step_points
from tests.support.kit import KIT_ROOT, SOLUTIONS


def pytest_in(cwd, *args):
    """`python -m pytest ARGS` in `cwd`, as a learner or a CI job would run it."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd, capture_output=True, text=True, timeout=900,
    )


@pytest.fixture
def checkout(tmp_path):
    """A learner's checkout: exercises/ holding the reference solutions."""
    shutil.copytree(SOLUTIONS, tmp_path / "exercises", ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    return tmp_path


@pytest.fixture
def stubs_checkout(tmp_path, fresh_stubs):
    shutil.copytree(fresh_stubs, tmp_path / "exercises")
    return tmp_path


def test_the_reference_passes_every_item_with_full_points(checkout):
    out = checkout / "results.json"
    run = pytest_in(checkout, "exercises/", "--fastgroup-json", str(out))
    assert run.returncode == 0, run.stdout[-3000:]
    assert "Total: 100/100 points" in run.stdout and "Bonus: 30/30 points" in run.stdout
    results = json.loads(out.read_text())
    assert results["score"] == results["max_score"] == 100
    assert " failed" not in run.stdout.splitlines()[-1]


def test_fresh_stubs_are_not_started_score_zero_and_fail_the_run(stubs_checkout):
    run = pytest_in(stubs_checkout, "exercises/", "--fastgroup-quick", "-rs")
    assert run.returncode == 1, run.stdout[-2000:]  # skipped alone would count as a pass in CI
    assert "Total: 0/" in run.stdout
    assert "not started: mnist_loss: write mnist_loss" in run.stdout
    assert " passed" not in run.stdout.splitlines()[-1]


def test_a_planted_mistake_fails_exactly_its_steps_items_with_the_named_mistake(checkout):
    loss = checkout / "exercises" / "mnist_loss.py"
    loss.write_text(loss.read_text().replace("p = predictions.sigmoid()", "p = predictions.sigmoid().sigmoid()"))
    run = pytest_in(checkout, "exercises/", "--fastgroup-quick")
    assert run.returncode == 1
    failed = [line for line in run.stdout.splitlines() if line.startswith("FAILED")]
    assert failed and all("mnist_loss.py::mnist_loss." in line for line in failed)
    assert "Likely mistake: the sigmoid is applied twice" in run.stdout
    assert "Traceback" not in run.stdout and "grader/engine" not in run.stdout


def test_k_x_a_single_file_and_junit_behave_as_pytest_users_expect(checkout):
    only = pytest_in(checkout, "exercises", "-k", "calc_grad", "-q")
    assert only.returncode == 0 and f"{len(['calc_grad.1', 'calc_grad.2'])} passed" in only.stdout
    loss = checkout / "exercises" / "linear1.py"
    loss.write_text(loss.read_text().replace("xb @ weights + bias", "xb @ weights"))
    first = pytest_in(checkout, "exercises/linear1.py", "exercises/mnist_loss.py", "-x", "-q")
    assert first.returncode == 1 and "1 failed, 1 passed" in first.stdout.splitlines()[-1]
    assert "mnist_loss" not in first.stdout  # -x: nothing ran after the first failure
    xml = checkout / "junit.xml"
    pytest_in(checkout, "exercises/linear1.py", "exercises/init_params.py", f"--junitxml={xml}")
    cases = ET.parse(xml).getroot().iter("testcase")
    names = [c.get("name") for c in cases]
    assert names[0].startswith("init_params.1") and any(n.startswith("linear1.") for n in names)  # chapter order


def test_the_kits_own_test_run_never_collects_learner_checks():
    run = pytest_in(KIT_ROOT, "--collect-only", "-q")
    ids = [line for line in run.stdout.splitlines() if "::" in line]
    assert ids and all(line.startswith("tests/") for line in ids)


def test_outside_an_exercises_folder_nothing_is_collected(tmp_path):
    (tmp_path / "mnist_loss.py").write_text("x = 1\n")  # a lone file named like a step
    run = pytest_in(tmp_path, str(tmp_path / "mnist_loss.py"))
    assert run.returncode == 5  # pytest's "no tests ran"


def test_points_in_the_plugins_summary_are_the_manifests(checkout):
    run = pytest_in(checkout, "exercises/init_params.py", "exercises/mnist_loss.py")
    assert f"init_params        {step_points('init_params'):g}/{step_points('init_params'):g}" in run.stdout
    assert set(STEP_IDS) >= {"init_params", "mnist_loss"}


def test_without_pytest_timeout_the_kits_ini_option_raises_no_warning():
    """A plain install (README's first command) has no pytest-timeout; the kit's pyproject sets `timeout`."""
    command = [sys.executable, "-m", "pytest", "-p", "no:timeout", "-p", "no:cacheprovider", "--collect-only", "-q"]
    run = subprocess.run([*command, "exercises/mnist_loss.py"], cwd=KIT_ROOT, capture_output=True, text=True,
                         timeout=600)
    assert "Unknown config option: timeout" not in run.stdout + run.stderr, run.stdout[-2000:]
    assert "mnist_loss.1" in run.stdout


def test_the_items_and_their_order_are_the_services_plan(checkout):
    """The plugin plans nothing itself: its items, in their order, are Service.plan's checks."""
    from grader.engine import Request, Service, make_settings

    folder = checkout / "exercises"
    run = pytest_in(checkout, "exercises/mnist_loss.py", "exercises/init_params.py", "--collect-only", "-q",
                    "--fastgroup-quick")
    ids = [line.split("::")[1].split(" ")[0] for line in run.stdout.splitlines() if "::" in line]
    wanted = make_settings(quick=True)
    with Service(wanted, main=False, fastai=False) as service, \
            service.plan(Request(source=folder, steps=["mnist_loss", "init_params"], settings=wanted)) as sheet:
        assert ids == [c.number for c in sheet.plan], run.stdout[-2000:]
