"""`pytest exercises/` beside `fastgroup grade` on the reference: what the pytest path costs.

    python bench/bench_pytest.py --runs 3

Both grade a copy of solutions/ laid out as exercises/ (full grade, training included, reference
curves cached by a first run), with a fresh kit home. Goal: pytest at most 10% slower.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.core.home import KIT_ROOT


def timed(command: list[str], cwd: Path, env: dict) -> float:
    start = time.perf_counter()
    run = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-pytest-"))
    skip = shutil.ignore_patterns("__pycache__", "__init__.py")
    shutil.copytree(KIT_ROOT / "solutions", root / "exercises", ignore=skip)
    env = {**os.environ, "FASTGROUP_HOME": tempfile.mkdtemp(prefix="bench-home-")}
    grade = [sys.executable, "-m", "grader.cli", "grade", "--source", "exercises", "--device", "cpu"]
    tests = [sys.executable, "-m", "pytest", "exercises/", "-q", "-p", "no:cacheprovider", "--fastgroup-device", "cpu"]
    timed(grade, root, env)  # data and reference curves, once
    rows = []
    for name, command in (("fastgroup grade (reference)", grade), ("pytest exercises/ (reference)", tests)):
        rows.append((name, [timed(command, root, env) for _ in range(args.runs)]))
    base = statistics.median(rows[0][1])
    print("| what | median s | min s | max s | vs grade | runs |\n|---|---|---|---|---|---|")
    for name, times in rows:
        median, low, high = statistics.median(times), min(times), max(times)
        print(f"| {name} | {median:.1f} | {low:.1f} | {high:.1f} | {median / base - 1:+.0%} | {len(times)} |")


if __name__ == "__main__":
    main()
