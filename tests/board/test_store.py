"""The store against a real SQLite file and a real PostgreSQL server (each test runs on both)."""

import json
import multiprocessing
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, text

from grader.board.payload import MAX_PAYLOAD_BYTES
from grader.board.schema import SCHEMA_VERSION, members, schema_version
from grader.board.store import Store
from grader.board.writes import token_hash
from grader.core.errors import KitError
from grader.core.steps import ALL_IDS, STEP_IDS
from grader.engine.checks import CORE_POINTS
from tests.support.services import db_url, grade_results, graded, quiz_results, step_points, submit_many  # noqa: F401


@pytest.fixture
def store(db_url):  # noqa: F811
    with Store.open(db_url, create=True) as opened:
        yield opened


NOW = datetime.now(UTC)


def dump(doc) -> str:
    return json.dumps(doc)


def test_schema_created_once_with_its_version(db_url):  # noqa: F811
    with Store.open(db_url) as first:
        first.add_member("ada")
    with Store.open(db_url) as again:  # reopening keeps the data and adds no version row
        assert again.member_names() == ["ada"]
        with again.engine.connect() as conn:
            assert conn.execute(select(schema_version.c.version)).scalars().all() == [SCHEMA_VERSION]


def test_newer_schema_is_refused(db_url):  # noqa: F811
    with Store.open(db_url) as store, store.engine.begin() as conn:
        conn.execute(insert(schema_version).values(version=SCHEMA_VERSION + 1, applied_at=NOW))
    with pytest.raises(KitError, match="newer than this kit"):
        Store.open(db_url)


def test_sqlite_uses_wal(tmp_path):
    with Store.open(f"sqlite:///{tmp_path / 'g.db'}", create=True) as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_default_location_is_the_kit_home(kit_home, monkeypatch):
    with Store.open(None, create=True) as store:
        store.add_member("ada")
    assert (kit_home / "fastgroup.db").is_file()
    monkeypatch.setenv("FASTGROUP_DB_URL", f"sqlite:///{kit_home / 'other.db'}")
    with Store.open(None, create=True) as store:
        assert store.member_names() == []


def test_only_the_token_hash_is_stored(store):
    token = store.add_member("ada")
    assert len(token) >= 40
    with store.engine.connect() as conn:
        row = conn.execute(select(members)).one()
        everything = json.dumps([str(v) for v in row])
    assert token not in everything
    assert row.token_sha256 == token_hash(token)


def test_members_add_list_remove(store):
    token = store.add_member("grace")
    store.add_member("ada")
    assert store.member_names() == ["ada", "grace"]
    with pytest.raises(KitError, match="already exists"):
        store.add_member("ada")
    graded(store, token, dump(grade_results()))
    store.remove_member("grace")
    assert store.member_names() == ["ada"]
    with pytest.raises(KitError, match="token"):
        store.enqueue(token, "grade", {"mnist_loss.py": ""})  # a removed member's token stops working
    with pytest.raises(KitError, match="no member named 'nobody'"):
        store.remove_member("nobody")
    new_token = store.add_member("grace")  # back, with a new token and her history kept
    assert new_token != token
    assert [r.submissions for r in store.leaderboard() if r.name == "grace"] == [1]


@pytest.mark.parametrize("name", ["", "   ", "a\nb", "x" * 65, "nul\x00byte"])
def test_bad_names_refused(store, name):
    with pytest.raises(KitError, match="printable"):
        store.add_member(name)
    assert store.counts()["members"] == 0


def test_leaderboard_best_not_latest(store):
    ada, grace = store.add_member("ada"), store.add_member("grace")
    graded(store, ada, dump(grade_results(passed=STEP_IDS[:4], accuracies={"train_epoch": 0.9})))
    graded(store, ada, dump(grade_results(passed=STEP_IDS[:2], failed=STEP_IDS[2:6])))
    graded(store, ada, dump(quiz_results(20)))
    graded(store, ada, dump(quiz_results(33)))
    graded(store, ada, dump(quiz_results(25)))
    graded(store, grace, dump(grade_results(passed=["resnet18"], accuracies={"resnet18": 0.99})))

    assert store.counts()["submissions"] == 6  # append-only: every submission kept
    rows = {r.name: r for r in store.leaderboard()}
    assert [r.name for r in store.leaderboard()] == ["ada", "grace"]
    ada_row = rows["ada"]
    assert (ada_row.points, ada_row.max_points) == (step_points(*STEP_IDS[:4]), CORE_POINTS)
    assert ada_row.steps_completed == 4 and ada_row.steps_total == len(STEP_IDS)
    assert ada_row.best_accuracy == 0.9 and ada_row.accuracies == {"train_epoch": 0.9}
    assert ada_row.quiz == 33.0 and ada_row.submissions == 5
    assert ada_row.last_activity is not None and ada_row.last_activity.tzinfo is not None
    assert (rows["grace"].points, rows["grace"].quiz, rows["grace"].best_accuracy) == (
        step_points("resnet18"),
        None,
        0.99,
    )


def test_ties_share_a_rank_and_the_next_rank_counts_them(store):
    tokens = {n: store.add_member(n) for n in ("ana", "bo", "cy", "dee", "eve")}
    for name in ("ana", "bo", "cy"):
        graded(store, tokens[name], dump(grade_results(passed=STEP_IDS)))
    graded(store, tokens["dee"], dump(grade_results(passed=STEP_IDS[:3])))
    graded(store, tokens["dee"], dump(quiz_results(37)))  # the quiz does not break a tie on points
    assert [(r.name, r.rank) for r in store.leaderboard()] == [
        ("ana", 1), ("bo", 1), ("cy", 1), ("dee", 4), ("eve", 5)]


def test_the_queue_lists_who_waits_since_when_and_on_which_worker(store):
    ada, bo = store.add_member("ada"), store.add_member("bo")
    first = store.enqueue(ada, "grade", {"linear1.py": "x = 1"}).submission_id
    store.enqueue(ada, "grade", {"linear1.py": "x = 2"})
    store.enqueue(bo, "quiz", {"answers.toml": ""})
    store.start(first, worker="box:12")
    rows = store.queue()
    assert [(r.member, r.kind, r.state, r.worker, r.attempts) for r in rows] == [
        ("ada", "grade", "grading", "box:12", 1),
        ("ada", "grade", "queued", None, 0),
        ("bo", "quiz", "queued", None, 0),
    ]
    assert rows[0].started_at is not None and rows[1].started_at is None
    assert all(r.created_at.tzinfo is not None for r in rows)


def test_charts_and_member_detail(store):
    ada, grace = store.add_member("ada"), store.add_member("grace")
    store.add_member("idle")
    graded(store, ada, dump(grade_results(passed=["pixel_similarity"], failed=["linear1"])))
    graded(store, ada, dump(grade_results(passed=["pixel_similarity", "linear1", "mnist_loss"])))
    graded(store, ada, dump(grade_results(passed=["init_params"])))
    graded(store, grace, dump(grade_results(passed=["pixel_similarity"])))
    graded(store, grace, dump(quiz_results(37)))
    graded(store, ada, dump(quiz_results(10)))

    completion = dict(store.step_completion())
    assert list(completion) == list(ALL_IDS)  # bonus steps show where the strongest are
    assert completion["pixel_similarity"] == 2 and completion["linear1"] == 1
    assert completion["resnet18"] == 0
    assert sorted(store.quiz_scores()) == [10.0, 37.0]
    ada_points = [p for name, _, p in store.points_over_time() if name == "ada"]
    three = step_points("pixel_similarity", "linear1", "mnist_loss")
    assert ada_points == [step_points("pixel_similarity"), three, three]  # best so far

    detail = store.member_detail("ada")
    status = {s.step_id: s.status for s in detail.steps}
    assert status["linear1"] == "completed" and status["init_params"] == "completed"
    assert status["calc_grad"] == "not started"
    assert [h.kind for h in detail.history] == ["quiz", "grade", "grade", "grade"]
    assert json.loads(detail.latest_grade_payload)["tests"][0]["tags"] == ["init_params"]
    graded(store, ada, dump(grade_results(passed=[], failed=["calc_grad"])))
    assert {s.step_id: s.status for s in store.member_detail("ada").steps}["calc_grad"] == ("attempted")
    with pytest.raises(KitError):
        store.member_detail("nobody")


# -- adversarial: each refused, nothing written --------------------------------------------


def refused(store, token, raw, match):
    before = store.counts()
    with pytest.raises(KitError, match=match) as info:
        store.submit(token, raw)
    assert "\n" not in str(info.value)
    assert store.counts() == before


def test_wrong_and_missing_tokens_refused(store):
    store.add_member("ada")
    for token in ["", "not-a-token", token_hash("x"), "' OR '1'='1"]:
        refused(store, token, dump(grade_results()), "token")


def test_a_cannot_write_as_b(store):
    ada, grace = store.add_member("ada"), store.add_member("grace")
    for doc in [
        grade_results(name="grace"),
        grade_results(member="grace"),
        {**grade_results(), "extra_data": {**grade_results()["extra_data"], "member": "grace"}},
        {**grade_results(), "extra_data": {**grade_results()["extra_data"], "token": grace}},
    ]:
        refused(store, ada, dump(doc), "taken from the token")
    graded(store, ada, dump(grade_results()))
    rows = {r.name: r for r in store.leaderboard()}
    assert rows["ada"].submissions == 1 and rows["grace"].submissions == 0


def test_sql_and_html_are_kept_as_plain_data(store):
    evil = "Robert'); DROP TABLE members;--"
    html = "<img src=x onerror=alert(1)>"
    token = store.add_member(evil)
    other = store.add_member(html)
    doc = grade_results(failed=["linear1"])
    doc["tests"][-1]["output"] = "'; DELETE FROM submissions; -- <script>alert(1)</script>"
    graded(store, token, dump(doc))
    graded(store, other, dump(grade_results()))
    assert store.member_names() == sorted([evil, html])
    detail = store.member_detail(evil)
    assert "<script>alert(1)</script>" in detail.latest_grade_payload
    assert store.counts()["submissions"] == 2


def test_oversized_payload_refused_before_parsing(store):
    token = store.add_member("ada")
    doc = grade_results()
    doc["tests"][0]["output"] = "x" * 19_000
    big = dump(doc)
    big = big[:-1] + ", " + ", ".join(f'"pad{i}": "{"y" * 900}"' for i in range(1200)) + "}"
    assert len(big.encode()) > MAX_PAYLOAD_BYTES
    refused(store, token, big, "over the 1,000,000-byte limit")
    refused(store, token, b"{" * (MAX_PAYLOAD_BYTES + 1), "over the")


@pytest.mark.parametrize(
    "raw, match",
    [
        (b"", "not valid JSON"),
        (b"not json", "not valid JSON"),
        (b'{"score": 1', "not valid JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"score": NaN, "max_score": 1}', "not valid JSON"),
        (b'{"score": 1, "max_score": Infinity}', "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
        (b'{"max_score": 10}', "score"),
        (b'{"score": "ten", "max_score": 10}', "score"),
        (b'{"score": 1, "max_score": 10, "tests": [{"name": "x"}]}', "tests"),
        (b'{"score": 1, "max_score": 10, "extra_data": {"kind": "exam"}}', "kind"),
    ],
)
def test_malformed_payloads_refused(store, raw, match):
    refused(store, store.add_member("ada"), raw, match)


def _with(doc, **changes):
    doc = json.loads(json.dumps(doc))
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = doc
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[last] = value
    return doc


@pytest.mark.parametrize(
    "doc, match",
    [
        (_with(grade_results(), score=1000.0), "above max_score"),
        (_with(grade_results(), score=-1.0), "greater than or equal"),
        (_with(grade_results(), max_score=0), "greater than"),
        (_with(grade_results(), tests__0__score=3.0), "above max"),
        (_with(grade_results(), extra_data__accuracies={"train_epoch": 1.5}), "outside 0..1"),
        (_with(grade_results(), extra_data__accuracies={"train_epoch": -0.1}), "outside 0..1"),
        (_with(quiz_results(), max_score=40.0), "expected 37"),
        (_with(quiz_results(), tests__0__number="quiz.38"), "not quiz.1 to quiz.37"),
        (_with(quiz_results(), tests__0__number="quiz.0"), "not quiz.1 to quiz.37"),
        (_with(quiz_results(), tests__0__number="q1"), "not quiz.1 to quiz.37"),
        (_with(quiz_results(), tests__1__number="quiz.1"), "appears twice"),
        (_with(quiz_results(), extra_data__accuracies={"x": 0.5}), "no accuracies"),
    ],
)
def test_out_of_range_refused(store, doc, match):
    refused(store, store.add_member("ada"), dump(doc), match)


@pytest.mark.parametrize(
    "doc",
    [
        _with(grade_results(), tests__0__tags=["no_such_step"]),
        _with(grade_results(), tests__0__tags=[]),
        _with(grade_results(), tests__0__tags=["MNIST_LOSS"]),
        _with(grade_results(), extra_data__accuracies={"no_such_step": 0.5}),
    ],
)
def test_unknown_steps_refused(store, doc):
    refused(store, store.add_member("ada"), dump(doc), "unknown step")


def test_bonus_steps_come_from_the_registry(store, monkeypatch):
    """A step added to grader/core/steps.py is accepted without touching the store."""
    from grader.core import steps

    store.add_member("ada")
    doc = grade_results(passed=["mnist_loss"])
    doc["tests"].append({**doc["tests"][0], "number": "bonus_mnist_full.1", "tags": ["bonus_mnist_full"]})
    with pytest.raises(KitError, match="unknown step"):
        store.submit_as_member("ada", dump(doc))
    bonus = steps.Step("bonus_mnist_full", "All ten digits", "Further Research", True, bonus=True)
    monkeypatch.setattr(steps, "STEPS", (*steps.STEPS, bonus))
    store.submit_as_member("ada", dump(doc))
    row = store.leaderboard()[0]
    assert row.steps_completed == 1 and row.steps_total == len(STEP_IDS)  # bonus is extra
    assert dict(store.step_completion())["bonus_mnist_full"] == 1


# -- concurrency ---------------------------------------------------------------------------

PROCESSES, EACH = 8, 50


def test_concurrent_submissions_all_stored(db_url):  # noqa: F811
    with Store.open(db_url) as store:
        tokens = [store.add_member(f"member{i}") for i in range(PROCESSES)]
    start_at = time.time() + 3.0  # time for every process to start and import
    context = multiprocessing.get_context("spawn")
    with context.Pool(PROCESSES) as pool:
        jobs = [pool.apply_async(submit_many, (db_url, t, EACH, start_at)) for t in tokens]
        done = [job.get(timeout=900) for job in jobs]  # re-raises any worker's error (minutes under heavy load)
    assert done == [EACH] * PROCESSES
    with Store.open(db_url) as store:
        assert store.counts()["submissions"] == PROCESSES * EACH
        assert {r.name: r.submissions for r in store.leaderboard()} == {f"member{i}": EACH for i in range(PROCESSES)}
        with store.engine.connect() as conn:
            ids = conn.execute(text("SELECT id FROM submissions")).scalars().all()
        assert len(set(ids)) == PROCESSES * EACH


def test_sqlite_busy_writes_are_retried(tmp_path, monkeypatch):
    """Even with no busy timeout at all, a write that meets a locked database waits its turn."""
    import sqlite3
    import threading

    import grader.board.db

    monkeypatch.setattr(grader.board.db, "SQLITE_BUSY_TIMEOUT_S", 0)
    path = tmp_path / "busy.db"
    with Store.open(f"sqlite:///{path}", create=True) as store:
        token = store.add_member("ada")
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock...
        threading.Timer(0.3, other.commit).start()  # ...for a moment
        graded(store, token, dump(grade_results()))
        other.close()
        assert store.counts()["submissions"] == 1


def test_a_quick_run_does_not_finish_a_training_step(store):
    """--quick skips training, so a step that trains counts as attempted, not completed."""
    ada = store.add_member("ada")
    quick = grade_results(passed=["mnist_loss", "train_epoch"])
    quick["extra_data"]["quick"] = True
    graded(store, ada, dump(quick))
    completion = dict(store.step_completion())
    assert completion["mnist_loss"] == 1 and completion["train_epoch"] == 0
    graded(store, ada, dump(grade_results(passed=["train_epoch"])))
    assert dict(store.step_completion())["train_epoch"] == 1
