"""The hub pushes each delivery once to its own user's sockets, whichever way it hears of it (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from os1.proactive import Delivery, Inbox
from os1.proactive.inbox import deliver_sync
from os1.server.hub import Hub
from os1.storage import Database

from ..conftest import ZONE

AT = datetime(2026, 11, 25, 9, 30, tzinfo=ZONE)


class Socket:
    def __init__(self) -> None:
        self.got: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()

    async def send_json(self, event: dict[str, Any]) -> None:
        self.got.append(event)
        self.arrived.set()

    def texts(self) -> list[str]:
        return [e["text"] for e in self.got]


class Owner:
    """What the hub needs of `Proactive`: the inbox."""

    def __init__(self, db: Database) -> None:
        self.inbox = Inbox(db)


@pytest.fixture
async def running(db: Database) -> AsyncIterator[tuple[Hub, Database]]:
    hub = Hub(Owner(db), poll=0.05)  # type: ignore[arg-type]
    stop = asyncio.Event()
    task = asyncio.create_task(hub.watch(stop))
    async with asyncio.timeout(20):
        await hub.ready.wait()
    yield hub, db
    stop.set()
    await task


def deliver(db: Database, user: str, text: str) -> Any:
    return db.write_sync(lambda c: deliver_sync(c, user, Delivery("reminder", text, "a test"), at=AT, job_id=None))


async def until(socket: Socket, count: int) -> None:
    async with asyncio.timeout(20):
        while len(socket.got) < count:
            socket.arrived.clear()
            await socket.arrived.wait()


async def test_a_delivery_by_another_process_reaches_only_its_user_once(running: tuple[Hub, Database]) -> None:
    hub, db = running
    ann, ann2, bob = Socket(), Socket(), Socket()
    hub.add(ann, "ann")  # type: ignore[arg-type]
    hub.add(ann2, "ann")  # type: ignore[arg-type]
    hub.add(bob, "bob")  # type: ignore[arg-type]
    deliver(db, "ann", "water the plants")
    deliver(db, "bob", "call mom")
    deliver(db, "ann", "fence")  # arrives after the others: by then any duplicate would have arrived too
    await until(ann, 2)
    await until(ann2, 2)
    await until(bob, 1)
    await asyncio.sleep(0.2)  # a few more passes of the watch (poll, NOTIFY) to give a duplicate its chance
    assert ann.texts() == ann2.texts() == ["water the plants", "fence"]
    assert bob.texts() == ["call mom"]
    assert ann.got[0]["type"] == "proactive" and ann.got[0]["why"] == "a test"


async def test_an_in_process_delivery_is_pushed_once_though_the_table_shows_it_too(running: tuple[Hub, Database]) -> None:
    hub, db = running
    ann = Socket()
    hub.add(ann, "ann")  # type: ignore[arg-type]
    item = deliver(db, "ann", "stretch")
    await hub.wake(item)  # what the in-process job runner does
    await until(ann, 1)
    deliver(db, "ann", "fence")
    await until(ann, 2)
    await asyncio.sleep(0.2)
    assert ann.texts() == ["stretch", "fence"]


async def test_a_closed_socket_is_dropped(running: tuple[Hub, Database]) -> None:
    hub, db = running

    class Closed(Socket):
        async def send_json(self, event: dict[str, Any]) -> None:
            raise RuntimeError("closed")

    gone, alive = Closed(), Socket()
    hub.add(gone, "ann")  # type: ignore[arg-type]
    hub.add(alive, "ann")  # type: ignore[arg-type]
    deliver(db, "ann", "hello")
    await until(alive, 1)
    assert hub.connections == 1
    hub.remove(alive)  # type: ignore[arg-type]
    assert hub.connections == 0 and not hub.sockets


async def test_an_id_committed_late_is_not_passed_by(sqlite_db: Database) -> None:
    """PostgreSQL can make id 11 visible before id 10; the poll looks for the skipped id again."""
    hub = Hub(Owner(sqlite_db), poll=60, feed=None)  # type: ignore[arg-type]
    ann = Socket()
    hub.add(ann, "ann")  # type: ignore[arg-type]
    first = deliver(sqlite_db, "ann", "first")
    second = deliver(sqlite_db, "ann", "second")
    late = deliver(sqlite_db, "ann", "late")
    from os1.proactive.tables import inbox

    # Hide the middle one, as if its transaction had not committed when the poll ran.
    hidden = sqlite_db.read_sync(lambda c: c.execute(inbox.select().where(inbox.c.id == second.id)).one()._asdict())
    sqlite_db.write_sync(lambda c: c.execute(inbox.delete().where(inbox.c.id == second.id)))
    hub._last = first.id
    await hub._poll()
    assert ann.texts() == ["late"]
    sqlite_db.write_sync(lambda c: c.execute(inbox.insert().values(**hidden)))  # now it commits
    await hub._poll()
    await hub._poll()
    assert ann.texts() == ["late", "second"]
    assert late.id > second.id
