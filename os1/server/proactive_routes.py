"""Reminders, the inbox of proactive messages, check-in settings over HTTP; live push over the WebSocket.

Proactive messages reach open WebSockets as `{"type": "proactive", ...}` events through `hub.Hub`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from ..errors import InputError
from ..proactive.reminders import ReminderRequest
from ..proactive.settings import parse_clock
from ..proactive.when import When, parse_when
from ..runtime import Runtime
from .auth import UserIdDep
from .schemas import BAD_INPUT

log = logging.getLogger("os1.server")


class ReminderIn(BaseModel):
    """Either `text` in words, or `task` with `when` (words) or `due_at` (ISO-8601)."""

    text: str | None = Field(default=None, min_length=1, max_length=2000,
                             description='"call mom Sunday at 6", "every Tuesday water the plants", "in 20 minutes stretch".')
    task: str | None = Field(default=None, min_length=1, max_length=1000, description="What to be reminded of.")
    when: str | None = Field(default=None, min_length=1, max_length=200, description='When, in words: "tomorrow at 9".')
    due_at: datetime | None = Field(default=None, description="When, ISO-8601; without an offset, your local time.")


class ReminderPatch(BaseModel):
    text: str | None = Field(default=None, min_length=1, max_length=1000, description="New words for what to do.")
    when: str | None = Field(default=None, min_length=1, max_length=200, description='New time, in words.')
    due_at: datetime | None = Field(default=None, description="New time, ISO-8601.")


class ReminderOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    text: str
    status: str = Field(description="active, done or cancelled.")
    due_at: str | None
    when: str | None = Field(description='In words: "Sunday at 6 pm".')
    repeat: str | None = Field(description='"every Tuesday", or null for a one-off.')


class QuietHours(BaseModel):
    start: str = Field(description="HH:MM")
    end: str = Field(description="HH:MM")


class CheckinsIn(BaseModel):
    """Only the fields given change."""

    enabled: bool | None = Field(default=None, description="Morning and evening check-ins on or off.")
    morning: str | None = Field(default=None, max_length=8, description='HH:MM, or "off".')
    evening: str | None = Field(default=None, max_length=8, description='HH:MM, or "off".')
    quiet_hours: QuietHours | None = None
    nudges: bool | None = Field(default=None, description="Suggestions to get in touch with people, on or off.")
    snooze_until: datetime | None = Field(default=None, description="Nothing unsolicited before this time.")
    snooze: str | None = Field(default=None, max_length=100, description='"2 hours", "until tomorrow", or "off".')
    max_per_day: int | None = Field(default=None, ge=0, le=24)
    muted_people: list[str] | None = Field(default=None, max_length=200, description="Never nudge about these.")


def proactive_router(rt: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["proactive"])
    p = rt.companion.proactive

    def now(user: str) -> datetime:
        return rt.clock.now().astimezone(p.zone_for(user))

    def confirm(r: dict[str, Any]) -> str:
        when = r["when"] if not r["repeat"] else f"{r['repeat']}, next {r['when']}"
        return f"I'll remind you: {r['text']}, {when}."

    @router.get("/reminders", response_model=dict[str, list[ReminderOut]])
    async def list_reminders(user: UserIdDep, all: bool = Query(default=False, description="Include done and cancelled ones.")) -> dict[str, Any]:
        """Your reminders, soonest first."""
        n = now(user)
        return {"reminders": [r.as_dict(n) for r in await p.reminders.list(user, include_done=all)]}

    @router.post("/reminders", status_code=201, responses=BAD_INPUT)
    async def add_reminder(user: UserIdDep, body: ReminderIn) -> dict[str, Any]:
        """Set a reminder from words, or from a task and a time. Answers with it and a confirmation in words."""
        n = now(user)
        if body.text:
            made = await p.reminders.add(user, body.text, now=n)
        elif body.task and (body.when or body.due_at):
            when = parse_when(body.when, n) if body.when else _at(body.due_at, n)
            if when is None:
                raise InputError(f"I couldn't read {body.when!r} as a time.", hint='Try "tomorrow at 9" or "every day at 8".')
            made = await p.reminders.add(user, body.task, now=n, request=ReminderRequest(body.task, when))
        else:
            raise InputError('Send {"text": "call mom Sunday at 6"}, or "task" with "when" or "due_at".')
        p.runner.wake()
        out = made.as_dict(n)
        return {"reminder": out, "confirmation": confirm(out)}

    @router.patch("/reminders/{rid}", responses=BAD_INPUT)
    async def edit_reminder(user: UserIdDep, rid: int, body: ReminderPatch) -> dict[str, Any]:
        """Change what a reminder says or when it is due."""
        n = now(user)
        when: str | When | None = _at(body.due_at, n) if body.due_at is not None else body.when
        made = await p.reminders.edit(user, rid, now=n, text=body.text, when=when)
        p.runner.wake()
        out = made.as_dict(n)
        return {"reminder": out, "confirmation": confirm(out)}

    @router.delete("/reminders/{rid}", responses=BAD_INPUT)
    async def cancel_reminder(user: UserIdDep, rid: int) -> dict[str, Any]:
        """Cancel a reminder (it stays listed with `?all=true`)."""
        return {"reminder": (await p.reminders.cancel(user, rid, now=now(user))).as_dict(now(user))}

    @router.get("/inbox")
    async def get_inbox(user: UserIdDep, unread: bool = False, limit: int = Query(default=50, ge=1, le=500)) -> dict[str, Any]:
        """Proactive messages, newest first, each with why it was sent."""
        items = await p.inbox.items(user, unread_only=unread, limit=limit)
        return {"items": [i.as_dict() for i in items],
                "unread": len(await p.inbox.items(user, unread_only=True, limit=500))}

    @router.post("/inbox/{item_id}/read", responses=BAD_INPUT)
    async def read_item(user: UserIdDep, item_id: int) -> dict[str, Any]:
        """Mark one proactive message as read."""
        if await p.inbox.get(user, item_id) is None:
            raise InputError(f"There is no inbox message {item_id}.")
        await p.inbox.mark_read(user, [item_id], at=now(user))
        item = await p.inbox.get(user, item_id)
        return {"item": item.as_dict() if item else None}

    @router.get("/checkins")
    async def get_checkins(user: UserIdDep) -> dict[str, Any]:
        """Check-in times, quiet hours, nudges, snooze and the daily limit."""
        return (await p.settings.get(user)).as_dict()

    @router.put("/checkins", responses=BAD_INPUT)
    async def put_checkins(user: UserIdDep, body: CheckinsIn) -> dict[str, Any]:
        """Change check-in settings; only the fields given change."""
        return (await p.settings.update(user, at=now(user), **checkin_changes(body.model_dump(exclude_unset=True), now(user)))).as_dict()

    return router


def _at(due: datetime | None, now: datetime) -> When:
    if due is None:
        raise InputError("A time is needed.")
    at = due.replace(tzinfo=now.tzinfo) if due.tzinfo is None else due.astimezone(now.tzinfo)
    if at <= now:
        raise InputError("That time has already passed.", hint="Give a time in the future.")
    return When(at)


def checkin_changes(given: dict[str, Any], now: datetime) -> dict[str, Any]:
    """API/CLI field names and words -> CheckinSettings fields (InputError for what can't be read)."""
    out: dict[str, Any] = {}
    if given.get("enabled") is not None:
        out["checkins"] = bool(given["enabled"])
    for slot in ("morning", "evening"):
        if given.get(slot) is not None:
            out[slot] = None if str(given[slot]).strip().lower() in ("off", "none", "") else parse_clock(str(given[slot]))
    quiet = given.get("quiet_hours")
    if quiet:
        out["quiet_start"], out["quiet_end"] = parse_clock(str(quiet["start"])), parse_clock(str(quiet["end"]))
    if given.get("nudges") is not None:
        out["nudges"] = bool(given["nudges"])
    if given.get("max_per_day") is not None:
        out["max_per_day"] = int(given["max_per_day"])
    if given.get("muted_people") is not None:
        from ..memory.facts import key

        out["muted_people"] = tuple(key(str(x)) for x in given["muted_people"] if key(str(x)))
    if "snooze_until" in given:
        until = given["snooze_until"]
        out["snooze_until"] = None if until is None else (until.replace(tzinfo=now.tzinfo) if until.tzinfo is None else until)
    if given.get("snooze"):
        out["snooze_until"] = snooze_until(str(given["snooze"]), now)
    return out


def snooze_until(words: str, now: datetime) -> datetime | None:
    """'2 hours', 'until tomorrow', 'for a week', 'off' -> when the snooze ends (None: no snooze)."""
    w = words.strip().lower().removeprefix("until ").removeprefix("for ")
    if w in ("off", "none", "no", "stop"):
        return None
    if w in ("tomorrow", "tomorrow morning"):
        return (now + timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    when = parse_when(w if w.startswith(("in ", "at ")) or not w[:1].isdigit() else f"in {w}", now)
    if when is None:
        when = parse_when(f"in {w}", now)
    if when is None:
        raise InputError(f"I couldn't read {words!r} as a snooze.", hint='Try "2 hours", "until tomorrow" or "3 days".')
    return when.at
