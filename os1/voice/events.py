"""The voice pipeline's typed event stream (in the spirit of Home Assistant's assist pipeline).

A session yields, per turn: speech-started → speech-ended → heard (partial…, final) → reply events
(perceived, recalled, delta…) with audio chunks as they are synthesized → turn-done. Barge-in adds
`interrupted`; a short "mm-hm" while OS1 talks adds `backchannel`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import OS1Error
from ..types import ReplyEvent
from .base import AudioChunk


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """The user started talking."""

    at: float
    """Audio time (seconds since the stream began)."""
    while_speaking: bool = False
    """OS1 was talking at the time: this may be a barge-in or a backchannel."""


@dataclass(frozen=True, slots=True)
class SpeechEnded:
    """The user stopped talking long enough to end their turn."""

    at: float
    """Audio time of the last frame that held speech."""


@dataclass(frozen=True, slots=True)
class Heard:
    """A transcript of the user's turn: partial while they talk, then final."""

    text: str
    final: bool


@dataclass(frozen=True, slots=True)
class NothingHeard:
    """Speech-like sound with no words in it (noise, a cough): no turn is taken."""

    reason: str


@dataclass(frozen=True, slots=True)
class Replying:
    """One event of the companion's reply (the same events as text chat)."""

    event: ReplyEvent


@dataclass(frozen=True, slots=True, eq=False)
class Speaking:
    """A chunk of OS1's reply audio, handed to the playback in order."""

    chunk: AudioChunk
    seq: int
    """Position of the chunk in this reply (0, 1, …)."""


@dataclass(frozen=True, slots=True)
class Backchannel:
    """The user said a short acknowledgement while OS1 talked; OS1 keeps talking."""

    text: str


@dataclass(frozen=True, slots=True)
class Interrupted:
    """The user talked over OS1: playback stopped and the reply was stored as far as it was heard."""

    spoken: str
    """What the user heard before the interruption."""
    unspoken: str
    """What OS1 had prepared but did not get to say."""


@dataclass(frozen=True, slots=True)
class TurnDone:
    """A turn is over: what was heard, what was said, and where the time went."""

    heard: str
    spoken: str
    interrupted: bool
    timings: dict[str, float] = field(default_factory=dict)
    """Milliseconds: vad_tail (last speech → end of turn), stt (end of turn → final transcript),
    first_clause (transcript → first clause of the reply), tts_first (clause → first audio),
    voice_to_voice (last speech → first audio handed to playback)."""


@dataclass(frozen=True, slots=True)
class VoiceProblem:
    """Something failed in a turn; the session keeps listening."""

    error: OS1Error


VoiceEvent = (SpeechStarted | SpeechEnded | Heard | NothingHeard | Replying | Speaking | Backchannel
              | Interrupted | TurnDone | VoiceProblem)


def voice_event_dict(event: VoiceEvent) -> dict[str, Any]:
    """A JSON-ready dict tagged with `type` (audio chunks carry only their metadata here)."""
    from ..wire import event_dict

    if isinstance(event, SpeechStarted):
        return {"type": "speech-started", "at": round(event.at, 3), "while_speaking": event.while_speaking}
    if isinstance(event, SpeechEnded):
        return {"type": "speech-ended", "at": round(event.at, 3)}
    if isinstance(event, Heard):
        return {"type": "heard", "text": event.text, "final": event.final}
    if isinstance(event, NothingHeard):
        return {"type": "nothing-heard", "reason": event.reason}
    if isinstance(event, Replying):
        return event_dict(event.event)
    if isinstance(event, Speaking):
        return {"type": "audio", "seq": event.seq, "text": event.chunk.text, "sample_rate": event.chunk.sample_rate,
                "samples": len(event.chunk.samples), "seconds": round(event.chunk.duration, 3)}
    if isinstance(event, Backchannel):
        return {"type": "backchannel", "text": event.text}
    if isinstance(event, Interrupted):
        return {"type": "interrupted", "spoken": event.spoken, "unspoken": event.unspoken}
    if isinstance(event, TurnDone):
        return {"type": "turn-done", "heard": event.heard, "spoken": event.spoken, "interrupted": event.interrupted,
                "timings": {k: round(v, 1) for k, v in event.timings.items()}}
    if isinstance(event, VoiceProblem):
        e = event.error
        return {"type": "error", "error": {"type": type(e).__name__, "message": e.message, "hint": e.hint}}
    raise TypeError(f"unknown voice event {event!r}")
