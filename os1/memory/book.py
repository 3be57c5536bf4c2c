"""The memory book: everything OS1 knows about a user, to browse, inspect and correct.

Shared by `os1 memory …`, `os1 people` and the HTTP API, so they always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select, update

from ..errors import InputError
from ..inputs import clean_message
from ..storage.schema import messages, reflections
from ..types import Fact, UserId, memory_ref
from .learning import Memory
from .store import _row_to_exchange

ListKind = Literal["known", "fact", "reflection", "exchange", "all"]


@dataclass(frozen=True, slots=True)
class MemoryItem:
    """One memory as a person sees it: what it says and where it came from."""

    ref: str
    kind: str
    text: str
    source: str
    created_at: datetime
    current: bool = True
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.ref, "kind": self.kind, "text": self.text, "source": self.source,
                "created_at": self.created_at.isoformat(), "current": self.current, **self.details}


def _fact_item(f: Fact, zone: Any) -> MemoryItem:
    src = f"from what you said (e{f.source_exchange_id})" if f.source_exchange_id else "added by you"
    if not f.current and f.valid_to:
        src += f"; true until {f.valid_to.astimezone(zone):%Y-%m-%d}"
    details: dict[str, Any] = {"subject": f.subject, "attribute": f.attribute, "value": f.value, "fact_kind": f.kind,
                               "source_exchange": f"e{f.source_exchange_id}" if f.source_exchange_id else None}
    if f.event_at:
        details["event_at"] = f.event_at.isoformat()
    if f.superseded_by:
        details["superseded_by"] = f"f{f.superseded_by}"
    return MemoryItem(memory_ref("fact", f.id), "fact", f.text, src, f.created_at, f.current, details)


class MemoryBook:
    def __init__(self, memory: Memory, zone: Any) -> None:
        self.memory = memory
        self.zone = zone

    async def items(self, user_id: UserId, *, kind: ListKind = "known", limit: int = 100,
                    include_history: bool = True) -> list[MemoryItem]:
        """Newest first. 'known' = facts and reflections (what OS1 has learned)."""
        out: list[MemoryItem] = []
        if kind in ("known", "fact", "all"):
            for f in await self.memory.facts.list_facts(user_id, include_history=include_history, limit=limit):
                out.append(_fact_item(f, self.zone))
        if kind in ("known", "reflection", "all"):
            for r in await self.memory.reflections.list_reflections(user_id, limit=limit):
                out.append(MemoryItem(memory_ref("reflection", r.id), "reflection", r.text,
                                      "my reflection on " + ", ".join(r.sources), r.created_at,
                                      details={"sources": list(r.sources)}))
        if kind in ("exchange", "all"):
            for e in reversed(await self.memory.conversations.recent(user_id, limit)):
                who = "you said" if e.role == "user" else "I said"
                out.append(MemoryItem(memory_ref("exchange", e.id), "exchange", e.text,
                                      f"{who} on {e.created_at.astimezone(self.zone):%Y-%m-%d %H:%M}", e.created_at,
                                      details={"role": e.role}))
        out.sort(key=lambda m: m.created_at, reverse=True)
        return out[:limit]

    async def show(self, user_id: UserId, ref: str) -> MemoryItem:
        """One memory with its source and what was derived from it. Raises InputError if unknown."""
        kind, item_id = _parse_ref(ref)
        mem = self.memory
        if kind == "f":
            f = await mem.facts.get(user_id, item_id)
            if f is None:
                raise _unknown(ref)
            item = _fact_item(f, self.zone)
            item.details["history"] = [_fact_item(h, self.zone).as_dict() for h in await mem.facts.history(user_id, f)]
            if f.source_exchange_id:
                src = await self._exchange(user_id, f.source_exchange_id)
                item.details["source_text"] = src.text if src else None
            return item
        if kind == "r":
            for r in await mem.reflections.list_reflections(user_id, limit=10_000):
                if r.id == item_id:
                    return MemoryItem(ref, "reflection", r.text, "my reflection", r.created_at,
                                      details={"sources": list(r.sources)})
            raise _unknown(ref)
        e = await self._exchange(user_id, item_id)
        if e is None:
            raise _unknown(ref)
        derived = [f"f{f.id}" for f in await mem.facts.list_facts(user_id) if f.source_exchange_id == e.id]
        who = "you said" if e.role == "user" else "I said"
        return MemoryItem(ref, "exchange", e.text, f"{who} on {e.created_at.astimezone(self.zone):%Y-%m-%d %H:%M}",
                          e.created_at, details={"role": e.role, "derived_facts": derived,
                                                 "emotion": e.emotion.label if e.emotion else None})

    async def edit(self, user_id: UserId, ref: str, new_text: str, *, at: datetime) -> MemoryItem:
        """Correct a memory's text; its index entries follow."""
        try:
            text = clean_message(new_text, max_chars=4000)
        except InputError as e:
            raise InputError(f"The new text can't be used: {e.message}", hint="Give the corrected text, 1 to 4,000 characters.") from e
        kind, item_id = _parse_ref(ref)
        mem = self.memory
        if kind == "f":
            if await mem.facts.edit(user_id, item_id, text_value=text, at=at) is None:
                raise _unknown(ref)
        else:
            table = messages if kind == "e" else reflections
            changed = await mem.db.write(lambda c: c.execute(
                update(table).where(table.c.user_id == user_id, table.c.id == item_id).values(text=text)).rowcount)
            if not changed:
                raise _unknown(ref)
        if mem.index is not None:
            long_kind = {"e": "exchange", "f": "fact", "r": "reflection"}[kind]
            await mem.index.remove(long_kind, [item_id])
            await mem.index.add(user_id, long_kind, item_id, text)
        return await self.show(user_id, ref)

    async def _exchange(self, user_id: UserId, item_id: int) -> Any:
        q = select(messages).where(messages.c.user_id == user_id, messages.c.id == item_id)
        row = await self.memory.db.read(lambda c: c.execute(q).first())
        return _row_to_exchange(row) if row is not None else None


def _parse_ref(ref: str) -> tuple[str, int]:
    ref = ref.strip().lower()
    if len(ref) >= 2 and ref[0] in "efr" and ref[1:].isdigit():
        return ref[0], int(ref[1:])
    raise InputError(f"{ref!r} is not a memory id.", hint="Memory ids look like e12 (exchange), f7 (fact), r3 (reflection).")


def _unknown(ref: str) -> InputError:
    return InputError(f"There is no memory {ref}.", hint="`os1 memory list` shows the ids.")


__all__ = ["MemoryBook", "MemoryItem"]
