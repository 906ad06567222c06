"""The store's tables: one SQLAlchemy Core schema for SQLite and PostgreSQL, with its version.

A submission is a row that is never deleted: a member's code (or quiz answers) waits in it as
`queued`, is `grading` while a worker has it, then `graded` (with the verified results) or
`failed` (with the reason). A self-reported result (`fastgroup submit --results`, where the
organiser allows it) is stored `graded` at once with origin `self-reported`. Best and latest
scores are queries over the graded rows.
"""

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
)

SCHEMA_VERSION = 2
MAX_NAME_LENGTH = 64
STATES = ("queued", "grading", "graded", "failed")
ORIGINS = ("verified", "self-reported")

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
    Column("origin", String(14), nullable=False),
    Column("state", String(10), nullable=False),
    Column("reason", Text, nullable=True),  # failed: why, in one line
    Column("code", Text, nullable=True),  # what was sent to be graded: JSON {file name: text}
    Column("code_sha256", String(64), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),  # times a worker started grading it
    Column("worker", String(200), nullable=True),  # host:pid of the worker grading it
    Column("payload", Text, nullable=True),  # the results JSON, once graded
    Column("score", Float, nullable=True),
    Column("max_score", Float, nullable=True),
    Column("kit_version", String(50), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("graded_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("kind IN ('grade', 'quiz')", name="submissions_kind"),
    CheckConstraint("origin IN ('verified', 'self-reported')", name="submissions_origin"),
    CheckConstraint("state IN ('queued', 'grading', 'graded', 'failed')", name="submissions_state"),
    # Covers the board's queries, so they never read the (large) payloads.
    Index("submissions_board", "member_id", "kind", "state", "origin", "score", "max_score", "created_at"),
    Index("submissions_queue", "state", "member_id", "id"),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
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



def _to_v2(conn) -> None:
    """v1 -> v2: submissions gain origin, state and the code they graded; results become nullable.

    SQLite cannot drop NOT NULL, so the table is rebuilt (foreign keys checked at commit).
    Rows before v2 were self-reported, except nbgrader imports (they carry submitted_at).
    """
    old = [c.name for c in conn.exec_driver_sql("SELECT * FROM submissions LIMIT 0").cursor.description]
    conn.exec_driver_sql("DROP INDEX IF EXISTS submissions_board")
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    staging = submissions.to_metadata(MetaData(), name="submissions_v2")
    for index in list(staging.indexes):
        staging.indexes.discard(index)
    staging.create(conn)
    columns = ", ".join(old)
    conn.exec_driver_sql(
        f"INSERT INTO submissions_v2 ({columns}, origin, state, attempts, graded_at) "
        f"SELECT {columns}, CASE WHEN payload LIKE '%\"submitted_at\":\"%' THEN 'verified' "
        "ELSE 'self-reported' END, 'graded', 0, created_at FROM submissions"
    )
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "ALTER TABLE submission_steps DROP CONSTRAINT IF EXISTS submission_steps_submission_id_fkey"
        )
        conn.exec_driver_sql("DROP TABLE submissions")
        conn.exec_driver_sql("ALTER TABLE submissions_v2 RENAME TO submissions")
        conn.exec_driver_sql(
            "ALTER TABLE submission_steps ADD FOREIGN KEY (submission_id) REFERENCES submissions (id)"
        )
        conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('submissions', 'id'), "
                             "(SELECT coalesce(max(id), 0) + 1 FROM submissions), false)")
    else:
        conn.exec_driver_sql("DROP TABLE submissions")
        conn.exec_driver_sql("ALTER TABLE submissions_v2 RENAME TO submissions")
    for index in submissions.indexes:
        index.create(conn)


# version -> the function that brings the schema from version-1 up to it.
MIGRATIONS = {2: _to_v2}


