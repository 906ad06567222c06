"""Accuracy thresholds for the training checks, and the reference's own curves to compare with.

- embedded data: calibrated by bench/calibrate.py (the reference's worst accuracy over seeds
  0-9 minus MARGIN) and stored in calibration.json;
- the book's MNIST_SAMPLE ('sample'): the book's figures minus MARGIN;
- any other folder: the reference trained on the same data and seed, minus MARGIN; cached.
"""

import json
import os
from pathlib import Path

from grader.core.files import write_atomic
from grader.core.home import subdir
from grader.core.steps import STEPS
from grader.engine.keys import run_name

MARGIN = 0.02
CALIBRATION = Path(__file__).with_name("calibration.json")


def book_figures() -> dict[str, float]:
    """The book's accuracy per training step (the manifest's `book`)."""
    return {s.id: s.book for s in STEPS if s.book is not None}


def calibrated(data_spec: str) -> dict:
    if data_spec == "sample":
        return {step: round(acc - MARGIN, 4) for step, acc in book_figures().items()}
    if data_spec == "embedded" and CALIBRATION.exists():
        table = json.loads(CALIBRATION.read_text())["embedded"]
        return {step: row["threshold"] for step, row in table.items()}
    return {}


def cache_dir() -> Path:
    override = os.environ.get("FASTGROUP_DATA_CACHE")
    folder = Path(override) / "reference-curves" if override else subdir("reference-curves")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def cached(kind: str, source: Path, seed: int, device: str, compute, code: Path | None = None,
           valid=lambda value: True):
    """A run of the kit's own code (the reference, or fastai's Learner) on this data, seed,
    device and thread count: computed once by the judge, then read back. `compute` returns what JSON can hold;
    `code`, the file that defines the run, keys it too. A file that cannot be read or whose value
    is not `valid` (damaged, edited) is computed and written again."""
    import torch

    file = cache_dir() / run_name(source, kind, seed, device, torch.get_num_threads(), code)
    try:
        value = json.loads(file.read_text())
        if valid(value):
            return value
    except (OSError, ValueError):
        pass
    value = compute()
    write_atomic(file, json.dumps(value))
    return value


def reference_run(step: str, path: Path, seed: int, device: str, train_reference) -> dict:
    """The reference's run on this data and seed: {"curve": accuracy per epoch, "final": its
    final outputs on the validation images}. Trained once by the judge, then cached."""

    def train():
        run = train_reference()
        return {"curve": [float(a) for a in run["curve"]], "final": run["final"]}

    return cached(step, path, seed, device, train,
                  valid=lambda run: isinstance(run, dict) and isinstance(run.get("curve"), list) and "final" in run)


def threshold(step: str, data_spec: str, ref_curve: list[float]) -> float:
    """The accuracy a learner's run must reach on this data set."""
    table = calibrated(data_spec)
    if step in table:
        return table[step]
    return round(ref_curve[-1] - MARGIN, 4)
