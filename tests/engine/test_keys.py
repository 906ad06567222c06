"""grader/engine/keys.py: each key changes with every input that decides what it keeps."""

import os

from grader.engine import keys
from grader.engine.settings import Settings


def test_a_kept_result_is_keyed_by_code_data_and_every_setting():
    mine = keys.result_key("mnist_loss", "abc", Settings())
    others = {keys.result_key("calc_grad", "abc", Settings()), keys.result_key("mnist_loss", "abd", Settings()),
              keys.result_key("mnist_loss", "abc", Settings(data="sample")),
              keys.result_key("mnist_loss", "abc", Settings(seed=1)),
              keys.result_key("mnist_loss", "abc", Settings(device="cpu")),
              keys.result_key("mnist_loss", "abc", Settings(quick=True))}
    assert mine not in others and len(others) == 6


def test_a_data_folder_is_keyed_by_its_files(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "a.png").write_bytes(b"1")
    before = keys.data_key(str(tmp_path))
    keys.folder_key.cache_clear()
    (tmp_path / "train" / "b.png").write_bytes(b"2")
    assert keys.data_key(str(tmp_path)) != before
    assert keys.data_key("embedded") == "embedded"


def test_a_kept_run_is_keyed_by_its_seed_device_threads_and_code(tmp_path):
    code = tmp_path / "recipe.py"
    code.write_text("x = 1")
    mine = keys.run_name(tmp_path, "reference", 0, "cpu", 2, code)
    assert mine != keys.run_name(tmp_path, "reference", 1, "cpu", 2, code)
    assert mine != keys.run_name(tmp_path, "reference", 0, "cpu", 1, code)
    code.write_text("x = 2")
    assert mine != keys.run_name(tmp_path, "reference", 0, "cpu", 2, code)


def test_every_setting_a_judge_starts_with_is_in_its_key():
    mine = keys.judge_key("embedded", "cpu")
    others = {keys.judge_key("embedded", "cuda"), keys.judge_key("sample", "cpu")}
    assert mine not in others and len(others) == 2
    os.environ["FASTGROUP_SANDBOX_MEMORY_GB"] = "2"  # the sandbox's limits are set as it starts
    try:
        assert keys.judge_key("embedded", "cpu") != mine
    finally:
        del os.environ["FASTGROUP_SANDBOX_MEMORY_GB"]


