"""Where OS1's voice goes, and how far the listener got: the Playback interface and a clocked one.

The pipeline needs to know, at any moment, how many seconds of the current reply the user has
actually heard: that is what it stores when they interrupt. A sound card knows it from its callback,
a browser reports it over the WebSocket, and `ClockedPlayback` (tests, files, the benchmark) advances
with the audio clock of the microphone stream fed to the session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .audio import join
from .base import AudioChunk, Samples


class Playback(Protocol):
    """Plays a reply's audio chunks in order and says how much has been heard."""

    def start_reply(self) -> None:
        """A new reply begins: its position starts at 0."""
        ...

    def play(self, chunk: AudioChunk) -> None:
        """Queue a chunk after the ones already queued (returns at once)."""
        ...

    def position(self) -> float:
        """Seconds of the current reply heard so far."""
        ...

    def queued(self) -> float:
        """Seconds of the current reply handed over so far."""
        ...

    def stop(self) -> float:
        """Stop at once, dropping what is queued; returns the position reached."""
        ...

    def tick(self, seconds: float) -> None:
        """The microphone stream advanced by `seconds` (clocked playbacks move with it; others ignore it)."""
        ...


class ClockedPlayback:
    """Plays in step with the microphone's audio clock, keeping what was heard (deterministic)."""

    def __init__(self) -> None:
        self._chunks: list[AudioChunk] = []
        self._total = 0.0
        self._played = 0.0
        self.heard: list[AudioChunk] = []
        """Every chunk that was (at least partly) heard, across replies, trimmed where cut off."""
        self._heard_upto = 0

    def start_reply(self) -> None:
        self._chunks, self._total, self._played, self._heard_upto = [], 0.0, 0.0, 0

    def play(self, chunk: AudioChunk) -> None:
        self._chunks.append(chunk)
        self._total += chunk.duration
        self._collect()

    def position(self) -> float:
        return self._played

    def queued(self) -> float:
        return self._total

    def tick(self, seconds: float) -> None:
        self._played = min(self._total, self._played + seconds)
        self._collect()

    def drain(self) -> None:
        """Hear everything queued now (file mode: nobody can interrupt)."""
        self._played = self._total
        self._collect()

    def stop(self) -> float:
        reached = self._played
        # Keep the part of the chunk that was cut off mid-way.
        start = sum(c.duration for c in self._chunks[:self._heard_upto])
        if self._heard_upto < len(self._chunks) and reached > start:
            c = self._chunks[self._heard_upto]
            n = int((reached - start) * c.sample_rate)
            self.heard.append(AudioChunk(c.samples[:n], c.sample_rate, c.text))
        self._chunks = self._chunks[:self._heard_upto]
        self._total = reached
        return reached

    def _collect(self) -> None:
        end = sum(c.duration for c in self._chunks[:self._heard_upto])
        while self._heard_upto < len(self._chunks):
            c = self._chunks[self._heard_upto]
            if end + c.duration > self._played + 1e-9:
                break
            self.heard.append(c)
            end += c.duration
            self._heard_upto += 1

    def heard_audio(self, sample_rate: int) -> Samples:
        return join(self.heard, sample_rate)


@dataclass
class SpokenLog:
    """The text of a reply's chunks with their durations, to tell what was heard at a given position."""

    pieces: list[tuple[str, float]] = field(default_factory=list)

    def add(self, chunk: AudioChunk) -> None:
        if chunk.text or not self.pieces:
            self.pieces.append((chunk.text, chunk.duration))
        else:  # a continuation of the same words
            text, seconds = self.pieces[-1]
            self.pieces[-1] = (text, seconds + chunk.duration)

    def split(self, position: float, generated: str) -> tuple[str, str]:
        """(heard, not heard) at `position` seconds; `generated` is all the text the model produced."""
        heard: list[str] = []
        t = 0.0
        for text, seconds in self.pieces:
            if position >= t + seconds - 0.05:
                heard.append(text)
            elif position > t and seconds > 0:
                words = text.split()
                # Words are spread roughly evenly over a clause; round down: a half-said word was not said.
                n = int(len(words) * (position - t) / seconds)
                if n:
                    heard.append(" ".join(words[:n]))
                break
            else:
                break
            t += seconds
        spoken = " ".join(h for h in heard if h).strip()
        words_spoken = len(spoken.split())
        rest = generated.split()
        return spoken, " ".join(rest[words_spoken:])


def silence(seconds: float, rate: int) -> Samples:
    return np.zeros(int(seconds * rate), dtype=np.float32)
