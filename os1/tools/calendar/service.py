"""A user's calendar: their CalDAV or .ics account, else a local calendar file in the data dir; and the
link to OS1's reminders (an event added here gets a reminder; moving or deleting it moves or cancels that)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Protocol

from ...errors import InputError
from ...proactive.when import find_when, localize
from ..accounts import Accounts
from .backends import Backend, CalDav, IcsFile
from .events import CalEvent, new_uid

LOCAL_FILE = "calendar.ics"
SEARCH_BACK = timedelta(days=14)
SEARCH_AHEAD = timedelta(days=120)


class EventHooks(Protocol):
    """What happens around an event elsewhere in OS1 (reminders and follow-ups, os1/proactive)."""

    async def added(self, user_id: str, event: CalEvent, now: datetime, *, remind_minutes: int,
                    follow_up: bool) -> int | None:
        """Returns the id of the reminder made for it, if any."""
        ...

    async def moved(self, user_id: str, old: CalEvent, new: CalEvent, now: datetime) -> None: ...
    async def removed(self, user_id: str, event: CalEvent, now: datetime) -> None: ...


def when_from_words(words: str, now: datetime) -> datetime | None:
    """'Friday at 1', 'tomorrow 9am', or ISO-8601 ('2026-12-01T15:00'); aware, in `now`'s zone."""
    text = words.strip()
    try:
        at = datetime.fromisoformat(text)
        return at if at.tzinfo else at.replace(tzinfo=now.tzinfo)
    except ValueError:
        pass
    found = find_when(text, now)
    return found[0].at if found is not None else None


def span(words: str, now: datetime) -> tuple[datetime, datetime, str]:
    """The range an agenda question means: today, tomorrow, this/next week, the weekend, or a named day."""
    zone = now.tzinfo
    assert zone is not None
    w = words.lower().strip()
    day0 = localize(datetime.combine(now.date(), time(0)), zone)
    if w in ("", "today", "my day", "the day"):
        return day0, day0 + timedelta(days=1), "today"
    if "tomorrow" in w:
        return day0 + timedelta(days=1), day0 + timedelta(days=2), "tomorrow"
    if "weekend" in w:
        sat = day0 + timedelta(days=(5 - now.weekday()) % 7)
        return sat, sat + timedelta(days=2), "this weekend"
    if "next week" in w:
        monday = day0 + timedelta(days=7 - now.weekday())
        return monday, monday + timedelta(days=7), "next week"
    if "week" in w:
        return day0, day0 + timedelta(days=7), "the next 7 days"
    if "month" in w:
        return day0, day0 + timedelta(days=31), "the next 31 days"
    at = when_from_words(words, now)
    if at is not None:
        d = localize(datetime.combine(at.astimezone(zone).date(), time(0)), zone)
        return d, d + timedelta(days=1), f"{d:%A %d %B}"
    return day0, day0 + timedelta(days=7), "the next 7 days"


class Calendar:
    """Calendars for every user of one installation."""

    def __init__(self, accounts: Accounts, zone_for: Callable[[str], tzinfo], *, home: Path | None,
                 hooks: EventHooks | None = None) -> None:
        self.accounts = accounts
        self.zone_for = zone_for
        self.home = home
        self.hooks = hooks

    async def backend(self, user_id: str) -> Backend:
        zone = self.zone_for(user_id)
        account = await self.accounts.first(user_id, "caldav", "ics")
        if account is not None and account.kind == "caldav":
            s = account.settings
            return CalDav(str(s["url"]), str(s["username"]), self.accounts.secret(account) or "", zone,
                          calendar=s.get("calendar"), name=account.name)
        if account is not None:
            return IcsFile(Path(str(account.settings["path"])), zone, account.name)
        if self.home is None:
            raise InputError("No calendar is connected.", hint="Connect one with `os1 calendar connect`.")
        safe = re.sub(r"[^\w.-]", "_", user_id)
        path = self.home / LOCAL_FILE if safe == "local" else self.home / "calendars" / f"{safe}.ics"
        return IcsFile(path, zone, "local")

    async def between(self, user_id: str, start: datetime, end: datetime) -> list[CalEvent]:
        b = await self.backend(user_id)
        return await asyncio.to_thread(b.events, start, end)

    async def find(self, user_id: str, which: str, now: datetime) -> CalEvent:
        """An event by (a prefix of) its id, else by the words of its title, the nearest upcoming first."""
        b = await self.backend(user_id)
        which = which.strip().removeprefix("event").strip()
        if re.fullmatch(r"[\w.@-]{6,}", which):
            by_id = await asyncio.to_thread(b.get, which)
            if by_id is not None:
                return by_id
        words = [w for w in re.findall(r"\w+", which.lower()) if len(w) > 2 and w not in ("the", "my", "our", "with")]
        events = await asyncio.to_thread(b.events, now - SEARCH_BACK, now + SEARCH_AHEAD)
        scored = [(sum(w in e.summary.lower() for w in words), e) for e in events]
        best = [(s, e) for s, e in scored if s > 0]
        if not best:
            raise InputError(f"I found no event matching {which!r}.", hint="`os1 calendar week` lists events.")
        top = max(s for s, _ in best)
        upcoming = sorted((e for s, e in best if s == top), key=lambda e: (e.start < now, abs((e.start - now).total_seconds())))
        return upcoming[0]

    async def add(self, user_id: str, summary: str, start: datetime, *, now: datetime, minutes: int = 60,
                  all_day: bool = False, location: str = "", description: str = "", remind_minutes: int = 30,
                  follow_up: bool = False) -> CalEvent:
        if not summary.strip():
            raise InputError("An event needs a title.")
        end = start + (timedelta(days=1) if all_day else timedelta(minutes=max(5, minutes)))
        event = CalEvent(new_uid(), summary.strip()[:300], start, end, all_day=all_day, location=location.strip()[:300],
                         description=description.strip()[:4000])
        b = await self.backend(user_id)
        await asyncio.to_thread(b.add, event, now)
        if self.hooks is not None:
            rid = await self.hooks.added(user_id, event, now, remind_minutes=remind_minutes, follow_up=follow_up)
            if rid is not None:
                event = replace(event, reminder_id=rid)
                await asyncio.to_thread(b.set_reminder, event.uid, rid)
        return event

    async def move(self, user_id: str, uid: str, start: datetime, *, now: datetime, minutes: int | None = None) -> CalEvent:
        b = await self.backend(user_id)
        old = await asyncio.to_thread(b.get, uid)
        if old is None:
            raise InputError(f"There is no event {uid!r}.")
        if old.recurring:
            raise InputError(f"{old.summary!r} repeats; moving one of a series is not supported yet.",
                             hint="Change it in your calendar app.")
        length = timedelta(minutes=minutes) if minutes else old.end - old.start
        moved = await asyncio.to_thread(b.move, old.uid, start, start + length, now)
        if self.hooks is not None:
            await self.hooks.moved(user_id, old, replace(moved, reminder_id=old.reminder_id), now)
        return moved

    async def delete(self, user_id: str, uid: str, *, now: datetime) -> CalEvent:
        b = await self.backend(user_id)
        old = await asyncio.to_thread(b.get, uid)
        if old is None:
            raise InputError(f"There is no event {uid!r}.")
        await asyncio.to_thread(b.delete, old.uid)
        if self.hooks is not None:
            await self.hooks.removed(user_id, old, now)
        return old
