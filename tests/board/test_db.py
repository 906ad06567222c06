"""The store never loses or invents data quietly: what Database.open refuses, each in one line."""

import os
import sqlite3

import pytest

from grader.board.store import Store
from grader.core.errors import KitError
from tests.support.cli import fastgroup, one_line_error
from tests.support.services import pg_url  # noqa: F401


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
