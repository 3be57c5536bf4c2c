"""Schema migrations with Alembic, run programmatically at start-up."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 4_051_001  # a fixed advisory-lock key of our own, for schema migrations


def _config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply pending migrations (each in its own transaction, so a kill mid-way leaves no half state)."""
    if revision == "head" and current_revision(engine) == head_revision(engine):
        return
    if engine.dialect.name != "postgresql":
        command.upgrade(_config(engine), revision)  # SQLite: one process owns the file's migrations
        return
    # Several servers and workers starting together on a new database: one migrates, the others wait on this
    # lock and then find the schema at head (Alembic reads the current revision after the lock is taken).
    with engine.connect() as lock:
        lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            command.upgrade(_config(engine), revision)
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            lock.commit()
