"""Table definitions for queries (SQLAlchemy Core). The migrations own the real schema."""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Float, ForeignKey, Integer, LargeBinary, MetaData, String, Table, Text

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
    Column("extracted_at", DateTime()),
    Column("origin", String(300)),
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

people = Table(
    "people",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("name_key", String(200), nullable=False),
    Column("relation", String(100)),
    Column("location", String(200)),
    Column("last_mentioned_at", DateTime()),
    Column("last_contact_at", DateTime()),
    Column("created_at", DateTime(), nullable=False),
    Column("updated_at", DateTime(), nullable=False),
)

facts = Table(
    "facts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("attribute", String(64), nullable=False),
    Column("value", Text(), nullable=False),
    Column("text", Text(), nullable=False),
    Column("slot", String(300)),
    Column("person_id", Integer, ForeignKey("people.id", ondelete="SET NULL")),
    Column("event_at", DateTime()),
    Column("valid_from", DateTime(), nullable=False),
    Column("valid_to", DateTime()),
    Column("superseded_by", Integer),
    Column("source_exchange_id", Integer, ForeignKey("messages.id", ondelete="CASCADE")),
    Column("importance", Float(), nullable=False, default=0.5),
    Column("created_at", DateTime(), nullable=False),
    Column("updated_at", DateTime(), nullable=False),
)

reflections = Table(
    "reflections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("text", Text(), nullable=False),
    Column("created_at", DateTime(), nullable=False),
)

reflection_sources = Table(
    "reflection_sources",
    metadata,
    Column("reflection_id", Integer, ForeignKey("reflections.id", ondelete="CASCADE"), primary_key=True),
    Column("item_kind", String(16), primary_key=True),
    Column("item_id", Integer, primary_key=True),
)

embeddings = Table(
    "embeddings",
    metadata,
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("item_kind", String(16), primary_key=True),
    Column("item_id", Integer, primary_key=True),
    Column("model", String(64), primary_key=True),
    Column("vector", LargeBinary(), nullable=False),
)

self_state = Table(
    "self_state",
    metadata,
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("mood", String(200)),
    Column("curious_about", String(300)),
    Column("persona_hash", String(64)),
    Column("updated_at", DateTime(), nullable=False),
)

beliefs = Table(
    "beliefs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("topic", String(200), nullable=False),
    Column("stance", Text(), nullable=False),
    Column("weight", Float(), nullable=False, default=0.5),
    Column("updated_at", DateTime(), nullable=False),
)

belief_changes = Table(
    "belief_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("topic", String(200), nullable=False),
    Column("old_stance", Text()),
    Column("new_stance", Text()),
    Column("old_weight", Float()),
    Column("new_weight", Float()),
    Column("reason", Text(), nullable=False),
    Column("journal_id", Integer),
    Column("created_at", DateTime(), nullable=False),
    Column("reverted_at", DateTime()),
)

journal = Table(
    "journal",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("text", Text(), nullable=False),
    Column("about_user", Text()),
    Column("about_self", Text()),
    Column("last_message_id", Integer),
    Column("created_at", DateTime(), nullable=False),
)
