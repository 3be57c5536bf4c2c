"""Pending actions: what a tool would send, delete or spend, stored until the user says yes or no.

The record holds exactly what will happen (the summary shown) and everything needed to do it (the
payload, fixed when proposed), so a yes runs precisely what was shown. A yes flips `pending` to `running`
in one conditional UPDATE before anything happens, so two yeses (two tabs, a double click) never send
twice; an action cut off mid-way (kill -9) stays `running` and is reported, never silently retried.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, insert, select, update

from ..errors import InputError
from ..memory.store import _aware, _utc_naive, ensure_user
from ..storage import Database
from .tables import tool_actions

PENDING_FOR = timedelta(hours=24)
"""A yes must come within a day; after that the action expires and has to be asked for again."""
BARE_YES_WINDOW = timedelta(minutes=30)
"""A bare "yes" confirms only an action proposed in the last half hour (the question just asked)."""

Status = Literal["pending", "running", "done", "failed", "declined", "expired"]


@dataclass(frozen=True, slots=True)
class Action:
    """A tool action that waits for (or got) the user's answer."""

    id: int
    user_id: str
    tool: str
    risk: str
    summary: str
    payload: Mapping[str, Any]
    warnings: tuple[str, ...]
    status: str
    result: str | None
    requested: str | None
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        """For the CLI and the API: everything but the payload's internals, which the summary spells out."""
        return {"id": self.id, "tool": self.tool, "risk": self.risk, "summary": self.summary,
                "warnings": list(self.warnings), "status": self.status, "result": self.result,
                "requested": self.requested, "created_at": self.created_at.isoformat(),
                "expires_at": self.expires_at.isoformat(),
                "decided_at": self.decided_at.isoformat() if self.decided_at else None}


def _action(row: Any) -> Action:
    return Action(row.id, row.user_id, row.tool, row.risk, row.summary, dict(row.payload or {}),
                  tuple(row.warnings or ()), row.status, row.result, row.requested, _aware(row.created_at),
                  _aware(row.expires_at), _aware(row.decided_at) if row.decided_at else None)


class Actions:
    """The pending-action records of every user."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def propose(self, user_id: str, *, tool: str, risk: str, summary: str, payload: Mapping[str, Any],
                      warnings: Sequence[str], requested: str | None, now: datetime) -> Action:
        def tx(conn: Connection) -> Action:
            ensure_user(conn, user_id, now)
            aid = conn.execute(insert(tool_actions).values(
                user_id=user_id, tool=tool, risk=risk, summary=summary, payload=dict(payload),
                warnings=list(warnings), status="pending", requested=(requested or "")[:2000] or None,
                created_at=_utc_naive(now), expires_at=_utc_naive(now + PENDING_FOR))).inserted_primary_key[0]  # type: ignore[index]
            return _action(conn.execute(select(tool_actions).where(tool_actions.c.id == aid)).one())
        return await self.db.write(tx)

    async def get(self, user_id: str, action_id: int) -> Action:
        q = select(tool_actions).where(tool_actions.c.user_id == user_id, tool_actions.c.id == action_id)
        row = await self.db.read(lambda c: c.execute(q).first())
        if row is None:
            raise InputError(f"There is no action {action_id}.", hint="`os1 pending` lists what waits for your yes.")
        return _action(row)

    async def list(self, user_id: str, *, now: datetime, status: str | None = "pending", limit: int = 50) -> list[Action]:
        await self.expire(user_id, now)
        q = select(tool_actions).where(tool_actions.c.user_id == user_id)
        if status:
            q = q.where(tool_actions.c.status == status)
        q = q.order_by(tool_actions.c.id.desc()).limit(limit)
        return [_action(r) for r in await self.db.read(lambda c: c.execute(q).all())]

    async def expire(self, user_id: str, now: datetime) -> None:
        await self.db.write(lambda c: c.execute(update(tool_actions).where(
            tool_actions.c.user_id == user_id, tool_actions.c.status == "pending",
            tool_actions.c.expires_at <= _utc_naive(now)).values(status="expired", decided_at=_utc_naive(now))))

    async def claim(self, user_id: str, action_id: int, now: datetime) -> Action:
        """pending -> running, atomically; InputError if it is not pending (done, declined, expired…)."""
        def tx(conn: Connection) -> Action:
            n = conn.execute(update(tool_actions).where(
                tool_actions.c.user_id == user_id, tool_actions.c.id == action_id, tool_actions.c.status == "pending",
                tool_actions.c.expires_at > _utc_naive(now)).values(status="running", decided_at=_utc_naive(now))).rowcount
            row = conn.execute(select(tool_actions).where(tool_actions.c.user_id == user_id,
                                                          tool_actions.c.id == action_id)).first()
            if row is None:
                raise InputError(f"There is no action {action_id}.", hint="`os1 pending` lists what waits for your yes.")
            if not n:
                state = "expired" if row.status == "pending" else row.status
                raise InputError(f"Action {action_id} is {state}, so there is nothing to confirm.",
                                 hint="Ask again if you still want it done.")
            return _action(row)
        return await self.db.write(tx)

    async def finish(self, action_id: int, status: Status, result: str, now: datetime) -> Action:
        def tx(conn: Connection) -> Action:
            conn.execute(update(tool_actions).where(tool_actions.c.id == action_id).values(
                status=status, result=result[:4000], decided_at=_utc_naive(now)))
            return _action(conn.execute(select(tool_actions).where(tool_actions.c.id == action_id)).one())
        return await self.db.write(tx)

    async def decline(self, user_id: str, action_id: int, now: datetime) -> Action:
        def tx(conn: Connection) -> Action:
            n = conn.execute(update(tool_actions).where(
                tool_actions.c.user_id == user_id, tool_actions.c.id == action_id,
                tool_actions.c.status == "pending").values(status="declined", decided_at=_utc_naive(now))).rowcount
            row = conn.execute(select(tool_actions).where(tool_actions.c.user_id == user_id,
                                                          tool_actions.c.id == action_id)).first()
            if row is None:
                raise InputError(f"There is no action {action_id}.", hint="`os1 pending` lists what waits for your yes.")
            if not n:
                raise InputError(f"Action {action_id} is {row.status}; only a pending action can be declined.")
            return _action(row)
        return await self.db.write(tx)


# Answers in conversation ------------------------------------------------------------------------------
_YES = re.compile(r"^\s*(?:yes|yeah|yep|yup|sure|ok(?:ay)?|please do|go ahead|do it|confirm(?:ed)?|send it|delete it|"
                  r"that'?s (?:fine|good|right|perfect)|sounds good|looks good|perfect|approved?)\b", re.I)
_YES_VERB = re.compile(r"\b(?:send|delete|trash|forward|cancel|remove|go ahead|do it|confirm)\b", re.I)
_NO = re.compile(r"^\s*(?:no|nope|nah|don'?t|do not|cancel(?! the (?:meeting|event|appointment))|stop|wait|hold (?:on|off)|"
                 r"never ?mind|not (?:yet|now)|scrap (?:it|that)|forget it)\b", re.I)
_BUT = re.compile(r"\b(?:but|except|change|instead|first|however|rather|actually)\b", re.I)
_ID = re.compile(r"(?:\baction\s*#?\s*|#)(\d{1,9})\b", re.I)

Answer = Literal["yes", "no"]


@dataclass(frozen=True, slots=True)
class Reply:
    """The user's answer to a pending action, read from their own message."""

    answer: Answer
    explicit: bool
    """Named the verb ("yes, send it") or the action number, not just "yes"."""
    action_id: int | None = None


def read_answer(message: str) -> Reply | None:
    """'yes, send it' / 'no, don't send it' / 'confirm action 3'; None for anything else (including a yes
    with changes: "yes but change the subject" is not a yes to what was shown)."""
    text = message.strip()
    if len(text) > 200:
        return None
    m = _ID.search(text)
    aid = int(m.group(1)) if m else None
    if _NO.match(text):
        return Reply("no", True, aid)
    if _YES.match(text) and not _BUT.search(text):
        return Reply("yes", bool(_YES_VERB.search(text)) or aid is not None, aid)
    return None
