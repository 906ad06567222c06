"""Faults the board's queue must ride out, on a real PostgreSQL: a restart mid-grade, a grade
left without a job, a submission whose grading never finishes. Nothing is lost or duplicated, and
every submission ends graded or failed with a reason."""

import asyncio
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from grader.board import tasks
from grader.board.queue import MAX_ATTEMPTS
from grader.board.store import Store
from grader.board.submit import queue_submission
from grader.engine.checks import step_points
from tests.board.test_tasks import STUB, TRAINING, jobs_left, rows, solutions
from tests.support.kit import need_service
from tests.support.services import pg_url  # noqa: F401
from tests.support.worker import start_worker, stop, wait_until_settled

pytestmark = pytest.mark.service


def postgres_cluster() -> list[str]:
    """`pg_ctlcluster VERSION main` for the server the tests use (Debian's; CI runs as root)."""
    if not shutil.which("pg_ctlcluster") or os.geteuid() != 0:
        need_service("a PostgreSQL server this test may restart", "pg_ctlcluster as root (Debian's postgresql)")
    version = sorted(Path("/usr/lib/postgresql").iterdir(), key=lambda p: float(p.name))[-1].name
    return ["pg_ctlcluster", version, "main"]


def test_a_database_restart_mid_grade_is_ridden_out_and_the_grade_stored_once(pg_url, tmp_path):  # noqa: F811
    cluster = postgres_cluster()
    with Store.open(pg_url, create=True) as store:
        ada, bo = store.add_member("ada"), store.add_member("bo")
    first = queue_submission(solutions(), "grade", ada, pg_url)[1]
    log = tmp_path / "worker.log"
    worker = start_worker(pg_url, log.open("w"))
    try:
        deadline = time.monotonic() + 300
        while not [r for r in rows(pg_url) if r.id == first and r.state == "grading"]:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        subprocess.run([*cluster, "stop", "-m", "fast"], check=True)
        try:
            time.sleep(25)  # the grade goes on and ends; the worker's store and queue find the database gone
        finally:
            subprocess.run([*cluster, "start"], check=True)
        later = queue_submission(STUB, "grade", bo, pg_url)[1]
        settled = wait_until_settled(pg_url, [first, later], limit=600, log=log)
        assert worker.poll() is None, "the worker exited: " + log.read_text()
    finally:
        stop(worker)
    assert [r.state for r in settled] == ["graded", "graded"], [r.reason for r in settled]
    done = {r.id: r for r in rows(pg_url)}
    assert done[first].score == sum(step_points(s) for s in TRAINING)
    assert [done[first].attempts, done[later].attempts] == [1, 1]  # the restart cost no second grade
    with Store.open(pg_url) as store:
        assert store.counts()["submission_steps"] == 2 * 13  # each grade's core steps recorded once
    said = log.read_text()
    assert "database" in said and ("went away" in said or "is away" in said), said
    assert jobs_left(pg_url) == []


def test_a_grade_left_grading_with_no_job_goes_back_to_the_queue(pg_url):  # noqa: F811
    """Its job failed (or the database went away under it): the upkeep requeues it with a new job."""
    with Store.open(pg_url, create=True) as store:
        token = store.add_member("ada")
        tasks.install(store)
        lost = store.enqueue(token, "grade", STUB).submission_id
        assert store.start(lost, worker="gone:1") is not None  # grading, and no job anywhere
        store.write(lambda conn: conn.execute(
            text("UPDATE submissions SET started_at = started_at - interval '1 minute'")))

        async def one_round():
            app = tasks.make_app(pg_url)
            async with app.open_async():
                return await tasks.upkeep(app, store)

        assert asyncio.run(one_round()) == 1
        row = store.submission(lost)[0]
        assert (row.state, row.attempts) == ("queued", 1)
    assert [status for _, status in jobs_left(pg_url)] == ["todo"]


def test_a_submission_whose_grading_keeps_stopping_fails_with_the_reason(pg_url):  # noqa: F811
    with Store.open(pg_url, create=True) as store:
        token = store.add_member("ada")
        sid = store.enqueue(token, "grade", STUB).submission_id
        for attempt in range(MAX_ATTEMPTS):
            assert store.start(sid, worker=f"dies:{attempt}") is not None
        assert store.start(sid, worker="next:1") is None
        row = store.submission(sid)[0]
    assert row.state == "failed" and f"grading stopped {MAX_ATTEMPTS} times" in row.reason
