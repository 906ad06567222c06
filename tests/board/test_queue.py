"""The grading queue's rules, on a real SQLite file and a real PostgreSQL server."""

import socket

import pytest

from grader.board.store import Store
from grader.core.results import Results
from tests.support.services import db_url, grade_results  # noqa: F401

CODE = {"mnist_loss.py": "def mnist_loss(p, t):\n    raise NotImplementedError\n"}


@pytest.fixture
def store(db_url):  # noqa: F811
    with Store.open(db_url) as opened:
        yield opened


def result() -> Results:
    """What a worker hands the store: the kit's Results, a typed value (no JSON to read back)."""
    return Results.model_validate(grade_results(passed=["mnist_loss"]))


def test_one_submission_in_flight_per_member_later_ones_wait(store):
    ada, bob = store.add_member("ada"), store.add_member("bob")
    first = store.enqueue(ada, "grade", CODE).submission_id
    second = store.enqueue(ada, "grade", CODE).submission_id
    third = store.enqueue(bob, "grade", CODE).submission_id
    a = store.claim_next("w:1")
    assert a.submission_id == first and a.files == CODE and a.attempt == 1
    assert store.claim_next("w:2").submission_id == third  # not ada's second: ada has one grading
    assert store.claim_next("w:3") is None
    assert store.finish(a, result())
    assert store.claim_next("w:1").submission_id == second  # waited, not lost
    assert store.waiting() == {"queued": 0, "grading": 2}


def test_a_submission_is_finished_at_most_once(store):
    ada = store.add_member("ada")
    sid = store.enqueue(ada, "grade", CODE).submission_id
    presumed_dead = store.start(sid, "w:1")
    retried = store.start(sid, "w:2")  # the queue gave it to another worker
    assert retried.attempt == 2
    assert not store.finish(presumed_dead, result())  # the first worker came back: nothing changes
    assert store.finish(retried, result())
    assert not store.finish(retried, result())
    assert not store.fail(retried, "late")
    assert store.start(sid, "w:3") is None  # a finished submission is never graded again
    row, payload = store.submission(sid)
    assert (row.state, row.origin, row.score) == ("graded", "verified", 8.0) and payload
    assert store.counts()["submission_steps"] == 1


def test_a_dead_local_workers_submission_goes_back_to_the_queue(store):
    ada = store.add_member("ada")
    sid = store.enqueue(ada, "grade", CODE).submission_id
    claim = store.claim_next(f"{socket.gethostname()}:999999999")  # no such process
    assert store.requeue_dead() == 1
    again = store.claim_next()
    assert again.submission_id == sid and again.attempt == claim.attempt + 1


def test_a_failure_keeps_its_reason(store):
    ada = store.add_member("ada")
    sid = store.enqueue(ada, "quiz", {"answers.toml": "not toml ["}).submission_id
    claim = store.claim_next()
    assert store.fail(claim, "answers.toml: not valid TOML (line 1)\nsecond line dropped")
    row, payload = store.submission(sid)
    assert (row.state, row.reason, payload) == ("failed", "answers.toml: not valid TOML (line 1)", None)
    assert store.leaderboard()[0].points is None
