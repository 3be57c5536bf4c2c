"""Admission for turns: one reply at a time per user, and a bounded queue for the rest (backpressure).

A turn (a chat request, a streamed reply, a WebSocket message, an OpenAI chat completion) enters the
gate before anything is stored:

- a user who already has `per_user` replies in progress on this server is refused at once (429): a
  second tab typing over the first would interleave two replies in one conversation;
- when `max_turns` replies are already in progress, a turn waits up to `wait` seconds for a slot, then
  is refused with 503 and `Retry-After` instead of queueing without bound behind a saturated model.

The counts are per process. On PostgreSQL the gate also claims the user cluster-wide for the turn
(claims.py: advisory locks), so one person's two messages sent to two app servers are never answered at
once; routing each user to one server (deploy/) still saves a refused retry.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ..errors import OS1Error
from .claims import ClusterClaims

T = TypeVar("T")


class TurnRefused(OS1Error):
    """A turn that cannot start now; `status` is its HTTP status, `retry_after` seconds to wait."""

    status = 503
    retry_after = 1


class UserBusy(TurnRefused):
    """This user already has a reply in progress."""

    status = 429


class ServerBusy(TurnRefused):
    """Every reply slot stayed taken for the whole wait."""

    status = 503


@dataclass
class TurnGate:
    """Counts replies in progress, per user and in all, for one app server."""

    max_turns: int = 64
    """Replies in progress at once in this process; more wait (the model pool's capacity, or a bit over)."""
    per_user: int = 1
    """Replies one user may have in progress at once."""
    wait: float = 10.0
    """Seconds a turn waits for a slot before it is refused with 503."""
    claims: ClusterClaims | None = None
    """Cluster-wide per-user claims (PostgreSQL); None: this process is the whole service."""
    _slots: asyncio.Semaphore = field(init=False)
    _users: dict[str, int] = field(default_factory=dict, init=False)
    _waiting: int = field(default=0, init=False)
    refused: dict[str, int] = field(default_factory=lambda: {"user_busy": 0, "server_busy": 0}, init=False)

    def __post_init__(self) -> None:
        if self.max_turns < 1 or self.per_user < 1 or self.wait < 0:
            raise ValueError("max_turns and per_user must be at least 1 and wait not negative")
        self._slots = asyncio.Semaphore(self.max_turns)

    @property
    def in_progress(self) -> int:
        return sum(self._users.values())

    def stats(self) -> dict[str, Any]:
        return {"in_progress": self.in_progress, "waiting": self._waiting, "max_turns": self.max_turns,
                "refused": dict(self.refused)}

    async def enter(self, user_id: str) -> Slot:
        """Take a slot for this user's turn, or raise UserBusy / ServerBusy. Release it with `Slot.release`."""
        if self._users.get(user_id, 0) >= self.per_user:
            self.refused["user_busy"] += 1
            raise UserBusy("You already have a reply in progress.",
                           hint="Wait for it to finish (or stop it), then send the next message.")
        # Counted before waiting, so the same user's second request is refused rather than queued.
        self._users[user_id] = self._users.get(user_id, 0) + 1
        if self.claims is not None:
            try:
                claimed = await self.claims.claim(user_id)
            except BaseException:
                self._leave(user_id)
                raise
            if not claimed:  # another app server is answering this person right now
                self._leave(user_id, claimed=False)
                self.refused["user_busy"] += 1
                raise UserBusy("You already have a reply in progress.",
                               hint="Wait for it to finish (or stop it), then send the next message.")
        self._waiting += 1
        try:
            async with asyncio.timeout(self.wait):
                await self._slots.acquire()
        except TimeoutError:
            self._leave(user_id)
            self.refused["server_busy"] += 1
            err = ServerBusy("OS1 is answering as many people as it can right now.",
                             hint="Try again in a few seconds.")
            err.retry_after = max(1, math.ceil(self.wait / 2))
            raise err from None
        except BaseException:
            self._leave(user_id)
            raise
        finally:
            self._waiting -= 1
        return Slot(self, user_id)

    @asynccontextmanager
    async def turn(self, user_id: str) -> AsyncIterator[None]:
        slot = await self.enter(user_id)
        try:
            yield
        finally:
            slot.release()

    def _leave(self, user_id: str, *, claimed: bool = True) -> None:
        left = self._users.get(user_id, 0) - 1
        if left > 0:
            self._users[user_id] = left
        else:
            self._users.pop(user_id, None)
        if claimed and self.claims is not None:
            self.claims.release(user_id)


@dataclass
class Slot:
    """A turn's place in the gate; `release` is idempotent."""

    gate: TurnGate
    user_id: str
    released: bool = False

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        self.gate._leave(self.user_id)
        self.gate._slots.release()


def refused_body(e: TurnRefused) -> dict[str, Any]:
    return {"error": {"type": type(e).__name__, "message": e.message, "hint": e.hint,
                      "retry_after": e.retry_after}}


def install_turn_gate(app: FastAPI, gate: TurnGate) -> None:
    """Keep the gate on the app and answer its refusals with their status and Retry-After."""
    app.state.turn_gate = gate

    @app.exception_handler(TurnRefused)
    async def refused(_: Request, exc: TurnRefused) -> JSONResponse:
        return JSONResponse(refused_body(exc), status_code=exc.status, headers={"Retry-After": str(exc.retry_after)})


async def released_after(slot: Slot, events: AsyncIterator[T]) -> AsyncIterator[T]:
    """Pass `events` through, releasing the turn's slot when they end, fail or are abandoned."""
    try:
        async for event in events:
            yield event
    finally:
        slot.release()
