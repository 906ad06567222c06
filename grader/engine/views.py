"""The digits as the sandbox sees them: training images with their labels, validation images
without theirs.

A view is a copy of a data folder in the same layout (train/<digit>, valid/<digit>), so every
loader and fastai's `from_folder` read it unchanged; but its validation images are shuffled
into the class folders at random under opaque names. A training run in the sandbox can only
say what it predicts for each image; the judge, which keeps the true labels (`View.truth`),
decides what that is worth. Unit checks read the same view on both sides, so the learner's
code and the reference see identical inputs.
"""

import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch

VIEW_SEED = 20240  # the same view for the same data: the reference's cached curves stay valid


@dataclass(frozen=True)
class View:
    path: Path
    source: Path  # the real folder (it keys the reference's cached curves)
    classes: tuple[str, ...]
    truth: torch.Tensor  # the true digit of every validation image, in canonical order


def canonical_valid_files(path: Path, classes: tuple[str, ...]) -> list[Path]:
    """The order every recipe reports its predictions in: class folders in order, names sorted
    (the order `data.load_xy` and `data.load_full` stack the images in)."""
    return [f for c in classes for f in sorted((path / "valid" / c).glob("*.png"))]


def make_view(source: Path, root: Path, classes: tuple[str, ...]) -> View:
    """Copy `source` into a new folder under `root`, the validation labels hidden."""
    target = root / f"view-{len(list(root.iterdir()))}"
    shutil.copytree(source / "train", target / "train", copy_function=_link_or_copy)
    originals = [(f, int(c)) for c in classes for f in sorted((source / "valid" / c).glob("*.png"))]
    rng = random.Random(VIEW_SEED)
    order = list(range(len(originals)))
    rng.shuffle(order)
    counts = [len(list((source / "valid" / c).glob("*.png"))) for c in classes]
    folders = [c for c, n in zip(classes, counts) for _ in range(n)]
    rng.shuffle(folders)
    for c in classes:
        (target / "valid" / c).mkdir(parents=True, exist_ok=True)
    placed = []
    for slot, index in enumerate(order):
        file, digit = originals[index]
        dest = target / "valid" / folders[slot] / f"v{slot:05d}.png"
        shutil.copyfile(file, dest)  # a fresh file: no inode or time stamp that follows the label order
        placed.append((dest, digit))
    truth_by_file = {str(dest): digit for dest, digit in placed}
    truth = torch.tensor([truth_by_file[str(f)] for f in canonical_valid_files(target, classes)])
    return View(target, source, classes, truth)


def _link_or_copy(src, dst):
    try:
        Path(dst).hardlink_to(src)
    except OSError:
        shutil.copy2(src, dst)
    return dst


def accuracy(predicted, truth: torch.Tensor, balanced: bool = False) -> float:
    """Share of validation images whose predicted digit is the true one; `balanced` averages the
    share over the classes (the pixel-similarity baseline's measure). Predictions of the wrong
    shape are worth nothing."""
    if not isinstance(predicted, torch.Tensor) or tuple(predicted.shape) != tuple(truth.shape):
        return 0.0
    right = (predicted.to(torch.int64) == truth).float()
    if not balanced:
        return round(right.mean().item(), 4)
    shares = [right[truth == c].mean() for c in truth.unique()]
    return round(torch.stack(shares).mean().item(), 4)
