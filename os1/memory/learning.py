"""Learning from conversations in the background: facts, people, embeddings and reflections.

Nothing here runs on the reply path. Each user message is learned from once (`extracted_at`), so work
interrupted by a new reply, a restart or a crash is simply picked up again later. Several processes may
learn from one PostgreSQL database (app servers, `os1 worker`s): each works on a user only while it holds
that user's claim (os1/memory/claims.py), so no message is learned from twice and no user reflected on twice.
"""

from __future__ import annotations

import logging
import re
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from ..clock import Clock
from ..errors import ModelError
from ..models import ChatModel
from ..storage import Database
from ..storage.schema import messages, users
from ..types import Exchange, UserId
from .claims import UserClaims
from .extract import extract
from .facts import FactStore, key
from .forget import Forgetter
from .reflect import ReflectionStore, reflect
from .store import SqlConversationStore, _row_to_exchange, _utc_naive

log = logging.getLogger("os1.memory")

# Reflect after this many new user messages (Generative Agents reflect on an importance budget; a count
# is simpler and predictable for the user).
REFLECT_EVERY = 12
BACKFILL_BATCH = 64
CLAIM_CANDIDATES = 32
"""Users with pending messages looked at per step; those another process holds are skipped."""
_CONTACT = re.compile(
    r"\b(talked|spoke|called|phoned|texted|messaged|emailed|saw|visited|met|hung out|had (?:dinner|lunch|coffee|drinks)|"
    r"caught up|heard from|facetimed|video.?called|skyped)\b", re.I)


@dataclass
class Memory:
    """Everything OS1 keeps about its users, in one place."""

    db: Database
    conversations: SqlConversationStore
    facts: FactStore
    reflections: ReflectionStore
    forgetter: Forgetter
    index: Any = None
    """The vector index (os1.memory.vectors.VectorIndex), when dense recall is on."""

    @classmethod
    def open(cls, db: Database, index: Any = None) -> Memory:
        return cls(db, SqlConversationStore(db), FactStore(db), ReflectionStore(db), Forgetter(db), index)


class Learner:
    """Works through messages not yet learned from, one at a time."""

    def __init__(self, memory: Memory, model: ChatModel, clock: Clock, *, reflect_every: int = REFLECT_EVERY) -> None:
        self.memory = memory
        self.model = model
        self.clock = clock
        self.reflect_every = reflect_every
        self._reflect_tried_at: dict[UserId, int] = {}
        self.claims = UserClaims(memory.db)

    def claim(self, user_id: UserId) -> AbstractAsyncContextManager[bool]:
        """Hold this user for learning (yields False when another process or task holds them)."""
        return self.claims.claim(user_id)

    async def next_pending(self, user_id: UserId | None = None) -> Exchange | None:
        q = select(messages).where(messages.c.role == "user", messages.c.extracted_at.is_(None))
        if user_id is not None:
            q = q.where(messages.c.user_id == user_id)
        q = q.order_by(messages.c.id).limit(1)
        row = await self.memory.db.read(lambda c: c.execute(q).first())
        return _row_to_exchange(row) if row is not None else None

    async def pending_users(self, limit: int = CLAIM_CANDIDATES) -> list[UserId]:
        """Users with messages not yet learned from, the longest waiting first."""
        first = func.min(messages.c.id)
        q = (select(messages.c.user_id).where(messages.c.role == "user", messages.c.extracted_at.is_(None))
             .group_by(messages.c.user_id).order_by(first).limit(limit))
        return [r[0] for r in await self.memory.db.read(lambda c: c.execute(q).all())]

    async def _learn_next(self) -> bool:
        """Learn from the oldest pending message of a user no one else holds; False when there is none."""
        for user_id in await self.pending_users():
            async with self.claim(user_id) as mine:
                if not mine:
                    continue
                ex = await self.next_pending(user_id)  # read again under the claim: another may have just finished
                if ex is None:
                    continue
                return await self.learn(ex)
        return False

    async def pending_count(self) -> int:
        q = select(func.count()).select_from(messages).where(messages.c.role == "user", messages.c.extracted_at.is_(None))
        return int(await self.memory.db.read(lambda c: c.execute(q).scalar_one()))

    async def _mark(self, ids: list[int], at: datetime) -> None:
        def tx(conn: Connection) -> None:
            conn.execute(update(messages).where(messages.c.id.in_(ids)).values(extracted_at=_utc_naive(at)))

        await self.memory.db.write(tx)

    async def step(self, *, backfill: bool = True) -> bool:
        """Learn from the oldest pending message, else (with `backfill`) index a batch of memories that have
        no vector yet (imported history, or everything after a change of embedder). False when idle."""
        if await self._learn_next():
            return True
        index = self.memory.index
        if index is None or not backfill:
            return False
        for user_id in await self.memory.db.read(lambda c: [r[0] for r in c.execute(select(users.c.id)).all()]):
            todo = await index.missing(user_id, limit=BACKFILL_BATCH)
            if todo:
                await index.add_many(user_id, todo)
                return True
        return False

    async def learn(self, ex: Exchange) -> bool:
        """Learn from one message; False when the model failed (the message stays pending for a later try)."""
        mem, now = self.memory, self.clock.now()
        around = await self._neighbours(ex)
        before = next((e for e in around if e.id < ex.id and e.role == "assistant"), None)
        reply = next((e for e in around if e.id > ex.id and e.role == "assistant"), None)
        profile = await mem.conversations.profile(ex.user_id)
        people = await mem.facts.people(ex.user_id)

        # Facts, by the model (a model failure leaves the message pending for a later try).
        try:
            candidates = await extract(self.model, ex.text, now=now, user_name=profile.user_name, people=people,
                                       context=before.text if before else None)
        except ModelError:
            return False
        new_facts = []
        for cand in candidates:
            applied = await mem.facts.apply(ex.user_id, cand, source_exchange_id=ex.id, at=ex.created_at)
            if applied.fact is not None:
                new_facts.append(applied.fact)

        # People: who was mentioned, and whether they were in touch.
        people = await mem.facts.people(ex.user_id)
        lowered = f" {key(ex.text)} "
        mentioned = [p.id for p in people
                     if f" {p.name.lower()} " in lowered or (p.relation and f" my {p.relation} " in f" {ex.text.lower()} ")]
        await mem.facts.touch_people(ex.user_id, mentioned, ex.created_at, contact=bool(_CONTACT.search(ex.text)))

        # Embeddings for dense recall.
        if mem.index is not None:
            items = [("exchange", ex.id, ex.text)] + ([("exchange", reply.id, reply.text)] if reply else [])
            items += [("fact", f.id, f.text) for f in new_facts]
            await mem.index.add_many(ex.user_id, items)
        await self._mark([ex.id], now)
        await self._maybe_reflect(ex.user_id, profile.user_name, profile.companion_name)
        return True

    async def _neighbours(self, ex: Exchange) -> list[Exchange]:
        q = (select(messages).where(messages.c.user_id == ex.user_id, messages.c.id.between(ex.id - 50, ex.id + 50))
             .order_by(messages.c.id))
        rows = await self.memory.db.read(lambda c: c.execute(q).all())
        exs = [_row_to_exchange(r) for r in rows]
        i = next(k for k, e in enumerate(exs) if e.id == ex.id)
        return list(reversed(exs[max(0, i - 1):i])) + exs[i + 1:i + 2]

    async def _maybe_reflect(self, user_id: UserId, user_name: str | None, companion_name: str | None) -> None:
        mem = self.memory
        since = await mem.reflections.latest_at(user_id)
        cond = [messages.c.user_id == user_id, messages.c.role == "user"]
        if since is not None:
            cond.append(messages.c.created_at > _utc_naive(since))
        q = select(func.count()).select_from(messages).where(*cond)
        count = int(await mem.db.read(lambda c: c.execute(q).scalar_one()))
        # After a try that produced nothing, wait for another batch of messages before trying again.
        if count < self.reflect_every or count - self._reflect_tried_at.get(user_id, -self.reflect_every) < self.reflect_every:
            return
        self._reflect_tried_at[user_id] = count
        if await self.reflect_now(user_id, user_name=user_name, companion_name=companion_name):
            self._reflect_tried_at.pop(user_id, None)

    async def reflect_now(self, user_id: UserId, *, user_name: str | None, companion_name: str | None) -> list[Any]:
        mem = self.memory
        recent = await mem.conversations.recent(user_id, self.reflect_every * 2)
        facts = await mem.facts.list_facts(user_id, include_history=False, limit=30)
        try:
            made = await reflect(self.model, mem.reflections, user_id, exchanges=recent, facts=facts,
                                 now=self.clock.now(), user_name=user_name, companion_name=companion_name)
        except ModelError as e:
            log.warning("reflection failed: %s", e.message)
            return []
        if mem.index is not None and made:
            await mem.index.add_many(user_id, [("reflection", r.id, r.text) for r in made])
        return made
