"""The digits as the sandbox sees them: training images with their labels, validation images
without theirs.

A view is a copy of a data folder in the same layout (train/<digit>, valid/<digit>), so every
loader and fastai's `from_folder` read it unchanged; but its validation images are dealt into
the class folders in equal numbers, in an order and under names drawn per grade from the
operating system's randomness (never from kit code, which the sandbox can read), all of one
size and one time stamp. A training run in the sandbox can only say what it predicts for each
image; the judge, which keeps the true labels (`View.truth`), decides what that is worth. Unit
checks read the same view on both sides, so the learner's code and the reference see
identical inputs.
"""

import itertools
import os
import random
import secrets
import shutil
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import torch

PADDING_CHUNK = b"fgPd"  # a private ancillary PNG chunk: every decoder skips it
STAMP = 1_000_000_000  # every validation file and folder has this time stamp (2001-09-09)


@dataclass(frozen=True)
class View:
    path: Path
    source: Path  # the real folder (it keys the reference's cached runs)
    classes: tuple[str, ...]
    truth: torch.Tensor  # the true digit of every validation image, in the view's canonical order
    source_index: torch.Tensor  # for each image in the view's canonical order, its index in the source's

    def to_source_order(self, rows: torch.Tensor) -> torch.Tensor:
        """Per-image rows in the view's order, rearranged into the source's (what a cache keeps:
        the next grade's view has another order)."""
        out = torch.empty_like(rows)
        out[self.source_index] = rows
        return out

    def to_view_order(self, rows: torch.Tensor) -> torch.Tensor:
        return rows[self.source_index]


def canonical_valid_files(path: Path, classes: tuple[str, ...]) -> list[Path]:
    """The order every recipe reports its predictions in: class folders in order, names sorted
    (the order `data.load_xy` and `data.load_full` stack the images in)."""
    return [f for c in classes for f in sorted((path / "valid" / c).glob("*.png"))]


VIEW_NUMBERS = itertools.count()


def make_view(source: Path, root: Path, classes: tuple[str, ...]) -> View:
    """Copy `source` into a new folder under `root`, the validation labels hidden."""
    # a name this process never used before: a kept judge's next view must not take the last one's
    # path, which the judge's loaders (data.load_stacks, cached by path) would still read as the old
    # digits; the number grows, so the newest view is the highest (imports.py's untar_data)
    target = root / f"view-{next(VIEW_NUMBERS)}"
    while target.exists():
        target = root / f"view-{next(VIEW_NUMBERS)}"
    shutil.copytree(source / "train", target / "train", copy_function=_link_or_copy)
    originals = canonical_valid_files(source, classes)
    digits = [int(f.parent.name) for f in originals]
    chance = random.SystemRandom()  # os.urandom: nothing in the kit can replay it
    order = list(range(len(originals)))
    chance.shuffle(order)
    folders = [classes[i % len(classes)] for i in range(len(order))]  # equal counts, give or take one
    chance.shuffle(folders)
    names = set()
    while len(names) < len(order):
        names.add(secrets.token_hex(8))
    size = max(f.stat().st_size for f in originals) + 12 if originals else 0
    for c in classes:
        (target / "valid" / c).mkdir(parents=True, exist_ok=True)
    for folder in (target, *target.rglob("*")):
        if folder.is_dir():
            folder.chmod(0o755)  # whatever the umask: the sandbox reads as an uid of its own
    placed = {}
    for index, folder, name in zip(order, folders, names, strict=True):
        dest = target / "valid" / folder / f"{name}.png"
        dest.write_bytes(padded(originals[index].read_bytes(), size))
        dest.chmod(0o644)
        os.utime(dest, (STAMP, STAMP))
        placed[dest] = index
    for c in classes:
        os.utime(target / "valid" / c, (STAMP, STAMP))
    source_index = torch.tensor([placed[f] for f in canonical_valid_files(target, classes)], dtype=torch.int64)
    truth = torch.tensor(digits, dtype=torch.int64)[source_index]
    return View(target, source, classes, truth, source_index)


def padded(png: bytes, size: int) -> bytes:
    """`png` grown to exactly `size` bytes by one ancillary chunk before IEND (size > len + 11)."""
    end = png.rfind(b"IEND") - 4
    data = b"\0" * (size - len(png) - 12)
    chunk = struct.pack(">I", len(data)) + PADDING_CHUNK + data
    chunk += struct.pack(">I", zlib.crc32(PADDING_CHUNK + data) & 0xFFFFFFFF)
    return png[:end] + chunk + png[end:]


def _link_or_copy(src, dst):
    """A hard link where every user may read the file; else a copy they may."""
    try:
        if not os.stat(src).st_mode & 0o004:
            raise PermissionError(src)
        Path(dst).hardlink_to(src)
    except OSError:
        shutil.copyfile(src, dst)
        os.chmod(dst, 0o644)
    return dst


def accuracy(predicted, truth: torch.Tensor, balanced: bool = False) -> float:
    """Share of validation images whose predicted digit is the true one; `balanced` averages the
    share over the classes (the pixel-similarity baseline's measure). Predictions of the wrong
    shape, or that are not finite numbers, are worth nothing."""
    if not isinstance(predicted, torch.Tensor) or tuple(predicted.shape) != tuple(truth.shape):
        return 0.0
    if predicted.is_floating_point() and not torch.isfinite(predicted).all():
        return 0.0
    right = (predicted.to(torch.int64) == truth).float()
    if not balanced:
        return round(right.mean().item(), 4)
    shares = [right[truth == c].mean() for c in truth.unique()]
    return round(torch.stack(shares).mean().item(), 4)
