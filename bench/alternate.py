"""Two whole commands timed in turn, A B A B ..., and the ratio A/B taken pair by pair (a drift of
the machine's speed hits both alike).

    python bench/alternate.py --runs 5 --pause 15 --a "CMD A" --b "CMD B"

Each run is one process, timed from its start to its exit (wall) with the CPU seconds of the
processes it waited for (user + system). `--pause` waits between runs: a grade leaves its judges
waiting for the next command (grader/engine/judges/warm.py), and they replace their sandbox as it ends;
the pause lets that finish so that it is not counted in the next run, A's or B's. `--warmup` runs
each command that many times first, uncounted. Prints every run, then min, median and max.
"""

import argparse
import os
import resource
import shlex
import statistics
import subprocess
import time


def timed(command: str) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(shlex.split(command), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          env=os.environ)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def spread(values: list[float]) -> str:
    return f"{min(values):.3f} / {statistics.median(values):.3f} / {max(values):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--a", required=True)
    parser.add_argument("--b", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--pause", type=float, default=0.0)
    args = parser.parse_args()
    for _ in range(args.warmup):
        for command in (args.a, args.b):
            timed(command)
            time.sleep(args.pause)
    rows = {"A": [], "B": []}
    for n in range(args.runs):
        for name, command in (("A", args.a), ("B", args.b)):
            wall, cpu, code = timed(command)
            rows[name].append((wall, cpu))
            print(f"run {n + 1} {name}: wall {wall:.2f} s, cpu {cpu:.2f} s, exit {code}", flush=True)
            time.sleep(args.pause)
    print(f"{os.getloadavg()[0]:.2f} load average (1 min) at the end")
    print("figure: min / median / max")
    for name in ("A", "B"):
        print(f"{name} wall s: {spread([w for w, _ in rows[name]])}")
        print(f"{name} cpu s: {spread([c for _, c in rows[name]])}")
    print(f"A/B wall: {spread([a[0] / b[0] for a, b in zip(rows['A'], rows['B'])])}")
    print(f"A/B cpu: {spread([a[1] / b[1] for a, b in zip(rows['A'], rows['B'])])}")


if __name__ == "__main__":
    main()
