"""The GPU check: the reference and two planted mistakes graded on CUDA and on the CPU, in one command.

    python bench/gpu_check.py                    # on a machine with a GPU: cuda against cpu
    python bench/gpu_check.py --devices cpu cpu  # the script itself, where there is none

Each case is a copy of solutions/ (the reference; mnist_loss without its sigmoid; train_epoch
stepping uphill) graded in full with `fastgroup grade --fresh --device D`, each device in a kit
home of its own (a warm-up grade first, so the reference's runs are cached and judges kept, as
for a learner's second command). Prints, per case, each check's points on both devices, the wall
time of each grade, and whether the points match; exits 1 when they do not. For bench/RESULTS.md.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.core.home import KIT_ROOT

CASES = {  # name -> (step, text in the reference, what replaces it): a learner's mistakes
    "reference": None,
    "mnist_loss, no sigmoid": ("mnist_loss", "p = predictions.sigmoid()", "p = predictions"),
    "train_epoch, uphill": ("train_epoch", "p.data -= p.grad * lr", "p.data += p.grad * lr"),
}


def case_folder(root: Path, name: str) -> Path:
    folder = root / name.replace(",", "").replace(" ", "-")
    shutil.copytree(KIT_ROOT / "solutions", folder, ignore=shutil.ignore_patterns("__pycache__"))
    change = CASES[name]
    if change:
        step, old, new = change
        file = folder / f"{step}.py"
        text = file.read_text()
        if old not in text:
            raise SystemExit(f"solutions/{step}.py no longer contains {old!r}: update CASES")
        file.write_text(text.replace(old, new, 1))
    return folder


def graded(folder: Path, device: str, home: Path) -> tuple[dict[str, float], float]:
    """{check number: points} of a full grade, and its wall time."""
    env = {**os.environ, "FASTGROUP_HOME": str(home)}
    command = [sys.executable, "-m", "grader.cli", "grade", "--source", str(folder), "--device", device, "--fresh"]
    start = time.perf_counter()
    run = subprocess.run(command, env=env, capture_output=True, text=True, cwd=KIT_ROOT)
    took = time.perf_counter() - start
    if run.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({run.returncode}):\n{run.stdout[-3000:]}{run.stderr[-3000:]}")
    results = json.loads((home / "results" / "grade-latest.json").read_text())
    return {t["number"]: t["score"] for t in results["tests"]}, took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", nargs=2, default=["cuda", "cpu"], metavar=("A", "B"))
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="fastgroup-gpu-check-"))
    homes = [(device, root / f"home-{i}-{device}") for i, device in enumerate(args.devices)]
    folders = {name: case_folder(root, name) for name in CASES}
    for device, home in homes:
        graded(folders["reference"], device, home)  # warm-up: reference runs cached, judges kept
    same = True
    for name, folder in folders.items():
        (a, ta), (b, tb) = (graded(folder, device, home) for device, home in homes)
        differ = sorted(n for n in a.keys() | b.keys() if a.get(n) != b.get(n))
        same &= not differ
        print(f"{name}: {sum(a.values()):g} points on {args.devices[0]} in {ta:.1f} s, "
              f"{sum(b.values()):g} on {args.devices[1]} in {tb:.1f} s; "
              + ("every check's points match" if not differ else f"checks that differ: {', '.join(differ)}"))
    for device, home in homes:  # the judges kept for these homes end now, not in ten minutes
        stopped = subprocess.run([sys.executable, "-m", "grader.cli", "stop"], capture_output=True, text=True,
                                 env={**os.environ, "FASTGROUP_HOME": str(home)}, cwd=KIT_ROOT)
        print(f"{device}: {(stopped.stdout + stopped.stderr).strip()}")
    shutil.rmtree(root, ignore_errors=True)
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
