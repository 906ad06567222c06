"""The learner's first hour, timed: untouched stubs, a regrade of unchanged code, a regrade after
editing one unit step, and the same regrade with --fresh (every step trained again), each with
judges kept between commands (grader/engine/judges/warm.py, the kit's default) and without
(FASTGROUP_WARM_S=0: every command starts its own, as before).

    python bench/bench_first_hour.py [--runs 5] [--kit PATH] [--pause 10]

Each case is a whole `fastgroup grade` command in its own process, in a private kit home prepared
first (one full grade of the solutions, so the checks' list, the reference's runs and the kept
results are there, as after a learner's first full grade). The cases are run in turn, RUNS times,
alternated so that a drift of the machine's speed hits them alike; prints each run and the medians.
`--kit` grades with another checkout's code (a worktree of an earlier commit) for a before/after.
`--pause` is the learner's edit between two commands (10 s): a kept judge replaces its sandbox as
a command ends, and the pause lets that import finish before the next command, as it would while
the learner types. The kept judges of the private home are ended at the end (`fastgroup stop`).
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

KIT = Path(__file__).resolve().parents[1]
MODES = {"kept": True, "cold": False}
sys.path.insert(0, str(KIT))
from tests.support.stubs import write_stubs  # noqa: E402


def grade(kit: Path, source: Path, home: Path, *extra: str, kept: bool = True) -> tuple[float, str]:
    env = {**os.environ, "FASTGROUP_HOME": str(home), "PYTHONPATH": str(kit)}
    if not kept:
        env["FASTGROUP_WARM_S"] = "0"
    command = [sys.executable, "-m", "grader.cli", "grade", "--source", str(source), "--device", "cpu", *extra]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=kit, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    total = next((line for line in done.stdout.splitlines() if line.startswith("Total:")), done.stderr[-200:])
    return seconds, total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--kit", type=Path, default=KIT)
    parser.add_argument("--pause", type=float, default=10.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fastgroup-bench-first-hour-"))
    home, stubs, mine = work / "home", write_stubs(work / "stubs"), work / "mine"
    shutil.copytree(args.kit / "solutions", mine, ignore=shutil.ignore_patterns("__pycache__"))
    seconds, total = grade(args.kit, mine, home)  # the first full grade: caches and kept results
    print(f"prepare: full grade of the solutions {seconds:.1f} s ({total})")
    grade(args.kit, stubs, home)
    loss = mine / "mnist_loss.py"
    original = loss.read_text()
    cases = {
        "untouched stubs": lambda kept: grade(args.kit, stubs, home, kept=kept),
        "regrade, nothing changed": lambda kept: grade(args.kit, mine, home, kept=kept),
        "regrade, one unit step edited": lambda kept: edited(lambda: grade(args.kit, mine, home, kept=kept)),
        "regrade, one step edited, --fresh": lambda kept: edited(lambda: grade(args.kit, mine, home, "--fresh",
                                                                                kept=kept)),
    }
    edits = iter(range(10**6))

    def edited(run):
        loss.write_text(original + f"\n# edit {next(edits)}\n")  # new code each time: never reused
        return run()

    times: dict[str, list[float]] = {f"{name} ({mode})": [] for name in cases for mode in MODES}
    for n in range(args.runs):
        for name, case in cases.items():
            for mode, kept in MODES.items():
                seconds, total = case(kept)
                times[f"{name} ({mode})"].append(seconds)
                print(f"run {n + 1} {name} ({mode}): {seconds:.2f} s ({total})", flush=True)
                time.sleep(args.pause)
    loss.write_text(original)
    subprocess.run([sys.executable, "-m", "grader.cli", "stop"], cwd=args.kit, capture_output=True,
                   env={**os.environ, "FASTGROUP_HOME": str(home), "PYTHONPATH": str(args.kit)})
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    print()
    for name, values in times.items():
        print(f"{name}: median {statistics.median(values):.2f} s (min {min(values):.2f}, max {max(values):.2f})")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
