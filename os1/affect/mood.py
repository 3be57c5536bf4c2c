"""Mood over time: a daily summary of how the user has seemed, from the reading stored with each message."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from sqlalchemy import Connection, select

from ..proactive.zones import user_zone_sync
from ..storage import Database
from ..storage.schema import messages
from ..types import UserId

# A day-to-day change in average valence at least this large is worth noticing out loud. Valence is
# -1..1; 0.4 is "clearly lower/higher" on the readings' scale (e.g. from mostly sad to mostly neutral).
NOTICEABLE_SHIFT = 0.4


@dataclass(frozen=True, slots=True)
class DayMood:
    """How the user seemed on one day (in their time zone)."""

    day: date
    messages: int
    valence: float
    """Mean valence of the day's messages, -1..1."""
    arousal: float
    top: tuple[str, ...]
    """The most frequent emotions that day (neutral left out when others exist)."""

    def as_dict(self) -> dict[str, object]:
        return {"day": self.day.isoformat(), "messages": self.messages, "valence": round(self.valence, 3),
                "arousal": round(self.arousal, 3), "top": list(self.top)}


async def daily_moods(db: Database, user_id: UserId, *, days: int, now: datetime, zone: tzinfo) -> list[DayMood]:
    """One entry per day with messages, oldest first, over the last `days` days, counted in the user's time
    zone (the one they chose; `zone`, the installation's, when they chose none)."""
    return (await db.read(lambda c: _daily_moods(c, user_id, days=days, now=now, zone=zone)))[1]


def _daily_moods(conn: Connection, user_id: UserId, *, days: int, now: datetime,
                 zone: tzinfo) -> tuple[tzinfo, list[DayMood]]:
    zone = user_zone_sync(conn, user_id, zone)
    start_local = (now.astimezone(zone) - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    start_utc = start_local.astimezone(UTC).replace(tzinfo=None)
    q = (select(messages.c.created_at, messages.c.emotion)
         .where(messages.c.user_id == user_id, messages.c.role == "user", messages.c.created_at >= start_utc,
                messages.c.emotion.is_not(None))
         .order_by(messages.c.created_at))
    by_day: dict[date, list[dict[str, float | str]]] = {}
    for created, emo in conn.execute(q).all():
        if not isinstance(emo, dict):
            continue
        local = created.replace(tzinfo=UTC).astimezone(zone)
        if local > now.astimezone(zone):
            continue
        by_day.setdefault(local.date(), []).append(emo)
    out = []
    for day, emos in sorted(by_day.items()):
        labels = Counter(str(e.get("label", "neutral")) for e in emos)
        feeling = [lab for lab, _ in labels.most_common() if lab != "neutral"] or ["neutral"]
        valence = sum(float(e.get("valence", 0.0)) for e in emos) / len(emos)
        arousal = sum(float(e.get("arousal", 0.0)) for e in emos) / len(emos)
        out.append(DayMood(day, len(emos), valence, arousal, tuple(feeling[:3])))
    return zone, out


async def change_since_yesterday(db: Database, user_id: UserId, *, valence_now: float, now: datetime,
                                 zone: tzinfo) -> str | None:
    """A note for the prompt when today sounds clearly different from yesterday (days in the user's zone, as
    for `daily_moods`), else None."""
    zone, days = await db.read(lambda c: _daily_moods(c, user_id, days=2, now=now, zone=zone))
    yesterday = next((d for d in days if d.day == (now.astimezone(zone).date() - timedelta(days=1))), None)
    if yesterday is None or yesterday.messages < 2:
        return None
    shift = valence_now - yesterday.valence
    if shift >= NOTICEABLE_SHIFT:
        return (f"Yesterday they seemed low ({', '.join(yesterday.top)}); today they sound lighter. "
                "You might gently notice it.")
    if shift <= -NOTICEABLE_SHIFT:
        return (f"Yesterday they seemed {'well' if yesterday.valence > 0.2 else 'steadier'} "
                f"({', '.join(yesterday.top)}); today they sound heavier. Check in softly.")
    return None


def sparkline(values: list[float], lo: float = -1.0, hi: float = 1.0) -> str:
    """A one-line chart of values between lo and hi."""
    bars = "▁▂▃▄▅▆▇█"
    if not values:
        return ""
    span = hi - lo or 1.0
    return "".join(bars[min(len(bars) - 1, max(0, int((v - lo) / span * (len(bars) - 1) + 0.5)))] for v in values)
