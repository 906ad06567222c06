"""Helpers for the store, submit and leaderboard tests: real databases, results files, Chromium.

Test modules import the fixtures they use from here (`from services import db_url`).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.support.kit import need_service
from tests.support.reaper import die_with_pytest


def grade_results(passed=("mnist_loss",), failed=(), accuracies=None, **extra) -> dict:
    """A grade results file as `fastgroup grade` writes it: every check of each step named, at its points."""
    from grader.board.payload import kit_checks
    from grader.core.steps import BY_ID
    from grader.engine.checks import CORE_POINTS

    tests = []
    for step, status in [(s, "passed") for s in passed] + [(s, "failed") for s in failed]:
        checks = [(n, p) for n, (owner, p) in kit_checks().items() if owner == step] or [(f"{step}.1", 2.0)]
        for number, points in checks:
            tests.append(
                {
                    "name": f"{step}: check {number}",
                    "number": number,
                    "score": points if status == "passed" else 0.0,
                    "max_score": points,
                    "status": status,
                    "output": "" if status == "passed" else "expected 0.5, got 0.7",
                    "tags": [step],
                }
            )
    doc = {
        "score": sum(t["score"] for t in tests if not getattr(BY_ID.get(t["tags"][0]), "bonus", False)),
        "max_score": CORE_POINTS,
        "execution_time": 1.5,
        "tests": tests,
        "extra_data": {
            "kind": "grade",
            "kit_version": "0.1.0",
            "device": "cpu",
            "data": "embedded",
            "seed": 0,
            "accuracies": dict(accuracies or {}),
        },
    }
    doc.update(extra)
    return doc


def graded(store, token: str, raw: str) -> int:
    """Store `raw` as the verified result of a submission by the token's member, through the queue
    exactly as a worker does (enqueue, start, finish); returns the submission's id."""
    kind = json.loads(raw)["extra_data"]["kind"]
    receipt = store.enqueue(token, kind, {"answers.toml" if kind == "quiz" else "mnist_loss.py": "# sent"})
    claim = store.start(receipt.submission_id, worker="tests:0")
    assert store.finish(claim, raw)
    return receipt.submission_id


def step_points(*step_ids: str) -> float:
    """The points of these steps (what grade_results gives them when they pass)."""
    from grader.engine.checks import step_points as points

    return float(sum(points(s) for s in step_ids))


def quiz_results(correct: int = 30) -> dict:
    """A quiz results file: 37 questions, the first `correct` right."""
    tests = [
        {
            "name": f"Question {n}",
            "number": f"quiz.{n}",
            "score": 1.0 if n <= correct else 0.0,
            "max_score": 1.0,
            "status": "passed" if n <= correct else "failed",
            "output": "",
            "tags": ["quiz"],
        }
        for n in range(1, 38)
    ]
    return {
        "score": float(correct),
        "max_score": 37.0,
        "execution_time": 0.0,
        "tests": tests,
        "extra_data": {"kind": "quiz", "kit_version": "0.1.0"},
    }


def write_json(path: Path, doc: dict) -> Path:
    path.write_text(json.dumps(doc))
    return path


def fresh_pg_url():
    """A PostgreSQL URL whose search_path is a brand-new schema; yields it, then drops it."""
    base = os.environ.get("FASTGROUP_TEST_PG_URL")
    if not base:
        need_service("PostgreSQL", "FASTGROUP_TEST_PG_URL is unset (source .ci/start-postgres.sh)")
    admin = create_engine(base, connect_args={"connect_timeout": 5}, pool_pre_ping=True)  # a test may restart it
    schema = f"fg_{uuid.uuid4().hex[:12]}"
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as err:  # noqa: BLE001 - any failure to reach it means "no service"
        admin.dispose()
        need_service("PostgreSQL", f"cannot reach {make_url(base).host}: {err}".splitlines()[0])
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def pg_url():
    yield from fresh_pg_url()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.service)])
def db_url(request, tmp_path):
    """A new, empty store of each kind (as `fastgroup members add` creates it): a SQLite file, a PostgreSQL schema."""
    from grader.board.store import Store

    urls = iter([f"sqlite:///{tmp_path / 'board.db'}"]) if request.param == "sqlite" else fresh_pg_url()
    for url in urls:
        Store.open(url, create=True).close()
        yield url


def chromium_path() -> str:
    """Debian's Chromium (never a downloaded one): FASTGROUP_CHROMIUM or /usr/bin/chromium."""
    path = os.environ.get("FASTGROUP_CHROMIUM") or "/usr/bin/chromium"
    if not (Path(path).is_file() and os.access(path, os.X_OK)) and not shutil.which(path):
        need_service("Chromium", f"{path} not found (apt-get install chromium)")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def submit_many(db_url: str, token: str, count: int, start_at: float) -> int:
    """Concurrency worker (runs in its own process): queue `count` submissions, return how many."""
    from grader.board.store import Store

    files = {"mnist_loss.py": "def mnist_loss(p, t): ...\n"}
    with Store.open(db_url) as store:
        time.sleep(max(0.0, start_at - time.time()))  # all workers start together
        for _ in range(count):
            store.enqueue(token, "grade", files)
    return count


def start_leaderboard(tmp_path: Path, db_url: str) -> tuple[subprocess.Popen, str, str]:
    """`fastgroup leaderboard` on free ports, in its own process group; (process, page url, API url)
    once both answer.

    The store is created first, as the organiser's first `fastgroup members add` does."""
    from grader.board.store import Store

    Store.open(db_url, create=True).close()
    port, api_port = free_port(), free_port()
    log = tmp_path / "streamlit.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "grader.cli", "leaderboard", "--port", str(port), "--api-port", str(api_port)],
        env={**os.environ, "FASTGROUP_DB_URL": db_url},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        start_new_session=True,
        preexec_fn=die_with_pytest,
    )
    url, api = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{api_port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with (urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as page,
                  urllib.request.urlopen(f"{api}/api/v1/board", timeout=2) as board):
                if page.status == 200 and board.status == 200:
                    return server, url, api
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            stop_group(server)
            pytest.fail(f"the page or the API did not start: {log.read_text()}")
        time.sleep(0.3)


def stop_group(server: subprocess.Popen) -> None:
    """Stop a process started with start_new_session, and everything in its group."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
