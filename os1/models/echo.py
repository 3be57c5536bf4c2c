"""The echo model: replies with exactly the messages it received, so anyone can see the prompt."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence

from ..types import GenOptions, Message
from .base import Capabilities


def render_messages(messages: Sequence[Message]) -> str:
    """The messages as JSON lines, one per message: exact and machine-readable."""
    return "\n".join(json.dumps({"role": m.role, "content": m.content}, ensure_ascii=False) for m in messages)


class EchoModel:
    """Replies with the prompt it was given (JSON lines of role and content)."""

    model_id = "echo"
    capabilities = Capabilities(streaming=True, local=True)

    async def load(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def stream(self, messages: Sequence[Message], *, options: GenOptions) -> AsyncIterator[str]:
        text = render_messages(messages)
        # Stream in lines so consumers exercise the same path as a real model.
        for line in text.splitlines(keepends=True):
            yield line
