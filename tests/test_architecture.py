"""The repo's layers hold (import-linter) and its map names every package."""

import shutil
import subprocess

import pytest

from tests.support.kit import KIT_ROOT

PACKAGES = ["grader.core", "grader.engine", "grader.learner", "grader.authoring", "grader.notebook", "grader.board"]


def test_layers_contract_is_kept():
    lint = shutil.which("lint-imports")
    if lint is None:
        pytest.fail("lint-imports is missing: pip install -e '.[test]' installs import-linter")
    run = subprocess.run([lint], cwd=KIT_ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def test_docs_map_names_every_package():
    text = (KIT_ROOT / "docs" / "architecture.md").read_text()
    for package in PACKAGES + ["quiz", "solutions", "exercises"]:
        assert f"{package.split('.')[-1]}/" in text, package
    assert "grader/core/steps.toml" in text


def test_no_module_points_at_pages_outside_the_repo():
    for path in (KIT_ROOT / "grader").rglob("*.py"):
        text = path.read_text()
        assert "ARCHITECTURE.md" not in text and "CHAPTER4.md" not in text, path
