"""Calibrate the training thresholds: train the reference solutions over several seeds on the
embedded digits, take the worst accuracy minus the margin, write grader/engine/calibration.json and
print a markdown table for bench/RESULTS.md.

    python bench/calibrate.py --seeds 10 --write
    python bench/calibrate.py --seeds 10 --write --steps resnet18   # recalibrate one step
"""

import argparse
import json
import statistics
import time

from grader.engine import data as data_sources
from grader.engine import thresholds
from grader.engine.checks.base import seed_everything
from grader.engine.loading import load_reference
from grader.engine.recipes import chapter


def recipes(path, device):
    """step -> function(seed) returning the reference's accuracy per epoch."""

    def resnet(seed):
        from fastai.torch_core import set_seed

        set_seed(seed, reproducible=True)
        return chapter.resnet(load_reference("resnet18").make_resnet_learner, path, device, seed)

    return {
        "pixel_similarity": lambda seed: [
            chapter.pixel_similarity(load_reference("pixel_similarity").is_3, path, device)
        ],
        "train_epoch": lambda seed: chapter.linear_from_scratch(
            load_reference("train_epoch").train_epoch, load_reference("init_params").init_params, path, device
        ),
        "basic_optim": lambda seed: chapter.with_optimizer(load_reference("basic_optim").BasicOptim, path, device),
        "train_model": lambda seed: chapter.training_loop(
            load_reference("train_model").new_model_and_opt, load_reference("train_model").train_model, path, device
        ),
        "simple_net": lambda seed: chapter.two_layer_net(load_reference("simple_net").simple_net_module, path, device),
        "learner": lambda seed: chapter.fastai_learner(load_reference("learner").make_learner, path, device),
        "resnet18": resnet,
        **bonus_recipes(device),
    }


def bonus_recipes(device):
    """The bonus steps: all ten digits (the embedded mnist_full, whatever the data path)."""
    from grader.engine.recipes import ten_digits

    lin, net = load_reference("multiclass_linear"), load_reference("multiclass_net")
    return {
        "multiclass_linear": lambda seed: ten_digits.linear10(
            lin.init_linear10, lin.linear10, lin.fit10, seed, device
        ),
        "multiclass_net": lambda seed: ten_digits.net10(net.init_net10, net.net10, lin.fit10, seed, device),
        "my_learner": lambda seed: ten_digits.my_learner(load_reference("my_learner").MyLearner, seed, device),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--write", action="store_true", help="update grader/engine/calibration.json")
    parser.add_argument("--steps", nargs="*", help="only these steps (the others keep their rows)")
    args = parser.parse_args()
    path = data_sources.resolve("embedded")
    table = {}
    print("| step | book (12,396 digits) | kit min | kit median | kit max | gap to book (median) "
          "| threshold | seconds per run |")
    print("|---|---|---|---|---|---|---|---|")
    for step, run in recipes(path, args.device).items():
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
