"""Reflection: consolidating exchanges and facts into higher-level insights, each linked to its sources
(in the spirit of Generative Agents' reflection)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from .. import prompts
from ..models import ChatModel, complete
from ..storage import Database
from ..storage.schema import reflection_sources, reflections
from ..types import Exchange, Fact, GenOptions, Message, Reflection, UserId, memory_ref
from .store import _aware, _utc_naive

log = logging.getLogger("os1.memory")

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "insights": {
            "type": "array",
            "maxItems": 3,
            "items": {
                "type": "object",
                "properties": {
                    "text": {"type": "string"},  # no long maxLength: see persona/journal.py
                    "sources": {"type": "array", "maxItems": 8, "items": {"type": "string", "maxLength": 12}},
                },
                "required": ["text", "sources"],
            },
        }
    },
    "required": ["insights"],
}


class ReflectionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, user_id: UserId, text: str, sources: Sequence[str], *, at: datetime) -> Reflection:
        def tx(conn: Connection) -> int:
            rid = int(conn.execute(insert(reflections).values(user_id=user_id, text=text, created_at=_utc_naive(at)))
                      .inserted_primary_key[0])  # type: ignore[index]
            kinds = {"e": "exchange", "f": "fact", "r": "reflection"}
            rows = [{"reflection_id": rid, "item_kind": kinds[s[0]], "item_id": int(s[1:])} for s in dict.fromkeys(sources)]
            if rows:
                conn.execute(insert(reflection_sources), rows)
            return rid

        rid = await self.db.write(tx)
        return Reflection(rid, user_id, text, _aware(_utc_naive(at)), tuple(dict.fromkeys(sources)))

    async def list_reflections(self, user_id: UserId, limit: int = 200) -> list[Reflection]:
        def q(conn: Connection) -> list[Reflection]:
            rows = conn.execute(select(reflections).where(reflections.c.user_id == user_id)
                                .order_by(reflections.c.id.desc()).limit(limit)).all()
            out = []
            for r in rows:
                src = conn.execute(select(reflection_sources).where(reflection_sources.c.reflection_id == r.id)).all()
                out.append(Reflection(r.id, user_id, r.text, _aware(r.created_at),
                                      tuple(memory_ref(s.item_kind, s.item_id) for s in src)))
            return out

        return await self.db.read(q)

    async def citing(self, user_id: UserId, kind: str, ids: Sequence[int]) -> list[int]:
        """Reflections that rest on any of these items."""
        q = (select(reflection_sources.c.reflection_id).join(reflections, reflections.c.id == reflection_sources.c.reflection_id)
             .where(reflections.c.user_id == user_id, reflection_sources.c.item_kind == kind,
                    reflection_sources.c.item_id.in_(list(ids))))
        return sorted({int(r[0]) for r in await self.db.read(lambda c: c.execute(q).all())})

    async def delete(self, user_id: UserId, ids: Sequence[int]) -> int:
        def tx(conn: Connection) -> int:
            return int(conn.execute(delete(reflections).where(reflections.c.user_id == user_id,
                                                              reflections.c.id.in_(list(ids)))).rowcount)

        return await self.db.write(tx)

    async def latest_at(self, user_id: UserId) -> datetime | None:
        q = select(reflections.c.created_at).where(reflections.c.user_id == user_id).order_by(reflections.c.id.desc()).limit(1)
        row = await self.db.read(lambda c: c.execute(q).first())
        return _aware(row[0]) if row else None


def _render(exchanges: Sequence[Exchange], facts: Sequence[Fact]) -> tuple[str, set[str]]:
    lines, refs = [], set()
    for f in facts:
        refs.add(memory_ref("fact", f.id))
        lines.append(f"[{memory_ref('fact', f.id)}] (fact) {f.text}")
    for e in exchanges:
        refs.add(memory_ref("exchange", e.id))
        who = "they said" if e.role == "user" else "you said"
        lines.append(f"[{memory_ref('exchange', e.id)}] ({who}, {e.created_at:%Y-%m-%d}) {e.text[:300]}")
    return "\n".join(lines), refs


async def reflect(model: ChatModel, store: ReflectionStore, user_id: UserId, *, exchanges: Sequence[Exchange],
                  facts: Sequence[Fact], now: datetime, user_name: str | None, companion_name: str | None) -> list[Reflection]:
    """Ask the model for insights over these memories and store the ones that cite real sources."""
    if not exchanges and not facts:
        return []
    listing, valid = _render(exchanges, facts)
    prompt = prompts.render("reflect", companion_name=companion_name or "OS1", user_name=user_name or "them",
                            memories=listing)
    raw = await complete(model, [Message("user", prompt)],
                         options=GenOptions(max_tokens=500, temperature=0.3, json_schema=SCHEMA))
    start, end = raw.find("{"), raw.rfind("}")
    try:
        data = json.loads(raw[start:end + 1]) if start >= 0 else {}
    except ValueError:
        log.info("reflection returned malformed JSON")
        return []
    out = []
    for item in (data.get("insights") or [])[:3] if isinstance(data, dict) else []:
        if not isinstance(item, dict):
            continue
        text = str(item.get("text") or "").strip()
        sources = [s for s in (str(x).strip().lower() for x in item.get("sources") or []) if s in valid]
        if text and sources:  # an insight with no real source is not kept
            out.append(await store.add(user_id, text, sources, at=now))
    return out
