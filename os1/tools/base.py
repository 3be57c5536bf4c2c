"""The tool layer: each tool declares its arguments (a JSON schema), its risk and the kind of request it serves.

    risk     what happens when the model proposes a call the user asked for
    read     runs at once; what it brings back is untrusted data, fenced in the prompt
    write    runs at once (a local draft, a calendar entry, a letter)
    send     never without the user's yes: a pending action shows exactly what will happen
    delete   the same
    spend    the same

A tool with `confirm = True` (one that changes a setting, say) needs the yes whatever its risk. Whether a
call may happen at all is decided by the user's own message (os1/tools/intent.py), never by the model.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ValidationError

from ..errors import InputError, ToolError
from ..models import ChatModel

Risk = Literal["read", "write", "send", "delete", "spend"]
CONFIRM_RISKS: frozenset[str] = frozenset({"send", "delete", "spend"})


@dataclass(frozen=True, slots=True)
class ToolContext:
    """What a tool call knows about the turn it runs in."""

    user_id: str
    now: datetime
    """Aware, in the user's zone."""
    request: str = ""
    """The user's own words that asked for this (drafts quote them; never the model's words)."""
    model: ChatModel | None = None
    """For tools that write in the user's voice (a reply, a letter)."""


@dataclass(frozen=True, slots=True)
class ToolOutput:
    """What a tool brought back."""

    summary: str
    """One line for people (the CLI, the API's tool_result event)."""
    text: str = ""
    """For the model. Untrusted text is fenced as data before it reaches any prompt."""
    data: Mapping[str, Any] = field(default_factory=dict)
    """The same result as JSON for the CLI and the API."""
    untrusted: bool = False
    """True when `text` holds content from outside (mail, calendars, files): it is quarantined."""
    source: str = ""
    """Where the untrusted text came from, in words ('your inbox (3 messages)')."""
    warnings: tuple[str, ...] = ()
    """OS1's own findings about the content (looks like it instructs an AI, looks like phishing)."""


@dataclass(frozen=True, slots=True)
class Plan:
    """What a call that needs confirmation would do, prepared without side effects."""

    summary: str
    """Exactly what will happen: recipients, subject and body; the event; the message to delete."""
    payload: Mapping[str, Any]
    """Everything needed to carry it out, fixed now: confirming runs exactly this."""
    warnings: tuple[str, ...] = ()


class NoArgs(BaseModel):
    """A tool that takes no arguments."""


class Tool(ABC):
    """One capability the model may ask for. Subclasses set the class attributes and `run` or `plan`+`execute`."""

    name: ClassVar[str]
    description: ClassVar[str]
    risk: ClassVar[Risk]
    intent: ClassVar[str]
    """The kind of request that allows it ('mail.read', 'mail.send', 'calendar.write'…; os1/tools/intent.py)."""
    args: ClassVar[type[BaseModel]] = NoArgs
    confirm: ClassVar[bool] = False

    @property
    def needs_confirmation(self) -> bool:
        return self.risk in CONFIRM_RISKS or self.confirm

    @property
    def family(self) -> str:
        return self.intent.split(".", 1)[0]

    def parameters(self) -> dict[str, Any]:
        """The arguments' JSON schema, plain enough for llama.cpp's grammar and any OpenAI server."""
        return _plain_schema(self.args.model_json_schema())

    def spec(self) -> dict[str, Any]:
        """The OpenAI function-calling declaration."""
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": self.parameters()}}

    def parse(self, arguments: Mapping[str, object]) -> BaseModel:
        try:
            return self.args.model_validate(dict(arguments))
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(str(p) for p in x['loc']) or 'arguments'}: {x['msg']}" for x in e.errors())
            raise InputError(f"Bad arguments for {self.name}: {problems}") from e

    async def run(self, ctx: ToolContext, args: Any) -> ToolOutput:
        """Do it now (read and write tools)."""
        raise ToolError(f"{self.name} needs confirmation; it cannot run directly.")

    async def plan(self, ctx: ToolContext, args: Any) -> Plan:
        """Prepare it without side effects (tools that need confirmation)."""
        raise ToolError(f"{self.name} runs directly; there is nothing to confirm.")

    async def execute(self, ctx: ToolContext, payload: Mapping[str, Any]) -> ToolOutput:
        """Carry out a confirmed plan, exactly as it was shown."""
        raise ToolError(f"{self.name} has nothing to carry out.")


def _plain_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Pydantic's schema without titles, and `X | None` as plain optional properties (no null unions)."""
    props: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        prop = {k: v for k, v in prop.items() if k not in ("title", "default")}
        if "anyOf" in prop:
            kinds = [p for p in prop.pop("anyOf") if p.get("type") != "null"]
            if len(kinds) == 1:
                prop = {**{k: v for k, v in kinds[0].items() if k != "title"}, **prop}
        props[name] = prop
    out: dict[str, Any] = {"type": "object", "properties": props}
    if schema.get("required"):
        out["required"] = list(schema["required"])
    return out


class Registry:
    """The tools offered to the model, by name."""

    def __init__(self, tools: Sequence[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for t in tools:
            self.add(t)

    def add(self, tool: Tool) -> None:
        if tool.name in self._tools:
            raise ValueError(f"two tools named {tool.name!r}")
        self._tools[tool.name] = tool

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def __iter__(self) -> Any:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def for_families(self, families: set[str]) -> list[Tool]:
        return [t for t in self._tools.values() if t.family in families]


def choice_schema(tools: Sequence[Tool]) -> dict[str, Any]:
    """One JSON schema for 'pick a tool and its arguments, or none': a grammar for models without function calling."""
    options: list[dict[str, Any]] = [
        {"type": "object", "properties": {"tool": {"const": t.name}, "arguments": t.parameters()},
         "required": ["tool", "arguments"]} for t in tools]
    options.append({"type": "object", "properties": {"tool": {"const": "none"}}, "required": ["tool"]})
    return {"oneOf": options}
