"""grader/engine/fingerprint.py: the same code has the same fingerprint, and only the same code."""

import shutil

from grader.engine.fingerprint import fingerprint
from tests.support.kit import SOLUTIONS


def folder_with(tmp_path, extra: str = ""):
    folder = tmp_path / "exercises"
    folder.mkdir(parents=True)
    shutil.copy(SOLUTIONS / "mnist_loss.py", folder / "mnist_loss.py")
    (folder / "mnist_loss.py").write_text((folder / "mnist_loss.py").read_text() + extra)
    return folder


def test_the_same_code_in_two_folders_has_one_fingerprint(tmp_path):
    one, other = folder_with(tmp_path / "a"), folder_with(tmp_path / "b")
    assert fingerprint(one, "mnist_loss") == fingerprint(other, "mnist_loss")


def test_any_edit_of_the_step_file_changes_it(tmp_path):
    one, edited = folder_with(tmp_path / "a"), folder_with(tmp_path / "b", "#")
    assert fingerprint(one, "mnist_loss") != fingerprint(edited, "mnist_loss")


def test_a_local_module_the_step_imports_counts_and_other_files_do_not(tmp_path):
    folder = folder_with(tmp_path, "\nimport helpers\nfrom tools.extra import f\n")
    (folder / "helpers.py").write_text("SCALE = 1\n")
    (folder / "tools").mkdir()
    (folder / "tools" / "__init__.py").write_text("")
    (folder / "tools" / "extra.py").write_text("def f():\n    return 1\n")
    (folder / "notes.py").write_text("x = 1\n")
    first = fingerprint(folder, "mnist_loss")
    (folder / "notes.py").write_text("x = 2\n")  # not imported: not the step's code
    assert fingerprint(folder, "mnist_loss") == first
    (folder / "helpers.py").write_text("SCALE = 2\n")
    second = fingerprint(folder, "mnist_loss")
    assert second != first
    (folder / "tools" / "extra.py").write_text("def f():\n    return 2\n")
    assert fingerprint(folder, "mnist_loss") not in (first, second)


def test_a_missing_step_file_has_none(tmp_path):
    assert fingerprint(tmp_path, "mnist_loss") is None


def test_a_step_file_too_deep_to_parse_still_has_a_fingerprint(tmp_path):
    folder = folder_with(tmp_path, "\nx = " + "-" * 200_000 + "1\n")
    assert fingerprint(folder, "mnist_loss") is not None
