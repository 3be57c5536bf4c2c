"""The calendar tools the model may ask for: the agenda (read), add and move (write), delete (confirmed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from ...errors import InputError
from ..base import Plan, Risk, Tool, ToolContext, ToolOutput
from .service import Calendar, span, when_from_words


class _CalTool(Tool):
    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar


class RangeArgs(BaseModel):
    range: str = Field(default="this week", description='"today", "tomorrow", "this week", "next week", "the weekend" or a day.')


class CalendarAgenda(_CalTool):
    name = "calendar_agenda"
    description = "List the user's events for a day or a week ('what does my week look like')."
    risk: ClassVar[Risk] = "read"
    intent = "calendar.read"
    args = RangeArgs

    async def run(self, ctx: ToolContext, args: Any) -> ToolOutput:
        start, end, label = span(args.range or "this week", ctx.now)
        events = await self.calendar.between(ctx.user_id, start, end)
        zone = ctx.now.tzinfo
        assert zone is not None
        warnings = tuple(w for e in events if (w := e.suspicion.warning(f"The event {e.summary!r}")))
        text = "\n".join(e.line(zone) + (f"\n  {e.description[:300]}" if e.description else "") for e in events)
        return ToolOutput(f"{len(events)} event(s) {label}", text or f"(nothing on the calendar {label})",
                          untrusted=True, source=f"the user's calendar ({label})", warnings=warnings,
                          data={"range": label, "start": start.isoformat(), "end": end.isoformat(),
                                "events": [e.as_dict() for e in events]})


class AddArgs(BaseModel):
    title: str = Field(description="What it is: 'Lunch with Amy'.")
    when: str = Field(description="When it starts, in words ('Friday at 1pm') or ISO-8601.")
    minutes: int = Field(default=60, description="How long, in minutes.")
    location: str | None = Field(default=None, description="Where, if said.")


class CalendarAdd(_CalTool):
    name = "calendar_add"
    description = "Add an event to the user's calendar (with a reminder before it)."
    risk: ClassVar[Risk] = "write"
    intent = "calendar.write"
    args = AddArgs

    async def run(self, ctx: ToolContext, args: Any) -> ToolOutput:
        start = when_from_words(args.when, ctx.now)
        if start is None:
            raise InputError(f"I couldn't tell when {args.when!r} is.", hint='Say it like "Friday at 1pm".')
        event = await self.calendar.add(ctx.user_id, args.title, start, now=ctx.now, minutes=args.minutes or 60,
                                        location=args.location or "")
        zone = ctx.now.tzinfo
        assert zone is not None
        reminder = " (with a reminder 30 minutes before)" if event.reminder_id is not None else ""
        return ToolOutput(f"Added: {event.line(zone)}{reminder}", data={"event": event.as_dict()})


class MoveArgs(BaseModel):
    event: str = Field(description="Which event: its title in words ('the dentist') or its id.")
    when: str = Field(description="The new start, in words ('Monday at 3pm') or ISO-8601.")


class CalendarMove(_CalTool):
    name = "calendar_move"
    description = "Move an event to another time (its reminder moves with it)."
    risk: ClassVar[Risk] = "write"
    intent = "calendar.write"
    args = MoveArgs

    async def run(self, ctx: ToolContext, args: Any) -> ToolOutput:
        event = await self.calendar.find(ctx.user_id, args.event, ctx.now)
        start = when_from_words(args.when, ctx.now)
        if start is None:
            raise InputError(f"I couldn't tell when {args.when!r} is.", hint='Say it like "Monday at 3pm".')
        moved = await self.calendar.move(ctx.user_id, event.uid, start, now=ctx.now)
        zone = ctx.now.tzinfo
        assert zone is not None
        return ToolOutput(f"Moved {event.summary!r} to {moved.line(zone)}", data={"event": moved.as_dict(),
                                                                              "was": event.as_dict()})


class EventArgs(BaseModel):
    event: str = Field(description="Which event: its title in words or its id.")


class CalendarDelete(_CalTool):
    name = "calendar_delete"
    description = "Delete an event from the calendar; only after the user says yes."
    risk: ClassVar[Risk] = "delete"
    intent = "calendar.delete"
    args = EventArgs

    async def plan(self, ctx: ToolContext, args: Any) -> Plan:
        event = await self.calendar.find(ctx.user_id, args.event, ctx.now)
        zone = ctx.now.tzinfo
        assert zone is not None
        return Plan(f"Delete the event {event.line(zone)}", {"uid": event.uid, "summary": event.summary})

    async def execute(self, ctx: ToolContext, payload: Mapping[str, Any]) -> ToolOutput:
        old = await self.calendar.delete(ctx.user_id, str(payload["uid"]), now=ctx.now)
        return ToolOutput(f"Deleted {old.summary!r}.", data={"event": old.as_dict()})


def calendar_tools(calendar: Calendar) -> list[Tool]:
    return [CalendarAgenda(calendar), CalendarAdd(calendar), CalendarMove(calendar), CalendarDelete(calendar)]
