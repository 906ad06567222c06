"""Running `fastgroup worker` for real, and reading what it did to the store."""

import os
import signal
import subprocess
import sys
import time

import pytest

from grader.board.store import Store
from tests.support.reaper import die_with_pytest

GRADE_LIMIT_S = 300


def start_worker(db: str, log) -> subprocess.Popen:
    """`fastgroup worker` in its own process group (its engine processes die with it), SIGINT as
    in a terminal, killed if pytest dies."""
    return subprocess.Popen(
        [sys.executable, "-m", "grader.cli", "worker", "--db", db, "--device", "cpu"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=os.environ,
        preexec_fn=die_with_pytest,
    )


def stop(worker: subprocess.Popen, sig=signal.SIGTERM) -> None:
    try:
        os.killpg(worker.pid, sig)
        worker.wait(timeout=30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)


def wait_until_settled(db: str, ids, limit=GRADE_LIMIT_S, log=None):
    """The submissions' rows once none of them is queued or grading (the test fails after `limit`)."""
    deadline = time.monotonic() + limit
    with Store.open(db) as store:
        while True:
            rows = [store.submission(i)[0] for i in ids]
            if all(r.state in ("graded", "failed") for r in rows):
                return rows
            if time.monotonic() > deadline:
                pytest.fail(f"not graded in {limit} s: {[r.state for r in rows]}\n{log.read_text() if log else ''}")
            time.sleep(0.5)


def submitted_id(result) -> int:
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split("as submission #")[1].split(":")[0])


def member_rows(db: str) -> list[tuple]:
    from sqlalchemy import select

    from grader.board.schema import members

    with Store.open(db) as store, store.engine.connect() as conn:
        return sorted(tuple(row) for row in conn.execute(select(members.c.name, members.c.token_sha256)))
