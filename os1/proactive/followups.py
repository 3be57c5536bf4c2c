"""Follow-ups: a dated event you mention ("my interview is Thursday") gets a "how did it go?" the day after,
unless you have already said how it went.

Two sources, both kept: a cheap detector on each message (so the follow-up exists at once, with the
words you used), and the background fact extractor's dated events and plans (which reads phrasings the
detector misses). The same event from both is stored once (same day, a shared topic word).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from ..memory.store import _aware, _utc_naive, ensure_user, search_terms
from ..storage import Database
from ..storage.schema import facts, messages
from .tables import followups
from .when import When, day_words, find_when, localize
from .zones import UserZones

NOON = time(12, 0)
ASK_AT = time(10, 0)
"""Follow-ups are asked the morning after the event (then held for quiet hours and the daily limit)."""
HORIZON = timedelta(days=120)
_GENERIC = frozenset({"day", "week", "weekend", "time", "thing", "it", "this", "that", "one", "plan", "plans", "today",
                      "tomorrow", "tonight", "turn", "reminder", "alarm", "next", "last", "favourite", "favorite"})
_WHAT = r"(?P<what>[a-z][a-z' -]{1,48}?)"
_EVENT = [
    re.compile(r"\b(?P<pos>my|our) " + _WHAT + r" (?:is|are|'s|will be|was moved to|got moved to)(?: on| this| next)?\s*$"),
    re.compile(r"\b(?P<pos>[a-z]+'s) " + _WHAT + r" (?:is|will be|was moved to)(?: on| this| next)?\s*$"),
    re.compile(r"\bi(?: have|'ve got| have got| got|'ve|'ll have| will have) (?P<pos>a|an|my|our|the) " + _WHAT
               + r"(?: on| this| next)?\s*$"),
    re.compile(r"\bi'm (?P<pos>having|taking|starting|running|flying|moving|meeting|seeing|presenting|going to|visiting) "
               + _WHAT + r"(?: on| this| next)?\s*$"),
]
_REPORT = re.compile(r"\b(went|was|were|did|got|passed|failed|over|done|finished|had|happened|turned out|survived|"
                     r"nailed|bombed|good|great|fine|terrible|awful|well|badly)\b")


@dataclass(frozen=True, slots=True)
class Event:
    """A dated event found in a message."""

    about: str
    """How OS1 refers to it: 'your interview', "your dad's surgery"."""
    topic_key: str
    when: When
    timed: bool


def _about(pos: str, what: str) -> str:
    what = what.strip(" -'")
    if pos in ("my", "our"):
        return f"your {what}"
    if pos.endswith("'s"):
        return f"your {pos} {what}" if pos[:-2] in _FAMILY else f"{pos[:-2].title()}'s {what}"
    if pos in ("a", "an", "the"):
        return f"your {what}"
    return f"your {pos} {what}" if pos != "going to" else f"your trip to {what}" if not what.startswith("the ") else what


_FAMILY = frozenset({"mom", "mum", "dad", "mother", "father", "sister", "brother", "wife", "husband", "partner", "son",
                     "daughter", "grandma", "grandpa", "boss", "friend", "aunt", "uncle", "cousin", "kid", "baby"})


def detect_event(text: str, now: datetime) -> Event | None:
    """A future dated event in a message, or None. Cheap and strict: it only reads plain statements."""
    found = find_when(text, now)
    if found is None or found[0].rule is not None:
        return None
    when = found[0]
    if when.at - now > HORIZON:
        return None
    t = re.sub(r"\s+", " ", text.lower().replace("\u2019", "'"))
    at = t.find(when.phrase)
    if at < 0:
        return None
    clause = re.split(r"[.!?;:,]| but | and | so ", t[:at])[-1]
    for rx in _EVENT:
        m = rx.search(clause)
        if m is None:
            continue
        terms = [w for w in search_terms(m["what"]) if w not in _GENERIC]
        if not terms:
            return None
        return Event(_about(m["pos"], m["what"]), " ".join(terms[:6]), when, timed=_has_clock(when.phrase))
    return None


def _has_clock(phrase: str) -> bool:
    return bool(re.search(r"\d(?::\d\d)?\s*(?:am|pm)|\d:\d\d|\bnoon\b|\bat \d", phrase))


def told_already(said: str, topic_key: str) -> bool:
    """Whether a message mentions the event's topic as something that has happened."""
    words = set(re.findall(r"[a-z']+", said.lower()))
    return bool(words & set(topic_key.split())) and bool(_REPORT.search(said.lower()))


@dataclass(frozen=True, slots=True)
class FollowUp:
    id: int
    user_id: str
    about: str
    topic_key: str
    said: str | None
    event_at: datetime
    timed: bool
    """False when only the day is known (event_at is then noon that day)."""
    ask_at: datetime
    status: str
    said_at: datetime

    def as_dict(self, now: datetime) -> dict[str, Any]:
        return {"id": self.id, "about": self.about, "said": self.said, "status": self.status,
                "event_at": self.event_at.astimezone(now.tzinfo).isoformat(),
                "ask_at": self.ask_at.astimezone(now.tzinfo).isoformat()}


def _followup(row: Any) -> FollowUp:
    return FollowUp(row.id, row.user_id, row.about, row.topic_key, row.said, _aware(row.event_at), bool(row.timed),
                    _aware(row.ask_at), row.status, _aware(row.said_at))


def ask_time(event_at: datetime, zone: tzinfo) -> datetime:
    day = event_at.astimezone(zone).date() + timedelta(days=1)
    return localize(datetime.combine(day, ASK_AT), zone)


class FollowUps:
    """Dated events and the follow-up questions about them."""

    def __init__(self, db: Database, zones: UserZones) -> None:
        self.db = db
        self.zones = zones

    def _same(self, conn: Connection, user_id: str, event_at: datetime, topic_key: str, zone: tzinfo) -> bool:
        day = event_at.astimezone(zone).date()
        start = localize(datetime.combine(day, time(0)), zone)
        rows = conn.execute(select(followups.c.topic_key).where(
            followups.c.user_id == user_id, followups.c.event_at >= _utc_naive(start),
            followups.c.event_at < _utc_naive(start + timedelta(days=1, hours=1)))).all()
        words = set(topic_key.split())
        return any(words & set(r.topic_key.split()) for r in rows)

    def _add(self, conn: Connection, user_id: str, about: str, topic_key: str, event_at: datetime, *, timed: bool,
             said: str | None, said_at: datetime, source_message_id: int | None, fact_id: int | None,
             now: datetime) -> int | None:
        from .jobs import enqueue

        zone = self.zones.sync(conn, user_id)
        if not timed:
            event_at = localize(datetime.combine(event_at.astimezone(zone).date(), NOON), zone)
        if self._same(conn, user_id, event_at, topic_key, zone):
            return None
        ensure_user(conn, user_id, now)
        ask = ask_time(event_at, zone)
        fid = int(conn.execute(insert(followups).values(
            user_id=user_id, about=about[:300], topic_key=topic_key[:200], said=(said or "")[:2000] or None,
            event_at=_utc_naive(event_at), timed=timed, ask_at=_utc_naive(ask), status="pending",
            source_message_id=source_message_id, fact_id=fact_id, said_at=_utc_naive(said_at),
            created_at=_utc_naive(now), updated_at=_utc_naive(now))).inserted_primary_key[0])  # type: ignore[index]
        enqueue(conn, user_id, "followup", f"followup:{fid}", ask, {"followup_id": fid}, now=now)
        return fid

    async def add_event(self, user_id: str, event: Event, *, said: str, now: datetime,
                        source_message_id: int | None) -> int | None:
        """Store a follow-up for a detected event (None if the same event is already known)."""
        return await self.db.write(lambda c: self._add(
            c, user_id, event.about, event.topic_key, event.when.at, timed=event.timed, said=said, said_at=now,
            source_message_id=source_message_id, fact_id=None, now=now))

    async def heard(self, user_id: str, text: str, now: datetime) -> list[FollowUp]:
        """The user said something: follow-ups it answers (the event has begun, and they said how it went,
        or they replied to the question) are marked answered. Returns them."""
        def tx(conn: Connection) -> list[FollowUp]:
            rows = conn.execute(select(followups).where(
                followups.c.user_id == user_id, followups.c.status.in_(["pending", "asked"]),
                followups.c.event_at <= _utc_naive(now + timedelta(hours=12)))).all()
            zone = self.zones.sync(conn, user_id)
            done = [f for f in map(_followup, rows) if self._answers(f, text, now, zone)]
            if done:
                conn.execute(update(followups).where(followups.c.id.in_([f.id for f in done]))
                             .values(status="answered", updated_at=_utc_naive(now)))
            return done

        return await self.db.write(tx)

    def _answers(self, f: FollowUp, text: str, now: datetime, zone: tzinfo) -> bool:
        if f.status == "asked":
            return True  # their first message after the question is the answer
        started = now >= f.event_at or now.astimezone(zone).date() >= f.event_at.astimezone(zone).date()
        return started and told_already(text, f.topic_key)

    def told_since(self, conn: Connection, f: FollowUp, zone: tzinfo) -> bool:
        """Whether any message since the event's day began already said how it went."""
        day_start = localize(datetime.combine(f.event_at.astimezone(zone).date(), time(0)), zone)
        rows = conn.execute(select(messages.c.text).where(
            messages.c.user_id == f.user_id, messages.c.role == "user",
            messages.c.created_at >= _utc_naive(max(day_start, f.said_at + timedelta(seconds=1))))).all()
        return any(told_already(r.text, f.topic_key) for r in rows)

    async def get(self, fid: int) -> FollowUp | None:
        row = await self.db.read(lambda c: c.execute(select(followups).where(followups.c.id == fid)).first())
        return _followup(row) if row is not None else None

    async def upcoming(self, user_id: str, start: datetime, end: datetime) -> list[FollowUp]:
        q = select(followups).where(followups.c.user_id == user_id, followups.c.status != "cancelled",
                                    followups.c.event_at >= _utc_naive(start), followups.c.event_at < _utc_naive(end))
        return [_followup(r) for r in await self.db.read(lambda c: c.execute(q.order_by(followups.c.event_at)).all())]

    async def list(self, user_id: str) -> list[FollowUp]:
        q = select(followups).where(followups.c.user_id == user_id).order_by(followups.c.event_at.desc()).limit(100)
        return [_followup(r) for r in await self.db.read(lambda c: c.execute(q).all())]

    async def plan_from_facts(self, now: datetime) -> int:
        """Follow-ups for dated events and plans the background learner found; returns how many were added."""
        q = select(facts).outerjoin(followups, followups.c.fact_id == facts.c.id).where(
            facts.c.kind.in_(["event", "plan"]), facts.c.event_at.is_not(None), facts.c.valid_to.is_(None),
            and_(facts.c.event_at >= _utc_naive(now - timedelta(days=1)), facts.c.event_at <= _utc_naive(now + HORIZON)),
            followups.c.id.is_(None))

        def tx(conn: Connection) -> int:
            added = 0
            for row in conn.execute(q.limit(200)).all():
                value = row.value if len(row.value) <= 60 else row.text
                terms = [w for w in search_terms(value) if w not in _GENERIC]
                if not terms:
                    continue
                subject = "your" if row.subject == "user" else f"{row.subject}'s"
                about = value if value.lower().startswith(("my ", "your ")) else f"{subject} {value}"
                about = re.sub(r"^my ", "your ", about, flags=re.I)
                said = conn.execute(select(messages.c.text, messages.c.created_at).where(
                    messages.c.id == row.source_exchange_id)).first() if row.source_exchange_id else None
                if self._add(conn, row.user_id, about, " ".join(terms[:6]), _aware(row.event_at), timed=False,
                             said=said.text if said else row.text, said_at=_aware(said.created_at if said else row.created_at),
                             source_message_id=row.source_exchange_id, fact_id=row.id, now=now) is not None:
                    added += 1
            return added

        return await self.db.write(tx)

    def mark_sync(self, conn: Connection, fid: int, status: str, now: datetime) -> None:
        conn.execute(update(followups).where(followups.c.id == fid).values(status=status, updated_at=_utc_naive(now)))

    def said_words(self, f: FollowUp, now: datetime, zone: tzinfo) -> str:
        """'You told me on Monday that …' for the message's why."""
        when = day_words(f.said_at.astimezone(zone), now.astimezone(zone))
        when = {"today": "earlier today", "tomorrow": "just now"}.get(when, f"on {when}" if " " not in when else when)
        return f'You told me {when}: "{f.said}".' if f.said else f"You told me {when} about {f.about}."
