"""Speech to text with faster-whisper (CTranslate2) and Whisper base, int8, on the CPU.

Loaded from the assembled folder (`os1.voice.weights`), never from a hub. Transcription runs in a
worker thread; one at a time (CTranslate2 models are not re-entrant per call and 2 cores gain nothing
from two at once).
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import VoiceError
from .base import SAMPLE_RATE, AudioClip, Samples, Transcript
from .weights import locate_whisper


@dataclass(frozen=True, slots=True)
class WhisperOptions:
    """How Whisper decodes. Greedy decoding: on our synthetic test speech beam search gained
    nothing measurable in accuracy and cost ~40% more time (bench/voice_bench.py)."""

    language: str | None = "en"
    """Fixed language (skips detection); None detects it."""
    beam_size: int = 1
    threads: int = 2
    compute_type: str = "int8"
    fitted_window: bool = True
    """Encode only as much of Whisper's 30-second window as the audio needs (see `_fitted`)."""


HOP = 160
"""Whisper's mel frames are 10 ms (160 samples at 16 kHz)."""
FULL_WINDOW_FRAMES = 3000
FITTED_MAX_SECONDS = 28.0
MARGIN_FRAMES = 100
"""Silence after the audio in a fitted window (1 s): Whisper expects speech to end before its window does."""
MAX_TOKENS = 448
TOKENS_PER_SECOND = 8
"""Generous cap on tokens per second of speech (English is ~3-4): stops a runaway repetition loop."""
NO_SPEECH, LOW_LOGPROB = 0.6, -0.7
"""faster-whisper's own thresholds for calling a segment silence."""
SURELY_SILENT = 0.85
"""No-speech probability past which any text is a hallucination (digital silence scores ~0.9)."""
FITTED_NO_SPEECH, FITTED_LOW_LOGPROB = 0.5, -1.0
"""The same for a fitted window, where timestamp tokens lower the mean log-probability (measured on
synthetic speech and noise: speech stayed above -1.0, noise hallucinations fell below with no-speech > 0.5)."""


class WhisperTranscriber:
    """faster-whisper on the assembled Whisper base model."""

    name = "faster-whisper base int8"

    def __init__(self, model_dir: Path, options: WhisperOptions | None = None) -> None:
        self.options = options or WhisperOptions()
        self.model_dir = model_dir
        self._model: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_models_dir(cls, models_dir: Path, options: WhisperOptions | None = None) -> WhisperTranscriber:
        return cls(locate_whisper(models_dir), options)

    def load(self) -> None:
        """Load the model now (else at the first transcription)."""
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> None:
        if self._model is not None:
            return
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # belt and braces: a local folder never reaches a hub
        try:
            from faster_whisper import WhisperModel
        except ImportError as e:
            raise VoiceError("Speech-to-text is not installed (faster-whisper).",
                             hint="Install the voice extra: `pip install 'os1[voice]'` (make setup does it).") from e
        try:
            self._model = WhisperModel(str(self.model_dir), device="cpu", compute_type=self.options.compute_type,
                                       cpu_threads=self.options.threads, num_workers=1, local_files_only=True)
        except (RuntimeError, ValueError, OSError) as e:
            raise VoiceError(f"The Whisper model in {self.model_dir} failed to load: {e}.",
                             hint="Run `os1 models prepare whisper` to assemble and verify it again.") from e

    def transcribe_sync(self, audio: AudioClip) -> Transcript:
        """Blocking transcription (call from a worker thread)."""
        if audio.sample_rate != SAMPLE_RATE:
            raise ValueError(f"Whisper takes {SAMPLE_RATE} Hz audio, got {audio.sample_rate}")
        if len(audio.samples) == 0:
            return Transcript("", self.options.language, 0.0, 1.0)
        with self._lock:
            self._load_locked()
            try:
                if self.options.fitted_window and audio.duration <= FITTED_MAX_SECONDS:
                    text, no_speech, language, logprob = self._fitted(audio.samples)
                else:
                    text, no_speech, language, logprob = self._windowed(audio.samples)
            except (RuntimeError, ValueError) as e:
                raise VoiceError(f"Speech-to-text failed: {e}.", hint="Try again; if it persists, run `os1 doctor`.") from e
        return Transcript(text, language, audio.duration, no_speech, logprob)

    def _windowed(self, samples: Samples) -> tuple[str, float, str | None, float]:
        """The library's own loop over 30-second windows (long recordings)."""
        segments, info = self._model.transcribe(
            samples, language=self.options.language, beam_size=self.options.beam_size, vad_filter=False,
            without_timestamps=True, condition_on_previous_text=False, temperature=0.0)
        parts = [s for s in segments if s.text.strip()]
        # Whisper's classic silence hallucinations ("Thank you.", "you") come with a high no-speech
        # probability and a low log-probability; such segments are silence.
        kept = [s for s in parts if not (s.no_speech_prob > NO_SPEECH and s.avg_logprob < LOW_LOGPROB)]
        no_speech = min((float(s.no_speech_prob) for s in parts), default=1.0)
        logprob = min((float(s.avg_logprob) for s in kept), default=-10.0)
        return " ".join(s.text.strip() for s in kept).strip(), no_speech, info.language, logprob

    def _fitted(self, samples: Samples) -> tuple[str, float, str | None, float]:
        """One decode with the encoder window cut to the audio (plus a margin) instead of 30 s.

        Whisper's encoder cost grows with its window, and faster-whisper always pads to 30 s: on two
        cores that is ~1 s per utterance, whatever its length. CTranslate2 accepts shorter windows
        (whisper.cpp's `audio_ctx` does the same), which takes a 2-second utterance from ~1.2 s to
        ~0.2 s; tests/real/test_voice_stt.py checks the transcripts stay as accurate.
        """
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        m = self._model
        frames = len(samples) // HOP
        window = min(FULL_WINDOW_FRAMES, -(-(frames + MARGIN_FRAMES) // 100) * 100)
        padded = np.zeros(window * HOP, dtype=np.float32)
        padded[:len(samples)] = samples[:window * HOP]
        features = m.feature_extractor(padded, padding=HOP)[:, :window]
        encoded = m.encode(features)
        language = self.options.language
        if language is None:
            language = max(m.model.detect_language(encoded)[0], key=lambda p: p[1])[0][2:-2]
        tokenizer = Tokenizer(m.hf_tokenizer, m.model.is_multilingual, task="transcribe", language=language)
        # With timestamps on, Whisper marks where each segment starts: in a fitted window it sometimes
        # "hears" the sentence again in the silence after it, and such a segment starts after the audio ends.
        prompt = m.get_prompt(tokenizer, [], without_timestamps=False)
        duration = len(samples) / SAMPLE_RATE
        max_new = min(MAX_TOKENS - len(prompt), int(TOKENS_PER_SECOND * duration) + 16)
        result = m.model.generate(
            encoded, [prompt], beam_size=self.options.beam_size, max_length=len(prompt) + max_new,
            return_scores=True, return_no_speech_prob=True, suppress_blank=True,
            suppress_tokens=get_suppressed_tokens(tokenizer, [-1]), max_initial_timestamp_index=50)[0]
        tokens = result.sequences_ids[0]
        kept: list[int] = []
        start: float | None = None
        for t in tokens:
            if t >= tokenizer.timestamp_begin:
                if start is None:
                    start = (t - tokenizer.timestamp_begin) * 0.02
                    if start >= max(0.0, duration - 0.1):
                        break
                else:
                    start = None  # the closing timestamp of a segment
            elif t < tokenizer.eot:
                kept.append(t)
        text = drop_echo(tokenizer.decode(kept).strip())
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1) if tokens else -10.0
        no_speech = float(result.no_speech_prob)
        if not math.isfinite(no_speech):
            no_speech = 0.0
        if (no_speech > FITTED_NO_SPEECH and avg_logprob < FITTED_LOW_LOGPROB) or no_speech > SURELY_SILENT:
            text = ""
        return text, no_speech, language, float(avg_logprob)

    async def transcribe(self, audio: AudioClip) -> Transcript:
        return await asyncio.to_thread(self.transcribe_sync, audio)


def drop_echo(text: str) -> str:
    """Whisper sometimes decodes an utterance and then starts it again in the silence after it ("My sister
    lives in Ohio. My sister lives in"): keep the first telling. Hand-written: a decoding quirk of the fitted
    window (seen in tests with Piper speech), not something a library fixes for us."""
    words = text.split()
    bare = [w.lower().strip(".,!?;:\"'") for w in words]
    n = len(words)
    # Where a repeat of the opening words (3 or more) would begin, right after a finished sentence.
    for cut in range((n + 1) // 2, n - 2):
        tail = bare[cut:]
        if words[cut - 1].endswith((".", "!", "?")) and tail == bare[:len(tail)]:
            return " ".join(words[:cut])
    return text

