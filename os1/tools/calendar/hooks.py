"""Calendar events and OS1's reminders and follow-ups (os1/proactive), through its public functions:
an event added gets a reminder before it (and, when asked, a follow-up question after it); moving the
event moves the reminder, deleting it cancels the reminder."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from ...errors import InputError
from ...proactive import Proactive
from ...proactive.followups import Event
from ...proactive.reminders import ReminderRequest
from ...proactive.when import When, clock_words
from .events import CalEvent


class ProactiveHooks:
    def __init__(self, proactive: Proactive) -> None:
        self.proactive = proactive

    async def added(self, user_id: str, event: CalEvent, now: datetime, *, remind_minutes: int,
                    follow_up: bool) -> int | None:
        if follow_up:
            key = " ".join(re.findall(r"[a-z]+", event.summary.lower())[:4]) or "event"
            await self.proactive.followups.add_event(
                user_id, Event(about=f"your {event.summary}", topic_key=key, when=When(at=event.start), timed=not event.all_day),
                said=f"(added to the calendar) {event.summary}", now=now, source_message_id=None)
        if remind_minutes <= 0 or event.all_day:
            return None
        at = event.start - timedelta(minutes=remind_minutes)
        if at <= now:
            return None
        local = event.start.astimezone(now.tzinfo)
        task = f"about {event.summary} at {clock_words(local)}"
        reminder = await self.proactive.reminders.add(user_id, task, now=now, request=ReminderRequest(task, When(at=at)))
        return reminder.id

    async def moved(self, user_id: str, old: CalEvent, new: CalEvent, now: datetime) -> None:
        if old.reminder_id is None:
            return
        try:
            reminder = await self.proactive.reminders.get(user_id, old.reminder_id)
        except InputError:
            return  # the user removed it themselves
        if reminder.status != "active" or reminder.due_at is None:
            return
        lead = old.start - reminder.due_at
        at = new.start - lead
        if at > now:
            task = f"about {new.summary} at {clock_words(new.start.astimezone(now.tzinfo))}"
            await self.proactive.reminders.edit(user_id, old.reminder_id, now=now, text=task, when=When(at=at))
        else:
            await self.proactive.reminders.cancel(user_id, old.reminder_id, now=now)

    async def removed(self, user_id: str, event: CalEvent, now: datetime) -> None:
        if event.reminder_id is None:
            return
        try:
            reminder = await self.proactive.reminders.get(user_id, event.reminder_id)
            if reminder.status == "active":
                await self.proactive.reminders.cancel(user_id, event.reminder_id, now=now)
        except InputError:
            return
