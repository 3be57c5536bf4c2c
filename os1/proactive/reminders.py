"""Reminders: asked for in conversation, the CLI or the API; each fires once, at the time asked, in words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ..errors import InputError
from ..memory.store import _aware, _utc_naive, ensure_user
from ..storage import Database
from .inbox import Delivery
from .jobs import Job, Outcome, cancel_jobs, enqueue
from .tables import reminders
from .when import When, clock_words, day_words, find_when, next_after, repeat_words
from .zones import UserZones

_TRIGGER = re.compile(
    r"\b(?:(?:can|could|would|will) you |please )*(?:remind me|set (?:a |an )?reminder|(?:do not|don't|dont) let me "
    r"forget)\b(?: (?P<conn>to|about|that|of|for)\b)?", re.I)
_FILLER = re.compile(r"^(?:please |to |, )+|(?: please| for me| ok| okay| thanks| thank you)+$|[\s,.!?;:]+$", re.I)
_YOU = [(r"\bmy\b", "your"), (r"\bme\b", "you"), (r"\bi\b", "you"), (r"\bi'm\b", "you're"), (r"\bmyself\b", "yourself"),
        (r"\bmine\b", "yours"), (r"\bam i\b", "are you"), (r"\bi've\b", "you've")]
_QUESTION = re.compile(r"\s*(?:again\b|what|who|where|when|how|why|which|whether|if\b)", re.I)
LATE = timedelta(minutes=10)
"""A reminder that goes out later than this (OS1 was not running) says so."""


def you_words(text: str) -> str:
    """The user's words as OS1 says them back: 'call my mom' -> 'call your mom'."""
    for pattern, repl in _YOU:
        text = re.sub(pattern, repl, text, flags=re.I)
    return text


def _clean(task: str) -> str:
    prev = None
    while prev != task:
        prev, task = task, _FILLER.sub("", task.strip())
    return task.strip()


@dataclass(frozen=True, slots=True)
class ReminderRequest:
    """What a message asked to be reminded of, and when (None: a reminder was asked for, the time unclear)."""

    task: str
    when: When | None


def reminder_request(text: str, now: datetime, *, trigger: bool = True) -> ReminderRequest | None:
    """A reminder asked for in `text` ("remind me to call mom Sunday at 6"); with `trigger=False` the whole
    text is the request ("every Tuesday water the plants"). None when it asks for none."""
    m = _TRIGGER.search(text)
    if m is None and trigger:
        return None
    body = text[m.end():] if m is not None else text
    connector = (m["conn"] or "").lower() if m is not None else ""
    if m is not None and not connector and _QUESTION.match(body):
        return None  # "remind me what we said about Rachel": a question about the past, not a reminder
    found = find_when(body, now)
    if found is None and m is not None:  # "Sunday at 6, remind me to call mom"
        before = find_when(text[:m.start()], now)
        if before is not None and not before[1].strip(" ,.!?"):
            return ReminderRequest(_with(connector, _clean(body)), before[0]) if _clean(body) else None
    if found is None:
        task = _clean(body)
        return ReminderRequest(_with(connector, task), None) if task else None
    when, rest = found
    # find_when lower-cases; take the task from the original text where it survived intact.
    task = _clean(_original_rest(body, when.phrase) or rest)
    return ReminderRequest(_with(connector, task), when)


def _with(connector: str, task: str) -> str:
    return f"{connector} {task}" if connector in ("about", "that", "of") and task else task


def _original_rest(body: str, phrase: str) -> str | None:
    norm = re.sub(r"\s+", " ", body.replace("\u2019", "'")).strip()
    i = norm.lower().find(phrase)
    return (norm[:i] + " " + norm[i + len(phrase):]).strip() if i >= 0 and phrase else None


@dataclass(frozen=True, slots=True)
class Reminder:
    id: int
    user_id: str
    text: str
    said: str | None
    due_at: datetime | None
    rule: str | None
    status: str
    fired_count: int
    created_at: datetime

    def as_dict(self, now: datetime) -> dict[str, Any]:
        local = self.due_at.astimezone(now.tzinfo) if self.due_at else None
        return {"id": self.id, "text": self.text, "said": self.said, "status": self.status,
                "due_at": local.isoformat() if local else None,
                "when": f"{day_words(local, now)} at {clock_words(local)}" if local else None,
                "repeat": repeat_words(self.rule) if self.rule else None, "rule": self.rule,
                "fired_count": self.fired_count, "created_at": self.created_at.isoformat()}


def _reminder(row: Any) -> Reminder:
    return Reminder(row.id, row.user_id, row.text, row.said, _aware(row.due_at) if row.due_at else None, row.rule,
                    row.status, row.fired_count, _aware(row.created_at))


def reminder_text(task: str, late_since: datetime | None, now: datetime) -> str:
    """What OS1 says when a reminder is due."""
    words = you_words(task)
    first = words.split(" ", 1)[0].lower()
    line = (f"A reminder {words}." if first in ("about", "that", "of") else f"Time to {words}.")
    if late_since is not None:
        line += f" (This was for {day_words(late_since, now)} at {clock_words(late_since)}; I wasn't running then, sorry it's late.)"
    return line[0].upper() + line[1:]


class Reminders:
    """A user's reminders and the jobs that fire them."""

    def __init__(self, db: Database, zones: UserZones) -> None:
        self.db = db
        self.zones = zones

    def _schedule(self, conn: Connection, user_id: str, rid: int, due: datetime, now: datetime) -> None:
        enqueue(conn, user_id, "reminder", f"reminder:{rid}:{_utc_naive(due).isoformat()}", due,
                {"reminder_id": rid, "due": _utc_naive(due).isoformat()}, now=now)

    async def add(self, user_id: str, text: str, *, now: datetime, source_message_id: int | None = None,
                  request: ReminderRequest | None = None) -> Reminder:
        """A reminder from words ("call mom Sunday at 6", "remind me in 20 minutes to stretch")."""
        zone = await self.zones.get(user_id)
        req = request or reminder_request(text, now.astimezone(zone), trigger=False)
        if req is None or not req.task:
            raise InputError("What should I remind you about?", hint='Say it like "call mom Sunday at 6pm".')
        if req.when is None:
            raise InputError(f"I couldn't tell when to remind you in {text!r}.",
                             hint='Try "tomorrow at 9", "Sunday at 6pm", "in 20 minutes", "every Tuesday at 8".')
        when = req.when

        def tx(conn: Connection) -> Reminder:
            ensure_user(conn, user_id, now)
            rid = int(conn.execute(insert(reminders).values(
                user_id=user_id, text=req.task[:1000], said=text[:2000], due_at=_utc_naive(when.at), rule=when.rule,
                zone=getattr(zone, "key", None), status="active", source_message_id=source_message_id, fired_count=0,
                created_at=_utc_naive(now), updated_at=_utc_naive(now))).inserted_primary_key[0])  # type: ignore[index]
            self._schedule(conn, user_id, rid, when.at, now)
            return _reminder(conn.execute(select(reminders).where(reminders.c.id == rid)).one())

        return await self.db.write(tx)

    async def list(self, user_id: str, *, include_done: bool = False) -> list[Reminder]:
        q = select(reminders).where(reminders.c.user_id == user_id)
        if not include_done:
            q = q.where(reminders.c.status == "active")
        q = q.order_by(reminders.c.due_at, reminders.c.id)
        return [_reminder(r) for r in await self.db.read(lambda c: c.execute(q).all())]

    async def get(self, user_id: str, rid: int) -> Reminder:
        q = select(reminders).where(reminders.c.user_id == user_id, reminders.c.id == rid)
        row = await self.db.read(lambda c: c.execute(q).first())
        if row is None:
            raise InputError(f"There is no reminder {rid}.", hint="`os1 reminders` lists them with their ids.")
        return _reminder(row)

    async def edit(self, user_id: str, rid: int, *, now: datetime, text: str | None = None,
                   when: str | When | None = None) -> Reminder:
        """Change what a reminder says and/or when it is due (in words, as for `add`, or a `When`)."""
        old = await self.get(user_id, rid)
        if old.status != "active":
            raise InputError(f"Reminder {rid} is {old.status}; only active reminders can be changed.")
        new_when = when if isinstance(when, When) else None
        if isinstance(when, str):
            req = reminder_request(when, now.astimezone(await self.zones.get(user_id)), trigger=False)
            if req is None or req.when is None or req.task:
                raise InputError(f"I couldn't read {when!r} as a time.", hint='Try "tomorrow at 9" or "every day at 8".')
            new_when = req.when
        task = _clean(text) if text is not None else None
        if text is not None and not task:
            raise InputError("A reminder needs some words.")

        def tx(conn: Connection) -> Reminder:
            values: dict[str, Any] = {"updated_at": _utc_naive(now)}
            if task:
                values["text"] = task[:1000]
            if new_when is not None:
                values.update(due_at=_utc_naive(new_when.at), rule=new_when.rule)
                cancel_jobs(conn, user_id, f"reminder:{rid}:", now=now)
                self._schedule(conn, user_id, rid, new_when.at, now)
            conn.execute(update(reminders).where(reminders.c.id == rid, reminders.c.user_id == user_id).values(**values))
            return _reminder(conn.execute(select(reminders).where(reminders.c.id == rid)).one())

        return await self.db.write(tx)

    async def cancel(self, user_id: str, rid: int, *, now: datetime) -> Reminder:
        await self.get(user_id, rid)

        def tx(conn: Connection) -> Reminder:
            cancel_jobs(conn, user_id, f"reminder:{rid}:", now=now)
            conn.execute(update(reminders).where(reminders.c.id == rid, reminders.c.user_id == user_id)
                         .values(status="cancelled", updated_at=_utc_naive(now)))
            return _reminder(conn.execute(select(reminders).where(reminders.c.id == rid)).one())

        return await self.db.write(tx)

    async def fire(self, job: Job, now: datetime) -> Outcome:
        """The job handler: say the reminder, and schedule the next one if it repeats."""
        rid = int(job.payload["reminder_id"])
        row = await self.db.read(lambda c: c.execute(select(reminders).where(reminders.c.id == rid)).first())
        if row is None or row.status != "active":
            return Outcome("skipped", note="the reminder was cancelled or removed")
        r = _reminder(row)
        due = job.run_at
        zone = await self.zones.get(r.user_id)
        local_due, local_now = due.astimezone(zone), now.astimezone(zone)
        late = local_due if now - due > LATE else None
        asked = f'You asked me {day_words(r.created_at.astimezone(zone), local_now)}'
        why = f'{asked}: "{r.said}".' if r.said else f"{asked} to remind you."
        nxt = next_after(r.rule, zone, max(now, due)) if r.rule else None

        def then(conn: Connection) -> None:
            values: dict[str, Any] = {"fired_count": reminders.c.fired_count + 1, "last_fired_at": _utc_naive(now),
                                      "updated_at": _utc_naive(now)}
            if nxt is not None:
                values["due_at"] = _utc_naive(nxt)
                self._schedule(conn, r.user_id, rid, nxt, now)
            else:
                values["status"] = "done"
            conn.execute(update(reminders).where(reminders.c.id == rid).values(**values))

        return Outcome("done", Delivery("reminder", reminder_text(r.text, late, local_now), why, f"reminder:{rid}"),
                       then)
