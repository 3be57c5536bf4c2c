"""A scripted fake model for tests and plugin authors: a queue of replies, and a record of every prompt."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Iterable, Sequence

from ..errors import ModelError
from ..types import GenOptions, Message
from .base import Capabilities


class ScriptedModel:
    """Replies with queued texts in order (or `default`), streaming them word by word."""

    capabilities = Capabilities(streaming=True, local=True)

    def __init__(self, replies: Iterable[str] = (), *, default: str | None = "Okay.", model_id: str = "scripted") -> None:
        self.model_id = model_id
        self.queue: deque[str | BaseException] = deque(replies)
        self.default = default
        self.structured: deque[str] = deque()
        """Replies to structured (JSON-schema) requests, kept apart from the chat queue."""
        self.structured_default = "{}"
        self.history: list[list[Message]] = []
        self.options: list[GenOptions] = []
        self.loaded = False

    def enqueue(self, *replies: str | BaseException) -> None:
        """Add replies (or an exception to raise) to the end of the queue."""
        self.queue.extend(replies)

    def enqueue_json(self, *replies: str) -> None:
        """Queue replies for structured requests (fact extraction, reflection)."""
        self.structured.extend(replies)

    @property
    def last_prompt(self) -> list[Message]:
        """The last chat prompt (structured side requests are in `history` but not here)."""
        return next(h for h, o in zip(reversed(self.history), reversed(self.options), strict=True) if o.json_schema is None)

    async def load(self) -> None:
        self.loaded = True

    async def close(self) -> None:
        return None

    async def stream(self, messages: Sequence[Message], *, options: GenOptions) -> AsyncIterator[str]:
        self.history.append(list(messages))
        self.options.append(options)
        if options.json_schema is not None:
            yield self.structured.popleft() if self.structured else self.structured_default
            return
        reply: str | BaseException | None = self.queue.popleft() if self.queue else self.default
        if reply is None:
            raise ModelError("ScriptedModel has no reply queued")
        if isinstance(reply, BaseException):
            raise reply
        words = reply.split(" ")
        for i, w in enumerate(words):
            yield w if i == len(words) - 1 else w + " "
