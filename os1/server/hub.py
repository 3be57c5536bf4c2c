"""The open WebSockets, and the push of proactive messages to whichever of them belong to their user.

A delivery may be made by this process (its job runner wakes the hub with the item), by an `os1 worker`
or by another app server. On PostgreSQL every delivery is announced by NOTIFY (os1/fanout.py) and the
hub fetches what its own sockets need; a slow poll of the inbox table backs that up. On SQLite the
in-process wake does the work and the poll (every `poll` seconds) finds what other processes wrote.

Each item is pushed at most once per process (a bounded set of ids already pushed), whichever path
finds it first. PostgreSQL ids can commit out of order (id 11 visible before id 10), so the poll keeps
the ids it skipped over as holes and looks for them again for a while, instead of passing them by.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from fastapi import WebSocket

from ..fanout import DeliveryFeed, feed_for
from ..proactive import InboxItem, Proactive
from ..proactive.inbox import _ITEMS, _item
from ..proactive.tables import inbox

log = logging.getLogger("os1.server")

SAFETY_POLL_SECONDS = 30.0
"""The poll while NOTIFY is live: only for a notification lost with a dropped connection."""
HOLE_SECONDS = 120.0
"""How long an id skipped by the poll is looked for again (a transaction that took that id and is still open)."""
SEEN = 50_000
MAX_HOLES = 10_000
PAGE = 500


class Hub:
    """The open WebSockets by user, and a watch on deliveries that pushes each to its user's sockets."""

    def __init__(self, proactive: Proactive, *, poll: float, feed: DeliveryFeed | None | Literal["auto"] = "auto") -> None:
        self.proactive = proactive
        self.poll = poll
        self.feed = feed_for(proactive.inbox.db) if feed == "auto" else feed
        self.sockets: dict[str, dict[WebSocket, asyncio.Lock]] = {}
        self._owners: dict[WebSocket, str] = {}
        self.subscribers: list[Callable[[InboxItem], Awaitable[None]]] = []
        """Told of every delivery, whichever process made it (a hook for spoken delivery in voice mode)."""
        self.pushed = 0
        self.ready = asyncio.Event()
        """Set once the watch knows where the inbox stands and (on PostgreSQL) is listening."""
        self._wake = asyncio.Event()
        self._items: list[InboxItem] = []
        self._ids: set[int] = set()
        self._catch_up = True
        self._listening = False
        self._last = 0
        self._holes: dict[int, float] = {}
        self._seen: set[int] = set()
        self._seen_order: deque[int] = deque()

    # Sockets -----------------------------------------------------------------------------------------
    def add(self, socket: WebSocket, user_id: str) -> asyncio.Lock:
        lock = asyncio.Lock()
        self.sockets.setdefault(user_id, {})[socket] = lock
        self._owners[socket] = user_id
        return lock

    def remove(self, socket: WebSocket) -> None:
        user = self._owners.pop(socket, None)
        mine = self.sockets.get(user) if user is not None else None
        if mine is not None:
            mine.pop(socket, None)
            if not mine:
                del self.sockets[user]  # type: ignore[arg-type]

    @property
    def connections(self) -> int:
        return sum(len(s) for s in self.sockets.values())

    def subscribe(self, callback: Callable[[InboxItem], Awaitable[None]]) -> None:
        self.subscribers.append(callback)

    # Being told of deliveries ------------------------------------------------------------------------
    async def wake(self, item: InboxItem | None = None) -> None:
        """A delivery this process made (the job runner's listener), or None: look at the table now."""
        if item is None:
            self._catch_up = True
        else:
            self._items.append(item)
        self._wake.set()

    def _notified(self, inbox_id: int, user_id: str) -> None:
        if inbox_id in self._seen or (user_id not in self.sockets and not self.subscribers):
            return
        self._ids.add(inbox_id)
        self._wake.set()

    def _connected(self) -> None:
        self._listening = True
        self.ready.set()
        self._catch_up = True
        self._wake.set()

    # The watch ---------------------------------------------------------------------------------------
    async def watch(self, stop: asyncio.Event) -> None:
        self._last = await self.proactive.inbox.latest_id()
        listening = asyncio.create_task(self._listen()) if self.feed is not None else None
        if listening is None:
            self.ready.set()
        polled = time.monotonic()
        stopped = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                interval = max(self.poll, SAFETY_POLL_SECONDS) if self._listening else self.poll
                if time.monotonic() - polled >= interval:
                    self._catch_up = True
                try:
                    await self._pass()
                    if self._catch_up:
                        self._catch_up = False
                        polled = time.monotonic()
                        await self._poll()
                except Exception:
                    log.exception("pushing proactive messages failed")
                if self._items or self._ids or self._catch_up:
                    continue
                self._wake.clear()
                woken = asyncio.ensure_future(self._wake.wait())
                await asyncio.wait([woken, stopped], timeout=max(0.0, interval - (time.monotonic() - polled)),
                                   return_when=asyncio.FIRST_COMPLETED)
                woken.cancel()
        finally:
            stopped.cancel()
            if listening is not None:
                listening.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listening

    async def _listen(self) -> None:
        assert self.feed is not None
        try:
            await self.feed.run(self._notified, self._connected)
        finally:
            self._listening = False

    async def _pass(self) -> None:
        """Push what this process delivered and what NOTIFY announced."""
        items, self._items = self._items, []
        ids, self._ids = self._ids, set()
        if ids - self._seen:
            items += await self._fetch(ids - self._seen)
        for item in sorted(items, key=lambda i: i.id):
            await self._push(item)

    async def _poll(self) -> None:
        """Read the table for deliveries after the last one seen, and for the holes left behind."""
        now = time.monotonic()
        self._holes = {i: t for i, t in self._holes.items() if now - t < HOLE_SECONDS and i not in self._seen}
        found = await self._fetch(set(self._holes)) if self._holes else []
        while True:
            page = await self.proactive.inbox.since(self._last, limit=PAGE)
            for item in page:
                if item.id - self._last <= MAX_HOLES:  # a larger jump is a restored backup, not open transactions
                    self._holes.update(dict.fromkeys(range(self._last + 1, item.id), now))
                self._last = item.id
            found += page
            if len(page) < PAGE:
                break
        for item in sorted(found, key=lambda i: i.id):
            self._holes.pop(item.id, None)
            await self._push(item)

    async def _fetch(self, ids: set[int]) -> list[InboxItem]:
        q = _ITEMS.where(inbox.c.id.in_(sorted(ids)))
        rows: list[Any] = await self.proactive.inbox.db.read(lambda c: list(c.execute(q).all()))
        return [_item(r) for r in rows]

    async def _push(self, item: InboxItem) -> None:
        if item.id in self._seen:
            return
        self._seen.add(item.id)
        self._seen_order.append(item.id)
        while len(self._seen_order) > SEEN:
            self._seen.discard(self._seen_order.popleft())
        event = {"type": "proactive", **item.as_dict()}
        for socket, lock in list(self.sockets.get(item.user_id, {}).items()):
            try:
                async with lock:
                    await socket.send_json(event)
                self.pushed += 1
            except Exception:  # a socket that closed mid-send: forget it
                self.remove(socket)
        for callback in self.subscribers:
            try:
                await callback(item)
            except Exception:
                log.exception("a proactive subscriber failed")
