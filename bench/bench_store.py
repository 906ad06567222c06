"""Benchmark the leaderboard store on SQLite and PostgreSQL; prints a markdown table.

    python bench/bench_store.py [--members 1000] [--per-member 20] [--pg URL]

1. Board refresh: a store filled with MEMBERS x PER_MEMBER submissions (3 in 4 of them grade
   results over every step, the rest quiz results), then what one refresh of the page asks
   for: leaderboard() (the table), points_over_time(), step_completion(), quiz_scores(),
   waiting() and self_reported(), and the table as a DataFrame. Median of 5 runs; the goal is under 1 s.
2. Submission throughput: PROCESSES processes queueing EACH code submissions (every step's
   file) at once through Store.enqueue; wall time from the common start to the last commit.

PostgreSQL comes from --pg or FASTGROUP_TEST_PG_URL (source .ci/start-postgres.sh) and is
used in a scratch schema that is dropped afterwards; without it only SQLite is measured.
"""

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from grader.board.payload import parse_payload
from grader.board.schema import members, submission_steps, submissions
from grader.board.store import Store
from grader.board.writes import token_hash
from grader.core.steps import STEPS


def grade_doc(passed: int, accuracy: float) -> dict:
    """A grade result over every step, the first `passed` steps passing: 3 checks a step."""
    tests = []
    for i, step in enumerate(STEPS):
        ok = i < passed
        for n in (1, 2, 3):
            tests.append(
                {
                    "name": f"{step.id}: check {n} of {step.title}",
                    "number": f"{step.id}.{n}",
                    "score": 2.0 if ok else 0.0,
                    "max_score": 2.0,
                    "status": "passed" if ok else "failed",
                    "output": "" if ok else "AssertionError: expected 0.5 got 0.7 (shape (64, 1))",
                    "tags": [step.id],
                }
            )
    accuracies = {s.id: accuracy for s in STEPS[:passed] if s.trains}
    return {
        "score": sum(t["score"] for t in tests),
        "max_score": 6.0 * len(STEPS),
        "execution_time": 40.0,
        "tests": tests,
        "extra_data": {"kind": "grade", "kit_version": "0.1.0", "accuracies": accuracies},
    }


def quiz_doc(correct: int) -> dict:
    tests = [
        {
            "name": f"Question {n}",
            "number": f"quiz.{n}",
            "score": float(n <= correct),
            "max_score": 1.0,
            "status": "passed" if n <= correct else "failed",
            "tags": ["quiz"],
        }
        for n in range(1, 38)
    ]
    return {"score": float(correct), "max_score": 37.0, "tests": tests, "extra_data": {"kind": "quiz"}}


def fill(store: Store, n_members: int, per_member: int) -> None:
    """Bulk-load the store (one transaction) with payloads validated like real submissions."""
    grades = [parse_payload(json.dumps(grade_doc(p, 0.80 + p / 100))) for p in range(len(STEPS) + 1)]
    quizzes = [parse_payload(json.dumps(quiz_doc(c))) for c in range(38)]
    start = datetime.now(UTC) - timedelta(days=30)
    with store.engine.begin() as conn:
        conn.execute(
            insert(members),
            [
                {"id": m + 1, "name": f"member {m:04d}", "token_sha256": token_hash(f"t{m}"), "created_at": start}
                for m in range(n_members)
            ],
        )
        rows, step_rows, sid = [], [], 0
        for m in range(n_members):
            for k in range(per_member):
                sid += 1
                is_quiz = k % 4 == 3
                payload = quizzes[(m + k) % 38] if is_quiz else grades[(m + k) % len(grades)]
                rows.append(
                    {
                        "id": sid,
                        "member_id": m + 1,
                        "kind": payload.kind,
                        "origin": "verified",
                        "state": "graded",
                        "attempts": 1,
                        "payload": payload.text,
                        "score": payload.score,
                        "max_score": payload.max_score,
                        "kit_version": payload.kit_version,
                        "created_at": start + timedelta(minutes=sid),
                        "graded_at": start + timedelta(minutes=sid, seconds=30),
                    }
                )
                step_rows += [
                    {
                        "submission_id": sid,
                        "step_id": s.step_id,
                        "member_id": m + 1,
                        "completed": s.completed,
                        "accuracy": s.accuracy,
                    }
                    for s in payload.steps
                ]
            if len(rows) >= 2000:
                conn.execute(insert(submissions), rows)
                conn.execute(insert(submission_steps), step_rows)
                rows, step_rows = [], []
        if rows:
            conn.execute(insert(submissions), rows)
            conn.execute(insert(submission_steps), step_rows)
        if conn.dialect.name == "postgresql":  # ids were given explicitly: move the sequences on
            for table in ("members", "submissions"):
                conn.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))
            conn.execute(text("ANALYZE"))


def refresh(store: Store) -> int:
    """What one refresh of the leaderboard page reads, and the table it draws."""
    rows = store.leaderboard()
    store.points_over_time()
    store.step_completion()
    store.quiz_scores()
    store.waiting()
    store.self_reported()
    frame = pd.DataFrame([r.__dict__ for r in rows])
    return len(frame)


def timed(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def submit_worker(db_url: str, token: str, count: int, start_at: float) -> float:
    """One member's process: queue `count` code submissions as fast as it can; returns its end time."""
    files = {f"{s.id}.py": f"# {s.title}\n" + "x = 1\n" * 100 for s in STEPS}
    with Store.open(db_url) as store:
        time.sleep(max(0.0, start_at - time.time()))
        for _ in range(count):
            store.enqueue(token, "grade", files)
    return time.time()


def throughput(db_url: str, processes: int, each: int) -> tuple[float, int]:
    with Store.open(db_url) as store:
        tokens = [store.add_member(f"writer {i}") for i in range(processes)]
        before = store.counts()["submissions"]
    start_at = time.time() + 5.0
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        jobs = [pool.apply_async(submit_worker, (db_url, t, each, start_at)) for t in tokens]
        ends = [job.get(timeout=600) for job in jobs]
    with Store.open(db_url) as store:
        stored = store.counts()["submissions"] - before
    return max(ends) - start_at, stored


def measure(label: str, db_url: str, args) -> dict:
    with Store.open(db_url, create=True) as store:
        began = time.perf_counter()
        fill(store, args.members, args.per_member)
        fill_s = time.perf_counter() - began
        board_s = timed(store.leaderboard)
        refresh_s = timed(lambda: refresh(store))
        n_rows = len(store.leaderboard())
    wall, stored = throughput(db_url, args.processes, args.each)
    return {
        "store": label,
        "rows": n_rows,
        "fill_s": fill_s,
        "board_s": board_s,
        "refresh_s": refresh_s,
        "wall": wall,
        "stored": stored,
        "expected": args.processes * args.each,
    }


def pg_scratch(base: str):
    """A scratch schema on the PostgreSQL server: (url, drop function)."""
    admin = create_engine(base)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})

    def drop():
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return url.render_as_string(hide_password=False), drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--per-member", type=int, default=20)
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--each", type=int, default=50)
    parser.add_argument("--pg", default=os.environ.get("FASTGROUP_TEST_PG_URL"))
    args = parser.parse_args()

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(measure("SQLite (WAL)", f"sqlite:///{Path(tmp) / 'bench.db'}", args))
    if args.pg:
        url, drop = pg_scratch(args.pg)
        try:
            results.append(measure("PostgreSQL", url, args))
        finally:
            drop()
    else:
        print("(no PostgreSQL: pass --pg URL or set FASTGROUP_TEST_PG_URL)", file=sys.stderr)

    n = args.members * args.per_member
    print(f"{args.members:,} members x {args.per_member} submissions ({n:,}); "
          f"{args.processes} processes x {args.each} submissions; {os.cpu_count()} CPUs\n")  # fmt: skip
    print("| store | fill (one-off) | leaderboard() | page refresh | submit wall | submissions/s | stored |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['store']} | {r['fill_s']:.1f} s | {r['board_s'] * 1000:.0f} ms "
            f"| {r['refresh_s'] * 1000:.0f} ms | {r['wall']:.2f} s | {r['stored'] / r['wall']:.0f} "
            f"| {r['stored']}/{r['expected']} |"
        )
    slow = [r["store"] for r in results if r["refresh_s"] >= 1.0 or r["stored"] != r["expected"]]
    if slow:
        print(f"\nGOAL MISSED (refresh >= 1 s or submissions lost): {', '.join(slow)}")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
