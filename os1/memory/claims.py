"""Who is learning about whom: one process at a time per user, so no message is learned from twice.

Learning about a user (facts from a message, a reflection, a journal entry) reads and then writes that
user's memory over several model calls; two processes doing it at once would extract the same facts
twice or reflect twice. Several app servers (OS1_BACKGROUND=inline) or several `os1 worker` processes
may share one PostgreSQL database, so each takes a per-user claim first.

On PostgreSQL the claim is a session-level advisory lock (`pg_try_advisory_lock`) on a connection this
process keeps for it: never waited for (a busy user is skipped, another taken), and released by the
server itself if the process dies, so a crashed worker leaves nothing locked and no lease to expire.
SQLite is served by one process; there the claim is an in-process set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy import Connection, text

from ..storage import Database

log = logging.getLogger("os1.memory")

LOCK_CLASS = 0x0510
"""The first key of OS1's learning advisory locks (the second is the hashed user id); other lock users differ."""


class UserClaims:
    """Per-user claims for learning; `claim(user)` yields whether this process holds the user."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._held: set[str] = set()
        self._conn: Connection | None = None
        self._use = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def claim(self, user_id: str) -> AsyncIterator[bool]:
        if user_id in self._held:
            yield False
            return
        if not await self._lock(user_id):
            yield False
            return
        self._held.add(user_id)
        try:
            yield True
        finally:
            self._held.discard(user_id)
            await self._unlock(user_id)

    async def _lock(self, user_id: str) -> bool:
        if self.db.dialect != "postgresql":
            return True
        async with self._use:
            try:
                return bool(await asyncio.to_thread(self._run, "SELECT pg_try_advisory_lock(:c, hashtext(:u))", user_id))
            except Exception as e:  # the database went away: claim nothing now, try again later
                log.warning("claiming user %s for learning failed: %s", user_id, e)
                self._drop()
                return False

    async def _unlock(self, user_id: str) -> None:
        if self.db.dialect != "postgresql":
            return
        async with self._use:
            try:
                await asyncio.to_thread(self._run, "SELECT pg_advisory_unlock(:c, hashtext(:u))", user_id)
            except Exception:  # the connection is gone, and its locks with it
                self._drop()

    def _run(self, sql: str, user_id: str) -> object:
        if self._conn is None or self._conn.closed:
            self._conn = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._conn.execute(text(sql), {"c": LOCK_CLASS, "u": user_id}).scalar_one()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def close(self) -> None:
        """Close the lock connection (releasing any claim it still holds)."""
        self._drop()
