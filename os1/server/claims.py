"""One reply at a time per user across every app server: PostgreSQL advisory locks.

The turn gate (gate.py) counts replies per process. With several `os1 serve` processes behind a load
balancer that does not keep a person on one server, two of their messages could be answered at once by
two servers, and the two replies would interleave in one conversation. On PostgreSQL each server also
claims the user cluster-wide for the length of the turn:

- one dedicated connection per server holds session-level advisory locks, one per user with a reply in
  progress (`pg_try_advisory_lock` on a 64-bit hash of the user id), and releases them when the turn ends;
- if the server dies, PostgreSQL ends its session and every lock it held goes with it: nothing to clean up;
- all calls for one server go through one thread in order, so a release always lands before the same
  server's next claim;
- if the lock connection fails, turns go ahead (logged): availability over a rare interleaving.

SQLite deployments are one process, so the per-process gate is the whole story there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("os1.server")

_CLAIM = text("SELECT pg_try_advisory_lock(hashtextextended(:key, 0))")
_RELEASE = text("SELECT pg_advisory_unlock(hashtextextended(:key, 0))")


def _key(user_id: str) -> str:
    return "os1-turn:" + user_id


class ClusterClaims:
    """Cluster-wide claims on users' turns for one app server (PostgreSQL only)."""

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("cluster claims need PostgreSQL")
        self._engine = engine
        self._conn: Connection | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="os1-claims")

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._conn

    def _claim(self, user_id: str) -> bool:
        try:
            return bool(self._connection().execute(_CLAIM, {"key": _key(user_id)}).scalar())
        except Exception as e:  # the lock connection broke: let the turn go ahead rather than refuse everyone
            log.warning("cluster turn claim failed (%s); answering without it", e)
            self._drop()
            return True

    def _release(self, user_id: str) -> None:
        try:
            self._connection().execute(_RELEASE, {"key": _key(user_id)})
        except Exception as e:  # a broken session released its locks already
            log.warning("cluster turn release failed (%s)", e)
            self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # already broken
                conn.close()

    async def claim(self, user_id: str, *, patience: float = 0.25) -> bool:
        """True when no other server has a reply for this user in progress (the claim is then held).

        A claim held elsewhere is asked for again for up to `patience` seconds: the other server releases
        a finished turn a moment after its last word, and the next message may already be here.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        pause = 0.02
        while True:
            if await loop.run_in_executor(self._thread, self._claim, user_id):
                return True
            if loop.time() + pause > deadline:
                return False
            await asyncio.sleep(pause)
            pause *= 2

    def release(self, user_id: str) -> None:
        """Give the claim back (queued in order behind this server's other calls; returns at once)."""
        self._thread.submit(self._release, user_id)

    def close(self) -> None:
        self._thread.submit(self._drop)
        self._thread.shutdown(wait=True)

    def held(self) -> Any:
        """For tests: how many advisory locks this server's session holds."""
        def count() -> int:
            return int(self._connection().execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")).scalar_one())
        return self._thread.submit(count).result()
