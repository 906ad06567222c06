"""The store's tables as schema version 1 had them (before code submissions): for the migration test."""

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

SCHEMA_VERSION = 1
MAX_NAME_LENGTH = 64

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

