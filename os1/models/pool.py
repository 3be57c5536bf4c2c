"""Several OpenAI-compatible servers (vLLM, llama.cpp server, Ollama…) as one chat model.

`OS1_OPENAI_BASE_URL=http://gpu1:8000/v1,http://gpu2:8000/v1` makes a pool. Each request goes to the
least busy server that is not cooling down after a failure; a server that fails before its first token
is skipped and the next one tried (nothing has reached the user yet). Once text has streamed, a failure
is reported, never retried elsewhere: the user would see the start of the reply twice.

Limits, so a slow or saturated model shows as a clear error instead of a hang:
- at most `max_in_flight` requests per server; a request waits up to `queue_seconds` for a free one,
  then `ModelBusy` (a `ModelUnavailable`: HTTP 503);
- `first_token_seconds` for the first piece of text and `token_seconds` between pieces, else
  `ModelUnavailable` ("too slow") — before any text, the next server is tried first.

Why hand-written: the client libraries that balance (LiteLLM's Router) bring a large dependency tree for
one idea that fits in this file; the policy here is the one vLLM's docs suggest for several replicas.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass

from ..errors import ModelError, ModelUnavailable
from ..types import GenOptions, Message
from .base import Capabilities, ChatModel, ToolCall, ToolCallingModel

COOLDOWN_SECONDS = 10.0
"""How long a server that failed is passed over while others are up (then it gets traffic again)."""


class ModelBusy(ModelUnavailable):
    """Every model server stayed at its limit of requests for the whole wait."""

    retry_after = 2


@dataclass(eq=False)
class Member:
    model: ChatModel
    in_flight: int = 0
    down_until: float = 0.0
    failures: int = 0
    served: int = 0


class ModelPool:
    """A `ChatModel` over several members, with least-busy choice, failover, limits and timeouts."""

    def __init__(self, members: Sequence[ChatModel], *, max_in_flight: int = 64, queue_seconds: float = 10.0,
                 first_token_seconds: float = 60.0, token_seconds: float = 30.0) -> None:
        if not members:
            raise ValueError("a model pool needs at least one member")
        self.members = [Member(m) for m in members]
        self.model_id = members[0].model_id if len(members) == 1 else \
            f"pool[{', '.join(m.model_id for m in members)}]"
        self.capabilities: Capabilities = members[0].capabilities
        self.max_in_flight = max_in_flight
        self.queue_seconds = queue_seconds
        self.first_token_seconds = first_token_seconds
        self.token_seconds = token_seconds
        self._freed = asyncio.Condition()

    def __repr__(self) -> str:
        return f"ModelPool({[m.model for m in self.members]!r})"

    def stats(self) -> list[dict[str, object]]:
        now = time.monotonic()
        return [{"model": m.model.model_id, "in_flight": m.in_flight, "served": m.served, "failures": m.failures,
                 "down": m.down_until > now} for m in self.members]

    async def load(self) -> None:
        """Ready when at least one member answers; the others are marked down for a while."""
        errors: list[ModelError] = []
        for member in self.members:
            try:
                await member.model.load()
            except ModelError as e:
                errors.append(e)
                self._failed(member)
        if len(errors) == len(self.members):
            raise errors[0]

    async def close(self) -> None:
        for member in self.members:
            await member.model.close()

    # Choosing a member --------------------------------------------------------------------------------
    def _order(self, tried: set[int]) -> list[Member]:
        now = time.monotonic()
        left = [m for m in self.members if id(m) not in tried]
        # Up members first, least busy first; down ones last (tried only when nothing else is left).
        return sorted(left, key=lambda m: (m.down_until > now, m.in_flight, m.served))

    async def _acquire(self, tried: set[int]) -> Member:
        """The best member with a free slot, waiting (bounded) for one; ModelBusy when none frees up."""
        deadline = time.monotonic() + self.queue_seconds
        async with self._freed:  # checked under the lock, so a release between check and wait is not missed
            while True:
                for member in self._order(tried):
                    if member.in_flight < self.max_in_flight:
                        member.in_flight += 1
                        return member
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ModelBusy("Every model server is busy.", hint="Try again in a few seconds.")
                try:
                    async with asyncio.timeout(left):
                        await self._freed.wait()
                except TimeoutError:
                    pass

    async def _release(self, member: Member) -> None:
        async with self._freed:
            member.in_flight -= 1
            self._freed.notify_all()

    def _failed(self, member: Member) -> None:
        member.failures += 1
        member.down_until = time.monotonic() + COOLDOWN_SECONDS

    # Generation ------------------------------------------------------------------------------------
    async def stream(self, messages: Sequence[Message], *, options: GenOptions) -> AsyncIterator[str]:
        tried: set[int] = set()
        last: ModelError | None = None
        while len(tried) < len(self.members):
            member = await self._acquire(tried)
            tried.add(id(member))
            started = False
            pieces = member.model.stream(messages, options=options)
            try:
                while True:
                    limit = self.token_seconds if started else self.first_token_seconds
                    try:
                        async with asyncio.timeout(limit):
                            piece = await anext(pieces)
                    except StopAsyncIteration:
                        break
                    except TimeoutError:
                        what = "between words" if started else "before the first word"
                        raise ModelUnavailable(f"The model server is too slow: nothing for {limit:g} s {what}.",
                                               hint="It may be overloaded; try again shortly.") from None
                    started = True
                    yield piece
                member.served += 1
                member.down_until = 0.0
                return
            except ModelError as e:
                self._failed(member)
                if started:
                    raise
                last = e  # nothing was said yet: try the next server
            finally:
                aclose = getattr(pieces, "aclose", None)
                if aclose is not None:
                    await aclose()
                await self._release(member)
        assert last is not None
        raise last

    async def call_tools(self, messages: Sequence[Message], *, tools: Sequence[Mapping[str, object]],
                         options: GenOptions) -> list[ToolCall]:
        tried: set[int] = set()
        last: ModelError | None = None
        while len(tried) < len(self.members):
            member = await self._acquire(tried)
            tried.add(id(member))
            try:
                if not isinstance(member.model, ToolCallingModel):
                    raise ModelError(f"{member.model.model_id} has no native tool calls.")
                async with asyncio.timeout(self.first_token_seconds):
                    calls = await member.model.call_tools(messages, tools=tools, options=options)
                member.served += 1
                return calls
            except TimeoutError:
                self._failed(member)
                last = ModelUnavailable(f"The model server is too slow: no answer in {self.first_token_seconds:g} s.")
            except ModelError as e:
                self._failed(member)
                last = e
            finally:
                await self._release(member)
        assert last is not None
        raise last


def split_urls(base_url: str) -> list[str]:
    """`OS1_OPENAI_BASE_URL` may list several servers, comma-separated."""
    return [u.strip() for u in base_url.split(",") if u.strip()]


def openai_pool(model: str, base_url: str, *, api_key: str | None, timeout: float, max_in_flight: int = 64,
                queue_seconds: float = 10.0, first_token_seconds: float = 60.0, token_seconds: float = 30.0) -> ModelPool:
    """One `OpenAICompatModel` per base URL (comma-separated), pooled with these limits."""
    from .openai_compat import OpenAICompatModel

    urls = split_urls(base_url)
    if not urls:
        raise ModelUnavailable("No model server URL given.", hint="Set OS1_OPENAI_BASE_URL.")
    members = [OpenAICompatModel(model, url, api_key=api_key, timeout=timeout) for url in urls]
    return ModelPool(members, max_in_flight=max_in_flight, queue_seconds=queue_seconds,
                     first_token_seconds=first_token_seconds, token_seconds=token_seconds)
