"""Tables for tool accounts, pending actions, letters and their suggestions (migration 0007 owns the schema).

No secret is ever stored here: an account row holds its settings and a reference into the secret store
(the OS keyring or the encrypted secrets file, os1/tools/credentials.py).
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, String, Table, Text, UniqueConstraint

from ..storage.schema import metadata

tool_accounts = Table(
    "tool_accounts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # mail | caldav | ics
    Column("name", String(100), nullable=False),
    Column("settings", JSON(), nullable=False),  # hosts, ports, user name, address, URL, file: never a secret
    Column("secret_ref", String(200)),  # key in the secret store, or NULL (an .ics file needs none)
    Column("created_at", DateTime(), nullable=False),
    Column("updated_at", DateTime(), nullable=False),
    UniqueConstraint("user_id", "name", name="ux_tool_accounts_name"),
)

tool_actions = Table(
    "tool_actions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("tool", String(64), nullable=False),
    Column("risk", String(16), nullable=False),
    Column("summary", Text(), nullable=False),  # exactly what will happen, as shown to the user
    Column("payload", JSON(), nullable=False),  # everything needed to carry it out, fixed when proposed
    Column("warnings", JSON(), nullable=False),
    Column("status", String(16), nullable=False),  # pending | running | done | failed | declined | expired
    Column("result", Text()),
    Column("requested", Text()),  # the user's own words that asked for it
    Column("created_at", DateTime(), nullable=False),
    Column("expires_at", DateTime(), nullable=False),
    Column("decided_at", DateTime()),
)

letters = Table(
    "letters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(300), nullable=False),
    Column("recipient", String(300)),
    Column("body", Text(), nullable=False),
    Column("status", String(16), nullable=False),  # draft | final
    Column("created_at", DateTime(), nullable=False),
    Column("updated_at", DateTime(), nullable=False),
)

letter_suggestions = Table(
    "letter_suggestions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("letter_id", Integer, ForeignKey("letters.id", ondelete="CASCADE"), nullable=False),
    Column("start", Integer, nullable=False),  # character offsets into the body, [start, end)
    Column("end", Integer, nullable=False),
    Column("original", Text(), nullable=False),
    Column("replacement", Text(), nullable=False),
    Column("reason", Text(), nullable=False),
    Column("kind", String(16), nullable=False),  # spelling | grammar | style | tone
    Column("source", String(16), nullable=False),  # rules | model
    Column("status", String(16), nullable=False),  # open | accepted | rejected | stale
    Column("created_at", DateTime(), nullable=False),
    Column("decided_at", DateTime()),
)
