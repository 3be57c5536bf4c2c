"""Table definitions for queries (SQLAlchemy Core). The migrations own the real schema."""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Float, ForeignKey, Integer, MetaData, String, Table, Text

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("created_at", DateTime(), nullable=False),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("text", Text(), nullable=False),
    Column("created_at", DateTime(), nullable=False),
    Column("session_id", String(64)),
    Column("emotion", JSON()),
    Column("importance", Float(), nullable=False, default=0.0),
    Column("notes", Text()),
)

profiles = Table(
    "profiles",
    metadata,
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("user_name", String(200)),
    Column("companion_name", String(200)),
    Column("stage", String(32), nullable=False, default="new"),
    Column("questions_asked", Integer, nullable=False, default=0),
    Column("timezone", String(64)),
    Column("updated_at", DateTime(), nullable=False),
)
