"""The database engine: SQLite (WAL, one writer thread) or PostgreSQL, behind one small class.

Writes go through one queue into one thread and reads run freely, as datasette does: SQLite allows
one writer at a time, and serialising writes in-process avoids `database is locked` under load.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from enum import Enum
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..errors import InputError, OS1Error, StoreError
from .migrate import upgrade

T = TypeVar("T")


class _Auto(Enum):
    AUTO = "auto"


Auto = Literal[_Auto.AUTO]
AUTO: Final = _Auto.AUTO
"""Find the passphrase of an encrypted database the usual way (environment, keyring, prompt)."""


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Python's sqlite3 (before 3.12's `autocommit`) opens transactions only before INSERT/UPDATE/DELETE,
    # so DDL ran in autocommit: a migration killed half-way left half a schema behind. Take transaction
    # control away from the driver; `_begin` below emits BEGIN itself (SQLAlchemy's documented recipe).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: an acknowledged write survives a power cut as well as kill -9.
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    # Freed pages are zeroed, so forgotten or deleted text does not linger in the file's free space.
    cur.execute("PRAGMA secure_delete=ON")
    cur.close()


def _begin(conn: Connection) -> None:
    # Writes take the write lock up front (BEGIN IMMEDIATE waits on busy_timeout) instead of failing with
    # SQLITE_BUSY when another process wrote between this transaction's first read and its first write.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("os1_write") else "BEGIN")


def _too_large(e: OverflowError) -> InputError:
    # SQLite stores 64-bit integers; a bigger number can only have come from outside (an id in a URL, say).
    return InputError(f"A number is too large ({e}).", hint="Ids and counts are below 9,223,372,036,854,775,808.")


class Database:
    """An engine plus a single writer thread. Use `write` for anything that changes data."""

    def __init__(self, engine: Engine, *, encrypted: bool = False) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.encrypted = encrypted
        """Whether this is a SQLCipher-encrypted SQLite file (os1.data.crypto)."""
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="os1-writer")

    # Sync API (the writer thread, scripts, tests) ----------------------------------------------------
    def write_sync(self, fn: Callable[[Connection], T]) -> T:
        """Run `fn` in one transaction, committed when it returns."""
        try:
            with self.engine.connect() as conn:
                conn.execution_options(os1_write=True)
                with conn.begin():
                    return fn(conn)
        except SQLAlchemyError as e:
            raise StoreError(f"Database write failed: {e.__class__.__name__}: {e}") from e
        except OverflowError as e:
            raise _too_large(e) from e

    def read_sync(self, fn: Callable[[Connection], T]) -> T:
        try:
            with self.engine.connect() as conn:
                return fn(conn)
        except SQLAlchemyError as e:
            raise StoreError(f"Database read failed: {e.__class__.__name__}: {e}") from e
        except OverflowError as e:
            raise _too_large(e) from e

    # Async API ---------------------------------------------------------------------------------------
    async def write(self, fn: Callable[[Connection], T]) -> T:
        """Queue `fn` for the single writer; resolves once committed."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self.write_sync, fn)

    async def read(self, fn: Callable[[Connection], T]) -> T:
        return await asyncio.to_thread(self.read_sync, fn)

    def maintain_sync(self, statements: Sequence[str]) -> list[Any]:
        """Run statements that cannot run inside a transaction (VACUUM, checkpoints); first row of each."""
        results: list[Any] = []
        try:
            if self.dialect == "sqlite":
                raw = self.engine.raw_connection()  # the driver is in autocommit mode (see _sqlite_pragmas)
                try:
                    cur = raw.cursor()
                    for sql in statements:
                        cur.execute(sql)
                        results.append(cur.fetchone() if cur.description else None)
                    cur.close()
                finally:
                    raw.close()
            else:
                with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    for sql in statements:
                        res = conn.exec_driver_sql(sql)
                        results.append(res.first() if res.returns_rows else None)
        except (SQLAlchemyError, DBAPIError) as e:
            raise StoreError(f"Database maintenance failed: {e.__class__.__name__}: {e}") from e
        return results

    async def maintain(self, statements: Sequence[str]) -> list[Any]:
        """`maintain_sync` on the writer thread, so it never races a write."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self.maintain_sync, statements)

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


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL (None for other databases and in-memory SQLite)."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url.removeprefix("sqlite:///").split("?", 1)[0])
    return None


def _engine(url: str, passphrase: str | None | Auto) -> tuple[Engine, bool]:
    """The engine, and whether it is an encrypted SQLite file."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True), False
    path = sqlite_path(url)
    key = None
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        from ..data.crypto import encrypted_engine, resolve_passphrase

        key = resolve_passphrase(path, passphrase)
    engine = encrypted_engine(path, key) if path is not None and key is not None else create_engine(url)
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _begin)
    return engine, key is not None


def open_database(url: str, *, migrate: bool = True, passphrase: str | None | Auto = AUTO) -> Database:
    """Open (creating if needed) the database at `url` and bring its schema up to date.

    An encrypted SQLite file needs its passphrase: given here, else OS1_PASSPHRASE, the OS keyring or a
    prompt (os1.data.crypto). `passphrase=None` opens a plain file only."""
    try:
        engine, encrypted = _engine(url, passphrase)
    except OS1Error:
        raise
    except Exception as e:
        raise StoreError(f"Cannot open database {url!r}: {e}") from e
    db = Database(engine, encrypted=encrypted)
    if engine.dialect.name == "sqlite":
        from ..data.crypto import check_key

        try:
            check_key(db)
        except OS1Error:
            db.close()
            raise
    if migrate:
        try:
            upgrade(engine)
        except SQLAlchemyError as e:
            raise StoreError(f"Database migration failed: {e}") from e
    return db
