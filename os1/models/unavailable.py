"""A stand-in for a model that could not be set up: every use raises the original error.

It lets OS1 start (the server shows the problem; a person in crisis still gets the reviewed reply)
instead of refusing to run at all when, say, the weights are not assembled yet.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from ..errors import ModelError
from ..types import GenOptions, Message
from .base import Capabilities


class UnavailableModel:
    capabilities = Capabilities(streaming=True, local=True)

    def __init__(self, model_id: str, error: ModelError) -> None:
        self.model_id = model_id
        self.error = error

    async def load(self) -> None:
        raise self.error

    async def close(self) -> None:
        return None

    async def stream(self, messages: Sequence[Message], *, options: GenOptions) -> AsyncIterator[str]:
        raise self.error
        yield ""  # pragma: no cover - makes this an async generator
