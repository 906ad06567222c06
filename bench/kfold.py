"""The reference's accuracy on digits it did not train on, by k-fold cross-validation over the
1,000 embedded digits of 3 and 7, beside the book's figures (issue 14, section 1).

    python bench/kfold.py                                   # 5 folds x seeds 0-2, every step
    python bench/kfold.py --steps train_epoch --set train_epoch epochs=30 lr=0.5 --curve

Each fold holds out 100 threes and 100 sevens (a stratified, seeded partition of the 500 of
each, so every digit is held out exactly once) and trains on the other 800 through the kit's
own recipes and settings (grader/core/steps.toml), in a folder of the MNIST_SAMPLE layout seen
through a view, as the judge does (bench/calibrate.py). The table gives, per step, the k-fold
estimate (the mean over the folds of the final accuracy on the held-out 200: every digit
counted once) as the median over seeds, its min-max over seeds, the min-max of single folds,
a 95% interval for an accuracy measured on the 1,000 digits (Wilson's), and the gap of the
median to the book. `--set STEP key=value ...` tries other settings
without editing the manifest; `--curve` adds the median accuracy after every epoch (constant-rate runs only: a
shorter run is the prefix of a longer one).
"""

import argparse
import dataclasses
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as in the workers: no spinning on shared cores

import calibrate  # noqa: E402  (bench/calibrate.py, beside this file)

from grader.core import steps  # noqa: E402
from grader.engine import data as data_sources  # noqa: E402
from grader.engine import thresholds, views  # noqa: E402

CHAPTER_STEPS = ("pixel_similarity", "train_epoch", "basic_optim", "train_model", "simple_net", "learner", "resnet18")
FOLD_SEED = 14  # the partition of the 1,000 digits into folds


def fold_folders(source: Path, root: Path, k: int, classes=data_sources.SAMPLE_CLASSES) -> list[Path]:
    """k folders in the MNIST_SAMPLE layout: in fold i, the i-th slice of every class is valid/,
    the rest train/ (the embedded split's train and valid images pooled first)."""
    pooled = {c: sorted((source / "train" / c).glob("*.png")) + sorted((source / "valid" / c).glob("*.png"))
              for c in classes}
    for c, files in pooled.items():
        random.Random(f"{FOLD_SEED}-{c}").shuffle(files)
    folders = []
    for i in range(k):
        folder = root / f"fold-{i}"
        for c, files in pooled.items():
            held = set(files[i::k])
            for split in ("train", "valid"):
                (folder / split / c).mkdir(parents=True)
            for f in files:
                (folder / ("valid" if f in held else "train") / c / f.name).hardlink_to(f)
        folders.append(folder)
    return folders


def override(step: str, assignments: list[str]) -> None:
    """Train `step` with other settings for this process: key=value for epochs, lr, bs."""
    s = steps.BY_ID[step]
    changes = {}
    for item in assignments:
        key, value = item.split("=", 1)
        changes[key] = float(value) if key == "lr" else int(value)
    steps.BY_ID[step] = dataclasses.replace(s, training=dataclasses.replace(s.training, **changes))


def cv_accuracy(by_fold: list[list[float]]) -> list[float]:
    """The k-fold estimate after every epoch: the mean over the folds (equal-sized, so the share
    of all 1,000 digits right when each was held out)."""
    return [round(statistics.fmean(epoch), 4) for epoch in zip(*by_fold)]


def interval95(p: float, n: int) -> tuple[float, float]:
    """Wilson's 95% interval for an accuracy p measured on n digits: how finely n digits can
    tell two accuracies apart (each held-out digit counted once, as in the k-fold estimate)."""
    z = 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def settings_text(step: str) -> str:
    t = steps.BY_ID[step].training
    return "(no training)" if t is None else f"{t.epochs} epochs, lr {t.lr:g}, bs {t.bs}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 for every fold")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", nargs="*", default=list(CHAPTER_STEPS))
    parser.add_argument("--set", nargs="+", action="append", default=[], metavar="STEP key=value",
                        help="other training settings for one step, e.g. --set simple_net epochs=30 lr=0.2")
    parser.add_argument("--curve", action="store_true", help="median accuracy after every epoch too")
    parser.add_argument("--json", type=Path, help="write every run's accuracies here")
    args = parser.parse_args()
    for step, *assignments in args.set:
        override(step, assignments)

    root = Path(tempfile.mkdtemp(prefix="fastgroup-kfold-"))
    folds = fold_folders(data_sources.resolve("embedded"), root, args.folds)
    runs = [calibrate.chapter_recipes(args.device, views.make_view(f, root, data_sources.SAMPLE_CLASSES))
            for f in folds]
    book = thresholds.book_figures()
    held_out = sum(len(list((f / "valid").glob("*/*.png"))) for f in folds)  # every digit once: 1,000
    print(f"{args.folds}-fold cross-validation over the 1,000 embedded digits of 3 and 7 (800 train, "
          f"200 held out per fold), seeds 0-{args.seeds - 1}: {args.folds * args.seeds} runs a step\n")
    print("| step | book | kit: k-fold accuracy, median of seeds | min-max over seeds | min-max over "
          "single folds | 95% interval (1,000 digits) | gap to the book | settings | s per run |")
    print("|---|---|---|---|---|---|---|---|---|")
    record = {}
    for step in args.steps:
        curves, start = [], time.perf_counter()  # curves[seed][fold]: accuracy after every epoch
        for seed in range(args.seeds):
            curves.append([fold[step](seed) for fold in runs])
            print(f"  {step} seed {seed}: {' '.join(f'{c[-1]:.3f}' for c in curves[-1])} "
                  f"({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
        per_run = (time.perf_counter() - start) / (args.seeds * args.folds)
        cv = [cv_accuracy(by_fold) for by_fold in curves]  # per seed, after every epoch
        final = [c[-1] for c in cv]
        single = [c[-1] for by_fold in curves for c in by_fold]
        med = statistics.median(final)
        low, high = interval95(med, held_out)
        record[step] = {"settings": settings_text(step), "curves": curves}
        print(f"| {step} | {book[step]:.4f} | {med:.4f} | {min(final):.4f}-{max(final):.4f} "
              f"| {min(single):.3f}-{max(single):.3f} | {low:.3f}-{high:.3f} | {med - book[step]:+.4f} "
              f"| {settings_text(step)} "
              f"| {per_run:.1f} |", flush=True)
        if args.curve:
            by_epoch = [statistics.median(c[e] for c in cv) for e in range(len(cv[0]))]
            print("  per epoch: " + " ".join(f"{e + 1}:{a:.4f}" for e, a in enumerate(by_epoch)), flush=True)
    if args.json:
        args.json.write_text(json.dumps(record))


if __name__ == "__main__":
    main()
