"""grader/authoring/classroom.py: the GitHub Classroom template gives each step its points, and
its commands really grade: green on the reference, red on the stubs."""

import shutil
import subprocess

import pytest
import yaml

from grader.authoring.classroom import WORKFLOW, workflow_text
from grader.core.steps import STEP_IDS
from grader.engine.checks import step_points
from tests.support.kit import KIT_ROOT, SOLUTIONS


def graded_steps() -> list[dict]:
    steps = yaml.safe_load(workflow_text())["jobs"]["run-autograding-tests"]["steps"]
    return [s for s in steps if s.get("uses", "").startswith("classroom-resources/autograding-command-grader")]


def test_the_committed_template_is_the_generated_one():
    assert (KIT_ROOT / WORKFLOW).read_text() == workflow_text()


def test_each_core_step_is_one_test_worth_its_points():
    tests = graded_steps()
    assert [t["id"] for t in tests] == list(STEP_IDS)
    assert {t["id"]: t["with"]["max-score"] for t in tests} == {s: step_points(s) for s in STEP_IDS}
    assert sum(t["with"]["max-score"] for t in tests) == 100


@pytest.mark.parametrize("code, expect_pass", [("solutions", True), ("stubs", False)])
def test_the_templates_commands_are_green_on_the_reference_and_red_on_the_stubs(
    tmp_path, fresh_stubs, code, expect_pass
):
    source = SOLUTIONS if code == "solutions" else fresh_stubs
    shutil.copytree(source, tmp_path / "exercises", ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    for test in graded_steps():
        run = subprocess.run(test["with"]["command"], shell=True, cwd=tmp_path, capture_output=True, text=True)
        assert (run.returncode == 0) == expect_pass, (test["id"], run.stdout[-1500:])
