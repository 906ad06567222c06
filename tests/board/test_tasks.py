"""The grading queue on a real PostgreSQL server with real `fastgroup worker` processes (procrastinate).

Small submissions (one stub file: every step is still graded, quickly) keep 40 of them short;
the SIGKILL test uses the solutions, whose grade takes long enough to be caught mid-way.
"""

import signal
import time
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from grader.authoring.exercises import stub_source
from grader.board.store import Store
from grader.board.submit import queue_submission
from grader.engine.checks import step_points
from tests.support.kit import KIT_ROOT
from tests.support.services import pg_url  # noqa: F401
from tests.support.worker import start_worker, stop, wait_until_settled

pytestmark = pytest.mark.service
STUB = {"linear1.py": stub_source("linear1", (KIT_ROOT / "solutions" / "linear1.py").read_text())}  # not exercises/


TRAINING = ("pixel_similarity", "train_epoch", "basic_optim", "train_model", "simple_net")  # no fastai: tens of s


def solutions(steps=TRAINING) -> dict[str, str]:
    """The reference's code for `steps`: a grade that trains for a while, the other steps not sent."""
    return {f"{s}.py": (KIT_ROOT / "solutions" / f"{s}.py").read_text() for s in steps}


def rows(db: str):
    with Store.open(db) as store, store.engine.connect() as conn:
        return conn.execute(text("SELECT id, state, attempts, worker, score FROM submissions ORDER BY id")).all()


def jobs_left(db: str) -> list:
    with Store.open(db) as store, store.engine.connect() as conn:
        return conn.execute(
            text("SELECT id, status FROM procrastinate_jobs WHERE task_name = :task AND status <> 'succeeded'"),
            {"task": "fastgroup.grade"},
        ).all()


def test_two_workers_grade_40_submissions_from_20_members_each_exactly_once(pg_url, tmp_path):  # noqa: F811
    with Store.open(pg_url, create=True) as store:
        tokens = [store.add_member(f"member {i:02d}") for i in range(20)]
    ids = [queue_submission(STUB, "grade", token, pg_url)[1] for _ in range(2) for token in tokens]
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    workers = [start_worker(pg_url, log.open("w")) for log in logs]
    try:
        settled = wait_until_settled(pg_url, ids, limit=900, log=logs[0])
    finally:
        for worker in workers:
            stop(worker)
    assert len(settled) == 40 and {r.state for r in settled} == {"graded"}  # 0 lost
    found = rows(pg_url)
    assert [r.attempts for r in found] == [1] * 40  # each graded exactly once
    assert len({r.worker for r in found}) == 2  # both workers took a share
    assert jobs_left(pg_url) == []


def test_a_killed_workers_job_is_requeued_within_15_s_while_the_other_worker_is_busy(pg_url, tmp_path):  # noqa: F811
    """Both workers grade; one is SIGKILLed (a power cut). The survivor is busy, yet the dead one's
    submission is back in the queue within 15 s, then graded by the survivor, once."""
    with Store.open(pg_url, create=True) as store:
        tokens = [store.add_member(name) for name in ("ada", "bo")]
    # each grade's first step waits 25 s as it loads (no CPU: within its limit), so the survivor is
    # still busy when its partner's job comes back, however fast the machine
    slow = {**solutions(), "pixel_similarity.py": "import time\ntime.sleep(25)\n" + solutions()["pixel_similarity.py"]}
    ids = [queue_submission(slow, "grade", token, pg_url)[1] for token in tokens]
    logs = {name: tmp_path / f"{name}.log" for name in ("a", "b")}
    workers = {name: start_worker(pg_url, log.open("w")) for name, log in logs.items()}
    try:
        deadline = time.monotonic() + 300
        while len(busy := [r for r in rows(pg_url) if r.state == "grading"]) < 2:
            assert time.monotonic() < deadline, logs["a"].read_text() + logs["b"].read_text()
            time.sleep(0.2)
        victim_row = busy[0]
        pid = int(victim_row.worker.rpartition(":")[2])
        victim = next(name for name, w in workers.items() if w.pid == pid)
        time.sleep(2)  # mid-grade
        stop(workers[victim], signal.SIGKILL)  # and all its engine processes
        killed_at = time.monotonic()
        while next(r for r in rows(pg_url) if r.id == victim_row.id).state == "grading":
            assert time.monotonic() - killed_at < 15, "not requeued within 15 s"
            time.sleep(0.2)
        requeued_after = time.monotonic() - killed_at
        survivor = next(r for r in rows(pg_url) if r.id != victim_row.id)
        assert survivor.state == "grading"  # still busy when its partner's job came back
        settled = wait_until_settled(pg_url, ids, limit=600, log=logs[victim])
    finally:
        for worker in workers.values():
            stop(worker)
    print(f"requeued {requeued_after:.1f} s after the kill")
    assert [r.state for r in settled] == ["graded", "graded"]
    done = {r.id: r for r in rows(pg_url)}
    assert done[victim_row.id].attempts == 2 and done[victim_row.id].score == sum(step_points(s) for s in TRAINING)
    assert done[victim_row.id].worker.rpartition(":")[2] != str(pid)  # finished by the survivor
    assert jobs_left(pg_url) == []


def test_a_submission_whose_job_was_never_deferred_is_not_lost(pg_url, tmp_path):  # noqa: F811
    """The submitting process died between its commit and the defer: the periodic task finds it
    (after tasks.ORPHAN_S)."""
    from grader.board import tasks

    with Store.open(pg_url, create=True) as store:
        token = store.add_member("ada")
        tasks.install(store)
        orphan = store.enqueue(token, "grade", STUB).submission_id  # committed, never deferred
    log = tmp_path / "a.log"
    worker = start_worker(pg_url, log.open("w"))
    try:
        settled = wait_until_settled(pg_url, [orphan], limit=300, log=log)
    finally:
        stop(worker)
    assert settled[0].state == "graded"


def test_a_dropped_database_connection_is_said_in_one_line_once_it_is_back(pg_url, tmp_path):  # noqa: F811
    """The server closes every connection of an idle worker (as a restart does, without restarting a
    server other tests share): procrastinate reconnects quietly, the worker says it in one line, and
    grades what comes next."""
    name = f"fgw_{uuid.uuid4().hex[:8]}"  # the worker's connections, and only its, carry this name
    url = make_url(pg_url).update_query_dict({"application_name": name}).render_as_string(hide_password=False)
    with Store.open(url, create=True) as store:
        token = store.add_member("ada")
    admin = create_engine(pg_url)
    log = tmp_path / "worker.log"
    worker = start_worker(url, log.open("w"))
    try:
        first = queue_submission(STUB, "grade", token, url)[1]
        assert wait_until_settled(url, [first], limit=600, log=log)[0].state == "graded"  # the worker is up
        with admin.connect() as conn:
            cut = conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE application_name = :name"), {"name": name}).all()
        assert len(cut) >= 3  # procrastinate's listener and pool, the upkeep's, the link
        deadline = time.monotonic() + 120
        while "database" not in log.read_text():
            assert time.monotonic() < deadline, "nothing said about the closed connections: " + log.read_text()
            time.sleep(0.5)
        later = queue_submission(STUB, "grade", token, url)[1]
        settled = wait_until_settled(url, [later], limit=600, log=log)  # after the cut
        assert worker.poll() is None, log.read_text()
    finally:
        stop(worker)
        admin.dispose()
    assert settled[0].state == "graded"
    said = [line for line in log.read_text().splitlines() if "database" in line]
    assert len(said) == 1, log.read_text()
    assert "worker: the database closed this worker's connection" in said[0] and "it is back" in said[0]
