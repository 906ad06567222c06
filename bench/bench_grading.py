"""Benchmark the board's grading: throughput with 1 and 2 workers, and upload-to-verified latency.

    python bench/bench_grading.py [--submissions 8] [--pg URL] [--code stubs|small]

1. Throughput: SUBMISSIONS code submissions, one member each, queued at once: a fresh learner's
   (every exercise stub, as `fastgroup submit` sends them), or with `--code small` two solved
   steps (mnist_loss.py and batch_accuracy.py: code a judge must run); then 1 (then 2)
   `fastgroup worker` processes; submissions graded per minute from the workers' start to the
   last verified row (the workers' own start, torch and fastai imports, is counted).
2. Latency: an idle queue with one warm worker; the solutions submitted (queue_submission, as
   the page's upload does); seconds until their verified row (100/100) can be read.

SQLite always; PostgreSQL (procrastinate workers) with --pg or FASTGROUP_TEST_PG_URL.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.board.store import Store
from grader.board.submit import queue_submission
from grader.core.home import KIT_ROOT

sys.path.insert(0, str(Path(__file__).parent))
from bench_store import pg_scratch  # noqa: E402


def files(folder: str) -> dict[str, str]:
    return {p.name: p.read_text() for p in (KIT_ROOT / folder).glob("*.py") if p.name != "__init__.py"}


HOME = tempfile.mkdtemp(prefix="fastgroup-bench-grading-home-")  # the workers' kit home: never the real one


def start_workers(db: str, n: int) -> list[subprocess.Popen]:
    return [
        subprocess.Popen(
            [sys.executable, "-m", "grader.cli", "worker", "--db", db, "--device", "cpu"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "FASTGROUP_HOME": HOME},
        )
        for _ in range(n)
    ]


def stop(workers) -> None:
    for w in workers:
        os.killpg(w.pid, signal.SIGTERM)
    for w in workers:
        try:
            w.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(w.pid, signal.SIGKILL)


def wait_graded(store: Store, ids: list[int], limit: float = 1800) -> float:
    began = time.perf_counter()
    while True:
        states = [store.submission(i)[0].state for i in ids]
        if all(s in ("graded", "failed") for s in states):
            assert states.count("graded") == len(ids), f"not all graded: {states}"
            return time.perf_counter() - began
        if time.perf_counter() - began > limit:
            raise TimeoutError(states)
        time.sleep(0.1)


CODE = {
    "stubs": lambda: files("exercises"),
    "small": lambda: {name: text for name, text in files("solutions").items()
                      if name in ("mnist_loss.py", "batch_accuracy.py")},
}


def throughput(db: str, n_workers: int, n: int, code: str = "stubs") -> float:
    with Store.open(db) as store:
        tokens = [store.add_member(f"w{n_workers}-m{i}") for i in range(n)]
        ids = [queue_submission(CODE[code](), "grade", t, db)[1] for t in tokens]
        workers = start_workers(db, n_workers)
        try:
            seconds = wait_graded(store, ids)
        finally:
            stop(workers)
    return n / seconds * 60


def latency(db: str) -> tuple[float, float]:
    with Store.open(db) as store:
        token = store.add_member("latency")
        workers = start_workers(db, 1)
        try:
            time.sleep(30)  # idle: the worker has started and warmed its engine processes
            began = time.perf_counter()
            sid = queue_submission(files("solutions"), "grade", token, db)[1]
            wait_graded(store, [sid])
            seconds = time.perf_counter() - began
            row = store.submission(sid)[0]
        finally:
            stop(workers)
    return seconds, row.score


def measure(label: str, db: str, n: int, code: str = "stubs") -> dict:
    Store.open(db, create=True).close()
    return {
        "store": label,
        "one": throughput(db, 1, n, code),
        "two": throughput(db, 2, n, code),
        "latency": latency(db),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=8)
    parser.add_argument("--pg", default=os.environ.get("FASTGROUP_TEST_PG_URL"))
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--code", choices=list(CODE), default="stubs")
    args = parser.parse_args()
    results = []
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as tmp:
            results.append(measure("SQLite (local workers)", f"sqlite:///{Path(tmp) / 'bench.db'}", args.submissions,
                                   args.code))
    if args.pg and args.only != "sqlite":
        url, drop = pg_scratch(args.pg)
        try:
            results.append(measure("PostgreSQL (procrastinate)", url, args.submissions, args.code))
        finally:
            drop()
    print(f"{args.submissions} {args.code} submissions per run; {os.cpu_count()} CPUs\n")
    print("| store | graded/min, 1 worker | graded/min, 2 workers | upload to verified row (solutions) |")
    print("|---|---|---|---|")
    for r in results:
        seconds, score = r["latency"]
        print(f"| {r['store']} | {r['one']:.1f} | {r['two']:.1f} | {seconds:.1f} s ({score:g}/100) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
