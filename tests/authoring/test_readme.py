"""grader/authoring/readme.py: README's step tables come from the manifest, the checks and the calibration."""

import json
import shutil

import pytest

from grader.authoring import readme
from grader.authoring.exercises import out_of_sync
from grader.core.steps import ALL_IDS
from grader.engine.checks import CORE_POINTS, step_points
from tests.support.kit import KIT_ROOT


def test_the_readme_in_the_checkout_holds_the_tables_as_generated():
    assert readme.readme_files(KIT_ROOT) == {KIT_ROOT / "README.md": (KIT_ROOT / "README.md").read_text()}


def test_the_step_table_lists_every_step_at_its_checks_points_and_the_chapter_total():
    table = readme.steps_table(KIT_ROOT)
    for step in ALL_IDS:
        assert f" | {step_points(step):g} |" in next(row for row in table.splitlines() if f"| {step}" in row)
    assert f"**{CORE_POINTS:g}**" in table
    assert "`mnist_loss(predictions, targets)`" in table and "`class BasicOptim` (`step`, `zero_grad`)" in table


def test_a_new_calibration_shows_in_the_thresholds_table(tmp_path):
    calibration = json.loads(readme.CALIBRATION.read_text())
    calibration["embedded"]["resnet18"]["threshold"] = 0.1234
    edited = tmp_path / "calibration.json"
    edited.write_text(json.dumps(calibration))
    assert "| 0.1234 |" in readme.thresholds_table(edited)
    assert "| 0.1234 |" not in readme.thresholds_table()


def test_a_table_edited_by_hand_is_out_of_sync_until_generated(tmp_path):
    for name in ("solutions", "exercises", "course", "classroom"):
        shutil.copytree(KIT_ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", ".backups"))
    text = (KIT_ROOT / "README.md").read_text()
    (tmp_path / "README.md").write_text(text.replace("| 4 | mnist_loss |", "| 4 | mnist_loss (edited) |"))
    assert tmp_path / "README.md" in out_of_sync(tmp_path)
    (tmp_path / "README.md").write_text(readme.with_tables((tmp_path / "README.md").read_text(), tmp_path))
    assert tmp_path / "README.md" not in out_of_sync(tmp_path)


def test_a_readme_without_the_markers_says_which_to_add(tmp_path):
    with pytest.raises(ValueError, match="generated: steps"):
        readme.with_tables("# a README\n", tmp_path)
