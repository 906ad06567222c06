"""The kit's own runs are cached per data, seed, device and thread count."""

import torch

from grader.engine import thresholds


def test_a_run_cached_under_one_thread_count_is_not_read_under_another(tmp_path, monkeypatch):
    monkeypatch.setenv("FASTGROUP_DATA_CACHE", str(tmp_path / "cache"))
    runs = []

    def train():
        runs.append(torch.get_num_threads())
        return {"threads": runs[-1]}

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert thresholds.cached("basic_optim", tmp_path, 0, "cpu", train) == {"threads": 1}
        assert thresholds.cached("basic_optim", tmp_path, 0, "cpu", train) == {"threads": 1}
        torch.set_num_threads(2)  # another float rounding: trained again, not read back
        assert thresholds.cached("basic_optim", tmp_path, 0, "cpu", train) == {"threads": 2}
    finally:
        torch.set_num_threads(before)
    assert runs == [1, 2]
