"""The database behind the store: engine, schema creation, and transactions with retry.

SQLite runs in WAL mode with a busy timeout, and every write transaction starts with
BEGIN IMMEDIATE so that concurrent writers queue for the lock instead of failing halfway;
a write that still meets a busy database is retried with backoff. PostgreSQL's pooled
connections are pinged before use (a server restart leaves them closed). A patient store (the
workers': `patience_s`) rides out a database that is away: it says so once and tries again with
back-off, for up to that long. Every database error becomes a one-line KitError naming the
database (without its password); a database that does not answer is DatabaseAway.

A store is created only on purpose (`create=True`: `fastgroup members add`). Any other command
refuses a missing, empty (0 bytes), damaged or odd (pipe, device) SQLite file, a folder that
does not exist, and a database without the store's tables: nothing is ever re-created quietly.
"""

import os
import random
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, event, func, insert, inspect, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

from grader.board.clock import now
from grader.board.refusals import DatabaseAway
from grader.board.schema import MIGRATIONS, SCHEMA_VERSION, metadata, schema_version
from grader.core.errors import KitError
from grader.core.files import check_regular_or_absent
from grader.core.home import kit_home

SQLITE_BUSY_TIMEOUT_S = 30
WRITE_ATTEMPTS = 6
PG_SCHEMA_LOCK = 0x6667_5354  # advisory lock key: one process creates/migrates the schema
SQLITE_MAGIC = b"SQLite format 3\x00"
# scheme -> the driver this kit ships (psycopg 3); anything else is refused by name
DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}
CREATE_HINT = "create the store on purpose with `fastgroup members add NAME`"
URL_HINT = "check --db or FASTGROUP_DB_URL"


def default_db_url() -> str:
    return os.environ.get("FASTGROUP_DB_URL") or f"sqlite:///{kit_home() / 'fastgroup.db'}"


def describe_url(url: str) -> str:
    """Where a URL points, without its password: for error messages."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "an invalid URL"
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database}"
    return f"{parsed.get_backend_name()} at {parsed.host}:{parsed.port or 'default port'}"


def _is_busy(err: OperationalError) -> bool:
    text = str(err.orig).lower()
    return "database is locked" in text or "database is busy" in text


class Transactions:
    """What every part of the store (writes.py, queue.py, queries.py) is built on: one read or
    write transaction at a time, `work(conn)` run inside it. Database provides them."""

    def read(self, work):
        raise NotImplementedError

    def write(self, work):
        raise NotImplementedError


class Database(Transactions):
    """One SQLAlchemy engine, its schema, and the store's read and write transactions."""

    def __init__(self, engine: Engine, url: str, patience_s: float = 0.0):
        self.engine = engine
        self.url = url
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._writer = engine.execution_options(fastgroup_write=True)
        self.created = False  # open(create=True) made a new store
        self.patience_s = patience_s

    @classmethod
    def open(cls, db_url: str | None = None, create: bool = False, patience_s: float = 0.0) -> "Database":
        """Open the store at db_url, FASTGROUP_DB_URL or the default; create it only when `create`.

        `patience_s`: how long a read or write waits for a database that is away (workers)."""
        url = normalise_url(db_url or default_db_url())
        parsed = make_url(url)
        try:
            if parsed.get_backend_name() == "sqlite":
                engine = _sqlite_engine(url, create)
            else:
                engine = create_engine(url, connect_args={"connect_timeout": 10}, pool_pre_ping=True)
        except (ArgumentError, NoSuchModuleError, ValueError) as err:
            raise KitError(
                f"invalid database URL ({str(err).splitlines()[0][:100]}): {URL_HINT}, "
                "e.g. postgresql+psycopg://user:password@host:5432/dbname"
            ) from None
        store = cls(engine, url, patience_s)
        try:
            store.write(lambda conn: store._create_schema(conn, create))
        except KitError:
            engine.dispose()
            raise
        return store

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writes -------------------------------------------------------------------------------

    def write(self, work):
        """Run work(conn) in one write transaction: retried on a busy SQLite, errors explained."""
        return self._patiently(lambda: self._write_once(work))

    def read(self, work):
        def once():
            try:
                with self.engine.connect() as conn:
                    return work(conn)
            except DBAPIError as err:
                raise self._unreachable(err) from None

        return self._patiently(once)

    def _write_once(self, work):
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self._writer.begin() as conn:
                    return work(conn)
            except DBAPIError as err:
                busy = isinstance(err, OperationalError) and self.is_sqlite and _is_busy(err)
                if busy and attempt < WRITE_ATTEMPTS - 1:
                    time.sleep(0.05 * 2**attempt * (1 + random.random()))
                    continue
                raise self._unreachable(err) from None

    def _patiently(self, once):
        """once(), tried again with back-off while the database is away, for up to patience_s."""
        deadline = time.monotonic() + self.patience_s
        delay, said = 0.5, False
        while True:
            try:
                result = once()
            except DatabaseAway:
                if time.monotonic() + delay > deadline:
                    raise
                if not said:
                    print(f"the database ({describe_url(self.url)}) is away: waiting for it, up to "
                          f"{self.patience_s:.0f} s", file=sys.stderr, flush=True)
                    said = True
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            if said:
                print(f"the database ({describe_url(self.url)}) is back", file=sys.stderr, flush=True)
            return result

    def _unreachable(self, err: DBAPIError) -> KitError:
        cause = str(err.orig).strip().splitlines()[0][:150] if err.orig else "no answer"
        if self.is_sqlite:
            if "disk is full" in cause or "disk i/o error" in cause.lower():
                return DatabaseAway(f"cannot write the database ({describe_url(self.url)}: {cause}): "
                                    "free some disk space on the board's machine, then try again; nothing was stored")
            return KitError(f"cannot use the database ({describe_url(self.url)}: {cause}): "
                            f"restore it from a backup, or {URL_HINT}")
        if isinstance(err, OperationalError) or err.connection_invalidated:
            return DatabaseAway(f"the database is away ({describe_url(self.url)}: {cause}): "
                                f"{URL_HINT}, and that the server runs")
        return KitError(f"cannot use the database ({describe_url(self.url)}: {cause}): {URL_HINT}")

    def _create_schema(self, conn, create: bool) -> None:
        if conn.dialect.name == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(PG_SCHEMA_LOCK)))
        if not inspect(conn).has_table(schema_version.name):
            if not create:
                raise KitError(f"{describe_url(self.url)} holds no fastgroup store: {URL_HINT}, or {CREATE_HINT}")
            self.created = True
        metadata.create_all(conn, checkfirst=True)
        found = conn.execute(select(func.max(schema_version.c.version))).scalar()
        if found is None:
            conn.execute(insert(schema_version).values(version=SCHEMA_VERSION, applied_at=now()))
            return
        if found > SCHEMA_VERSION:
            raise KitError(
                f"the database has schema version {found}, newer than this kit's "
                f"{SCHEMA_VERSION}: upgrade fastgroup (pip install -U fastgroup)"
            )
        for version in range(found + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[version](conn)
            conn.execute(insert(schema_version).values(version=version, applied_at=now()))


def normalise_url(url: str) -> str:
    """The URL with this kit's driver; an unsupported scheme (mysql://...) is a one-line KitError."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise KitError(
            f"invalid database URL: {URL_HINT}, e.g. sqlite:////path/fastgroup.db or "
            "postgresql+psycopg://user:password@host:5432/dbname"
        ) from None
    backend, _, driver = parsed.drivername.partition("+")
    wanted = DRIVERS.get(backend)
    if wanted is None or driver not in ("", wanted.partition("+")[2] or "pysqlite"):
        raise KitError(
            f"unsupported database '{parsed.drivername}': the store runs on SQLite or PostgreSQL "
            f"(with psycopg 3); {URL_HINT}, e.g. sqlite:///PATH or postgresql+psycopg://user:password@host/db"
        )
    return parsed.set(drivername=wanted).render_as_string(hide_password=False)


def check_sqlite_file(database: str | None, create: bool) -> None:
    """Refuse what would make SQLite invent an empty store, or hang: see the module's docstring."""
    if not database or database == ":memory:":
        return
    path = Path(database).expanduser()
    if not path.parent.is_dir():
        if not create:
            raise KitError(f"the folder of SQLite file {path} does not exist: {URL_HINT}, or {CREATE_HINT}")
        path.parent.mkdir(parents=True, exist_ok=True)
    fix = f"{URL_HINT}; the store is a regular file"
    if not check_regular_or_absent(path, "SQLite file", fix):
        if not create:
            raise KitError(f"no store at SQLite file {path}: {URL_HINT}, or {CREATE_HINT}")
        return
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if not head:
        raise KitError(
            f"SQLite file {path} is empty (0 bytes), not a fastgroup store: restore it from a backup, "
            f"or move it away and {CREATE_HINT}"
        )
    if head != SQLITE_MAGIC:
        raise KitError(
            f"SQLite file {path} is damaged or not a database: restore it from a backup, "
            f"or move it away and {CREATE_HINT}"
        )


def _sqlite_engine(url: str, create: bool = False) -> Engine:
    """SQLite in WAL mode with a busy timeout; writes take the lock up front (BEGIN IMMEDIATE)."""
    check_sqlite_file(make_url(url).database, create)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # let the "begin" hook below emit BEGIN itself
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        write = conn.get_execution_options().get("fastgroup_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
