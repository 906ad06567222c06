"""A data folder's layout, checked without torch: the grading process refuses a bad --data
folder at once, before any judge starts (a grade of untouched stubs starts none)."""

from pathlib import Path

from grader.core.errors import KitError

SAMPLE_CLASSES = ("3", "7")
ALL_CLASSES = tuple(str(d) for d in range(10))
NAMED = ("embedded", "sample")  # the data sets the kit knows by name


def checked_folder(path: Path, classes: tuple[str, ...] = SAMPLE_CLASSES) -> Path:
    """`path` if it has train/ and valid/ folders of PNGs for every class, else a KitError."""
    if not path.is_dir():
        raise KitError(f"data folder {path} does not exist: pass --data embedded, sample or a folder")
    missing = [
        f"{split}/{c}"
        for split in ("train", "valid")
        for c in classes
        if not any((path / split / c).glob("*.png"))
    ]
    if missing:
        raise KitError(
            f"data folder {path} lacks PNG images in {', '.join(missing)}: "
            "it needs the MNIST_SAMPLE layout train/3, train/7, valid/3, valid/7"
        )
    return path


def check_data(spec: str) -> None:
    """A data folder given by path must have the MNIST_SAMPLE layout; one line naming it if not."""
    if spec not in NAMED:
        checked_folder(Path(spec).expanduser())
