"""The kit's ResNet loaders read each digit file once and give the batches fastai's own loaders give."""

import shutil

import pytest
import torch

from grader.engine import data as data_sources
from grader.engine.recipes.chapter import resnet_dls

pytest.importorskip("fastai")
from fastai.data.core import TfmdDL  # noqa: E402
from fastai.torch_core import set_seed  # noqa: E402
from fastai.vision.data import ImageDataLoaders  # noqa: E402


@pytest.fixture
def digits(tmp_path):
    """A copy of the embedded digits in the book's folder layout, free to delete."""
    folder = tmp_path / "digits"
    shutil.copytree(data_sources.resolve("embedded"), folder)
    return folder


def epoch(dl) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(x.clone(), y.clone()) for x, y in dl]


def test_batches_are_fastais_epoch_after_epoch_and_later_epochs_read_no_file(digits):
    set_seed(0, reproducible=True)
    plain = ImageDataLoaders.from_folder(digits, bs=32, val_bs=data_sources.VALID_BS, num_workers=0, seed=0,
                                         dl_type=TfmdDL)
    set_seed(0, reproducible=True)
    kit = resnet_dls(digits, "cpu", 0)
    expected = [epoch(plain.train), epoch(plain.train), epoch(plain.valid)]
    first, valid = epoch(kit.train), epoch(kit.valid)
    for image in digits.rglob("*.png"):
        image.unlink()  # a loader that opened a file again would fail now
    got = [first, epoch(kit.train), valid, epoch(kit.valid)]
    for (gx, gy), (ex, ey) in zip([b for e in got[:3] for b in e], [b for e in expected for b in e], strict=True):
        assert torch.equal(gx, ex) and torch.equal(gy, ey)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(got[3], valid, strict=True))
    assert not torch.equal(got[0][0][1], got[1][0][1]), "the second epoch was not shuffled anew"


def test_a_loader_derived_for_other_items_keeps_its_own(digits):
    kit = resnet_dls(digits, "cpu", 0)
    epoch(kit.valid)  # the validation loader has kept its 200 items
    derived = kit.valid.new(kit.train.dataset)  # same settings, the training digits
    labels = torch.cat([y for _, y in derived]).tolist()
    assert labels == [int(kit.train.dataset[i][1]) for i in range(len(kit.train.dataset))]
