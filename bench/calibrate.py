"""Calibrate the training thresholds: train the reference solutions over several seeds on the
embedded digits, take the worst accuracy minus the margin, write grader/engine/calibration.json and
print a markdown table for bench/RESULTS.md.

    python bench/calibrate.py --seeds 10 --write
    python bench/calibrate.py --seeds 10 --write --steps resnet18   # recalibrate one step
"""

import argparse
import json
import os
import statistics
import tempfile
import time
from importlib import import_module
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as in the workers: spinning threads on shared cores cost minutes

from grader.core.steps import BONUS_IDS, BY_ID  # noqa: E402
from grader.engine import data as data_sources  # noqa: E402
from grader.engine import thresholds, views  # noqa: E402
from grader.engine.checks.base import seed_everything  # noqa: E402
from grader.engine.loading import load_reference  # noqa: E402
from grader.engine.recipes.ten_digits import full_path  # noqa: E402


def recipe(step):
    """The step's training run: `recipe` beside its checks."""
    return import_module(f"grader.engine.checks.{step}").recipe


def scorer(step, recipe, args, on, balanced=False):
    """function(seed) -> the reference's accuracy after every epoch of `recipe` on the view `on`:
    the same recipe the sandbox runs on a learner's code, scored against the labels as the judge
    does."""

    def train(seed):
        seed_everything(seed)
        epochs = recipe(load_reference(step), str(on.path), *args(seed))["epochs"]
        return [views.accuracy(p, on.truth, balanced) for p in epochs]

    return train


def chapter_recipes(device, view):
    """The chapter's 3-vs-7 steps on `view` (a view of a folder in the MNIST_SAMPLE layout):
    step -> function(seed) returning the reference's accuracy per epoch."""
    dev = lambda seed: (device,)  # noqa: E731
    steps = ("pixel_similarity", "train_epoch", "basic_optim", "train_model", "simple_net", "learner")
    return {
        **{step: scorer(step, recipe(step), dev, view, balanced=step == "pixel_similarity") for step in steps},
        "resnet18": scorer("resnet18", recipe("resnet18"), lambda seed: (device, seed), view),
    }


def recipes(device):
    """step -> function(seed) returning the reference's accuracy per epoch on the embedded
    digits: the chapter's steps on the 3s and 7s, the bonus steps on all ten digits."""
    from grader.engine.data import ALL_CLASSES, SAMPLE_CLASSES

    root = Path(tempfile.mkdtemp(prefix="fastgroup-calibrate-"))
    view = views.make_view(data_sources.resolve("embedded"), root, SAMPLE_CLASSES)
    full = views.make_view(full_path(), root, ALL_CLASSES)
    ten = lambda seed: (seed, device)  # noqa: E731
    return {
        **chapter_recipes(device, view),
        **{step: scorer(step, recipe(step), ten, full) for step in BONUS_IDS if BY_ID[step].trains},
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--write", action="store_true", help="update grader/engine/calibration.json")
    parser.add_argument("--steps", nargs="*", help="only these steps (the others keep their rows)")
    args = parser.parse_args()
    table = {}
    print("| step | book (12,396 digits) | kit min | kit median | kit max | gap to book (median) "
          "| threshold | seconds per run |")
    print("|---|---|---|---|---|---|---|---|")
    for step, run in recipes(args.device).items():
        if args.steps and step not in args.steps:
            continue
        accs, start = [], time.perf_counter()
        for seed in range(args.seeds):
            seed_everything(seed)
            accs.append(run(seed)[-1])
        per_run = (time.perf_counter() - start) / args.seeds
        lo, med, hi = min(accs), statistics.median(accs), max(accs)
        limit = round(lo - thresholds.MARGIN, 4)
        book = thresholds.book_figures().get(step, float("nan"))  # the book has no figure for the bonus steps
        table[step] = {"min": lo, "median": med, "max": hi, "threshold": limit, "seeds": args.seeds}
        print(f"| {step} | {book:.4f} | {lo:.4f} | {med:.4f} | {hi:.4f} | {med - book:+.4f} "
              f"| {limit:.4f} | {per_run:.1f} |", flush=True)
    if args.write:
        old = json.loads(thresholds.CALIBRATION.read_text())["embedded"] if thresholds.CALIBRATION.exists() else {}
        merged = {**old, **table}
        thresholds.CALIBRATION.write_text(json.dumps({"margin": thresholds.MARGIN, "embedded": merged}, indent=2))
        print(f"wrote {thresholds.CALIBRATION}")


if __name__ == "__main__":
    main()
