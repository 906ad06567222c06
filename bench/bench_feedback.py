"""How fast a learner hears back: the timings of the learner-loop issue, on this machine.

    python bench/bench_feedback.py            # median of 5 runs each
    python bench/bench_feedback.py --runs 3 --full

Measures, with the reference solutions as the learner's code and a fresh kit home:
- `fastgroup grade --quick` (every unit check, no training), goal <= 3 s;
- `fastgroup grade mnist_loss` (one step that trains nothing), goal <= 2 s;
- `fastgroup watch`: from saving batch_accuracy.py to its result on screen, goal <= 1 s;
- with --full, the full grade of the reference (the sandbox issue's baseline).
Wall-clock times of whole commands, as a learner sees them.
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.core.home import KIT_ROOT

SOLUTIONS = KIT_ROOT / "solutions"


def timed(command: list[str], env: dict) -> float:
    start = time.perf_counter()
    run = subprocess.run(command, env=env, capture_output=True, text=True, cwd=KIT_ROOT)
    took = time.perf_counter() - start
    if run.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed:\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
    return took


def watch_latency(env: dict, runs: int, root: Path = KIT_ROOT) -> list[float]:
    """Seconds from an exercise file's save to the watch's 'Total:' line for that regrade
    (`root`: the checkout of the kit whose watch mode is timed)."""
    folder = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    src = folder / "exercises"
    shutil.copytree(root / "solutions", src, ignore=shutil.ignore_patterns("__pycache__"))
    log_path = folder / "watch.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "grader.cli", "watch", "--source", str(src)],
        env={**env, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}, stdout=log, stderr=subprocess.STDOUT,
        cwd=root, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # a background shell ignores Ctrl-C
    )
    latencies = []
    try:
        deadline = time.monotonic() + 60
        while "Grader ready" not in log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(2)  # let the warm-up finish, as a learner reading the screen would
        target = src / "batch_accuracy.py"
        for n in range(runs + 1):  # the first save warms the step's module up
            seen = log_path.read_text().count("Total:")
            target.write_text(target.read_text() + f"\n# save {n}\n")
            saved = time.perf_counter()
            while log_path.read_text().count("Total:") == seen:
                if time.perf_counter() - saved > 60:
                    raise SystemExit(f"watch gave no result:\n{log_path.read_text()[-2000:]}")
                time.sleep(0.01)
            if n:
                latencies.append(time.perf_counter() - saved)
            time.sleep(1.0)
    finally:
        os.killpg(proc.pid, 2)
        proc.wait(20)
        log.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="also time the full grade of the reference")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="bench-home-")
    env = {**os.environ, "FASTGROUP_HOME": home}
    grade = [sys.executable, "-m", "grader.cli", "grade", "--source", str(SOLUTIONS), "--device", "cpu"]
    timed(grade + ["--quick"], env)  # builds the data cache and the reference curves once
    rows = [
        ("fastgroup grade --quick (reference)", 3.0, [timed(grade + ["--quick"], env) for _ in range(args.runs)]),
        ("fastgroup grade mnist_loss (one step, no training)", 2.0,
         [timed(grade + ["mnist_loss"], env) for _ in range(args.runs)]),
        ("fastgroup watch: save to result, batch_accuracy", 1.0, watch_latency(env, args.runs)),
    ]
    if args.full:
        timed(grade, env)  # reference curves cached, as on a learner's second grade
        rows.append(("fastgroup grade (full, reference)", 15.0, [timed(grade, env) for _ in range(args.runs)]))
    print("| what | median s | min s | max s | goal s | runs |\n|---|---|---|---|---|---|")
    for name, goal, times in rows:
        median, low, high = statistics.median(times), min(times), max(times)
        print(f"| {name} | {median:.2f} | {low:.2f} | {high:.2f} | {goal:g} | {len(times)} |")


if __name__ == "__main__":
    main()
