"""Fair under load: the reference and planted mistakes graded idle and beside N CPU hogs.

    python bench/bench_load.py                          # hogs 0 4 8 16, the full grade
    python bench/bench_load.py --hogs 0 4 --steps mnist_loss validate_epoch train_epoch

Each case is a copy of solutions/ (the reference; mnist_loss without its sigmoid; train_epoch
stepping uphill) graded with `fastgroup grade --fresh --device cpu` in a kit home of its own
(judges not kept), first idle, then beside N `python -c 'while True: pass'` hogs. Prints each
case's points check by check under every load, whether they equal the idle ones, the wall time
and its ratio to idle, and the load average. Exits 1 when any check's points moved. For
bench/RESULTS.md.
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

CASES = {
    "reference": None,
    "mnist_loss, no sigmoid": ("mnist_loss", "p = predictions.sigmoid()", "p = predictions"),
    "train_epoch, uphill": ("train_epoch", "p.data -= p.grad * lr", "p.data += p.grad * lr"),
}


def folder(root: Path, case) -> Path:
    target = root / "src"
    shutil.copytree(KIT_ROOT / "solutions", target, ignore=shutil.ignore_patterns("__pycache__"))
    if case:
        step, old, new = case
        path = target / f"{step}.py"
        assert old in path.read_text(), f"{old!r} not in solutions/{step}.py"
        path.write_text(path.read_text().replace(old, new))
    return target


def grade(source: Path, steps: list[str], home: Path) -> tuple[dict[str, float], float, str]:
    out = home / "results.json"
    env = {**os.environ, "FASTGROUP_HOME": str(home), "FASTGROUP_WARM_S": "0"}
    began = time.monotonic()
    subprocess.run([sys.executable, "-m", "grader.cli", "grade", *steps, "--source", str(source), "--fresh",
                    "--device", "cpu", "--json", str(out)], cwd=KIT_ROOT, env=env, capture_output=True, timeout=3600)
    took = time.monotonic() - began
    doc = json.loads(out.read_text())
    cut = [t["number"] for t in doc["tests"] if t["number"] in doc["extra_data"].get("not_graded", [])]
    return {t["number"]: t["score"] for t in doc["tests"]}, took, ",".join(cut)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hogs", type=int, nargs="+", default=[0, 4, 8, 16])
    parser.add_argument("--steps", nargs="*", default=[])
    args = parser.parse_args()
    moved = False
    for name, case in CASES.items():
        idle = None
        for hogs in args.hogs:
            with tempfile.TemporaryDirectory(prefix="fastgroup-bench-load-") as tmp:
                source = folder(Path(tmp), case)
                started = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(hogs)]
                try:
                    points, took, cut = grade(source, args.steps, Path(tmp))
                    load = os.getloadavg()[0]
                finally:
                    for hog in started:
                        hog.kill()
                        hog.wait()
            idle = idle or (points, took)
            same = points == idle[0]
            moved = moved or not same
            print(f"{name:24} hogs {hogs:2}: {sum(points.values()):6g} points, {took:6.1f} s "
                  f"(x{took / idle[1]:.2f} idle), load {load:5.1f}, points {'as idle' if same else 'MOVED'}"
                  + (f", not graded: {cut}" if cut else ""), flush=True)
            if not same:
                print("   ", {n: (idle[0].get(n), p) for n, p in points.items() if idle[0].get(n) != p})
            time.sleep(5)
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main())
