"""Grading a learner's own notebook against grading the same code as exercise files.

    python bench/bench_sources.py [--runs 3] [--quick] [--cold]

Writes the chapter as a learner's notebook (the book's flow, with its globals, its redefinitions,
a download cell and training loops, as tests/support/notebooks.py has it), then runs, in turn,
`fastgroup grade --source NOTEBOOK` and `fastgroup grade --source solutions` (the kit's own
signatures), RUNS times each, alternated so that a drift of the machine's speed hits both alike.
Prints each run's wall seconds and points, and the medians. A warm-up run of each first (the
reference runs are cached by then). Every run is --fresh: a kept result would time nothing.

Judges are kept between commands as the kit does by default (a learner grades, edits, grades
again): both sources then share each lane's judge. `--cold` turns keeping off
(FASTGROUP_WARM_S=0): every command starts its judges, as a learner's first grade of a session.
Every run uses a kit home of its own, never the real one.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KIT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(KIT))
from tests.support.notebooks import BOOK_FLOW, write_notebook  # noqa: E402


def run(source: Path, quick: bool, out: Path, env: dict) -> tuple[float, str]:
    command = [sys.executable, "-m", "grader.cli", "grade", "--source", str(source), "--json", str(out), "--fresh"]
    command += ["--quick"] if quick else []
    started = time.perf_counter()
    done = subprocess.run(command, cwd=KIT, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    total = next((line for line in done.stdout.splitlines() if line.startswith("Total:")), done.stderr[-200:])
    return seconds, total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cold", action="store_true", help="no judge kept between commands")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fastgroup-bench-sources-"))
    (folder / "tmp").mkdir()  # its kept judges' folders too: no other command of this user replaces them
    env = {**os.environ, "FASTGROUP_HOME": str(folder / "home"), "PYTHONPATH": str(KIT), "TMPDIR": str(folder / "tmp")}
    if args.cold:
        env["FASTGROUP_WARM_S"] = "0"
    notebook = write_notebook(folder / "ch4.ipynb", BOOK_FLOW)
    sources = {"notebook": notebook, "exercises": KIT / "solutions"}
    times: dict[str, list[float]] = {name: [] for name in sources}
    for name, source in sources.items():
        run(source, args.quick, folder / f"{name}.json", env)  # warm-up
    for n in range(args.runs):
        for name, source in sources.items():
            seconds, total = run(source, args.quick, folder / f"{name}.json", env)
            times[name].append(seconds)
            print(f"run {n + 1} {name:<9} {seconds:6.1f} s  {total}", flush=True)
    for name, values in times.items():
        print(f"median {name:<9} {statistics.median(values):6.1f} s over {len(values)} runs")
    ratios = [n / e for n, e in zip(times["notebook"], times["exercises"], strict=True)]
    print(f"notebook / exercises, pair by pair: {' '.join(f'{r:.2f}' for r in ratios)}; "
          f"median {statistics.median(ratios):.2f}")
    with open("/proc/loadavg") as load:
        print(f"load average at the end: {load.read().split()[0]}")


if __name__ == "__main__":
    main()
