"""Calendar events as OS1 handles them, to and from iCalendar (RFC 5545) with the `icalendar` library."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import icalendar

from ..suspicion import Suspicion, inspect

PRODID = "-//OS1//os1 calendar//EN"
REMINDER_PROP = "X-OS1-REMINDER"
"""The id of the OS1 reminder made for an event, so moving or deleting the event moves or cancels it."""


@dataclass(frozen=True, slots=True)
class CalEvent:
    uid: str
    summary: str
    start: datetime
    """Aware. All-day events start at local midnight."""
    end: datetime
    all_day: bool = False
    location: str = ""
    description: str = ""
    organizer: str = ""
    recurring: bool = False
    reminder_id: int | None = None

    @property
    def suspicion(self) -> Suspicion:
        """Invitations come from other people: their text is checked like mail."""
        return inspect(f"{self.summary}\n{self.location}\n{self.description}", sender=self.organizer)

    def as_dict(self) -> dict[str, Any]:
        s = self.suspicion
        return {"uid": self.uid, "summary": self.summary, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "all_day": self.all_day, "location": self.location, "description": self.description,
                "organizer": self.organizer, "recurring": self.recurring, "reminder_id": self.reminder_id,
                "instructs_ai": s.instructs_ai, "phishing": s.phishing, "warnings": list(s.reasons)}

    def line(self, zone: tzinfo) -> str:
        start = self.start.astimezone(zone)
        when = f"{start:%a %d %b} (all day)" if self.all_day else f"{start:%a %d %b %H:%M}–{self.end.astimezone(zone):%H:%M}"
        where = f" at {self.location}" if self.location else ""
        return f"[event {self.uid[:12]}] {when}: {self.summary}{where}" + (" (repeats)" if self.recurring else "")


def new_uid() -> str:
    return f"{uuid.uuid4()}@os1"


def _aware(v: date | datetime, zone: tzinfo) -> tuple[datetime, bool]:
    if isinstance(v, datetime):
        return (v if v.tzinfo else v.replace(tzinfo=zone)), False
    return datetime.combine(v, time(0), zone), True


def from_component(c: Any, zone: tzinfo) -> CalEvent:
    """A VEVENT component (icalendar) as a CalEvent, times made aware in `zone` where floating."""
    start, all_day = _aware(c.decoded("DTSTART"), zone)
    if c.get("DTEND") is not None:
        end, _ = _aware(c.decoded("DTEND"), zone)
    elif c.get("DURATION") is not None:
        end = start + c.decoded("DURATION")
    else:
        end = start + (timedelta(days=1) if all_day else timedelta(hours=1))
    reminder = c.get(REMINDER_PROP)
    organizer = str(c.get("ORGANIZER") or "").removeprefix("mailto:").removeprefix("MAILTO:")
    return CalEvent(uid=str(c.get("UID") or new_uid()), summary=str(c.get("SUMMARY") or "(untitled)"), start=start,
                    end=end, all_day=all_day, location=str(c.get("LOCATION") or ""),
                    description=str(c.get("DESCRIPTION") or ""), organizer=organizer,
                    recurring=c.get("RRULE") is not None or c.get("RDATE") is not None,
                    reminder_id=int(str(reminder)) if reminder and str(reminder).isdigit() else None)


def to_component(e: CalEvent, now: datetime) -> icalendar.Event:
    ev = icalendar.Event()
    ev.add("UID", e.uid)
    ev.add("DTSTAMP", now.astimezone(UTC))
    ev.add("SUMMARY", e.summary)
    if e.all_day:
        ev.add("DTSTART", e.start.date())
        ev.add("DTEND", max(e.end.date(), e.start.date() + timedelta(days=1)))
    else:
        ev.add("DTSTART", e.start)
        ev.add("DTEND", e.end)
    if e.location:
        ev.add("LOCATION", e.location)
    if e.description:
        ev.add("DESCRIPTION", e.description)
    if e.reminder_id is not None:
        ev.add(REMINDER_PROP, str(e.reminder_id))
    return ev


def retime(c: Any, start: datetime, end: datetime, now: datetime, *, all_day: bool = False) -> None:
    """Move a VEVENT component in place (DTSTART/DTEND, a new DTSTAMP, SEQUENCE + 1)."""
    for prop in ("DTSTART", "DTEND", "DURATION", "DTSTAMP"):
        if prop in c:
            del c[prop]
    c.add("DTSTART", start.date() if all_day else start)
    c.add("DTEND", end.date() if all_day else end)
    c.add("DTSTAMP", now.astimezone(UTC))
    seq = int(str(c.get("SEQUENCE") or 0))
    if "SEQUENCE" in c:
        del c["SEQUENCE"]
    c.add("SEQUENCE", seq + 1)


def set_reminder(c: Any, reminder_id: int | None) -> None:
    if REMINDER_PROP in c:
        del c[REMINDER_PROP]
    if reminder_id is not None:
        c.add(REMINDER_PROP, str(reminder_id))


def with_reminder(e: CalEvent, reminder_id: int | None) -> CalEvent:
    return replace(e, reminder_id=reminder_id)


def new_calendar() -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    return cal
