"""What the sandbox costs: the same commands on two checkouts of the kit, run alternately.

    python bench/bench_sandbox_cost.py --before /path/to/old/checkout --runs 5

Runs `fastgroup grade` (full), `--quick`, one step (`mnist_loss`) and a watch-mode regrade on
the reference solutions, alternating between the checkout given as --before and this one, so
that both see the same machine load; besides wall-clock time it reports the CPU seconds of all
the processes of each grade (a cpuacct cgroup; Linux with cgroup v1 accounting, as root), which
other load on the machine does not change. Each checkout grades with its own code (its folder
first on PYTHONPATH) and a fresh kit home; the first run of each command per checkout is a
warm-up (data cache, reference curves) and is not counted. Prints a markdown table of medians.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_feedback import watch_latency  # the same watch timing, for either checkout

HERE = Path(__file__).resolve().parents[1]


def env_for(root: Path, home: str, cache: str) -> dict:
    return {**os.environ, "PYTHONPATH": str(root), "FASTGROUP_HOME": home, "FASTGROUP_DATA_CACHE": cache}


CPUACCT = Path("/sys/fs/cgroup/cpuacct")  # cgroup v1 CPU accounting, where the machine has it


def timed(root: Path, args: list[str], env: dict) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds of all its processes) of one grade.

    The CPU time comes from a cgroup the command starts in: it counts every process the grade
    starts, sandboxed ones included (they leave the process tree when bubblewrap is killed, so
    getrusage would miss them), and it does not change with other load on the machine."""
    command = [sys.executable, "-m", "grader.cli", "grade", "--source", str(root / "solutions"), "--device", "cpu",
               *args]
    group = CPUACCT / f"fastgroup-bench-{os.getpid()}-{time.monotonic_ns()}"
    group.mkdir()

    def join_group():
        (group / "cgroup.procs").write_text(str(os.getpid()))

    start = time.perf_counter()
    run = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, preexec_fn=join_group)
    took = time.perf_counter() - start
    deadline = time.monotonic() + 30
    while (group / "cgroup.procs").read_text().strip() and time.monotonic() < deadline:
        time.sleep(0.1)  # sandboxed processes still being torn down
    cpu = int((group / "cpuacct.usage").read_text()) / 1e9
    group.rmdir()
    if run.returncode not in (0, 1):
        raise SystemExit(f"{root}: {' '.join(args)} failed:\n{run.stdout[-1500:]}{run.stderr[-1500:]}")
    return took, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="a checkout of the kit before the change")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    roots = {"before": args.before.resolve(), "after": HERE}
    envs = {name: env_for(root, tempfile.mkdtemp(prefix=f"bench-{name}-"), tempfile.mkdtemp(prefix=f"bench-{name}-d-"))
            for name, root in roots.items()}
    commands = {"full grade": [], "--quick": ["--quick"], "one step (mnist_loss)": ["mnist_loss"]}
    times = {(what, name): [] for what in commands for name in roots}
    for name, root in roots.items():  # warm-up: data cache, reference curves
        timed(root, [], envs[name])
    for _ in range(args.runs):
        for what, extra in commands.items():
            for name, root in roots.items():
                times[(what, name)].append(timed(root, extra, envs[name]))
    for name, root in roots.items():
        times[("watch: save to result", name)] = watch_latency(envs[name], args.runs, root)
    print("| what | before: wall s, median (min-max) | after: wall s | change | before: CPU s | after: CPU s "
          "| change |\n|---|---|---|---|---|---|---|")
    for what in [*commands, "watch: save to result"]:
        cells = []
        for column in (0, 1) if what in commands else (0,):
            b = [t[column] if isinstance(t, tuple) else t for t in times[(what, "before")]]
            a = [t[column] if isinstance(t, tuple) else t for t in times[(what, "after")]]
            mb, ma = statistics.median(b), statistics.median(a)
            cells += [f"{mb:.2f} ({min(b):.2f}-{max(b):.2f})", f"{ma:.2f} ({min(a):.2f}-{max(a):.2f})",
                      f"{100 * (ma - mb) / mb:+.0f}%"]
        print(f"| {what} | {' | '.join(cells + ['-'] * (6 - len(cells)))} |")


if __name__ == "__main__":
    main()
