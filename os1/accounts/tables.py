"""Table definitions for accounts, sign-in sessions and API tokens (migration 0008 owns the real schema).

Every table keys on `user_id` with ON DELETE CASCADE: removing a user (or "delete everything") takes
their account, sessions and tokens with the rest of their data.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, MetaData, String, Table, Text

metadata = MetaData()

# The users table as seen from here (os1.storage.schema defines it for the stores), for the foreign keys.
users = Table("users", metadata, Column("id", String(128), primary_key=True), Column("created_at", DateTime(), nullable=False))

accounts = Table(
    "accounts",
    metadata,
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("username_key", String(64), nullable=False, unique=True),  # lower-cased: names are case-insensitive
    Column("password_hash", Text()),  # argon2id PHC string; null: a token-only account
    Column("admin", Boolean(), nullable=False, default=False),
    Column("disabled", Boolean(), nullable=False, default=False),
    Column("created_at", DateTime(), nullable=False),
    Column("updated_at", DateTime(), nullable=False),
)

sessions = Table(
    "auth_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the cookie's random token
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_hash", String(64), nullable=False),  # sha256 of the CSRF token bound to this session
    Column("created_at", DateTime(), nullable=False),
    Column("expires_at", DateTime(), nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the token: it is shown once
    Column("prefix", String(16), nullable=False),  # the first characters, to recognise a token in a list
    Column("created_at", DateTime(), nullable=False),
    Column("last_used_at", DateTime()),
)
