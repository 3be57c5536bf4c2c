"""Letters and their suggested edits. A suggestion is a span of the body, a replacement and a reason;
accepting applies it (and shifts the other open suggestions), rejecting keeps the text as it is."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from ...errors import InputError
from ...memory.store import _aware, _utc_naive, ensure_user
from ...storage import Database
from ..tables import letter_suggestions, letters

MAX_BODY = 100_000


@dataclass(frozen=True, slots=True)
class Letter:
    id: int
    user_id: str
    title: str
    recipient: str | None
    body: str
    status: str
    created_at: datetime
    updated_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "recipient": self.recipient, "body": self.body,
                "status": self.status, "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat()}


@dataclass(frozen=True, slots=True)
class Proposed:
    """A suggested edit before it is stored."""

    start: int
    end: int
    original: str
    replacement: str
    reason: str
    kind: str = "style"
    source: str = "rules"


@dataclass(frozen=True, slots=True)
class Suggestion:
    id: int
    letter_id: int
    start: int
    end: int
    original: str
    replacement: str
    reason: str
    kind: str
    source: str
    status: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "letter_id": self.letter_id, "start": self.start, "end": self.end,
                "original": self.original, "replacement": self.replacement, "reason": self.reason,
                "kind": self.kind, "source": self.source, "status": self.status}


def _letter(r: Any) -> Letter:
    return Letter(r.id, r.user_id, r.title, r.recipient, r.body, r.status, _aware(r.created_at), _aware(r.updated_at))


def _suggestion(r: Any) -> Suggestion:
    return Suggestion(r.id, r.letter_id, r.start, r.end, r.original, r.replacement, r.reason, r.kind, r.source, r.status)


def _check(title: str | None, body: str | None) -> None:
    if title is not None and not (1 <= len(title.strip()) <= 300):
        raise InputError("A letter's title needs 1 to 300 characters.")
    if body is not None and len(body) > MAX_BODY:
        raise InputError(f"A letter can hold up to {MAX_BODY} characters.")


class Letters:
    """Every user's letters."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, user_id: str, *, title: str, body: str, recipient: str | None, now: datetime) -> Letter:
        _check(title, body)

        def tx(conn: Connection) -> Letter:
            ensure_user(conn, user_id, now)
            lid = conn.execute(insert(letters).values(
                user_id=user_id, title=title.strip(), recipient=(recipient or "").strip() or None, body=body,
                status="draft", created_at=_utc_naive(now), updated_at=_utc_naive(now))).inserted_primary_key[0]  # type: ignore[index]
            return _letter(conn.execute(select(letters).where(letters.c.id == lid)).one())
        return await self.db.write(tx)

    async def list(self, user_id: str) -> list[Letter]:
        q = select(letters).where(letters.c.user_id == user_id).order_by(letters.c.updated_at.desc(), letters.c.id.desc())
        return [_letter(r) for r in await self.db.read(lambda c: c.execute(q).all())]

    async def get(self, user_id: str, letter_id: int) -> Letter:
        q = select(letters).where(letters.c.user_id == user_id, letters.c.id == letter_id)
        row = await self.db.read(lambda c: c.execute(q).first())
        if row is None:
            raise InputError(f"There is no letter {letter_id}.", hint="`os1 letter list` shows your letters.")
        return _letter(row)

    async def update(self, user_id: str, letter_id: int, *, now: datetime, title: str | None = None,
                     body: str | None = None, recipient: str | None = None, status: str | None = None) -> Letter:
        _check(title, body)
        if status is not None and status not in ("draft", "final"):
            raise InputError("A letter's status is draft or final.")
        await self.get(user_id, letter_id)
        values: dict[str, Any] = {"updated_at": _utc_naive(now)}
        for k, v in (("title", title), ("recipient", recipient), ("status", status)):
            if v is not None:
                values[k] = v.strip() or None if k == "recipient" else v.strip()
        if body is not None:
            values["body"] = body

        def tx(conn: Connection) -> Letter:
            conn.execute(update(letters).where(letters.c.id == letter_id).values(**values))
            if body is not None:  # the text changed under them: open suggestions no longer point anywhere
                conn.execute(update(letter_suggestions).where(
                    letter_suggestions.c.letter_id == letter_id, letter_suggestions.c.status == "open").values(status="stale"))
            return _letter(conn.execute(select(letters).where(letters.c.id == letter_id)).one())
        return await self.db.write(tx)

    async def delete(self, user_id: str, letter_id: int) -> None:
        await self.get(user_id, letter_id)
        await self.db.write(lambda c: c.execute(delete(letters).where(letters.c.id == letter_id)))

    async def suggest(self, user_id: str, letter_id: int, proposed: Sequence[Proposed], now: datetime) -> builtins.list[Suggestion]:
        """Replace the open suggestions with these (a fresh proofreading)."""
        letter = await self.get(user_id, letter_id)
        for p in proposed:
            if letter.body[p.start:p.end] != p.original:
                raise ValueError(f"suggestion span {p.start}:{p.end} does not hold {p.original!r}")

        def tx(conn: Connection) -> builtins.list[Suggestion]:
            conn.execute(delete(letter_suggestions).where(letter_suggestions.c.letter_id == letter_id,
                                                          letter_suggestions.c.status == "open"))
            for p in proposed:
                conn.execute(insert(letter_suggestions).values(
                    user_id=user_id, letter_id=letter_id, start=p.start, end=p.end, original=p.original,
                    replacement=p.replacement, reason=p.reason[:500], kind=p.kind, source=p.source, status="open",
                    created_at=_utc_naive(now)))
            q = select(letter_suggestions).where(letter_suggestions.c.letter_id == letter_id,
                                                 letter_suggestions.c.status == "open").order_by(letter_suggestions.c.start)
            return [_suggestion(r) for r in conn.execute(q).all()]
        return await self.db.write(tx)

    async def suggestions(self, user_id: str, letter_id: int, *, status: str | None = "open") -> builtins.list[Suggestion]:
        await self.get(user_id, letter_id)
        q = select(letter_suggestions).where(letter_suggestions.c.letter_id == letter_id)
        if status:
            q = q.where(letter_suggestions.c.status == status)
        return [_suggestion(r) for r in await self.db.read(lambda c: c.execute(q.order_by(letter_suggestions.c.start)).all())]

    async def decide(self, user_id: str, letter_id: int, suggestion_id: int, *, accept: bool,
                     now: datetime) -> tuple[Letter, Suggestion]:
        """Accept (apply to the body, shift the others) or reject one open suggestion."""
        await self.get(user_id, letter_id)

        def tx(conn: Connection) -> tuple[Letter, Suggestion]:
            row = conn.execute(select(letter_suggestions).where(
                letter_suggestions.c.id == suggestion_id, letter_suggestions.c.letter_id == letter_id)).first()
            if row is None:
                raise InputError(f"Letter {letter_id} has no suggestion {suggestion_id}.")
            s = _suggestion(row)
            if s.status != "open":
                raise InputError(f"Suggestion {suggestion_id} is {s.status} already.")
            body = conn.execute(select(letters.c.body).where(letters.c.id == letter_id)).scalar_one()
            if accept:
                if body[s.start:s.end] != s.original:
                    conn.execute(update(letter_suggestions).where(letter_suggestions.c.id == s.id).values(status="stale"))
                    raise InputError(f"The letter changed where suggestion {suggestion_id} pointed; proofread it again.")
                body = body[:s.start] + s.replacement + body[s.end:]
                shift = len(s.replacement) - (s.end - s.start)
                conn.execute(update(letters).where(letters.c.id == letter_id).values(body=body, updated_at=_utc_naive(now)))
                for other in conn.execute(select(letter_suggestions).where(
                        letter_suggestions.c.letter_id == letter_id, letter_suggestions.c.status == "open",
                        letter_suggestions.c.id != s.id)).all():
                    if other.start >= s.end:
                        conn.execute(update(letter_suggestions).where(letter_suggestions.c.id == other.id).values(
                            start=other.start + shift, end=other.end + shift))
                    elif other.end > s.start:  # overlaps the text just replaced
                        conn.execute(update(letter_suggestions).where(letter_suggestions.c.id == other.id).values(status="stale"))
            conn.execute(update(letter_suggestions).where(letter_suggestions.c.id == s.id).values(
                status="accepted" if accept else "rejected", decided_at=_utc_naive(now)))
            letter = _letter(conn.execute(select(letters).where(letters.c.id == letter_id)).one())
            return letter, _suggestion(conn.execute(select(letter_suggestions).where(letter_suggestions.c.id == s.id)).one())
        return await self.db.write(tx)
