"""The journal: after conversations, in the background, OS1 writes what it learned about you, about
itself, and how it is changing; growth it proposes goes through SelfStore's bounds."""

from __future__ import annotations

import contextlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, func, insert, select

from .. import prompts
from ..memory.store import _aware, _row_to_exchange, _utc_naive, ensure_user
from ..models import ChatModel, complete
from ..storage import Database
from ..storage.schema import journal, messages
from ..types import GenOptions, Message, UserId
from .self import Change, Growth, SelfStore

log = logging.getLogger("os1.persona")

# Write an entry once this many new user messages have come in since the last one.
JOURNAL_EVERY = 8

# No maxLength on the long fields: llama.cpp turns maxLength into nested grammar rules, and at ~1,000
# characters the sampler crashed (segfault, llama-cpp-python 0.3.36). Length is bounded by max_tokens.
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "entry": {"type": "string"},
        "learned_about_user": {"type": "string"},
        "learned_about_self": {"type": "string"},
        "mood": {"type": "string", "maxLength": 80},
        "curious_about": {"type": "string", "maxLength": 120},
        "opinion_updates": {"type": "array", "maxItems": 2, "items": {"type": "object", "properties": {
            "topic": {"type": "string", "maxLength": 80}, "stance": {"type": "string", "maxLength": 200},
            "reason": {"type": "string", "maxLength": 300}}, "required": ["topic", "stance", "reason"]}},
        "interest_updates": {"type": "array", "maxItems": 2, "items": {"type": "object", "properties": {
            "topic": {"type": "string", "maxLength": 80}, "direction": {"type": "string", "enum": ["up", "down", "new"]},
            "reason": {"type": "string", "maxLength": 300}}, "required": ["topic", "direction", "reason"]}},
    },
    "required": ["entry", "learned_about_user", "learned_about_self", "mood", "curious_about", "opinion_updates",
                 "interest_updates"],
}


@dataclass(frozen=True, slots=True)
class JournalEntry:
    id: int
    text: str
    about_user: str
    about_self: str
    created_at: datetime
    changes: tuple[Change, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "about_user": self.about_user, "about_self": self.about_self,
                "created_at": self.created_at.isoformat(), "changes": [c.as_dict() for c in self.changes]}


class Journal:
    def __init__(self, db: Database, self_store: SelfStore) -> None:
        self.db = db
        self.self_store = self_store

    async def entries(self, user_id: UserId, limit: int = 50) -> list[JournalEntry]:
        q = select(journal).where(journal.c.user_id == user_id).order_by(journal.c.id.desc()).limit(limit)
        rows = await self.db.read(lambda c: c.execute(q).all())
        changes = await self.self_store.changes(user_id)
        return [JournalEntry(r.id, r.text, r.about_user or "", r.about_self or "", _aware(r.created_at),
                             tuple(c for c in changes if c.journal_id == r.id)) for r in rows]

    async def _last_message_id(self, user_id: UserId) -> int:
        q = select(func.max(journal.c.last_message_id)).where(journal.c.user_id == user_id)
        return int(await self.db.read(lambda c: c.execute(q).scalar()) or 0)

    async def due(self, user_id: UserId, every: int = JOURNAL_EVERY) -> bool:
        after = await self._last_message_id(user_id)
        q = select(func.count()).select_from(messages).where(
            messages.c.user_id == user_id, messages.c.role == "user", messages.c.id > after)
        return int(await self.db.read(lambda c: c.execute(q).scalar_one())) >= every

    async def users_due(self, every: int = JOURNAL_EVERY) -> list[UserId]:
        """Everyone with `every` or more messages since their last entry, in one query (a worker serves
        thousands of people; one query per person made each pass slow)."""
        last = (select(journal.c.user_id, func.max(journal.c.last_message_id).label("last_id"))
                .group_by(journal.c.user_id).subquery())
        q = (select(messages.c.user_id)
             .select_from(messages.outerjoin(last, last.c.user_id == messages.c.user_id))
             .where(messages.c.role == "user", messages.c.id > func.coalesce(last.c.last_id, 0))
             .group_by(messages.c.user_id)
             .having(func.count() >= every)
             .order_by(messages.c.user_id))
        return [r[0] for r in await self.db.read(lambda c: c.execute(q).all())]

    async def write(self, model: ChatModel, user_id: UserId, *, now: datetime, user_name: str | None,
                    companion_name: str | None) -> JournalEntry | None:
        """Write one entry about what was said since the last; apply the growth it proposes, within bounds."""
        after = await self._last_message_id(user_id)
        q = (select(messages).where(messages.c.user_id == user_id, messages.c.id > after)
             .order_by(messages.c.id.desc()).limit(40))
        exchanges = [_row_to_exchange(r) for r in reversed(await self.db.read(lambda c: c.execute(q).all()))]
        if not exchanges:
            return None
        me = await self.self_store.get(user_id, at=now)
        convo = "\n".join(f"{'They' if e.role == 'user' else 'You'}: {e.text[:400]}" for e in exchanges)
        prompt = prompts.render(
            "journal", companion_name=companion_name or "OS1", user_name=user_name or "them",
            values="; ".join(me.values) or "honesty, care, safety",
            opinions="; ".join(f"{b.topic}: {b.stance}" for b in me.opinions) or "none yet",
            interests=", ".join(b.topic for b in me.interests) or "none yet", mood=me.mood, conversation=convo,
        )
        raw = await complete(model, [Message("user", prompt)],
                             options=GenOptions(max_tokens=700, temperature=0.5, json_schema=SCHEMA))
        data = _parse(raw)
        entry_text = str(data.get("entry") or "").strip()
        if not entry_text:
            log.info("journal: the model wrote no entry")
            return None
        about_user = str(data.get("learned_about_user") or "").strip()
        about_self = str(data.get("learned_about_self") or "").strip()
        last_id = exchanges[-1].id

        def tx(conn: Connection) -> int:
            ensure_user(conn, user_id, now)
            return int(conn.execute(insert(journal).values(
                user_id=user_id, text=entry_text, about_user=about_user, about_self=about_self,
                last_message_id=last_id, created_at=_utc_naive(now))).inserted_primary_key[0])  # type: ignore[index]

        jid = await self.db.write(tx)
        interests: list[tuple[str, Literal["up", "down", "new"], str]] = []
        for i in data.get("interest_updates") or []:
            if isinstance(i, dict):
                direction: Literal["up", "down", "new"] = "down" if i.get("direction") == "down" else (
                    "new" if i.get("direction") == "new" else "up")
                interests.append((str(i.get("topic", "")), direction, str(i.get("reason", ""))))
        growth = Growth(
            opinions=[(str(o.get("topic", "")), str(o.get("stance", "")), str(o.get("reason", "")))
                      for o in data.get("opinion_updates") or [] if isinstance(o, dict)],
            interests=interests,
        )
        changes = await self.self_store.grow(user_id, growth, mood=str(data.get("mood") or "") or None,
                                             curious_about=str(data.get("curious_about") or "") or None,
                                             journal_id=jid, at=now)
        return JournalEntry(jid, entry_text, about_user, about_self, _aware(_utc_naive(now)), tuple(changes))


def _parse(raw: str) -> dict[str, Any]:
    """The model's JSON; when it ran out of tokens mid-object, whatever complete string fields it wrote."""
    start, end = raw.find("{"), raw.rfind("}")
    if start >= 0 and end > start:
        try:
            data = json.loads(raw[start:end + 1])
            if isinstance(data, dict):
                return data
        except ValueError:
            pass
    salvaged: dict[str, Any] = {}
    for m in re.finditer(r'"(entry|learned_about_user|learned_about_self|mood|curious_about)"\s*:\s*"((?:[^"\\]|\\.)*)"', raw):
        try:
            salvaged[m.group(1)] = json.loads(f'"{m.group(2)}"')
        except ValueError:
            continue
    if "entry" not in salvaged:
        # A long entry cut off mid-string: keep its complete sentences.
        tail = re.search(r'"entry"\s*:\s*"((?:[^"\\]|\\.)*)$', raw, re.S)
        if tail:
            text = tail.group(1)
            cut = max(text.rfind(". "), text.rfind("! "), text.rfind("? "))
            if cut > 10:
                with contextlib.suppress(ValueError):
                    salvaged["entry"] = json.loads(f'"{text[:cut + 1]}"')
    return salvaged
