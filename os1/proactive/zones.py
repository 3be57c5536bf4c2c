"""Each user's time zone: the one they chose (table `user_zones`), else the installation's (Settings.zone()).

Reminders, check-ins, quiet hours, nudges, mood days and the export all count days and hours in it, so
two people served by one process each get "9 am" on their own clock.

A zone is read often (every job, every turn) and changed rarely, so lookups are cached; an entry lives
`ttl` seconds, which is how long another process (a second app server, `os1 worker`) may keep using the
old zone after a change. The process that makes the change sees it at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..errors import InputError
from ..memory.store import _utc_naive, ensure_user
from ..storage import Database
from .tables import user_zones

CACHE_TTL = 60.0
"""Seconds a looked-up zone is trusted (a change made by another process shows up within this)."""


def parse_zone(name: str) -> ZoneInfo:
    """An IANA zone name ('Asia/Tokyo') as a zone; InputError for anything else."""
    clean = name.strip()
    try:
        # Bad names raise ValueError (a path, an empty name) or ZoneInfoNotFoundError (a KeyError).
        if not clean or len(clean) > 64:
            raise ValueError(clean)
        return ZoneInfo(clean)
    except (ValueError, OSError, ZoneInfoNotFoundError) as e:
        raise InputError(f"Unknown time zone {name!r}.",
                         hint="Use an IANA name such as Europe/Paris or America/New_York.") from e


def stored_zone_sync(conn: Connection, user_id: str) -> str | None:
    """The zone name the user chose, or None (never chosen, or an unknown name left by an older system)."""
    name = conn.execute(select(user_zones.c.zone).where(user_zones.c.user_id == user_id)).scalar()
    return str(name) if name else None


def user_zone_sync(conn: Connection, user_id: str, default: tzinfo) -> tzinfo:
    """The user's zone, read on `conn` (uncached): for code that has a connection and no `UserZones`."""
    name = stored_zone_sync(conn, user_id)
    return (_load(name) or default) if name else default


def _load(name: str) -> tzinfo | None:
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, ZoneInfoNotFoundError):  # the zone database lost a name: fall back, never fail a job
        return None


class UserZones:
    """Every user's zone for one database, cached."""

    def __init__(self, db: Database, default: tzinfo, *, ttl: float = CACHE_TTL,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.db = db
        self.default = default
        """The installation's zone, for users who have not chosen one."""
        self.ttl = ttl
        self._monotonic = monotonic
        self._cache: dict[str, tuple[tzinfo, float]] = {}

    def cached(self, user_id: str) -> tzinfo | None:
        hit = self._cache.get(user_id)
        if hit is None or self._monotonic() - hit[1] > self.ttl:
            return None
        return hit[0]

    def _keep(self, user_id: str, name: str | None) -> tzinfo:
        zone = (_load(name) if name else None) or self.default
        if len(self._cache) > 100_000:  # bounded: drop everything rather than track recency per user
            self._cache.clear()
        self._cache[user_id] = (zone, self._monotonic())
        return zone

    def sync(self, conn: Connection, user_id: str) -> tzinfo:
        """The user's zone inside a transaction already open (the planners, the single writer)."""
        zone = self.cached(user_id)
        return zone if zone is not None else self._keep(user_id, stored_zone_sync(conn, user_id))

    async def get(self, user_id: str) -> tzinfo:
        zone = self.cached(user_id)
        if zone is not None:
            return zone
        return self._keep(user_id, await self.db.read(lambda c: stored_zone_sync(c, user_id)))

    def get_blocking(self, user_id: str) -> tzinfo:
        """For synchronous callers: the cached zone, else one small primary-key read on this thread."""
        zone = self.cached(user_id)
        if zone is not None:
            return zone
        return self._keep(user_id, self.db.read_sync(lambda c: stored_zone_sync(c, user_id)))

    async def chosen(self, user_id: str) -> str | None:
        """The name the user chose (None: they use the installation's zone)."""
        return await self.db.read(lambda c: stored_zone_sync(c, user_id))

    async def set(self, user_id: str, name: str | None, *, at: datetime,
                  also: Callable[[Connection], object] | None = None) -> tzinfo:
        """Choose a zone by IANA name (InputError when unknown); None or '' goes back to the installation's.
        `also` runs in the same transaction."""
        zone = parse_zone(name) if name and name.strip() else None

        def tx(conn: Connection) -> None:
            if also is not None:
                also(conn)
            if zone is None:
                conn.execute(delete(user_zones).where(user_zones.c.user_id == user_id))
                return
            ensure_user(conn, user_id, at)
            values = {"zone": zone.key, "updated_at": _utc_naive(at)}
            ins = (sqlite_insert if conn.dialect.name == "sqlite" else pg_insert)(user_zones)
            conn.execute(ins.values(user_id=user_id, **values).on_conflict_do_update(
                index_elements=[user_zones.c.user_id], set_=values))

        await self.db.write(tx)
        return self._keep(user_id, zone.key if zone else None)
