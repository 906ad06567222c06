"""read_capped: a regular file only, never more than the cap, never a hang."""

import os

import pytest

from grader.core.errors import KitError
from grader.core.files import read_capped, write_atomic


def test_reads_at_most_one_byte_past_the_cap(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    assert read_capped(path, 10, "file", "fix") == b"x" * 11
    assert read_capped(path, 1000, "file", "fix") == b"x" * 100


@pytest.mark.parametrize("kind", ["fifo", "device", "folder", "missing"])
def test_anything_else_is_one_line(tmp_path, kind):
    path = {"device": "/dev/zero", "folder": str(tmp_path)}.get(kind, tmp_path / "p")
    if kind == "fifo":
        os.mkfifo(path)  # open() without O_NONBLOCK would wait here for a writer forever
    with pytest.raises(KitError, match="results file") as info:
        read_capped(path, 10, "results file", "pass the file the kit wrote")
    assert "\n" not in str(info.value) and "pass the file the kit wrote" in str(info.value)


def test_a_record_is_written_whole_or_left_as_it_was(tmp_path):
    record = tmp_path / "progress.json"
    write_atomic(record, '{"steps": 1}')
    assert record.read_text() == '{"steps": 1}'
    with pytest.raises(UnicodeEncodeError):  # fails mid-write
        write_atomic(record, '{"steps": "\ud800"}')
    assert record.read_text() == '{"steps": 1}' and [p.name for p in tmp_path.iterdir()] == ["progress.json"]
