"""The chat model interface every backend implements."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ..types import GenOptions, Message


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a backend can do, declared rather than guessed."""

    streaming: bool = True
    prefix_cache: bool = False
    """Reuses the evaluated prompt prefix across calls (llama.cpp)."""
    json_schema: bool = False
    """Can constrain output to a JSON schema (grammar or response_format)."""
    tool_calls: bool = False
    """Native function calling (OpenAI `tools`); others choose a tool through a JSON-schema request."""
    local: bool = True
    """Runs on this machine; nothing leaves it."""


@runtime_checkable
class ChatModel(Protocol):
    """A streaming chat model."""

    model_id: str
    capabilities: Capabilities

    def stream(self, messages: Sequence[Message], *, options: GenOptions) -> AsyncIterator[str]:
        """Yield the reply in pieces as they are generated."""
        ...

    async def load(self) -> None:
        """Make the model ready (load weights, check the server). Idempotent."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A function call the model proposed: a tool name and its arguments (not yet checked or run)."""

    name: str
    arguments: Mapping[str, object] = field(default_factory=dict)


@runtime_checkable
class ToolCallingModel(Protocol):
    """A model with native function calling (`Capabilities.tool_calls`)."""

    async def call_tools(self, messages: Sequence[Message], *, tools: Sequence[Mapping[str, object]],
                         options: GenOptions) -> list[ToolCall]:
        """The calls the model makes given OpenAI-style `tools` (function specs); [] when it calls none."""
        ...


async def complete(model: ChatModel, messages: Sequence[Message], *, options: GenOptions) -> str:
    """The whole reply as one string."""
    return "".join([piece async for piece in model.stream(messages, options=options)])
