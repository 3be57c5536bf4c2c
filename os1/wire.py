"""Reply events and results as JSON-ready dicts: the shape the CLI's --json and the HTTP API share."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .types import (
    Emotion,
    Perceived,
    Recalled,
    RecalledMemory,
    ReplyDone,
    ReplyEvent,
    SafetyNotice,
    TextDelta,
    ToolProposed,
    ToolRefused,
    ToolResult,
)


def memory_dict(m: RecalledMemory) -> dict[str, Any]:
    return {"id": m.id, "ref": m.ref, "kind": m.kind, "current": m.current, "text": m.text, "source": m.source,
            "created_at": m.created_at.isoformat(), "score": m.score}


def emotion_dict(e: Emotion) -> dict[str, Any]:
    d = asdict(e)
    d["scores"] = dict(e.scores)
    return d


def event_dict(event: ReplyEvent) -> dict[str, Any]:
    """One streamed event, tagged with its `type`."""
    if isinstance(event, TextDelta):
        return {"type": "delta", "text": event.text}
    if isinstance(event, Perceived):
        return {"type": "perceived", "emotion": emotion_dict(event.emotion),
                "safety": {"level": event.safety.level, "reasons": list(event.safety.reasons)}}
    if isinstance(event, Recalled):
        return {"type": "recalled", "memories": [memory_dict(m) for m in event.memories]}
    if isinstance(event, SafetyNotice):
        return {"type": "safety", "level": event.level, "message": event.message, "resources": list(event.resources)}
    if isinstance(event, ToolProposed):
        return {"type": "tool_proposed", "action_id": event.action_id, "tool": event.tool, "risk": event.risk,
                "summary": event.summary, "warnings": list(event.warnings)}
    if isinstance(event, ToolResult):
        return {"type": "tool_result", "tool": event.tool, "ok": event.ok, "status": event.status,
                "summary": event.summary, "action_id": event.action_id}
    if isinstance(event, ToolRefused):
        return {"type": "tool_refused", "tool": event.tool, "reason": event.reason}
    if isinstance(event, ReplyDone):
        return {"type": "done", "reply": event.text, "user_exchange_id": event.user_exchange_id,
                "reply_exchange_id": event.reply_exchange_id, "companion_name": event.companion_name,
                "truncated_input": event.truncated_input}
    raise TypeError(f"unknown event {event!r}")


class TurnResult:
    """Collects a turn's events into the one-shot result (`os1 chat --message --json`, POST /chat)."""

    def __init__(self) -> None:
        self.reply = ""
        self.memories: list[dict[str, Any]] = []
        self.emotion: dict[str, Any] | None = None
        self.safety: dict[str, Any] | None = None
        self.done: dict[str, Any] | None = None
        self.actions: list[dict[str, Any]] = []
        """Tool events of the turn (tool_proposed, tool_result, tool_refused), in order."""

    def add(self, event: ReplyEvent) -> None:
        if isinstance(event, TextDelta):
            self.reply += event.text
        elif isinstance(event, Perceived):
            self.emotion = emotion_dict(event.emotion)
        elif isinstance(event, Recalled):
            self.memories = [memory_dict(m) for m in event.memories]
        elif isinstance(event, SafetyNotice):
            self.safety = event_dict(event)
            del self.safety["type"]
        elif isinstance(event, ToolProposed | ToolResult | ToolRefused):
            self.actions.append(event_dict(event))
        elif isinstance(event, ReplyDone):
            self.done = event_dict(event)
            self.reply = event.text

    def as_dict(self, model_id: str) -> dict[str, Any]:
        done = self.done or {}
        return {
            "reply": self.reply,
            "memories": self.memories,
            "emotion": self.emotion,
            "safety": self.safety,
            "companion_name": done.get("companion_name"),
            "user_exchange_id": done.get("user_exchange_id"),
            "reply_exchange_id": done.get("reply_exchange_id"),
            "truncated_input": done.get("truncated_input", False),
            "actions": self.actions,
            "model": model_id,
        }
