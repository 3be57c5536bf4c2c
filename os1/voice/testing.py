"""Fakes for voice tests and plugin authors: a scripted transcriber, a synthesizer of tones, an energy VAD.

Like Home Assistant's MockSttProvider, the transcriber records every clip it was given.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Iterable

import numpy as np

from .base import SAMPLE_RATE, AudioChunk, AudioClip, Samples, Transcript, VoiceInfo


class ScriptedTranscriber:
    """Returns queued transcripts in order (then `default`), and records each clip it got."""

    name = "scripted"

    def __init__(self, texts: Iterable[str | Transcript] = (), *, default: str = "") -> None:
        self.queue: deque[str | Transcript] = deque(texts)
        self.default = default
        self.clips: list[AudioClip] = []

    async def transcribe(self, audio: AudioClip) -> Transcript:
        self.clips.append(audio)
        item = self.queue.popleft() if self.queue else self.default
        return item if isinstance(item, Transcript) else Transcript(item, "en", audio.duration)


class ToneSynthesizer:
    """Speaks each text as a quiet tone, `seconds_per_word` long per word; records what it was asked."""

    def __init__(self, *, seconds_per_word: float = 0.25, sample_rate: int = SAMPLE_RATE) -> None:
        self.seconds_per_word = seconds_per_word
        self.sample_rate = sample_rate
        self.voice = VoiceInfo("fake:tone", "fake", "tone", "en")
        self.texts: list[str] = []

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        self.texts.append(text)
        n = int(len(text.split()) * self.seconds_per_word * self.sample_rate)
        t = np.arange(n, dtype=np.float32) / self.sample_rate
        yield AudioChunk((0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), self.sample_rate, text)


class EnergyActivity:
    """Calls a frame speech when its RMS level passes a threshold: deterministic, for simulated streams."""

    frame_samples = 512

    def __init__(self, threshold: float = 0.02) -> None:
        self.threshold = threshold

    def speech_probability(self, frame: Samples) -> float:
        level = float(np.sqrt(np.mean(np.square(frame, dtype=np.float64))))
        return 1.0 if level >= self.threshold else 0.0

    def reset(self) -> None:
        return None


def tone(seconds: float, level: float = 0.1, rate: int = SAMPLE_RATE) -> Samples:
    """A stand-in for speech in simulated streams (EnergyActivity hears it as speech)."""
    t = np.arange(int(seconds * rate), dtype=np.float32) / rate
    return (level * np.sin(2 * np.pi * 150 * t)).astype(np.float32)


def quiet(seconds: float, rate: int = SAMPLE_RATE) -> Samples:
    return np.zeros(int(seconds * rate), dtype=np.float32)
