"""OS1 reaching out: one object that owns the reminders, follow-ups, check-ins, nudges, inbox and job runner,
and what each conversation turn notices for them (a reminder asked for, a dated event, a reply to a nudge).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from sqlalchemy import select, update

from .. import prompts
from ..clock import Clock
from ..errors import OS1Error
from ..models import ChatModel
from ..storage import Database
from ..storage.schema import messages
from .checkins import Checkins
from .followups import Event, FollowUps, detect_event
from .inbox import ORIGIN_PREFIX, Inbox, InboxItem
from .jobs import JobQueue, JobRunner, unplan, worker_name
from .nudges import Nudges, connected_after_nudge
from .reminders import ReminderRequest, Reminders, reminder_request, you_words
from .settings import SettingsStore
from .tables import inbox, reminders
from .words import Speaker
from .zones import UserZones

log = logging.getLogger("os1.proactive")

_STOP = re.compile(r"\b(?:stop|quit|no more|(?:do not|don't|dont) (?:keep )?)\b[^.!?]{0,30}?\b(?P<what>nudg\w*|suggest\w*|"
                   r"(?:telling|asking|reminding) me to (?:call|text|reach|message|see)|check(?:ing)?[- ]?ins?)\b", re.I)
_NO = re.compile(r"^\s*(?:no|nah|nope|not now|not really|not today|maybe later|later|i'd rather not|i would rather not)\b", re.I)
_YES = re.compile(r"^\s*(?:yes|yeah|yep|sure|ok|okay|please|good idea|let's|lets)\b|\b(?:help me|can you help|"
                  r"write (?:it|one|something|a message)|draft)\b", re.I)


@dataclass
class Noticed:
    """What one user message meant for proactive work; `instructions` go into the turn's notes."""

    instructions: list[str] = field(default_factory=list)
    reminder_id: int | None = None
    event: Event | None = None


class Proactive:
    """Everything OS1 does unprompted, for every user of one database."""

    def __init__(self, db: Database, model: Callable[[], ChatModel | None], clock: Clock, *, zone: tzinfo | None = None,
                 idle: Callable[[], bool] | None = None, worker_id: str | None = None) -> None:
        self.db = db
        self.clock = clock
        self.default_zone = zone or clock.now().tzinfo or UTC
        """The installation's zone: users who have not chosen one (`set_zone`) live in it."""
        self.zones = UserZones(db, self.default_zone)
        self.inbox = Inbox(db)
        self.settings = SettingsStore(db)
        self.reminders = Reminders(db, self.zones)
        self.followups = FollowUps(db, self.zones)
        speaker = Speaker(db, model)
        self.checkins = Checkins(db, self.settings, self.followups, speaker, self.zones)
        self.nudges = Nudges(db, self.settings, speaker, self.zones)
        self.queue = JobQueue(db, worker_id or worker_name())
        self.runner = JobRunner(
            self.queue, clock,
            handlers={"reminder": self.reminders.fire, "followup": self.checkins.ask,
                      "checkin": self.checkins.check_in, "nudge": self.nudges.nudge},
            planners=[self.checkins.plan, self.nudges.plan, self._plan_followups],
            idle=idle or (lambda: True))

    def subscribe(self, listener: Callable[[InboxItem], Awaitable[None]]) -> None:
        """Be told of each delivery this process makes, after it commits: the hook for speaking proactive
        messages in voice mode. (The server's Hub also sees deliveries made by `os1 worker` processes.)"""
        self.runner.listeners.append(listener)

    def zone_for(self, user_id: str) -> tzinfo:
        """The user's time zone, for synchronous callers (tools, routes): cached, else one small blocking read.
        Async code should prefer `await zone(user_id)`."""
        return self.zones.get_blocking(user_id)

    async def zone(self, user_id: str) -> tzinfo:
        """The user's time zone: the one they chose, else the installation's."""
        return await self.zones.get(user_id)

    async def zone_choice(self, user_id: str) -> str | None:
        """The IANA name the user chose, or None when they use the installation's zone."""
        return await self.zones.chosen(user_id)

    async def set_zone(self, user_id: str, tz_name: str | None) -> tzinfo:
        """Choose the user's time zone by IANA name ('Asia/Tokyo'); None or '' goes back to the installation's.
        An unknown name is an InputError and changes nothing. Check-ins and nudges not yet sent move to the
        new zone at the next planning pass; reminders already set keep their moment (a repeating one takes
        the new zone from its next occurrence)."""
        zone = await self.zones.set(user_id, tz_name, at=self.clock.now(),
                                    also=lambda c: unplan(c, user_id, ("checkin", "nudge")))
        self.runner.wake(replan=True)
        return zone

    async def _plan_followups(self, now: datetime) -> None:
        await self.followups.plan_from_facts(now)

    async def run_due(self) -> list[InboxItem]:
        """Deliver whatever is due now (the CLI does this at start; the server and `os1 worker` keep at it)."""
        return await self.runner.run_due()

    # In conversation ----------------------------------------------------------------------------------
    async def notice(self, user_id: str, text: str, now: datetime) -> Noticed:
        """Act on what a message asks or tells (before the reply is composed); returns notes for the reply."""
        noticed = Noticed()
        local = now.astimezone(await self.zone(user_id))
        try:
            await self._notice(user_id, text, local, noticed)
        except OS1Error as e:  # proactive work must never cost the user their reply
            log.warning("noticing proactive work failed: %s", e.message)
        return noticed

    async def _notice(self, user_id: str, text: str, local: datetime, noticed: Noticed) -> None:
        req = reminder_request(text, local)
        if req is not None:
            await self._reminder(user_id, text, req, local, noticed)
        else:
            noticed.event = detect_event(text, local)
        await self.followups.heard(user_id, text, local)
        stop = _STOP.search(text)
        if stop is not None:
            checkins = stop["what"].lower().startswith("check")
            await self.settings.update(user_id, at=local, **{"checkins" if checkins else "nudges": False})
            noticed.instructions.append(prompts.render(
                "proactive_stopped", what="the check-ins" if checkins else "suggesting people to get in touch with"))
            return
        last = await self._last_nudge(user_id)
        if last is not None and req is None:
            name = await self._nudge_name(user_id, last)
            if _NO.search(text):
                noticed.instructions.append(prompts.render("proactive_declined"))
            elif _YES.search(text) and name is not None:
                noticed.instructions.append(prompts.render("proactive_draft", person=name[0], relation=name[1]))
        glad = await self.db.read(lambda c: connected_after_nudge(c, user_id, text, local))
        if glad is not None:
            noticed.instructions.append(prompts.render("proactive_connected", person=glad.ref.removeprefix("your ")))

    async def _reminder(self, user_id: str, text: str, req: ReminderRequest, local: datetime, noticed: Noticed) -> None:
        if req.when is None or not req.task:
            noticed.instructions.append(prompts.render("proactive_reminder_unclear", task=you_words(req.task or text)))
            return
        made = await self.reminders.add(user_id, text, now=local, request=req)
        noticed.reminder_id = made.id
        noticed.instructions.append(prompts.render("proactive_reminder_set", task=you_words(req.task),
                                                   when=req.when.describe(local)))
        self.runner.wake()

    async def _last_nudge(self, user_id: str) -> InboxItem | None:
        """The nudge this message answers: OS1's last message, if it was a nudge."""
        q = select(messages.c.id, messages.c.origin).where(messages.c.user_id == user_id, messages.c.role == "assistant") \
            .order_by(messages.c.id.desc()).limit(1)
        row = await self.db.read(lambda c: c.execute(q).first())
        if row is None or not (row.origin or "").startswith(f"{ORIGIN_PREFIX}nudge:"):
            return None
        q2 = select(inbox.c.id).where(inbox.c.message_id == row.id)
        item_id = await self.db.read(lambda c: c.execute(q2).scalar())
        return await self.inbox.get(user_id, int(item_id)) if item_id is not None else None

    async def _nudge_name(self, user_id: str, item: InboxItem) -> tuple[str, str] | None:
        if not (item.ref or "").startswith("person:"):
            return ("someone they'd like to see", "")
        person = next((p for p in await _people(self.db, user_id) if f"person:{p[0]}" == item.ref), None)
        return (person[1], f" (their {person[2]})" if person[2] else "") if person else None

    async def remember(self, noticed: Noticed, user_id: str, message_id: int, text: str, now: datetime) -> None:
        """After the message is stored: link what it created to it, and keep its dated event."""
        try:
            if noticed.reminder_id is not None:
                rid = noticed.reminder_id
                await self.db.write(lambda c: c.execute(update(reminders).where(reminders.c.id == rid)
                                                        .values(source_message_id=message_id)))
            if noticed.event is not None:
                await self.followups.add_event(user_id, noticed.event, said=text, now=now,
                                               source_message_id=message_id)
        except OS1Error as e:
            log.warning("keeping proactive work from a message failed: %s", e.message)


async def _people(db: Database, user_id: str) -> list[tuple[int, str, str | None]]:
    from ..storage.schema import people

    q = select(people.c.id, people.c.name, people.c.relation).where(people.c.user_id == user_id)
    return [(r.id, r.name, r.relation) for r in await db.read(lambda c: c.execute(q).all())]
