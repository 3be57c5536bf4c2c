"""Asking the model which tool to use: native function calling where the backend has it (OpenAI-compatible
servers), else one JSON-schema-constrained request (a grammar in llama.cpp) choosing a tool or none."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from .. import prompts
from ..models import ChatModel, complete
from ..models.base import ToolCall, ToolCallingModel
from ..types import GenOptions, Message
from .base import Tool, choice_schema

SELECT_OPTIONS = GenOptions(max_tokens=256, temperature=0.0)


def selection_prompt(tools: Sequence[Tool], *, request: str, now: datetime, recent: Sequence[tuple[str, str]],
                     found: Sequence[str]) -> list[Message]:
    """The messages of a selection request: the tools, the last few lines of conversation, what earlier
    steps found (fenced as data), and the user's own message last."""
    listing = "\n".join(f"- {t.name}: {t.description}" for t in tools)
    system = prompts.render("tool_select", tools=listing, now=f"{now:%A %d %B %Y, %H:%M}")
    parts = []
    if recent:
        parts.append("Recent conversation:\n" + "\n".join(f"{who}: {text[:400]}" for who, text in recent))
    parts += list(found)
    parts.append(f"Their message: {request}")
    return [Message("system", system), Message("user", "\n\n".join(parts))]


async def choose(model: ChatModel, tools: Sequence[Tool], messages: Sequence[Message]) -> ToolCall | None:
    """The call the model proposes, or None (it chose none, or said nothing usable)."""
    if model.capabilities.tool_calls and isinstance(model, ToolCallingModel):
        calls = await model.call_tools(messages, tools=[t.spec() for t in tools], options=SELECT_OPTIONS)
        return calls[0] if calls else None
    raw = await complete(model, messages, options=replace(SELECT_OPTIONS, json_schema=choice_schema(tools)))
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("tool"), str) or doc["tool"] == "none":
        return None
    args = doc.get("arguments")
    return ToolCall(doc["tool"], args if isinstance(args, dict) else {})
