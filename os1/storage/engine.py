"""The database engine: SQLite (WAL, one writer thread) or PostgreSQL, behind one small class.

Writes go through one queue into one thread and reads run freely, as datasette does: SQLite allows
one writer at a time, and serialising writes in-process avoids `database is locked` under load.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StoreError
from .migrate import upgrade

T = TypeVar("T")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: an acknowledged write survives a power cut as well as kill -9.
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


class Database:
    """An engine plus a single writer thread. Use `write` for anything that changes data."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="os1-writer")

    # Sync API (the writer thread, scripts, tests) ----------------------------------------------------
    def write_sync(self, fn: Callable[[Connection], T]) -> T:
        """Run `fn` in one transaction, committed when it returns."""
        try:
            with self.engine.begin() as conn:
                return fn(conn)
        except SQLAlchemyError as e:
            raise StoreError(f"Database write failed: {e.__class__.__name__}: {e}") from e

    def read_sync(self, fn: Callable[[Connection], T]) -> T:
        try:
            with self.engine.connect() as conn:
                return fn(conn)
        except SQLAlchemyError as e:
            raise StoreError(f"Database read failed: {e.__class__.__name__}: {e}") from e

    # Async API ---------------------------------------------------------------------------------------
    async def write(self, fn: Callable[[Connection], T]) -> T:
        """Queue `fn` for the single writer; resolves once committed."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self.write_sync, fn)

    async def read(self, fn: Callable[[Connection], T]) -> T:
        return await asyncio.to_thread(self.read_sync, fn)

    def check(self) -> str:
        """A one-line health check: the server version, or raises StoreError."""
        def q(c: Connection) -> str:
            if self.dialect == "sqlite":
                return "SQLite " + str(c.execute(text("select sqlite_version()")).scalar_one())
            return str(c.execute(text("select version()")).scalar_one()).split(",")[0]
        return self.read_sync(q)

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        self.engine.dispose()


def open_database(url: str, *, migrate: bool = True) -> Database:
    """Open (creating if needed) the database at `url` and bring its schema up to date."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
    except Exception as e:
        raise StoreError(f"Cannot open database {url!r}: {e}") from e
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    db = Database(engine)
    if migrate:
        try:
            upgrade(engine)
        except SQLAlchemyError as e:
            raise StoreError(f"Database migration failed: {e}") from e
    return db
