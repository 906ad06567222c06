"""What binding named paths costs against binding / wholesale: one sandbox start, alternated.

    python bench/bench_binds.py --runs 10

Each run starts the kit's sandbox (grader/core/sandbox.py) and imports in it what a grading
sandbox imports before its first check (torch, then fastai.vision.all: thousands of files read
through the binds), first with the named binds the kit uses, then with / bound read-only
instead (the way before issue 22), everything else alike; the two alternate, so both see the
same load. Prints the median seconds of each and the median of the per-pair ratios.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.core import sandbox  # noqa: E402

NAMED = (sandbox.system_paths, sandbox.python_paths)
IMPORTS = "import torch, fastai.vision.all"


def start_once(whole_root: bool) -> float:
    sandbox.system_paths = (lambda: [Path("/")]) if whole_root else NAMED[0]
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        done = sandbox.run([sys.executable, "-c", IMPORTS], Path(folder), timeout=300)
        took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the sandbox failed ({'/' if whole_root else 'named'}): {done.output[-800:]!r}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    if sandbox.isolation() != "bubblewrap":
        raise SystemExit("bubblewrap is not working here: nothing to compare")
    start_once(False)  # warm the page cache for both
    named, whole = [], []
    for _ in range(runs):
        named.append(start_once(False))
        whole.append(start_once(True))
    ratios = [n / w for n, w in zip(named, whole)]
    print(f"named binds: {statistics.median(named):.3f} s (min {min(named):.3f}, max {max(named):.3f})")
    print(f"/ wholesale: {statistics.median(whole):.3f} s (min {min(whole):.3f}, max {max(whole):.3f})")
    print(f"named / wholesale, pair by pair: median {statistics.median(ratios):.3f} "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f})")


if __name__ == "__main__":
    main()
