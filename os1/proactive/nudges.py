"""Connection nudges: noticing when someone in your life hasn't come up in a while, and suggesting, gently,
that you reach out. Never guilt, easy to turn down or off, at most one a week, never about OS1 itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from ..memory.learning import _CONTACT
from ..memory.store import _aware, _utc_naive
from ..storage import Database
from ..storage.schema import messages, people, users
from .inbox import Delivery, last_delivery
from .jobs import Job, Outcome, cancel_jobs, enqueue
from .settings import SettingsStore, hold, settings_sync
from .tables import inbox
from .when import day_words, localize
from .words import Speaker
from .zones import UserZones

QUIET_PERSON = timedelta(days=21)
"""Someone not mentioned for three weeks may be worth a thought (a judgement call; tunable here)."""
NUDGE_EVERY = timedelta(days=7)
"""At most one nudge a week."""
SAME_PERSON = timedelta(days=30)
"""Never the same person twice within a month."""
ISOLATION = timedelta(days=14)
"""Two weeks of talking with OS1 without mentioning anyone suggests a small social plan."""
ACTIVE = timedelta(days=7)
"""Nudges go only to people who talk with OS1: never a message out of the blue to someone who left."""
NUDGE_AT = time(17, 30)
_CLOSE = ("partner", "wife", "husband", "mom", "mum", "mother", "dad", "father", "sister", "brother", "son", "daughter",
          "best friend", "friend", "grandma", "grandmother", "grandpa", "grandfather")
_HIM = {"dad", "father", "brother", "son", "husband", "grandpa", "grandfather", "uncle", "boyfriend"}
_HER = {"mom", "mum", "mother", "sister", "daughter", "wife", "grandma", "grandmother", "aunt", "girlfriend"}


@dataclass(frozen=True, slots=True)
class Someone:
    id: int
    name: str
    relation: str | None
    last_seen: datetime

    @property
    def ref(self) -> str:
        """'your brother Sam', 'your mom', 'Rachel'."""
        if self.relation and self.name.lower() != self.relation:
            return f"your {self.relation} {self.name}"
        return f"your {self.relation}" if self.relation else self.name

    @property
    def them(self) -> str:
        return "him" if self.relation in _HIM else "her" if self.relation in _HER else "them"


def _someone(row: Any) -> Someone:
    seen = max(_aware(t) for t in (row.last_mentioned_at, row.last_contact_at, row.created_at) if t is not None)
    return Someone(row.id, row.name, row.relation, seen)


def mentioned(conn: Connection, user_id: str, text: str) -> list[Someone]:
    """The known people a message names ('Sam', 'my brother')."""
    low = f" {re.sub(r'[^a-z0-9 ]', ' ', text.lower())} "
    rows = conn.execute(select(people).where(people.c.user_id == user_id)).all()
    return [_someone(r) for r in rows
            if f" {r.name.lower()} " in low or (r.relation and f" my {r.relation} " in low)]


def nudged_about(conn: Connection, user_id: str, since: datetime) -> set[int]:
    q = select(inbox.c.ref).where(inbox.c.user_id == user_id, inbox.c.kind == "nudge",
                                  inbox.c.created_at >= _utc_naive(since), inbox.c.ref.like("person:%"))
    return {int(r.ref.split(":", 1)[1]) for r in conn.execute(q).all()}


def connected_after_nudge(conn: Connection, user_id: str, text: str, now: datetime) -> Someone | None:
    """Someone the user says they got in touch with, whom OS1 had suggested reaching out to lately."""
    if not _CONTACT.search(text):
        return None
    recent = nudged_about(conn, user_id, now - SAME_PERSON)
    return next((p for p in mentioned(conn, user_id, text) if p.id in recent), None)


class Nudges:
    def __init__(self, db: Database, settings: SettingsStore, speaker: Speaker, zones: UserZones) -> None:
        self.db = db
        self.settings = settings
        self.speaker = speaker
        self.zones = zones

    async def plan(self, now: datetime) -> None:
        """Today's (or tomorrow's) look at who hasn't come up lately, for each active user who wants it."""
        q = select(users.c.id).where(users.c.id.in_(select(messages.c.user_id).where(
            messages.c.role == "user", messages.c.created_at >= _utc_naive(now - ACTIVE))))

        def tx(conn: Connection) -> None:
            for (user_id,) in conn.execute(q).all():
                if not settings_sync(conn, user_id).nudges:
                    cancel_jobs(conn, user_id, "nudge:", now=now)
                    continue
                zone = self.zones.sync(conn, user_id)
                today = now.astimezone(zone).date()
                for d in (today, today + timedelta(days=1)):
                    when = localize(datetime.combine(d, NUDGE_AT), zone)
                    if when > now - timedelta(hours=3):
                        enqueue(conn, user_id, "nudge", f"nudge:{d.isoformat()}", when, {"date": d.isoformat()}, now=now)

        await self.db.write(tx)

    async def nudge(self, job: Job, now: datetime) -> Outcome:
        user_id = job.user_id
        zone = await self.zones.get(user_id)
        s = await self.settings.get(user_id)
        if not s.nudges:
            return Outcome("skipped", note="nudges are off")
        last = await self.db.read(lambda c: last_delivery(c, user_id, ["nudge"]))
        if last is not None and now - last < NUDGE_EVERY:
            return Outcome("skipped", note="a nudge went out less than a week ago")
        held = await self.db.read(lambda c: hold(c, user_id, s, now, zone))
        if held is not None:
            until, why_not = held
            if until.astimezone(zone).date() != now.astimezone(zone).date():
                return Outcome("skipped", note=why_not)
            return Outcome("deferred", note=why_not, defer_until=until)
        person, lonely = await self.db.read(lambda c: self._pick(c, user_id, now, s.muted_people))
        companion, _ = await self.speaker.names(user_id)
        off = 'Turn these suggestions off any time with `os1 checkins --nudges off`, or just say "stop suggesting that".'
        local_now = now.astimezone(zone)
        if person is not None:
            fallback = (f"You haven't mentioned {person.ref} in a while. Want to send {person.them} a message? "
                        "I can help you write one, or we can leave it.")
            text = await self.speaker.say(
                "proactive_nudge", fallback, companion_name=companion, offer=" write the message",
                situation=f"They haven't mentioned {person.ref} since {day_words(person.last_seen.astimezone(zone), local_now)}.",
                suggestion=f"they send {person.them} a message or make a small plan together")
            why = f"The last time you mentioned {person.ref} was {day_words(person.last_seen.astimezone(zone), local_now)}. {off}"
            return Outcome("done", Delivery("nudge", text, why, f"person:{person.id}"))
        if lonely:
            fallback = ("It's been a couple of weeks since you've mentioned seeing anyone. Is there someone you'd like "
                        "to catch up with this week? Even a short walk or a coffee counts.")
            text = await self.speaker.say(
                "proactive_nudge", fallback, companion_name=companion, offer=" think of someone or a small plan",
                situation="For two weeks they haven't mentioned seeing or talking to anyone.",
                suggestion="a small, easy social plan this week (a coffee, a walk, a call)")
            why = f"You haven't mentioned spending time with anyone in the last two weeks. {off}"
            return Outcome("done", Delivery("nudge", text, why, "social"))
        return Outcome("skipped", note="everyone has come up lately")

    def _pick(self, conn: Connection, user_id: str, now: datetime,
              muted: tuple[str, ...]) -> tuple[Someone | None, bool]:
        rows = conn.execute(select(people).where(people.c.user_id == user_id)).all()
        recent = nudged_about(conn, user_id, now - SAME_PERSON)
        quiet = [_someone(r) for r in rows if r.name_key not in muted and (r.relation or "") not in muted]
        quiet = [p for p in quiet if now - p.last_seen >= QUIET_PERSON and p.id not in recent]
        if quiet:
            def rank(p: Someone) -> tuple[int, datetime]:
                return (_CLOSE.index(p.relation) if p.relation in _CLOSE else len(_CLOSE), p.last_seen)

            return min(quiet, key=rank), False
        last_social = last_delivery(conn, user_id, ["nudge"], ref="social")
        if last_social is not None and now - last_social < ISOLATION:
            return None, False
        seen = [_someone(r).last_seen for r in rows]
        talked = conn.execute(select(func.count()).select_from(messages).where(
            messages.c.user_id == user_id, messages.c.role == "user",
            messages.c.created_at >= _utc_naive(now - ISOLATION))).scalar_one()
        first = conn.execute(select(func.min(messages.c.created_at)).where(messages.c.user_id == user_id)).scalar()
        long_enough = first is not None and now - _aware(first) >= ISOLATION
        lonely = long_enough and int(talked) >= 5 and all(now - t >= ISOLATION for t in seen)
        return None, lonely
