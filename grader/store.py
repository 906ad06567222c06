"""The group's store: members and their submissions, in SQLite (default) or PostgreSQL.

SQLAlchemy 2 Core with one schema for both databases. Submissions are append-only: best and
latest scores are queries, nothing is overwritten. The member of a submission is always the
one whose token hashes to the stored SHA-256; a name carried by a request is never trusted.

SQLite runs in WAL mode with a busy timeout, and every write transaction starts with
BEGIN IMMEDIATE so that concurrent writers queue for the lock instead of failing halfway;
a write that still meets a busy database is retried with backoff.
"""

import hashlib
import os
import random
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

from grader import steps
from grader.errors import KitError
from grader.home import kit_home
from grader.payload import Payload, parse_payload

SCHEMA_VERSION = 1
MAX_NAME_LENGTH = 64
SQLITE_BUSY_TIMEOUT_S = 30
WRITE_ATTEMPTS = 6
PG_SCHEMA_LOCK = 0x6667_5354  # advisory lock key: one process creates/migrates the schema

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

members = Table(
    "members",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(MAX_NAME_LENGTH), nullable=False, unique=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("removed_at", DateTime(timezone=True), nullable=True),  # removed members keep history
)

submissions = Table(
    "submissions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("payload", Text, nullable=False),
    Column("score", Float, nullable=False),
    Column("max_score", Float, nullable=False),
    Column("kit_version", String(50), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("kind IN ('grade', 'quiz')", name="submissions_kind"),
    # Covers the board's queries, so they never read the (large) payloads.
    Index("submissions_board", "member_id", "kind", "score", "max_score", "created_at"),
)

# Derived from each grade submission when it is written (never updated), so that the board
# can count completed steps in SQL instead of re-parsing every payload on each refresh.
submission_steps = Table(
    "submission_steps",
    metadata,
    Column("submission_id", Integer, ForeignKey("submissions.id"), primary_key=True),
    Column("step_id", String(64), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("completed", Boolean, nullable=False),
    Column("accuracy", Float, nullable=True),
    Index("submission_steps_board", "member_id", "step_id", "completed", "accuracy"),
)

# version -> SQL statements that bring the schema from version-1 up to it.
MIGRATIONS: dict[int, list[str]] = {}


@dataclass(frozen=True)
class Receipt:
    """What a stored submission looked like, for the confirmation line."""

    submission_id: int
    member: str
    kind: str
    score: float
    max_score: float


@dataclass(frozen=True)
class BoardRow:
    """One member's line on the leaderboard."""

    name: str
    points: float | None  # best grade submission's score
    max_points: float | None  # ... and its maximum
    steps_completed: int  # core steps completed in any grade submission
    steps_total: int
    best_accuracy: float | None  # highest accuracy over the training steps
    accuracies: dict[str, float]  # training step -> best accuracy
    quiz: float | None  # best quiz score out of 37
    submissions: int
    last_activity: datetime | None


@dataclass(frozen=True)
class StepStatus:
    step_id: str
    title: str
    status: str  # 'completed' | 'attempted' | 'not started'
    best_accuracy: float | None


@dataclass(frozen=True)
class SubmissionRow:
    submission_id: int
    kind: str
    score: float
    max_score: float
    kit_version: str
    created_at: datetime


@dataclass(frozen=True)
class MemberDetail:
    name: str
    steps: list[StepStatus]
    history: list[SubmissionRow]  # newest first
    latest_grade_payload: str | None  # the JSON text as submitted (validated), for display


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


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


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _is_busy(err: OperationalError) -> bool:
    text = str(err.orig).lower()
    return "database is locked" in text or "database is busy" in text


class Store:
    """Members and submissions behind one SQLAlchemy engine."""

    def __init__(self, engine: Engine, url: str):
        self.engine = engine
        self.url = url
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._writer = engine.execution_options(fastgroup_write=True)

    @classmethod
    def open(cls, db_url: str | None = None) -> "Store":
        """Open (and on first use create) the store at db_url, FASTGROUP_DB_URL or the default."""
        url = db_url or default_db_url()
        try:
            parsed = make_url(url)
            if parsed.get_backend_name() == "sqlite":
                engine = _sqlite_engine(url)
            else:
                engine = create_engine(url, connect_args={"connect_timeout": 10})
        except (ArgumentError, NoSuchModuleError, ValueError) as err:
            raise KitError(
                f"invalid database URL ({str(err).splitlines()[0][:100]}): check FASTGROUP_DB_URL "
                "or --db, e.g. postgresql+psycopg://user:password@host:5432/dbname"
            ) from None
        store = cls(engine, url)
        store._write(store._create_schema)
        return store

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writes -------------------------------------------------------------------------------

    def _write(self, work):
        """Run work(conn) in one write transaction: retried on a busy SQLite, errors explained."""
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

    def _read(self, work):
        try:
            with self.engine.connect() as conn:
                return work(conn)
        except DBAPIError as err:
            raise self._unreachable(err) from None

    def _unreachable(self, err: DBAPIError) -> KitError:
        cause = str(err.orig).strip().splitlines()[0][:150] if err.orig else "no answer"
        return KitError(
            f"cannot use the database ({describe_url(self.url)}: {cause}): "
            "check FASTGROUP_DB_URL or --db, and that the server is running"
        )

    def _create_schema(self, conn) -> None:
        if conn.dialect.name == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(PG_SCHEMA_LOCK)))
        metadata.create_all(conn, checkfirst=True)
        found = conn.execute(select(func.max(schema_version.c.version))).scalar()
        if found is None:
            conn.execute(insert(schema_version).values(version=SCHEMA_VERSION, applied_at=_now()))
            return
        if found > SCHEMA_VERSION:
            raise KitError(
                f"the database has schema version {found}, newer than this kit's "
                f"{SCHEMA_VERSION}: upgrade fastgroup (pip install -U fastgroup)"
            )
        for version in range(found + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[version]:
                conn.exec_driver_sql(statement)
            conn.execute(insert(schema_version).values(version=version, applied_at=_now()))

    def add_member(self, name: str) -> str:
        """Add a member (or bring back a removed one) and return their new token."""
        name = _clean_name(name)
        token = secrets.token_urlsafe(32)
        digest = token_hash(token)

        def work(conn):
            row = conn.execute(select(members.c.id, members.c.removed_at).where(members.c.name == name)).first()
            if row is None:
                conn.execute(insert(members).values(name=name, token_sha256=digest, created_at=_now()))
            elif row.removed_at is None:
                raise KitError(
                    f"member '{name}' already exists: choose another name, or "
                    f"`fastgroup members remove` then `add` to issue a new token"
                )
            else:
                conn.execute(update(members).where(members.c.id == row.id).values(token_sha256=digest, removed_at=None))

        self._write(work)
        return token

    def remove_member(self, name: str) -> None:
        """Remove a member: their token stops working, their submissions are kept."""

        def work(conn):
            done = conn.execute(
                update(members).where(members.c.name == name, members.c.removed_at.is_(None)).values(removed_at=_now())
            )
            if done.rowcount != 1:
                raise KitError(f"no member named '{name}': see `fastgroup members list` for the names")

        self._write(work)

    def submit(self, token: str, raw: bytes | str | Payload) -> Receipt:
        """Validate a results payload and store it for the member whose token this is."""
        payload = raw if isinstance(raw, Payload) else parse_payload(raw)
        digest = token_hash(token or "")

        def work(conn):
            member = conn.execute(
                select(members.c.id, members.c.name).where(
                    members.c.token_sha256 == digest, members.c.removed_at.is_(None)
                )
            ).first()
            if member is None or not token:
                raise KitError(
                    "the token is not a member's token: check FASTGROUP_TOKEN or --token "
                    "(the organiser gets a new one with `fastgroup members add`)"
                )
            return _insert_submission(conn, member, payload)

        return self._write(work)

    def submit_as_member(self, name: str, raw: bytes | str | Payload) -> Receipt | None:
        """Organiser side only: store a payload for the member called `name`, without a token.

        For grades the organiser computed centrally (`fastgroup nbgrader import`), never for a
        request from a learner. Returns None, storing nothing, when the member already has a
        submission with exactly this payload, so that importing twice is harmless.
        """
        payload = raw if isinstance(raw, Payload) else parse_payload(raw)

        def work(conn):
            member = conn.execute(
                select(members.c.id, members.c.name).where(members.c.name == name, members.c.removed_at.is_(None))
            ).first()
            if member is None:
                raise KitError(f"no member named '{name}': add them with `fastgroup members add {name}`")
            seen = conn.execute(
                select(submissions.c.id).where(
                    submissions.c.member_id == member.id, submissions.c.payload == payload.text
                )
            ).first()
            return None if seen else _insert_submission(conn, member, payload)

        return self._write(work)

    # -- reads --------------------------------------------------------------------------------

    def member_names(self) -> list[str]:
        query = select(members.c.name).where(members.c.removed_at.is_(None)).order_by(members.c.name)
        return self._read(lambda conn: list(conn.execute(query).scalars()))

    def counts(self) -> dict[str, int]:
        """How many rows each table holds (tests check that a refusal wrote nothing)."""

        def work(conn):
            return {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (members, submissions, submission_steps)
            }

        return self._read(work)

    def leaderboard(self) -> list[BoardRow]:
        """One row per active member, best points first."""
        core = [s.id for s in steps.STEPS if not s.bonus]
        training = [s.id for s in steps.STEPS if s.trains]
        active = members.c.removed_at.is_(None)

        ranked = (
            select(
                submissions.c.member_id,
                submissions.c.score,
                submissions.c.max_score,
                func.row_number()
                .over(
                    partition_by=submissions.c.member_id,
                    order_by=(submissions.c.score.desc(), submissions.c.id.desc()),
                )
                .label("rank"),
            )
            .where(submissions.c.kind == "grade")
            .subquery()
        )
        best_grade = select(ranked.c.member_id, ranked.c.score, ranked.c.max_score).where(ranked.c.rank == 1)
        activity = select(
            submissions.c.member_id,
            func.count().label("n"),
            func.max(submissions.c.created_at).label("last"),
            func.max(case((submissions.c.kind == "quiz", submissions.c.score))).label("quiz"),
        ).group_by(submissions.c.member_id)
        completed = (
            select(
                submission_steps.c.member_id,
                func.count(submission_steps.c.step_id.distinct()).label("n"),
            )
            .where(submission_steps.c.completed.is_(True), submission_steps.c.step_id.in_(core))
            .group_by(submission_steps.c.member_id)
        )
        accuracy = (
            select(
                submission_steps.c.member_id,
                submission_steps.c.step_id,
                func.max(submission_steps.c.accuracy).label("acc"),
            )
            .where(submission_steps.c.accuracy.is_not(None), submission_steps.c.step_id.in_(training))
            .group_by(submission_steps.c.member_id, submission_steps.c.step_id)
        )

        def work(conn):
            people = conn.execute(select(members.c.id, members.c.name).where(active)).all()
            best = {r.member_id: r for r in conn.execute(best_grade)}
            acts = {r.member_id: r for r in conn.execute(activity)}
            done = {r.member_id: r.n for r in conn.execute(completed)}
            accs: dict[int, dict[str, float]] = defaultdict(dict)
            for r in conn.execute(accuracy):
                accs[r.member_id][r.step_id] = r.acc
            return people, best, acts, done, accs

        people, best, acts, done, accs = self._read(work)
        rows = []
        for person in people:
            grade, act = best.get(person.id), acts.get(person.id)
            member_accs = {s: accs[person.id][s] for s in training if s in accs.get(person.id, {})}
            rows.append(
                BoardRow(
                    name=person.name,
                    points=grade.score if grade else None,
                    max_points=grade.max_score if grade else None,
                    steps_completed=done.get(person.id, 0),
                    steps_total=len(core),
                    best_accuracy=max(member_accs.values()) if member_accs else None,
                    accuracies=member_accs,
                    quiz=act.quiz if act else None,
                    submissions=act.n if act else 0,
                    last_activity=_utc(act.last) if act else None,
                )
            )
        rows.sort(key=lambda r: (-(r.points or 0), -r.steps_completed, -(r.quiz or 0), r.name))
        return rows

    def points_over_time(self) -> list[tuple[str, datetime, float]]:
        """(member, time, best grade score so far) at each grade submission of active members."""
        query = (
            select(members.c.name, submissions.c.created_at, submissions.c.score)
            .join(members, members.c.id == submissions.c.member_id)
            .where(submissions.c.kind == "grade", members.c.removed_at.is_(None))
            .order_by(members.c.name, submissions.c.id)
        )
        rows = self._read(lambda conn: conn.execute(query).all())
        out, best = [], {}
        for name, created_at, score in rows:
            best[name] = max(best.get(name, score), score)
            out.append((name, _utc(created_at), best[name]))
        return out

    def step_completion(self) -> list[tuple[str, int]]:
        """(step id, number of active members who completed it), in chapter order."""
        query = (
            select(
                submission_steps.c.step_id,
                func.count(submission_steps.c.member_id.distinct()),
            )
            .join(members, members.c.id == submission_steps.c.member_id)
            .where(submission_steps.c.completed.is_(True), members.c.removed_at.is_(None))
            .group_by(submission_steps.c.step_id)
        )
        counts = dict(self._read(lambda conn: conn.execute(query).all()))
        return [(step.id, counts.get(step.id, 0)) for step in steps.STEPS]

    def quiz_scores(self) -> list[float]:
        """Each active member's best quiz score (members who never took it are left out)."""
        query = (
            select(func.max(submissions.c.score))
            .join(members, members.c.id == submissions.c.member_id)
            .where(submissions.c.kind == "quiz", members.c.removed_at.is_(None))
            .group_by(submissions.c.member_id)
        )
        return self._read(lambda conn: list(conn.execute(query).scalars()))

    def member_detail(self, name: str) -> MemberDetail:
        """A member's per-step status and submission history."""
        done = func.max(case((submission_steps.c.completed.is_(True), 1), else_=0))

        def work(conn):
            member_id = conn.execute(
                select(members.c.id).where(members.c.name == name, members.c.removed_at.is_(None))
            ).scalar()
            if member_id is None:
                raise KitError(f"no member named '{name}'")
            per_step = conn.execute(
                select(
                    submission_steps.c.step_id,
                    done.label("done"),
                    func.max(submission_steps.c.accuracy).label("acc"),
                )
                .where(submission_steps.c.member_id == member_id)
                .group_by(submission_steps.c.step_id)
            ).all()
            history = conn.execute(
                select(
                    submissions.c.id,
                    submissions.c.kind,
                    submissions.c.score,
                    submissions.c.max_score,
                    submissions.c.kit_version,
                    submissions.c.created_at,
                )
                .where(submissions.c.member_id == member_id)
                .order_by(submissions.c.id.desc())
            ).all()
            latest = conn.execute(
                select(submissions.c.payload)
                .where(and_(submissions.c.member_id == member_id, submissions.c.kind == "grade"))
                .order_by(submissions.c.id.desc())
                .limit(1)
            ).scalar()
            return per_step, history, latest

        per_step, history, latest = self._read(work)
        seen = {r.step_id: r for r in per_step}
        statuses = []
        for step in steps.STEPS:
            row = seen.get(step.id)
            status = "not started" if row is None else "completed" if row.done else "attempted"
            statuses.append(StepStatus(step.id, step.title, status, row.acc if row else None))
        return MemberDetail(
            name=name,
            steps=statuses,
            history=[SubmissionRow(r[0], r[1], r[2], r[3], r[4], _utc(r[5])) for r in history],
            latest_grade_payload=latest,
        )



def _insert_submission(conn, member, payload: Payload) -> Receipt:
    """Append one validated submission (and its per-step rows) for `member` (id, name)."""
    submission_id = conn.execute(
        insert(submissions)
        .values(
            member_id=member.id,
            kind=payload.kind,
            payload=payload.text,
            score=payload.score,
            max_score=payload.max_score,
            kit_version=payload.kit_version,
            created_at=_now(),
        )
        .returning(submissions.c.id)
    ).scalar_one()
    if payload.steps:
        conn.execute(
            insert(submission_steps),
            [
                {
                    "submission_id": submission_id,
                    "step_id": s.step_id,
                    "member_id": member.id,
                    "completed": s.completed,
                    "accuracy": s.accuracy,
                }
                for s in payload.steps
            ],
        )
    return Receipt(submission_id, member.name, payload.kind, payload.score, payload.max_score)

def _clean_name(name: str) -> str:
    """Names are shown to everyone: one printable line, not too long."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise KitError(f"a member name must be 1 to {MAX_NAME_LENGTH} printable characters on one line")
    return name


def _sqlite_engine(url: str) -> Engine:
    """SQLite in WAL mode with a busy timeout; writes take the lock up front (BEGIN IMMEDIATE)."""
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
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
