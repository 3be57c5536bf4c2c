"""Simulated people for the load bench: one WebSocket each, turns timed, proactive messages counted."""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

try:  # websockets >= 13
    from websockets.asyncio.client import connect as ws_connect

    HEADERS = "additional_headers"
except ImportError:  # pragma: no cover - older websockets
    from websockets import connect as ws_connect  # type: ignore[no-redef]

    HEADERS = "extra_headers"

MESSAGES = (
    "I had a quiet day at work and made pasta for dinner.",
    "We went for a long walk by the river this afternoon.",
    "I'm reading a novel about a lighthouse keeper, it is lovely.",
    "My week has been busy but good, lots of small things.",
)


@dataclass
class Turn:
    sent: float
    first: float | None = None
    done: float | None = None
    error: str | None = None


@dataclass
class Person:
    index: int
    token: str
    url: str
    ws: Any = None
    turn: Turn | None = None
    turn_over: asyncio.Event = field(default_factory=asyncio.Event)
    proactive: list[int] = field(default_factory=list)
    closed: str | None = None


class Crowd:
    """Everyone connected, and what each of them saw."""

    def __init__(self, people: list[Person]) -> None:
        self.people = people
        self.turns: list[Turn] = []
        self.idle: set[int] = set()
        self._readers: list[asyncio.Task[None]] = []

    @property
    def connected(self) -> int:
        return sum(1 for p in self.people if p.ws is not None and p.closed is None)

    async def connect(self, *, at_once: int = 100, deadline: float) -> float:
        """Open every WebSocket, `at_once` handshakes in flight; returns connections per second."""
        gate = asyncio.Semaphore(at_once)
        start = time.monotonic()

        async def one(p: Person) -> None:
            async with gate:
                for attempt in range(5):
                    if time.monotonic() > deadline:
                        p.closed = "not connected before the deadline"
                        return
                    try:
                        p.ws = await ws_connect(p.url, **{HEADERS: {"Authorization": f"Bearer {p.token}"}},
                                                ping_interval=None, open_timeout=60, max_queue=None)
                        break
                    except Exception as e:  # refused under load: back off and try again
                        p.closed = f"{type(e).__name__}: {e}"
                        await asyncio.sleep(0.2 * (attempt + 1))
                else:
                    return
            p.closed = None
            self.idle.add(p.index)
            self._readers.append(asyncio.create_task(self._read(p)))

        await asyncio.gather(*(one(p) for p in self.people))
        return len(self.people) / max(1e-9, time.monotonic() - start)

    async def _read(self, p: Person) -> None:
        try:
            async for raw in p.ws:
                now = time.monotonic()
                event = json.loads(raw)
                kind = event.get("type")
                if kind == "proactive":
                    p.proactive.append(int(event["id"]))
                    continue
                turn = p.turn
                if turn is None:
                    continue
                if kind == "delta" and turn.first is None:
                    turn.first = now
                elif kind in ("done", "error"):
                    turn.done = now
                    if kind == "error":
                        turn.error = str(event.get("error", {}).get("type"))
                    p.turn = None
                    self.idle.add(p.index)
                    p.turn_over.set()
        except Exception as e:  # the connection dropped: counted as a lost connection
            p.closed = f"{type(e).__name__}: {e}"

    async def start_turn(self, rng: random.Random) -> bool:
        """Send one message from an idle person; False when everyone is mid-reply."""
        if not self.idle:
            return False
        index = rng.choice(tuple(self.idle)) if len(self.idle) < 64 else _pick(self.idle, rng)
        self.idle.discard(index)
        p = self.people[index]
        p.turn = Turn(time.monotonic())
        p.turn_over.clear()
        self.turns.append(p.turn)
        try:
            await p.ws.send(json.dumps({"type": "message", "text": rng.choice(MESSAGES)}))
        except Exception as e:
            p.turn.error, p.turn.done, p.turn = f"send failed: {type(e).__name__}", time.monotonic(), None
        return True

    async def run_rate(self, rate: float, seconds: float, rng: random.Random) -> list[Turn]:
        """Start turns as a Poisson process at `rate` per second for `seconds`; wait for them to finish."""
        first = len(self.turns)
        end = time.monotonic() + seconds
        next_at = time.monotonic()
        while next_at < end:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            await self.start_turn(rng)
            next_at += rng.expovariate(rate)
        mine = self.turns[first:]
        settle = time.monotonic() + 60
        while any(t.done is None for t in mine) and time.monotonic() < settle:
            await asyncio.sleep(0.05)
        return mine

    async def close(self) -> None:
        for task in self._readers:
            task.cancel()
        await asyncio.gather(*(p.ws.close() for p in self.people if p.ws is not None), return_exceptions=True)


def _pick(idle: set[int], rng: random.Random) -> int:
    # Sampling a large set: draw an index and take the next idle one at or after it (cheap and fair enough).
    for _ in range(32):
        k = rng.randrange(max(idle) + 1)
        if k in idle:
            return k
    return next(iter(idle))
