"""Check-ins and follow-up questions: messages about *your* day, never generic.

A morning check-in mentions what is coming today (events you told OS1 about, reminders due) and asks
about yesterday's event if it hasn't been asked yet; an evening one looks at tomorrow and notices a hard
day. With nothing of yours to mention, no check-in is sent. Every unsolicited message passes
`settings.hold` (snooze, quiet hours, a minimum gap, a daily limit).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import Connection, select

from ..memory.store import _utc_naive
from ..storage import Database
from ..storage.schema import facts, messages, users
from .followups import FollowUp, FollowUps
from .inbox import Delivery
from .jobs import Job, Outcome, cancel_jobs, enqueue
from .reminders import you_words
from .settings import SettingsStore, hold, settings_sync
from .tables import reminders
from .when import clock_words, localize
from .words import Speaker
from .zones import UserZones

STALE = timedelta(hours=3)
"""A check-in more than this late (OS1 wasn't running) is skipped: a morning message at noon is odd."""
ASK_WITHIN = timedelta(days=3)
"""A follow-up held back (quiet hours, the daily limit) longer than this is dropped, with the reason."""
ACTIVE_DAYS = 30
"""Check-ins are planned only for people who have talked with OS1 this recently."""
LOW_MOOD = -0.5
_REMINDER = "you'll remind them to "


def _start(d: date, zone: tzinfo) -> datetime:
    return localize(datetime.combine(d, time(0)), zone)


class Checkins:
    def __init__(self, db: Database, settings: SettingsStore, followups: FollowUps, speaker: Speaker,
                 zones: UserZones) -> None:
        self.db = db
        self.settings = settings
        self.followups = followups
        self.speaker = speaker
        self.zones = zones

    # Planning -----------------------------------------------------------------------------------------
    async def plan(self, now: datetime) -> None:
        """Make sure today's and tomorrow's check-ins are scheduled for every active user (idempotent)."""
        since = _utc_naive(now - timedelta(days=ACTIVE_DAYS))
        q = select(users.c.id).where(users.c.id.in_(
            select(messages.c.user_id).where(messages.c.role == "user", messages.c.created_at >= since)))

        def tx(conn: Connection) -> None:
            for (user_id,) in conn.execute(q).all():
                s = settings_sync(conn, user_id)
                if not s.checkins:
                    cancel_jobs(conn, user_id, "checkin:", now=now)
                    continue
                zone = self.zones.sync(conn, user_id)
                today = now.astimezone(zone).date()
                for slot, at in (("morning", s.morning), ("evening", s.evening)):
                    for d in (today, today + timedelta(days=1)):
                        if at is None:
                            cancel_jobs(conn, user_id, f"checkin:{slot}:", now=now)
                            continue
                        when = localize(datetime.combine(d, at), zone)
                        if when > now - STALE:
                            enqueue(conn, user_id, "checkin", f"checkin:{slot}:{d.isoformat()}", when,
                                    {"slot": slot, "date": d.isoformat()}, now=now, reschedule=True)

        await self.db.write(tx)

    # The check-in ---------------------------------------------------------------------------------------
    async def check_in(self, job: Job, now: datetime) -> Outcome:
        user_id, slot = job.user_id, str(job.payload["slot"])
        zone = await self.zones.get(user_id)
        s = await self.settings.get(user_id)
        if not s.checkins or (s.morning if slot == "morning" else s.evening) is None:
            return Outcome("skipped", note="check-ins are off")
        if now - job.run_at > STALE:
            return Outcome("skipped", note=f"too late: OS1 wasn't running at {clock_words(job.run_at.astimezone(zone))}")
        day = date.fromisoformat(str(job.payload["date"]))
        items, asked = await self._items(user_id, slot, day, zone, now)
        if not any(not fact.startswith(_REMINDER) for fact, _ in items):
            # Reminders come on their own; a check-in needs something of the person's life to be about.
            return Outcome("skipped", note="nothing of yours to mention")
        held = await self.db.read(lambda c: hold(c, user_id, s, now, zone))
        if held is not None:
            until, why_not = held
            if until - job.run_at > STALE:
                return Outcome("skipped", note=why_not)
            return Outcome("deferred", note=why_not, defer_until=until)
        companion, user_name = await self.speaker.names(user_id)
        fallback = ("Good morning! " if slot == "morning" else "Evening. ") + " ".join(line for _, line in items[:3])
        text = await self.speaker.say("proactive_checkin", fallback, companion_name=companion, slot=slot,
                                      user_ref=user_name, items="\n".join(f"- {fact}" for fact, _ in items))
        reasons = "; ".join(fact for fact, _ in items[:3])
        why = f"Your {slot} check-in, because {reasons}. Change the time or turn these off with `os1 checkins`."

        def then(conn: Connection) -> None:
            for f in asked:  # asked here, so the separate follow-up question is not sent as well
                self.followups.mark_sync(conn, f.id, "asked", now)

        return Outcome("done", Delivery("checkin", text, why, f"checkin:{slot}"), then)

    async def _items(self, user_id: str, slot: str, day: date, zone: tzinfo,
                     now: datetime) -> tuple[list[tuple[str, str]], list[FollowUp]]:
        """(what to mention as (a fact for the model, a sentence for the fallback)), follow-ups it asks)."""
        items: list[tuple[str, str]] = []
        asked: list[FollowUp] = []
        ahead = day if slot == "morning" else day + timedelta(days=1)
        label = "today" if slot == "morning" else "tomorrow"
        for f in await self.followups.upcoming(user_id, _start(ahead, zone), _start(ahead + timedelta(days=1), zone)):
            at = f" at {clock_words(f.event_at.astimezone(zone))}" if f.timed else ""
            about = f.about[0].upper() + f.about[1:]
            line = f"{about} is {label}{at}. " + ("Good luck, I'll be thinking of you." if slot == "morning"
                                                  else "How are you feeling about it?")
            items.append((f"{f.about} is {label}{at}", line))
        if slot == "morning":
            for f in await self.followups.upcoming(user_id, _start(day - timedelta(days=1), zone), _start(day, zone)):
                if f.status == "pending" and not await self._told(f, zone):
                    items.append((f"{f.about} was yesterday and they haven't said how it went",
                                  f"How did {f.about} go?"))
                    asked.append(f)
        q = select(reminders.c.text, reminders.c.due_at).where(
            reminders.c.user_id == user_id, reminders.c.status == "active",
            reminders.c.due_at >= _utc_naive(max(now, _start(ahead, zone))),
            reminders.c.due_at < _utc_naive(_start(ahead + timedelta(days=1), zone))).order_by(reminders.c.due_at)
        for r in (await self.db.read(lambda c: c.execute(q).all()))[:3]:
            at = clock_words(r.due_at.replace(tzinfo=UTC).astimezone(zone))
            items.append((f"{_REMINDER}{you_words(r.text)} at {at} {label}",
                          f"I'll remind you to {you_words(r.text)} at {at}."))
        mood_day = day - timedelta(days=1) if slot == "morning" else day
        if await self._hard_day(user_id, _start(mood_day, zone), _start(mood_day + timedelta(days=1), zone)):
            when = "yesterday" if slot == "morning" else "today"
            items.append((f"{when} they seemed to be having a hard time",
                          "Yesterday sounded hard; I hope today is gentler." if slot == "morning"
                          else "Today sounded like a hard one. I hope you can rest tonight."))
        return items, asked

    async def _told(self, f: FollowUp, zone: tzinfo) -> bool:
        return await self.db.read(lambda c: self.followups.told_since(c, f, zone))

    async def _hard_day(self, user_id: str, start: datetime, end: datetime) -> bool:
        q = select(messages.c.emotion).where(messages.c.user_id == user_id, messages.c.role == "user",
                                             messages.c.created_at >= _utc_naive(start),
                                             messages.c.created_at < _utc_naive(end)).limit(500)
        rows = await self.db.read(lambda c: c.execute(q).all())
        return any(isinstance(r.emotion, dict) and float(r.emotion.get("valence", 0)) <= LOW_MOOD for r in rows)

    # The follow-up question -----------------------------------------------------------------------------
    async def ask(self, job: Job, now: datetime) -> Outcome:
        """How did it go? Unless they already said, or it's too late to ask."""
        f = await self.followups.get(int(job.payload["followup_id"]))
        if f is None or f.status != "pending":
            return Outcome("skipped", note="already asked, answered or removed")
        zone = await self.zones.get(f.user_id)
        if await self.db.read(lambda c: self.followups.told_since(c, f, zone)):
            return Outcome("skipped", note="you'd already told me how it went",
                           then=lambda c: self.followups.mark_sync(c, f.id, "answered", now))
        s = await self.settings.get(f.user_id)
        held = await self.db.read(lambda c: hold(c, f.user_id, s, now, zone))
        if held is not None:
            until, why_not = held
            if until - f.ask_at > ASK_WITHIN:
                return Outcome("skipped", note=f"{why_not}; too long after the event to ask",
                               then=lambda c: self.followups.mark_sync(c, f.id, "cancelled", now))
            return Outcome("deferred", note=why_not, defer_until=until)
        companion, user_name = await self.speaker.names(f.user_id)
        local_now = now.astimezone(zone)
        event_day = (local_now.date() - f.event_at.astimezone(zone).date()).days
        when = "yesterday" if event_day == 1 else "today" if event_day == 0 else f"on {f.event_at.astimezone(zone):%A}"
        known = await self._known(f)
        text = await self.speaker.say(
            "proactive_followup", f"How did {f.about} go {when}?" if event_day <= 1 else f"How did {f.about} go?",
            companion_name=companion, user_ref=user_name, said=f.said or f.about, about=f.about, event_when=when,
            said_when=f"{f.said_at.astimezone(zone):%A %d %B}", known=f" What else you know: {known}" if known else "")
        return Outcome("done", Delivery("followup", text, self.followups.said_words(f, now, zone), f"followup:{f.id}"),
                       lambda c: self.followups.mark_sync(c, f.id, "asked", now))

    async def _known(self, f: FollowUp) -> str:
        word = max(f.topic_key.split(), key=len)
        q = select(facts.c.text).where(facts.c.user_id == f.user_id, facts.c.valid_to.is_(None),
                                       facts.c.text.ilike(f"%{word}%")).order_by(facts.c.id.desc()).limit(3)
        return " ".join(r.text for r in await self.db.read(lambda c: c.execute(q).all()))
