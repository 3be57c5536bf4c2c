"""The safety events a user can see: each time OS1 found risk, what it showed, and how it answered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import JSON, Column, Connection, DateTime, ForeignKey, Integer, String, Table, insert, select

from ..memory.store import _aware, _utc_naive, ensure_user
from ..storage import Database
from ..storage.schema import messages, metadata
from ..types import UserId

EventKind = Literal["crisis", "concern", "honesty"]

safety_events = Table(
    "safety_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("message_id", Integer, ForeignKey("messages.id", ondelete="CASCADE")),
    Column("kind", String(16), nullable=False),
    Column("categories", JSON(), nullable=False),
    Column("reasons", JSON(), nullable=False),
    Column("country", String(16), nullable=False),
    Column("resources", JSON(), nullable=False),
    Column("response", String(32), nullable=False),
    Column("problems", JSON(), nullable=False),
    Column("created_at", DateTime(), nullable=False),
)


@dataclass(frozen=True, slots=True)
class SafetyEvent:
    """One time OS1 found risk (or caught its own reply), as the user sees it in `os1 safety`."""

    id: int
    user_id: UserId
    message_id: int | None
    """The message that raised it (forgetting that message forgets this event too)."""
    message: str | None
    kind: EventKind
    categories: tuple[str, ...]
    reasons: tuple[str, ...]
    country: str
    """Whose crisis lines were shown (OS1_LOCALE)."""
    resources: tuple[str, ...]
    response: str
    """model (its reply passed the check), fallback:model_unavailable, fallback:empty_reply or fallback:reply_check."""
    problems: tuple[str, ...]
    """What the reply check found in the model's reply (means, dismissive, ends_conversation, …)."""
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "message_id": self.message_id, "message": self.message, "kind": self.kind,
                "categories": list(self.categories), "reasons": list(self.reasons), "country": self.country,
                "resources": list(self.resources), "response": self.response, "problems": list(self.problems),
                "created_at": self.created_at.isoformat()}


class SafetyEvents:
    """Where safety events are recorded and listed."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, user_id: UserId, *, kind: EventKind, message_id: int | None, categories: tuple[str, ...],
                     reasons: tuple[str, ...], country: str, resources: tuple[str, ...], response: str,
                     problems: tuple[str, ...], at: datetime) -> int:
        """Store one event; returns its id."""
        def write(conn: Connection) -> int:
            ensure_user(conn, user_id, at)
            result = conn.execute(insert(safety_events).values(
                user_id=user_id, message_id=message_id, kind=kind, categories=list(categories), reasons=list(reasons),
                country=country, resources=list(resources), response=response, problems=list(problems),
                created_at=_utc_naive(at)))
            return int(result.inserted_primary_key[0])  # type: ignore[index]
        return await self.db.write(write)

    async def list(self, user_id: UserId, *, limit: int = 50) -> list[SafetyEvent]:
        """The user's events, newest first, with the message that raised each (if it is still kept)."""
        def read(conn: Connection) -> list[SafetyEvent]:
            q = (select(safety_events, messages.c.text)
                 .select_from(safety_events.outerjoin(messages, messages.c.id == safety_events.c.message_id))
                 .where(safety_events.c.user_id == user_id)
                 .order_by(safety_events.c.id.desc()).limit(limit))
            return [SafetyEvent(r.id, r.user_id, r.message_id, r.text, r.kind, tuple(r.categories), tuple(r.reasons),
                                r.country, tuple(r.resources), r.response, tuple(r.problems), _aware(r.created_at))
                    for r in conn.execute(q)]
        return await self.db.read(read)


__all__ = ["EventKind", "SafetyEvent", "SafetyEvents", "safety_events"]
