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
    inspect,
    text,
)

SCHEMA_VERSION = 4
MAX_NAME_LENGTH = 64
MAX_SOURCE_LENGTH = 100  # a source's label: "exercises", "ch4.ipynb"; never a path

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
    Column("source", String(MAX_SOURCE_LENGTH), nullable=True),  # where the code came from: "exercises", "ch4.ipynb"
    Column("attempts", Integer, nullable=False, default=0),  # times a worker started grading it
    Column("worker", String(200), nullable=True),  # host:pid of the worker grading it
    Column("started_at", DateTime(timezone=True), nullable=True),  # when the latest attempt began
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

# Derived from each verified grade submission when it is written (never updated), so that the board
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

    Rows before v2 were self-reported, except nbgrader imports (they carry submitted_at).
    PostgreSQL alters the table in place; SQLite cannot drop NOT NULL, so both submission tables
    are rebuilt (child renamed away first, so no foreign key is left pointing at a dropped table).
    """
    nbgrader = {"nbgrader": '%"submitted_at":"%'}
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("DROP INDEX IF EXISTS submissions_board")  # made again below, with state and origin
        for column in ("origin", "state", "reason", "code", "code_sha256", "attempts", "worker", "graded_at"):
            conn.exec_driver_sql(f"ALTER TABLE submissions ADD COLUMN {_ddl(conn, submissions.c[column])}")
        for column in ("payload", "score", "max_score", "kit_version"):
            conn.exec_driver_sql(f"ALTER TABLE submissions ALTER COLUMN {column} DROP NOT NULL")
        conn.execute(
            text(
                "UPDATE submissions SET state = 'graded', attempts = 0, graded_at = created_at, origin = "
                "CASE WHEN payload LIKE :nbgrader THEN 'verified' ELSE 'self-reported' END"
            ),
            nbgrader,
        )
        for column in ("origin", "state", "attempts"):
            conn.exec_driver_sql(f"ALTER TABLE submissions ALTER COLUMN {column} SET NOT NULL")
    else:
        old = ", ".join(c["name"] for c in inspect(conn).get_columns("submissions"))
        for table in ("submission_steps", "submissions"):  # the child first
            for index in inspect(conn).get_indexes(table):
                conn.exec_driver_sql(f"DROP INDEX {index['name']}")
            conn.exec_driver_sql(f"ALTER TABLE {table} RENAME TO {table}_v1")
        submissions.create(conn, checkfirst=False)
        submission_steps.create(conn, checkfirst=False)
        conn.execute(
            text(
                f"INSERT INTO submissions ({old}, origin, state, attempts, graded_at) SELECT {old}, "
                "CASE WHEN payload LIKE :nbgrader THEN 'verified' ELSE 'self-reported' END, 'graded', 0, created_at "
                "FROM submissions_v1"
            ),
            nbgrader,
        )
        conn.exec_driver_sql("INSERT INTO submission_steps SELECT * FROM submission_steps_v1")
        conn.exec_driver_sql("DROP TABLE submission_steps_v1")
        conn.exec_driver_sql("DROP TABLE submissions_v1")
    for index in submissions.indexes:
        index.create(conn, checkfirst=True)


def _ddl(conn, column) -> str:
    """A column's definition as this database writes it (for ALTER TABLE ... ADD COLUMN)."""
    from sqlalchemy.schema import CreateColumn

    return str(CreateColumn(column).compile(dialect=conn.dialect)).replace(" NOT NULL", "")


def _to_v3(conn) -> None:
    """v2 -> v3: submissions gain started_at (the queue view's "grading since")."""
    if "started_at" not in {c["name"] for c in inspect(conn).get_columns("submissions")}:
        conn.exec_driver_sql(f"ALTER TABLE submissions ADD COLUMN {_ddl(conn, submissions.c.started_at)}")


def _to_v4(conn) -> None:
    """v3 -> v4: submissions gain source (the folder's or notebook's name the code came from)."""
    if "source" not in {c["name"] for c in inspect(conn).get_columns("submissions")}:
        conn.exec_driver_sql(f"ALTER TABLE submissions ADD COLUMN {_ddl(conn, submissions.c.source)}")


# version -> the function that brings the schema from version-1 up to it.
MIGRATIONS = {2: _to_v2, 3: _to_v3, 4: _to_v4}


