"""The voice interfaces: what a transcriber, a synthesizer and a voice-activity detector must do.

Audio inside OS1 is always mono float32 in [-1, 1]; `SAMPLE_RATE` (16 kHz) is what the VAD and Whisper
take, and what microphones are resampled to. Synthesizers speak at their own rate (Piper: 22.05 kHz).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
"""Sample rate of everything heard: the VAD and Whisper both work at 16 kHz."""

Samples = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True, eq=False)
class AudioClip:
    """A piece of recorded audio, mono."""

    samples: Samples
    """float32 samples in [-1, 1]."""
    sample_rate: int
    """Samples per second."""

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate if self.sample_rate else 0.0


@dataclass(frozen=True, slots=True, eq=False)
class AudioChunk:
    """A piece of synthesized speech, ready to play, with the text it speaks."""

    samples: Samples
    """float32 samples in [-1, 1]."""
    sample_rate: int
    """Samples per second."""
    text: str = ""
    """The words this chunk speaks ('' for a continuation of the same words)."""

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate if self.sample_rate else 0.0


@dataclass(frozen=True, slots=True)
class Transcript:
    """What was heard in an AudioClip."""

    text: str
    """The words, trimmed; '' when no speech was heard."""
    language: str | None = None
    """Language code the transcriber used or detected."""
    audio_seconds: float = 0.0
    """Length of the audio that was transcribed."""
    no_speech_probability: float = 0.0
    """The transcriber's belief that the clip held no speech at all (0..1)."""
    avg_logprob: float = 0.0
    """Mean log-probability of the decoded tokens: below about -1 the words are a guess."""


@dataclass(frozen=True, slots=True)
class VoiceInfo:
    """A voice OS1 can speak with."""

    id: str
    """Stable id, `engine:name`, e.g. piper:en_US-joe-medium."""
    engine: str
    """piper or espeak."""
    name: str
    language: str
    """BCP-47-ish language code, e.g. en-us."""
    description: str = ""
    license: str = ""
    details: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class Transcriber(Protocol):
    """Speech to text."""

    name: str

    async def transcribe(self, audio: AudioClip) -> Transcript:
        """Transcribe a whole clip (at SAMPLE_RATE)."""
        ...


@runtime_checkable
class Synthesizer(Protocol):
    """Text to speech."""

    voice: VoiceInfo
    sample_rate: int

    def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        """Speak `text`, yielding audio as soon as each piece is ready."""
        ...


@runtime_checkable
class VoiceActivity(Protocol):
    """Per-frame speech probability on a continuous 16 kHz stream."""

    frame_samples: int
    """Samples per frame the detector takes (512 at 16 kHz for Silero)."""

    def speech_probability(self, frame: Samples) -> float:
        """Probability (0..1) that `frame` (exactly frame_samples long) holds speech."""
        ...

    def reset(self) -> None:
        """Forget the stream so far (before an unrelated recording)."""
        ...
