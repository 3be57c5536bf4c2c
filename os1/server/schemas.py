"""Response models for the REST API, so `/openapi.json` says exactly what each route returns.

The routes build plain dicts (the same ones `os1 … --json` prints); these models describe and check
them. Where a memory carries kind-specific details (a fact's subject, a reflection's sources), the
model allows those extra fields rather than hiding them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Stage = Literal["new", "asked_name", "getting_to_know", "met"]


class ErrorDetail(BaseModel):
    type: str = Field(description="The error class, e.g. InputError, ModelUnavailable.")
    message: str = Field(description="What went wrong, in a sentence a person can read.")
    hint: str | None = Field(default=None, description="What to do about it.")


class ErrorBody(BaseModel):
    """Every error the API answers: 400 bad input, 413 body too big, 503 model unavailable, 502 model failed."""

    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Bad input; nothing was stored."},
    502: {"model": ErrorBody, "description": "The model failed while answering."},
    503: {"model": ErrorBody, "description": "The model is unavailable; nothing was stored."},
}
"""The error responses a route that may call the model documents."""

BAD_INPUT: dict[int | str, dict[str, Any]] = {400: ERRORS[400]}


class Health(BaseModel):
    status: Literal["ok"]
    model: str = Field(description="The chat model in use.")
    model_state: Literal["loading", "ready", "unavailable"]
    model_error: ErrorDetail | None = Field(description="Why the model is unavailable, when it is.")


class ProfileOut(BaseModel):
    companion_name: str | None = Field(description="OS1's name (self-chosen at first start, or yours for it).")
    user_name: str | None = Field(description="Your name, once you have told it.")
    stage: Stage = Field(description="How far the first meeting has got.")


class HistoryMessage(BaseModel):
    id: int
    role: Literal["user", "assistant"]
    text: str
    created_at: str = Field(description="ISO-8601, UTC.")


class History(BaseModel):
    messages: list[HistoryMessage] = Field(description="Oldest first.")


class EmotionOut(BaseModel):
    label: str = Field(description="The dominant emotion (GoEmotions label or neutral).")
    valence: float = Field(description="-1 (very negative) .. +1 (very positive).")
    arousal: float = Field(description="0 (calm) .. 1 (agitated or excited).")
    scores: dict[str, float] = Field(description="Score per emotion label, 0..1.")


class RecalledOut(BaseModel):
    id: int
    ref: str = Field(description="The memory's reference: e12 exchange, f7 fact, r3 reflection.")
    kind: str
    current: bool = Field(description="False for a fact that has since changed (kept as history).")
    text: str
    source: str = Field(description="Where it came from, e.g. 'you said on 2026-11-20 09:14'.")
    created_at: str
    score: float


class SafetyOut(BaseModel):
    level: Literal["concern", "crisis"]
    message: str
    resources: list[str] = Field(description="Crisis lines and where to find help.")


class ChatResult(BaseModel):
    """One whole turn: the same object as `os1 chat --message … --json`."""

    reply: str
    memories: list[RecalledOut] = Field(description="What OS1 remembered for this reply.")
    emotion: EmotionOut | None = Field(description="How the message read.")
    safety: SafetyOut | None = Field(description="A safety notice with resources, when the message showed risk.")
    companion_name: str | None
    user_exchange_id: int | None
    reply_exchange_id: int | None
    truncated_input: bool = Field(description="True when the message was shortened to fit the model's context.")
    actions: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Tool events of the turn, in order: `tool_proposed` (a pending action waiting for your yes: "
                    "action_id, tool, risk, summary, warnings), `tool_result` (tool, ok, status, summary) and "
                    "`tool_refused` (a tool call you did not ask for: tool, reason).")
    model: str


REPLY_EVENT: dict[str, Any] = {
    "title": "ReplyEvent",
    "description": "One event of a streamed reply (the `data:` of a server-sent event, or a WebSocket message).",
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "enum": ["perceived", "recalled", "safety", "tool_proposed", "tool_result",
                                            "tool_refused", "delta", "done", "error"]},
        "text": {"type": "string", "description": "delta: the next piece of the reply."},
        "emotion": {"type": "object", "description": "perceived: how the message read."},
        "safety": {"type": "object", "description": "perceived: the risk screen (level, reasons)."},
        "memories": {"type": "array", "items": {"type": "object"}, "description": "recalled: what OS1 remembered."},
        "level": {"type": "string", "description": "safety: concern or crisis."},
        "message": {"type": "string"},
        "resources": {"type": "array", "items": {"type": "string"}},
        "reply": {"type": "string", "description": "done: the whole reply, as stored."},
        "user_exchange_id": {"type": "integer"},
        "reply_exchange_id": {"type": "integer"},
        "companion_name": {"type": ["string", "null"]},
        "truncated_input": {"type": "boolean"},
        "error": {"type": "object", "description": "error: type, message, hint."},
    },
}
"""Written out rather than generated: it sits inside a response, where pydantic's $defs would not resolve."""

def sse_of(event: dict[str, Any]) -> dict[str, Any]:
    """The schema of one server-sent event whose `data:` line is JSON described by `event`."""
    return {"type": "object", "required": ["data"],
            "properties": {"data": {"type": "string", "contentMediaType": "application/json", "contentSchema": event}}}


SSE_DOC: dict[int | str, dict[str, Any]] = {
    200: {"description": "Server-sent events, one JSON object per `data:` line: `perceived`, `recalled`, "
                         "`safety`?, `tool_proposed`/`tool_result`/`tool_refused`?, `delta`…, `done` (or `error`).",
          "content": {"text/event-stream": {"schema": sse_of(REPLY_EVENT)}}},
}


# Memory -------------------------------------------------------------------------------------------
class MemoryItemOut(BaseModel):
    """One memory and where it came from; facts add subject, attribute, value, fact_kind, source_exchange."""

    model_config = ConfigDict(extra="allow")
    id: str = Field(description="e12 exchange, f7 fact, r3 reflection.")
    kind: Literal["exchange", "fact", "reflection"]
    text: str
    source: str
    created_at: str
    current: bool


class MemoryList(BaseModel):
    memories: list[MemoryItemOut]


class SearchResult(BaseModel):
    memories: list[RecalledOut]


class WouldForget(BaseModel):
    exchanges: list[str]
    facts: list[str]
    reflections: list[str]
    people: list[int] = Field(description="Ids of people forgotten along with it.")
    previews: list[str]


class ForgetPreview(BaseModel):
    would_forget: WouldForget


class Forgotten(BaseModel):
    forgotten: int = Field(description="How many items went, derived ones included.")
    exchanges: list[str]
    facts: list[str]
    reflections: list[str]
    people: list[int] = Field(description="Ids of people forgotten along with it.")


class PersonOut(BaseModel):
    id: int
    name: str
    relation: str | None
    location: str | None
    last_mentioned_at: str | None
    last_contact_at: str | None


class People(BaseModel):
    people: list[PersonOut]


# Feelings and growth ------------------------------------------------------------------------------
class DayMoodOut(BaseModel):
    day: str = Field(description="The local date, YYYY-MM-DD.")
    messages: int
    valence: float
    arousal: float
    top: list[str] = Field(description="The day's most frequent emotions.")


class Moods(BaseModel):
    days: list[DayMoodOut] = Field(description="Oldest first; days without messages are absent.")


class ChangeOut(BaseModel):
    id: int
    kind: str
    topic: str
    old_stance: str | None
    new_stance: str | None
    old_weight: float | None
    new_weight: float | None
    reason: str
    created_at: str
    reverted: bool
    journal_id: int | None


class JournalEntryOut(BaseModel):
    id: int
    text: str
    about_user: str
    about_self: str
    created_at: str
    changes: list[ChangeOut]


class JournalList(BaseModel):
    entries: list[JournalEntryOut] = Field(description="Newest first.")


class JournalWritten(BaseModel):
    entry: JournalEntryOut | None = Field(description="None when there was nothing new to write about.")


class OpinionOut(BaseModel):
    id: int
    topic: str
    stance: str


class InterestOut(BaseModel):
    id: int
    topic: str
    weight: float


class SelfOut(BaseModel):
    traits: list[str]
    values: list[str] = Field(description="Core values: these never change.")
    mood: str
    curious_about: str
    opinions: list[OpinionOut]
    interests: list[InterestOut]
    changes: list[ChangeOut] = Field(default_factory=list, description="Every change, with its reason.")
