"""Fan-out: hear about proactive deliveries made by any process, so each app server can push its own sockets.

On PostgreSQL a trigger (migration 0010) runs `pg_notify('os1_inbox', 'ID:USER_ID')` in the transaction
that delivers, so the notification goes out when the delivery commits and never for one rolled back.
Each app server LISTENs on one connection of its own (psycopg 3's async notifications) and reconnects
with backoff when it drops; notifications sent while it was away are lost, so every (re)connect asks the
hub to catch up from the table, and the hub keeps a slow poll as a safety net besides.

SQLite has no LISTEN/NOTIFY: one process serves a SQLite database, and it wakes its own hub in-process.
Redis pub/sub would add a service without adding anything here: a multi-server deployment already runs
PostgreSQL, and NOTIFY rides on the delivering transaction, which a publish to Redis cannot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from .storage import Database

log = logging.getLogger("os1.fanout")

CHANNEL = "os1_inbox"
RECONNECT_MAX_SECONDS = 30.0


class DeliveryFeed(Protocol):
    """Calls `delivered(inbox_id, user_id)` for each delivery any process commits, until cancelled."""

    async def run(self, delivered: Callable[[int, str], None], connected: Callable[[], None]) -> None: ...


def parse_payload(payload: str) -> tuple[int, str] | None:
    """`ID:USER_ID` (a user id may itself hold colons); None for anything else."""
    head, sep, user = payload.partition(":")
    if not sep or not head.isdigit() or not user:
        return None
    return int(head), user


class PostgresFeed:
    """LISTEN os1_inbox on a dedicated connection, reconnecting with backoff."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.connected = False

    async def run(self, delivered: Callable[[int, str], None], connected: Callable[[], None]) -> None:
        import psycopg

        backoff = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.connected, backoff = True, 0.5
                    connected()  # anything delivered while not listening is found by a catch-up read
                    async for note in conn.notifies():
                        parsed = parse_payload(note.payload)
                        if parsed is not None:
                            delivered(*parsed)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the server restarted, the network dropped: listen again shortly
                log.warning("listening for deliveries failed (%s: %s); retrying in %.1f s", type(e).__name__, e, backoff)
            finally:
                self.connected = False
            await asyncio.sleep(backoff)
            backoff = min(RECONNECT_MAX_SECONDS, backoff * 2)


def feed_for(db: Database) -> DeliveryFeed | None:
    """The feed for this database: NOTIFY on PostgreSQL; none on SQLite (in-process wake only)."""
    if db.dialect != "postgresql":
        return None
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    return PostgresFeed(url)
