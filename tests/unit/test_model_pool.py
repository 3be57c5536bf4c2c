"""The model pool: least-busy choice, failover before the first word, limits and timeouts (httpx MockTransport)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from os1.errors import ModelError, ModelUnavailable
from os1.models.openai_compat import OpenAICompatModel
from os1.models.pool import ModelBusy, ModelPool, split_urls
from os1.types import GenOptions, Message

ASK = [Message("user", "hello")]
OPTS = GenOptions(max_tokens=16)


def chunk(word: str) -> bytes:
    return f"data: {json.dumps({'choices': [{'delta': {'content': word}}]})}\n\n".encode()


class Server:
    """A fake OpenAI-compatible server: counts requests; behaviour set per test."""

    def __init__(self, name: str, *, status: int = 200, gate: asyncio.Event | None = None,
                 pause_after: int | None = None) -> None:
        self.name, self.status, self.gate, self.pause_after = name, status, gate, pause_after
        self.requests = 0
        self.started = asyncio.Event()

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        self.started.set()
        if self.status != 200:
            return httpx.Response(self.status, text="overloaded")
        if self.gate is not None and self.pause_after is None:
            await self.gate.wait()  # nothing until the test lets it go: a slow first token
        return httpx.Response(200, content=self._body(), headers={"content-type": "text/event-stream"})

    async def _body(self) -> AsyncIterator[bytes]:
        for i, word in enumerate([self.name, " says", " hi"]):
            if self.pause_after is not None and i == self.pause_after and self.gate is not None:
                await self.gate.wait()  # stalls mid-reply
            yield chunk(word)
        yield b"data: [DONE]\n\n"

    def model(self) -> OpenAICompatModel:
        return OpenAICompatModel("m", f"http://{self.name}/v1", transport=httpx.MockTransport(self.handle))


async def reply(pool: ModelPool) -> str:
    return "".join([p async for p in pool.stream(ASK, options=OPTS)])


def pool_of(*servers: Server, **kw: float) -> ModelPool:
    return ModelPool([s.model() for s in servers], **kw)  # type: ignore[arg-type]


async def test_a_failing_server_is_skipped_before_the_first_word() -> None:
    down, up = Server("a", status=503), Server("b")
    pool = pool_of(down, up)
    assert await reply(pool) == "b says hi"
    assert down.requests == 1 and up.requests == 1
    # The failed server cools down: the next request goes straight to the one that works.
    assert await reply(pool) == "b says hi"
    assert down.requests == 1 and up.requests == 2


async def test_all_servers_down_is_a_clear_model_unavailable() -> None:
    pool = pool_of(Server("a", status=503), Server("b", status=502))
    with pytest.raises(ModelUnavailable):
        await reply(pool)


async def test_least_busy_server_gets_the_next_request() -> None:
    hold = asyncio.Event()
    a, b = Server("a", gate=hold), Server("b", gate=hold)
    pool = pool_of(a, b)
    first = asyncio.create_task(reply(pool))
    await a.started.wait()
    second = asyncio.create_task(reply(pool))
    await b.started.wait()
    assert (a.requests, b.requests) == (1, 1)
    hold.set()
    assert sorted(await asyncio.gather(first, second)) == ["a says hi", "b says hi"]


async def test_saturated_pool_waits_then_refuses_with_model_busy() -> None:
    hold = asyncio.Event()
    a = Server("a", gate=hold)
    pool = pool_of(a, max_in_flight=1, queue_seconds=0.05)
    first = asyncio.create_task(reply(pool))
    await a.started.wait()
    with pytest.raises(ModelBusy):
        await reply(pool)
    assert a.requests == 1  # the refused request never reached the server
    hold.set()
    assert await first == "a says hi"
    assert await reply(pool) == "a says hi"  # the slot came back


async def test_a_waiting_request_gets_the_slot_when_it_frees() -> None:
    hold = asyncio.Event()
    a = Server("a", gate=hold)
    pool = pool_of(a, max_in_flight=1, queue_seconds=30)
    first = asyncio.create_task(reply(pool))
    await a.started.wait()
    second = asyncio.create_task(reply(pool))
    await asyncio.sleep(0)
    assert a.requests == 1 and not second.done()
    hold.set()
    assert await asyncio.gather(first, second) == ["a says hi", "a says hi"]


async def test_no_first_word_in_time_fails_over_to_the_next_server() -> None:
    slow, fast = Server("a", gate=asyncio.Event()), Server("b")
    pool = pool_of(slow, fast, first_token_seconds=0.05)
    assert await reply(pool) == "b says hi"
    assert slow.requests == 1


async def test_a_stall_mid_reply_is_an_error_not_a_retry() -> None:
    stalls, other = Server("a", gate=asyncio.Event(), pause_after=1), Server("b")
    pool = pool_of(stalls, other, token_seconds=0.05)
    got: list[str] = []
    with pytest.raises(ModelUnavailable, match="too slow"):
        async for piece in pool.stream(ASK, options=OPTS):
            got.append(piece)
    assert got == ["a"]  # what was said stays said; no second server repeats it
    assert other.requests == 0


async def test_a_single_server_keeps_its_model_id() -> None:
    server = Server("a")
    pool = pool_of(server)
    assert pool.model_id == server.model().model_id
    assert isinstance(pool, ModelPool) and pool.stats()[0]["in_flight"] == 0


def test_comma_separated_urls() -> None:
    assert split_urls(" http://a/v1, http://b/v1 ,") == ["http://a/v1", "http://b/v1"]


async def test_errors_other_than_unavailable_still_fail_over() -> None:
    bad, good = Server("a", status=400), Server("b")
    pool = pool_of(bad, good)
    assert await reply(pool) == "b says hi"
    assert issubclass(ModelBusy, ModelError)

