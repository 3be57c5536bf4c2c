"""Delivery: each proactive message becomes part of the conversation and an inbox entry saying why.

The message is stored in `messages` as OS1's own (role assistant, `origin` 'proactive:KIND:JOB'), so
it is in the history the next reply sees; the inbox row adds the kind, the reason and whether it was
read. Live channels (WebSocket push, voice) are told after the delivery commits, by the job runner's
listeners; the terminal reads the inbox (`os1 inbox`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, func, insert, select, update

from ..memory.store import _aware, _utc_naive, ensure_user
from ..storage import Database
from ..storage.schema import messages
from .tables import inbox

Kind = Literal["reminder", "followup", "checkin", "nudge"]
UNSOLICITED: tuple[str, ...] = ("followup", "checkin", "nudge")
"""Kinds the user did not ask for: quiet hours, snooze and the daily limit apply to these."""
ORIGIN_PREFIX = "proactive:"


@dataclass(frozen=True, slots=True)
class Delivery:
    """A proactive message to deliver."""

    kind: Kind
    text: str
    why: str
    """Why it was sent, in words ("You told me on Monday that your interview is Thursday.")."""
    ref: str | None = None
    """What it is about: 'reminder:3', 'followup:7', 'person:12', 'checkin:morning'."""


@dataclass(frozen=True, slots=True)
class InboxItem:
    """A delivered proactive message."""

    id: int
    user_id: str
    message_id: int
    kind: str
    text: str
    why: str
    ref: str | None
    created_at: datetime
    read_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "text": self.text, "why": self.why, "ref": self.ref,
                "message_id": self.message_id, "created_at": self.created_at.isoformat(),
                "read": self.read_at is not None, "read_at": self.read_at.isoformat() if self.read_at else None}


def deliver_sync(conn: Connection, user_id: str, delivery: Delivery, *, at: datetime, job_id: int | None) -> InboxItem:
    """Store the message and its inbox entry in the caller's transaction."""
    ensure_user(conn, user_id, at)
    when = _utc_naive(at)
    origin = f"{ORIGIN_PREFIX}{delivery.kind}:{job_id if job_id is not None else uuid.uuid4().hex}"
    msg = conn.execute(insert(messages).values(
        user_id=user_id, role="assistant", text=delivery.text, created_at=when, importance=0.3, origin=origin,
        extracted_at=when)).inserted_primary_key[0]  # type: ignore[index]
    new_id = conn.execute(insert(inbox).values(
        user_id=user_id, message_id=msg, kind=delivery.kind, why=delivery.why, ref=delivery.ref, job_id=job_id,
        created_at=when)).inserted_primary_key[0]  # type: ignore[index]
    return InboxItem(int(new_id), user_id, int(msg), delivery.kind, delivery.text, delivery.why, delivery.ref,
                     _aware(when), None)


def _item(row: Any) -> InboxItem:
    return InboxItem(row.id, row.user_id, row.message_id, row.kind, row.text, row.why, row.ref, _aware(row.created_at),
                     _aware(row.read_at) if row.read_at else None)


_ITEMS = select(inbox.c.id, inbox.c.user_id, inbox.c.message_id, inbox.c.kind, messages.c.text, inbox.c.why,
                inbox.c.ref, inbox.c.created_at, inbox.c.read_at).join(messages, messages.c.id == inbox.c.message_id)


class Inbox:
    """The proactive messages delivered to each user."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def deliver(self, user_id: str, delivery: Delivery, *, at: datetime) -> InboxItem:
        """Deliver now, outside any job (e.g. a message composed on request)."""
        return await self.db.write(lambda c: deliver_sync(c, user_id, delivery, at=at, job_id=None))

    async def items(self, user_id: str, *, unread_only: bool = False, limit: int = 50) -> list[InboxItem]:
        """Newest first."""
        q = _ITEMS.where(inbox.c.user_id == user_id)
        if unread_only:
            q = q.where(inbox.c.read_at.is_(None))
        q = q.order_by(inbox.c.id.desc()).limit(limit)
        return [_item(r) for r in await self.db.read(lambda c: c.execute(q).all())]

    async def get(self, user_id: str, item_id: int) -> InboxItem | None:
        q = _ITEMS.where(inbox.c.user_id == user_id, inbox.c.id == item_id)
        row = await self.db.read(lambda c: c.execute(q).first())
        return _item(row) if row is not None else None

    async def since(self, after_id: int, *, limit: int = 100) -> list[InboxItem]:
        """Every user's deliveries after `after_id`, oldest first (for live push, whoever delivered them)."""
        q = _ITEMS.where(inbox.c.id > after_id).order_by(inbox.c.id).limit(limit)
        return [_item(r) for r in await self.db.read(lambda c: c.execute(q).all())]

    async def latest_id(self) -> int:
        return int(await self.db.read(lambda c: c.execute(select(func.coalesce(func.max(inbox.c.id), 0))).scalar_one()))

    async def mark_read(self, user_id: str, ids: Sequence[int] | None, *, at: datetime) -> int:
        """Mark these (or, with None, all) as read; returns how many changed."""
        q = update(inbox).where(inbox.c.user_id == user_id, inbox.c.read_at.is_(None))
        if ids is not None:
            q = q.where(inbox.c.id.in_(list(ids)))
        return int(await self.db.write(lambda c: c.execute(q.values(read_at=_utc_naive(at))).rowcount))


def count_since(conn: Connection, user_id: str, kinds: Sequence[str], since: datetime) -> int:
    """How many messages of these kinds were delivered since `since` (for rate limits)."""
    q = select(func.count()).select_from(inbox).where(inbox.c.user_id == user_id, inbox.c.kind.in_(list(kinds)),
                                                     inbox.c.created_at > _utc_naive(since))
    return int(conn.execute(q).scalar_one())


def last_delivery(conn: Connection, user_id: str, kinds: Sequence[str], *, ref: str | None = None) -> datetime | None:
    """When the last message of these kinds (about `ref`, if given) was delivered."""
    q = select(func.max(inbox.c.created_at)).where(inbox.c.user_id == user_id, inbox.c.kind.in_(list(kinds)))
    if ref is not None:
        q = q.where(inbox.c.ref == ref)
    found = conn.execute(q).scalar()
    return _aware(found) if found is not None else None


def recent_deliveries(conn: Connection, user_id: str, kinds: Sequence[str], since: datetime) -> list[datetime]:
    """When messages of these kinds were delivered since `since`, oldest first."""
    q = select(inbox.c.created_at).where(inbox.c.user_id == user_id, inbox.c.kind.in_(list(kinds)),
                                         inbox.c.created_at > _utc_naive(since)).order_by(inbox.c.created_at)
    return [_aware(r.created_at) for r in conn.execute(q).all()]
