"""Calibrate the training thresholds: train the reference solutions over several seeds on the
embedded digits, take the worst accuracy minus the margin, write grader/engine/calibration.json and
print a markdown table for bench/RESULTS.md.

    python bench/calibrate.py --seeds 10 --write
    python bench/calibrate.py --seeds 10 --write --steps resnet18   # recalibrate one step
"""

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from grader.engine import data as data_sources
from grader.engine import thresholds, views
from grader.engine.checks.base import seed_everything
from grader.engine.loading import load_reference
from grader.engine.recipes import chapter


def recipes(device):
    """step -> function(seed) returning the reference's accuracy per epoch: the same recipe the
    sandbox runs on a learner's code, scored against the labels as the judge does."""
    from grader.engine.data import ALL_CLASSES, SAMPLE_CLASSES
    from grader.engine.recipes import ten_digits

    root = Path(tempfile.mkdtemp(prefix="fastgroup-calibrate-"))
    view = views.make_view(data_sources.resolve("embedded"), root, SAMPLE_CLASSES)
    full = views.make_view(ten_digits.full_path(), root, ALL_CLASSES)

    def run(step, recipe, args, on=view, balanced=False):
        def train(seed):
            seed_everything(seed)
            epochs = recipe(load_reference(step), str(on.path), *args(seed))["epochs"]
            return [views.accuracy(p, on.truth, balanced) for p in epochs]

        return train

    dev = lambda seed: (device,)  # noqa: E731
    return {
        "pixel_similarity": run("pixel_similarity", chapter.pixel_similarity, dev, balanced=True),
        "train_epoch": run("train_epoch", chapter.linear_from_scratch, dev),
        "basic_optim": run("basic_optim", chapter.with_optimizer, dev),
        "train_model": run("train_model", chapter.training_loop, dev),
        "simple_net": run("simple_net", chapter.two_layer_net, dev),
        "learner": run("learner", chapter.fastai_learner, dev),
        "resnet18": run("resnet18", chapter.resnet, lambda seed: (device, seed)),
        "multiclass_linear": run("multiclass_linear", ten_digits.linear10, lambda seed: (seed, device), on=full),
        "multiclass_net": run("multiclass_net", ten_digits.net10, lambda seed: (seed, device), on=full),
        "my_learner": run("my_learner", ten_digits.my_learner, lambda seed: (seed, device), on=full),
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
