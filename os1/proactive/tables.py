"""Tables for jobs, reminders, follow-ups, check-in settings and the inbox (migration 0005 owns the schema),
and each user's time zone (migration 0009)."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Integer, String, Table, Text

from ..storage.schema import metadata

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("key", String(200), nullable=False),
    Column("payload", JSON(), nullable=False),
    Column("run_at", DateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False, default=5),
    Column("locked_by", String(120)),
    Column("lease_until", DateTime()),
    Column("last_error", Text()),
    Column("note", String(300)),
    Column("created_at", DateTime(), nullable=False),
    Column("updated_at", DateTime(), nullable=False),
    Column("done_at", DateTime()),
)

reminders = Table(
    "reminders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("text", Text(), nullable=False),
    Column("said", Text()),
    Column("due_at", DateTime()),
    Column("rule", String(300)),
    Column("zone", String(64)),
    Column("status", String(16), nullable=False),
    Column("source_message_id", Integer, ForeignKey("messages.id", ondelete="SET NULL")),
    Column("fired_count", Integer, nullable=False, default=0),
    Column("last_fired_at", DateTime()),
    Column("created_at", DateTime(), nullable=False),
    Column("updated_at", DateTime(), nullable=False),
)

followups = Table(
    "followups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("about", String(300), nullable=False),
    Column("topic_key", String(200), nullable=False),
    Column("said", Text()),
    Column("event_at", DateTime(), nullable=False),
    Column("timed", Boolean(), nullable=False),
    Column("ask_at", DateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("source_message_id", Integer, ForeignKey("messages.id", ondelete="CASCADE")),
    Column("fact_id", Integer, ForeignKey("facts.id", ondelete="CASCADE")),
    Column("said_at", DateTime(), nullable=False),
    Column("created_at", DateTime(), nullable=False),
    Column("updated_at", DateTime(), nullable=False),
)

proactive_settings = Table(
    "proactive_settings",
    metadata,
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("checkins", Boolean(), nullable=False),
    Column("morning", String(5)),
    Column("evening", String(5)),
    Column("quiet_start", String(5), nullable=False),
    Column("quiet_end", String(5), nullable=False),
    Column("nudges", Boolean(), nullable=False),
    Column("snooze_until", DateTime()),
    Column("max_per_day", Integer, nullable=False),
    Column("muted_people", JSON()),
    Column("updated_at", DateTime(), nullable=False),
)

inbox = Table(
    "inbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("message_id", Integer, ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("why", Text(), nullable=False),
    Column("ref", String(64)),
    Column("job_id", Integer),
    Column("created_at", DateTime(), nullable=False),
    Column("read_at", DateTime()),
)

user_zones = Table(
    "user_zones",
    metadata,
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("zone", String(64), nullable=False),
    Column("updated_at", DateTime(), nullable=False),
)
