"""The store's tables as schema version 1 had them (before code submissions): for the migration test.

Only `submissions` changed in version 2; the other tables are today's, copied into this metadata.
"""

from sqlalchemy import (
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

from grader.board import schema

metadata = MetaData()
schema_version = schema.schema_version.to_metadata(metadata)
members = schema.members.to_metadata(metadata)
submission_steps = schema.submission_steps.to_metadata(metadata)

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
