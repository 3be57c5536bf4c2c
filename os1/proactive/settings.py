"""Each user's say over proactive messages: check-in times, quiet hours, snooze, nudges, a daily limit.

`hold` is the one gate every unsolicited message (check-in, follow-up, nudge) passes: it says whether
it may go now or when it may. Reminders are not held: the user asked for that time.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..errors import InputError
from ..memory.store import _aware, _utc_naive, ensure_user
from ..storage import Database
from .inbox import UNSOLICITED, count_since, last_delivery, recent_deliveries
from .tables import proactive_settings

MIN_GAP = timedelta(hours=3)
"""At least this long between two unsolicited messages, whatever the daily limit: never a barrage."""


@dataclass(frozen=True, slots=True)
class CheckinSettings:
    """What a user chose (or the defaults)."""

    checkins: bool = True
    """Morning and evening check-ins. They are sent only when there is something of yours to mention."""
    morning: time | None = time(8, 30)
    evening: time | None = time(20, 0)
    quiet_start: time = time(22, 0)
    quiet_end: time = time(8, 0)
    """Nothing unsolicited between these (reminders you set still come at the time you chose)."""
    nudges: bool = True
    """Gentle suggestions to get in touch with people you haven't mentioned in a while."""
    snooze_until: datetime | None = None
    max_per_day: int = 3
    """Unsolicited messages in any 24 hours, at most."""
    muted_people: tuple[str, ...] = ()
    """People (name keys) never to nudge about."""

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("morning", "evening"):
            d[k] = _hhmm(d[k]) if d[k] is not None else None
        d["quiet_hours"] = {"start": _hhmm(self.quiet_start), "end": _hhmm(self.quiet_end)}
        del d["quiet_start"], d["quiet_end"]
        d["snooze_until"] = self.snooze_until.isoformat() if self.snooze_until else None
        d["muted_people"] = list(self.muted_people)
        return d


def _hhmm(t: time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def parse_clock(text: str) -> time:
    """'08:30', '8:30', '8am', '9 pm', '21' -> a time; InputError otherwise."""
    t = text.strip().lower().replace(".", "")
    m = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?", t)
    if m is None:
        raise InputError(f"{text!r} is not a time of day.", hint="Use 24-hour HH:MM (08:30, 21:00) or 8am / 9:30pm.")
    h, mi, ap = int(m[1]), int(m[2] or 0), m[3]
    if ap:
        if not 1 <= h <= 12:
            raise InputError(f"{text!r} is not a time of day.", hint="With am/pm the hour is 1 to 12.")
        h = h % 12 + (12 if ap == "pm" else 0)
    if h > 23 or mi > 59:
        raise InputError(f"{text!r} is not a time of day.", hint="Hours 0-23, minutes 0-59.")
    return time(h, mi)


def in_quiet_hours(s: CheckinSettings, local: datetime) -> bool:
    t = local.time().replace(tzinfo=None)
    start, end = s.quiet_start, s.quiet_end
    if start == end:
        return False
    return start <= t < end if start < end else (t >= start or t < end)


def quiet_ends(s: CheckinSettings, local: datetime, zone: tzinfo) -> datetime:
    """The end of the quiet hours `local` falls in."""
    from .when import localize

    day = local.date()
    if s.quiet_start > s.quiet_end and local.time().replace(tzinfo=None) >= s.quiet_start:
        day += timedelta(days=1)
    return localize(datetime.combine(day, s.quiet_end), zone)


def hold(conn: Connection, user_id: str, s: CheckinSettings, now: datetime, zone: tzinfo) -> tuple[datetime, str] | None:
    """None if an unsolicited message may go now; else (when it may, why not now)."""
    local = now.astimezone(zone)
    if s.snooze_until is not None and now < s.snooze_until:
        return s.snooze_until, "snoozed"
    if in_quiet_hours(s, local):
        return quiet_ends(s, local, zone), "quiet hours"
    last = last_delivery(conn, user_id, UNSOLICITED)
    if last is not None and now - last < MIN_GAP:
        return last + MIN_GAP, "too soon after the last one"
    if count_since(conn, user_id, UNSOLICITED, now - timedelta(days=1)) >= s.max_per_day:
        # When enough of the last day's messages have aged out to make room for one more.
        times = recent_deliveries(conn, user_id, UNSOLICITED, now - timedelta(days=1))
        room = times[len(times) - s.max_per_day] if 0 < s.max_per_day <= len(times) else now + timedelta(hours=6)
        return max(room + timedelta(days=1), now + timedelta(minutes=1)), "daily limit reached"
    return None


def _row(row: Any) -> CheckinSettings:
    return CheckinSettings(
        checkins=bool(row.checkins), morning=parse_clock(row.morning) if row.morning else None,
        evening=parse_clock(row.evening) if row.evening else None, quiet_start=parse_clock(row.quiet_start),
        quiet_end=parse_clock(row.quiet_end), nudges=bool(row.nudges),
        snooze_until=_aware(row.snooze_until) if row.snooze_until else None, max_per_day=row.max_per_day,
        muted_people=tuple(row.muted_people or ()))


def settings_sync(conn: Connection, user_id: str) -> CheckinSettings:
    row = conn.execute(select(proactive_settings).where(proactive_settings.c.user_id == user_id)).first()
    return _row(row) if row is not None else CheckinSettings()


class SettingsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: str) -> CheckinSettings:
        return await self.db.read(lambda c: settings_sync(c, user_id))

    async def update(self, user_id: str, *, at: datetime, **changes: Any) -> CheckinSettings:
        """Change some settings (unknown names or bad values: InputError); returns the result."""
        unknown = set(changes) - set(CheckinSettings.__dataclass_fields__)
        if unknown:
            raise InputError(f"Unknown setting {sorted(unknown)[0]!r}.")
        if "max_per_day" in changes and not 0 <= int(changes["max_per_day"]) <= 24:
            raise InputError("max_per_day must be between 0 and 24.")

        def tx(conn: Connection) -> CheckinSettings:
            s = replace(settings_sync(conn, user_id), **changes)
            values = dict(
                checkins=s.checkins, morning=_hhmm(s.morning) if s.morning else None,
                evening=_hhmm(s.evening) if s.evening else None, quiet_start=_hhmm(s.quiet_start),
                quiet_end=_hhmm(s.quiet_end), nudges=s.nudges,
                snooze_until=_utc_naive(s.snooze_until) if s.snooze_until else None, max_per_day=int(s.max_per_day),
                muted_people=list(s.muted_people), updated_at=_utc_naive(at))
            ensure_user(conn, user_id, at)
            ins = (sqlite_insert if conn.dialect.name == "sqlite" else pg_insert)(proactive_settings)
            conn.execute(ins.values(user_id=user_id, **values).on_conflict_do_update(
                index_elements=[proactive_settings.c.user_id], set_=values))
            return s

        return await self.db.write(tx)
