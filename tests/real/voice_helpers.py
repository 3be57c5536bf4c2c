"""Shared by the real voice tests: the assembled Whisper model, real voices, synthesized utterances, WER."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import numpy as np
import pytest

from os1.voice.audio import to_speech_rate
from os1.voice.base import AudioClip, Synthesizer
from os1.voice.espeak import EspeakSynthesizer, espeak_path
from os1.voice.piper import PiperSynthesizer, piper_available
from os1.voice.weights import piper_voices, prepare_whisper

UTTERANCES = [
    "Hello, how are you doing today?",
    "I had a long day at work and I'm really tired.",
    "Can you remind me to call my sister Rachel on Sunday?",
    "My dog learned a new trick this morning.",
    "What do you think about moving to Denver next year?",
    "I finally finished reading that book you recommended.",
    "The meeting with my boss went better than I expected.",
    "Do you remember what I told you about my brother?",
    "I want to start running again, but my knee still hurts.",
    "Tell me something that made you happy this week.",
]


def whisper_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = tmp_path_factory.mktemp("models")
    prepare_whisper(models)
    return models


def voices() -> list[Synthesizer]:
    found: list[Synthesizer] = []
    if piper_available() and piper_voices(Path("/nonexistent")):
        found.append(PiperSynthesizer(piper_voices(Path("/nonexistent"))[0]))
    if espeak_path():
        found.append(EspeakSynthesizer())
    return found


def say(synth: Synthesizer, text: str, *, pad_s: float = 0.0) -> AudioClip:
    """`text` spoken by `synth`, at 16 kHz, with `pad_s` of silence on both sides."""
    async def go() -> list[np.ndarray]:
        return [c.samples for c in [chunk async for chunk in synth.synthesize(text)]]

    rate = synth.sample_rate
    samples = np.concatenate(asyncio.run(go()))
    pad = np.zeros(int(pad_s * rate), dtype=np.float32)
    return to_speech_rate(AudioClip(np.concatenate([pad, samples, pad]), rate))


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower().replace("-", " ")).split()


def wer(reference: str, hypothesis: str) -> tuple[int, int]:
    """(word edits, reference words): Levenshtein distance over words."""
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1], len(ref)
