"""Benchmark the board's HTTP API: upload to verified, a dead worker's retry, 400 submissions.

    python bench/bench_api.py [--runs 3] [--submissions 400] [--pg URL] [--only latency|retry|throughput]

1. Upload to verified: the API (uvicorn, as `fastgroup leaderboard` starts it) and one idle
   `fastgroup worker` (started 30 s before); a member sends the reference's 13 chapter steps with
   BoardClient (what `fastgroup submit --board` does) and waits as it does (a poll a second);
   seconds from the POST to the answer that reads graded. Goal: at most 15 s. SQLite and PostgreSQL.
2. A dead worker's retry (PostgreSQL): two workers each grade the reference's training steps;
   one is SIGKILLed 2 s into its grade; seconds until its submission leaves `grading` while the
   survivor is still busy. Goal: at most 15 s.
3. Throughput: SUBMISSIONS code submissions over HTTP from 20 members, 20 threads, cooldown 0, no
   worker (the API's own cost: checks, store, queue); submissions a second and each POST's
   latency. SQLite and PostgreSQL.
"""

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import text

from grader.board.client import API, BoardClient
from grader.board.store import Store
from grader.core.home import KIT_ROOT
from grader.core.steps import STEP_IDS

sys.path.insert(0, str(Path(__file__).parent))
from bench_grading import start_workers, stop  # noqa: E402
from bench_store import pg_scratch  # noqa: E402

CHAPTER = STEP_IDS
TRAINING = ("pixel_similarity", "train_epoch", "basic_optim", "train_model", "simple_net")


def reference(steps) -> dict[str, str]:
    return {f"{s}.py": (KIT_ROOT / "solutions" / f"{s}.py").read_text() for s in steps}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_api(db: str) -> tuple[subprocess.Popen, str]:
    """The API as `fastgroup leaderboard` serves it (grader/board/launch.py), once it answers."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "grader.board.api:from_environment", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"],
        env={**os.environ, "FASTGROUP_DB_URL": db},
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}{API}/board", timeout=2):
                return server, url
        except OSError:
            time.sleep(0.2)
    stop([server])
    raise RuntimeError("the API did not start")


def latency(db: str, runs: int) -> list[tuple[float, str]]:
    with Store.open(db) as store:
        token = store.add_member("latency")
    server, url = start_api(db)
    workers = start_workers(db, 1)
    client = BoardClient(url, token)
    found = []
    try:
        time.sleep(30)  # idle: the worker has started and warmed its engine processes
        for _ in range(runs):
            began = time.perf_counter()
            sid = client.submit("grade", reference(CHAPTER))["id"]
            done = client.wait(sid)
            found.append((time.perf_counter() - began, f"{done['state']} {done['score']}/{done['max_score']}"))
            time.sleep(5)  # the worker's next engine processes are started
    finally:
        stop([*workers, server])
    return found


def rows(db: str):
    with Store.open(db) as store, store.engine.connect() as conn:
        return conn.execute(text("SELECT id, state, worker FROM submissions ORDER BY id")).all()


def retry(db: str) -> float:
    with Store.open(db) as store:
        tokens = [store.add_member(f"retry {time.time_ns()} {i}") for i in range(2)]
        ids = [store.enqueue(t, "grade", reference(TRAINING)).submission_id for t in tokens]
    workers = start_workers(db, 2)
    try:
        while len(busy := [r for r in rows(db) if r.id in ids and r.state == "grading"]) < 2:
            time.sleep(0.2)
        victim = busy[0]
        pid = int(victim.worker.rpartition(":")[2])
        time.sleep(2)
        os.killpg(pid, signal.SIGKILL)  # a power cut: the worker and its engine processes
        next(w for w in workers if w.pid == pid).wait()
        killed = time.perf_counter()
        while next(r for r in rows(db) if r.id == victim.id).state == "grading":
            time.sleep(0.1)
        seconds = time.perf_counter() - killed
        survivor = next(r for r in rows(db) if r.id in ids and r.id != victim.id)
        if survivor.state != "grading":
            print("note: the survivor finished before the retry; this run's figure is not 'while busy'")
    finally:
        stop([w for w in workers if w.poll() is None])
    return seconds


def throughput(db: str, n: int) -> tuple[float, list[float]]:
    with Store.open(db) as store:
        store.set_cooldown(0)
        tokens = [store.add_member(f"t{time.time_ns()} {i}") for i in range(20)]
    server, url = start_api(db)
    files = reference(["mnist_loss", "linear1", "batch_accuracy"])
    took = []

    def send(i: int) -> None:
        began = time.perf_counter()
        answer = httpx.post(f"{url}{API}/submissions", json={"kind": "grade", "files": files},
                            headers={"Authorization": f"Bearer {tokens[i % 20]}"}, timeout=60)
        answer.raise_for_status()
        took.append(time.perf_counter() - began)

    try:
        began = time.perf_counter()
        with ThreadPoolExecutor(20) as pool:
            list(pool.map(send, range(n)))
        wall = time.perf_counter() - began
    finally:
        stop([server])
    with Store.open(db) as store:
        assert store.waiting()["queued"] >= n, "a submission was lost"
    return n / wall, took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--submissions", type=int, default=400)
    parser.add_argument("--pg", default=os.environ.get("FASTGROUP_TEST_PG_URL"))
    parser.add_argument("--only", choices=["latency", "retry", "throughput"])
    args = parser.parse_args()
    stores = []
    with tempfile.TemporaryDirectory() as tmp:
        stores.append(("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", None))
        if args.pg:
            url, drop = pg_scratch(args.pg)
            stores.append(("PostgreSQL", url, drop))
        try:
            for label, db, _ in stores:
                Store.open(db, create=True).close()
                if args.only in (None, "latency"):
                    for seconds, state in latency(db, args.runs):
                        print(f"{label}: upload to verified {seconds:.1f} s ({state})", flush=True)
                if args.only in (None, "throughput"):
                    rate, took = throughput(db, args.submissions)
                    took.sort()
                    print(f"{label}: {args.submissions} submissions over HTTP: {rate:.0f}/s; POST median "
                          f"{statistics.median(took) * 1000:.0f} ms, 95th {took[int(len(took) * 0.95)] * 1000:.0f} ms, "
                          f"max {took[-1] * 1000:.0f} ms", flush=True)
                if args.only in (None, "retry") and label == "PostgreSQL":
                    for _ in range(args.runs):
                        print(f"{label}: dead worker to retry {retry(db):.1f} s", flush=True)
        finally:
            for _, _, drop in stores:
                if drop:
                    drop()
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
