"""The turn gate: one reply at a time per user (429), a bounded wait for a slot (503 with Retry-After)."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from os1.server.gate import ServerBusy, TurnGate, UserBusy, install_turn_gate, released_after


async def test_a_user_mid_reply_is_refused_at_once_others_go_ahead() -> None:
    gate = TurnGate(max_turns=4, per_user=1, wait=30)
    slot = await gate.enter("ann")
    with pytest.raises(UserBusy) as refused:
        await gate.enter("ann")
    assert refused.value.status == 429
    other = await gate.enter("bob")
    assert gate.in_progress == 2
    slot.release()
    again = await gate.enter("ann")  # her reply finished: the next one is welcome
    for s in (other, again):
        s.release()
    assert gate.in_progress == 0 and gate.refused["user_busy"] == 1


async def test_a_full_server_refuses_after_the_wait_with_retry_after() -> None:
    gate = TurnGate(max_turns=1, wait=0.01)
    held = await gate.enter("ann")
    with pytest.raises(ServerBusy) as refused:
        await gate.enter("bob")
    assert refused.value.status == 503 and refused.value.retry_after >= 1
    assert gate.in_progress == 1  # bob's refused turn left nothing behind
    held.release()
    (await gate.enter("bob")).release()


async def test_a_waiting_turn_takes_the_slot_when_it_frees() -> None:
    gate = TurnGate(max_turns=1, wait=30)
    held = await gate.enter("ann")
    waiting = asyncio.create_task(gate.enter("bob"))
    await asyncio.sleep(0)
    assert not waiting.done() and gate.stats()["waiting"] == 1
    held.release()
    (await waiting).release()
    assert gate.in_progress == 0


async def test_a_cancelled_wait_gives_its_place_back() -> None:
    gate = TurnGate(max_turns=1, wait=30)
    held = await gate.enter("ann")
    waiting = asyncio.create_task(gate.enter("bob"))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    held.release()
    assert gate.in_progress == 0
    (await gate.enter("bob")).release()  # bob is not counted as mid-reply


async def test_a_stream_releases_its_slot_when_it_ends_or_is_abandoned() -> None:
    gate = TurnGate(max_turns=2)

    async def events() -> object:
        for i in range(3):
            yield i

    slot = await gate.enter("ann")
    assert [e async for e in released_after(slot, events())] == [0, 1, 2]  # type: ignore[arg-type]
    assert gate.in_progress == 0
    slot = await gate.enter("ann")
    stream = released_after(slot, events())  # type: ignore[arg-type]
    await anext(stream)
    await stream.aclose()  # the client went away mid-reply
    assert gate.in_progress == 0
    slot.release()  # releasing twice changes nothing
    assert gate.in_progress == 0


def test_refusals_reach_http_with_their_status_and_retry_after() -> None:
    app = FastAPI()
    gate = TurnGate(max_turns=1, wait=0)
    install_turn_gate(app, gate)

    @app.post("/turn/{user}")
    async def turn(user: str) -> dict[str, str]:
        async with gate.turn(user):
            return {"ok": user}

    @app.post("/hold/{user}")
    async def hold(user: str) -> dict[str, str]:
        await gate.enter(user)  # never released: the server stays full
        return {"held": user}

    with TestClient(app) as client:
        assert client.post("/turn/ann").json() == {"ok": "ann"}
        assert client.post("/hold/ann").status_code == 200
        busy = client.post("/hold/ann")
        assert busy.status_code == 429 and busy.json()["error"]["type"] == "UserBusy"
        full = client.post("/turn/bob")
        assert full.status_code == 503 and int(full.headers["retry-after"]) >= 1
        assert full.json()["error"]["type"] == "ServerBusy"


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        TurnGate(max_turns=0)
