"""The domain's value types: frozen dataclasses shared by every layer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

UserId = str
Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message as a model sees it."""

    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class GenOptions:
    """Sampling options for one generation."""

    max_tokens: int = 320
    temperature: float = 0.7
    top_p: float = 0.9
    stop: tuple[str, ...] = ()
    json_schema: Mapping[str, object] | None = None
    """Constrain the reply to JSON matching this schema (grammar for llama.cpp, response_format for
    OpenAI-compatible servers). Such side requests leave the cached conversation prefix intact."""


@dataclass(frozen=True, slots=True)
class Emotion:
    """How the user seems to feel in one message."""

    label: str
    """The dominant emotion (e.g. 'sadness', 'joy', 'neutral')."""
    valence: float
    """-1 (very negative) .. +1 (very positive)."""
    arousal: float
    """0 (calm) .. 1 (agitated/excited)."""
    scores: Mapping[str, float] = field(default_factory=dict)
    """Score per emotion label, 0..1."""


@dataclass(frozen=True, slots=True)
class SafetyReading:
    """Result of the risk screen on a user message."""

    level: Literal["none", "concern", "crisis"]
    reasons: tuple[str, ...] = ()
    """What was found, one 'category: cue' each (e.g. 'ideation: want to die')."""
    categories: tuple[str, ...] = ()
    """The kinds of risk found: ideation, hopelessness, plan, means, self_harm, farewell, slang, topic."""


@dataclass(frozen=True, slots=True)
class Exchange:
    """One stored message of the conversation (either side)."""

    id: int
    user_id: UserId
    role: Literal["user", "assistant"]
    text: str
    created_at: datetime
    session_id: str | None = None
    emotion: Emotion | None = None
    importance: float = 0.0
    notes: str | None = None
    """For user messages: the notes the model saw with it (time, feeling, recalled memories)."""


MemoryKind = Literal["exchange", "fact", "reflection"]
REF_PREFIX: dict[str, str] = {"exchange": "e", "fact": "f", "reflection": "r"}


def memory_ref(kind: str, item_id: int) -> str:
    """The public id of a memory: e12 (an exchange), f7 (a fact), r3 (a reflection)."""
    return f"{REF_PREFIX[kind]}{item_id}"


@dataclass(frozen=True, slots=True)
class RecalledMemory:
    """A memory brought back for the current turn, with where it came from."""

    id: int
    kind: MemoryKind
    text: str
    source: str
    """Human-readable origin, e.g. 'you said on 2026-11-20 09:14'."""
    created_at: datetime
    score: float
    current: bool = True
    """False for a fact that has since changed (kept as history)."""

    @property
    def ref(self) -> str:
        return memory_ref(self.kind, self.id)


@dataclass(frozen=True, slots=True)
class Person:
    """Someone in the user's life."""

    id: int
    user_id: UserId
    name: str
    relation: str | None
    location: str | None
    last_mentioned_at: datetime | None
    last_contact_at: datetime | None


@dataclass(frozen=True, slots=True)
class Fact:
    """Something true (or once true) about the user or their world, linked to where it was said."""

    id: int
    user_id: UserId
    kind: str
    """person, place, pet, work, plan, event, preference, dislike, boundary or other."""
    subject: str
    """'user', or the person/pet/place it is about."""
    attribute: str
    value: str
    text: str
    """One sentence a person can read."""
    slot: str | None
    """subject:attribute for single-valued facts; a new value here supersedes the old one."""
    person_id: int | None
    event_at: datetime | None
    valid_from: datetime
    valid_to: datetime | None
    superseded_by: int | None
    source_exchange_id: int | None
    importance: float
    created_at: datetime

    @property
    def current(self) -> bool:
        return self.valid_to is None


@dataclass(frozen=True, slots=True)
class Reflection:
    """An insight OS1 drew from several memories, linked to them."""

    id: int
    user_id: UserId
    text: str
    created_at: datetime
    sources: tuple[str, ...]
    """Refs of the memories it came from (e12, f7)."""


@dataclass(frozen=True, slots=True)
class Profile:
    """What OS1 knows about who it is talking to, and who it is to them."""

    user_id: UserId
    user_name: str | None
    companion_name: str | None
    stage: Literal["new", "asked_name", "getting_to_know", "met"]
    questions_asked: int = 0
    timezone: str | None = None


# Reply events streamed by Companion.reply ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Perceived:
    """What OS1 noticed about the message before answering."""

    emotion: Emotion
    safety: SafetyReading


@dataclass(frozen=True, slots=True)
class Recalled:
    """The memories recalled for this reply."""

    memories: tuple[RecalledMemory, ...]


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the reply's text, as it streams."""

    text: str


@dataclass(frozen=True, slots=True)
class SafetyNotice:
    """Resources shown alongside the reply when the risk screen found concern."""

    level: Literal["concern", "crisis"]
    message: str
    resources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReplyDone:
    """The reply is complete and stored."""

    text: str
    user_exchange_id: int
    reply_exchange_id: int
    companion_name: str | None
    truncated_input: bool = False


@dataclass(frozen=True, slots=True)
class ToolProposed:
    """A tool action that needs the user's yes first: stored as a pending action, nothing done yet."""

    action_id: int
    tool: str
    risk: str
    """read, write, send, delete or spend."""
    summary: str
    """Exactly what will happen if confirmed (recipients, subject and body; the event; the message)."""
    warnings: tuple[str, ...] = ()
    """Why to look twice (a recipient you never wrote to, a message that looks like phishing)."""


@dataclass(frozen=True, slots=True)
class ToolResult:
    """A tool ran (a read, a local write, or a confirmed action)."""

    tool: str
    ok: bool
    summary: str
    action_id: int | None = None
    """The pending action this carried out or declined, if any."""
    status: str = "done"
    """done, failed or declined."""


@dataclass(frozen=True, slots=True)
class ToolRefused:
    """A tool call the model proposed that the user did not ask for: refused, not run, and reported."""

    tool: str
    reason: str


ReplyEvent = Perceived | Recalled | TextDelta | SafetyNotice | ToolProposed | ToolResult | ToolRefused | ReplyDone
