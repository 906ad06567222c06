"""The store never loses or invents data quietly: what Database.open refuses, each in one line."""

import json
import os
import sqlite3
from datetime import UTC, datetime

import pytest

from grader.board.store import Store
from grader.core.errors import KitError
from tests.support.cli import fastgroup, one_line_error
from tests.support.services import db_url, pg_url  # noqa: F401

NOW = datetime.now(UTC)


def test_a_missing_store_is_created_only_on_purpose(tmp_path):
    url = f"sqlite:///{tmp_path / 'group.db'}"
    with pytest.raises(KitError, match="no store at SQLite file .*group.db.*fastgroup members add"):
        Store.open(url)
    assert not (tmp_path / "group.db").exists()  # nothing invented
    with Store.open(url, create=True) as store:
        assert store.created
    with Store.open(url) as store:
        assert not store.created


def test_a_missing_folder_is_refused_unless_creating(tmp_path):
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'group.db'}"
    line = one_line_error(fastgroup("members", "list", "--db", url))
    assert "folder of SQLite file" in line and "does not exist" in line
    assert not (tmp_path / "no").exists()
    added = fastgroup("members", "add", "ada", "--db", url)
    assert added.returncode == 0 and "Created a new store" in added.stdout
    assert fastgroup("members", "list", "--db", url).stdout.split() == ["ada"]


def test_an_empty_file_is_an_error_never_a_new_store(tmp_path):
    path = tmp_path / "fastgroup.db"
    path.touch()
    for args in (["members", "list"], ["members", "add", "ada"], ["leaderboard", "--port", "1"]):
        line = one_line_error(fastgroup(*args, "--db", f"sqlite:///{path}"))
        assert str(path) in line and "empty (0 bytes)" in line
    assert path.stat().st_size == 0  # still the user's file, untouched


@pytest.mark.parametrize("damage", [b"this is not a database", b"SQLite format 3\x00" + b"\xff" * 4000])
def test_a_damaged_file_is_an_error_naming_it(tmp_path, damage):
    path = tmp_path / "fastgroup.db"
    with Store.open(f"sqlite:///{path}", create=True) as store:
        store.add_member("ada")
    path.write_bytes(damage)
    line = one_line_error(fastgroup("members", "list", "--db", f"sqlite:///{path}"))
    assert str(path) in line and ("damaged" in line or "not a database" in line or "malformed" in line)
    assert path.read_bytes() == damage


def test_a_database_without_the_store_is_refused(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE something_else (x)")
    with pytest.raises(KitError, match="holds no fastgroup store"):
        Store.open(f"sqlite:///{path}")


@pytest.mark.service
def test_postgres_without_the_store_is_refused(pg_url):  # noqa: F811
    with pytest.raises(KitError, match="holds no fastgroup store"):
        Store.open(pg_url)
    with Store.open(pg_url, create=True) as store:
        store.add_member("ada")
    with Store.open(pg_url) as store:
        assert store.member_names() == ["ada"]


@pytest.mark.parametrize(
    "url, words",
    [
        ("mysql://u:p@127.0.0.1/db", "unsupported database 'mysql'"),
        ("postgresql+psycopg2://u:p@127.0.0.1/db", "unsupported database"),
        ("oracle://u@h/db", "unsupported database 'oracle'"),
        ("not a url", "invalid database URL"),
    ],
)
def test_unsupported_urls_are_one_line(url, words):
    line = one_line_error(fastgroup("members", "list", "--db", url))
    assert words in line and "p@" not in line


def test_a_fifo_or_device_as_the_store_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "pipe.db"
    os.mkfifo(fifo)
    for path in (fifo, "/dev/zero", "/dev/null"):
        line = one_line_error(fastgroup("members", "add", "ada", "--db", f"sqlite:///{path}", timeout=30))
        assert "not a regular file" in line


@pytest.mark.service
def test_postgres_scheme_without_driver_uses_psycopg(pg_url):  # noqa: F811
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with Store.open(plain, create=True) as store:
        assert store.engine.dialect.driver == "psycopg"


def test_a_version_1_store_is_migrated_keeping_everything(db_url):  # noqa: F811
    """A group's store from before code submissions: its rows kept, nbgrader imports verified."""
    from sqlalchemy import create_engine, insert

    from tests.support import schema_v1 as v1
    from tests.support.services import grade_results

    url = db_url.replace("board.db", "v1.db")
    old = create_engine(url)
    with old.begin() as conn:
        if old.dialect.name == "postgresql":
            conn.exec_driver_sql("DROP TABLE submission_steps, submissions, settings, members, schema_version")
        v1.metadata.create_all(conn)
        conn.execute(insert(v1.schema_version).values(version=1, applied_at=NOW))
        ada = conn.execute(
            insert(v1.members).values(name="ada", token_sha256="0" * 64, created_at=NOW).returning(v1.members.c.id)
        ).scalar_one()
        for n, extra in enumerate([{}, {"submitted_at": "2026-01-01T00:00:00"}], start=1):
            doc = grade_results(passed=["mnist_loss"] if n == 1 else ["mnist_loss", "linear1"])
            doc["extra_data"].update(extra)
            n = conn.execute(
                insert(v1.submissions).values(
                    member_id=ada, kind="grade", payload=json.dumps(doc, separators=(",", ":")), score=doc["score"],
                    max_score=doc["max_score"], kit_version="0.1.0", created_at=NOW,
                ).returning(v1.submissions.c.id)
            ).scalar_one()  # fmt: skip
            step = {"submission_id": n, "step_id": "mnist_loss", "member_id": ada, "completed": True}
            conn.execute(insert(v1.submission_steps).values(**step))
    old.dispose()
    with Store.open(url) as store:
        history = store.member_detail("ada").history
        assert [(h.submission_id, h.origin, h.state) for h in history] == [
            (2, "verified", "graded"),
            (1, "self-reported", "graded"),
        ]
        assert store.leaderboard()[0].points == 14.0  # the nbgrader import, verified
        token = store.add_member("bob")
        assert store.enqueue(token, "grade", {"linear1.py": "x = 1"}).submission_id == 3


def test_a_version_3_store_gains_the_source_of_each_submission(db_url):  # noqa: F811
    """Before v4 a submission did not say where it came from: its rows kept, blank there; new ones say it."""
    from sqlalchemy import update

    from grader.board.schema import schema_version

    with Store.open(db_url) as store:
        token = store.add_member("ada")
        old = store.enqueue(token, "grade", {"linear1.py": "x = 1"}).submission_id

        def back_to_v3(conn):
            conn.exec_driver_sql("ALTER TABLE submissions DROP COLUMN source")
            conn.execute(update(schema_version).where(schema_version.c.version == 4).values(version=3))

        store.write(back_to_v3)
    with Store.open(db_url) as store:
        assert store.read(lambda conn: conn.exec_driver_sql("SELECT max(version) FROM schema_version").scalar()) == 4
        new = store.enqueue(token, "grade", {"linear1.py": "x = 2"}, source="ch4.ipynb").submission_id
        assert [store.submission(i)[0].source for i in (old, new)] == [None, "ch4.ipynb"]
