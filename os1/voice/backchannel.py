"""Backchannels: the "mm-hm", "yeah" and "right" a listener says without taking the turn."""

from __future__ import annotations

import re

from .base import Transcript

BACKCHANNEL_WORDS = frozenset({
    "mm", "mmm", "hm", "hmm", "mhm", "mmhmm", "mmhm", "uhhuh", "uh", "huh", "um", "ah", "oh", "ooh", "wow", "yeah",
    "yep", "yes", "yup", "yah", "right", "okay", "ok", "sure", "i", "see", "got", "it", "true", "exactly", "totally",
    "cool", "nice", "alright", "indeed", "aha", "uhuh", "ya",
})
"""Words that, alone and briefly, acknowledge the speaker rather than take the turn."""


def is_backchannel(transcript: Transcript, *, max_words: int = 3, guess_logprob: float = -1.2) -> bool:
    """True for a short acknowledgement ("mm-hm", "yeah, right"), or a sound with no clear words."""
    words = [re.sub(r"[^a-z]", "", w) for w in transcript.text.lower().replace("-", "").split()]
    words = [w for w in words if w]
    if not words:
        return True
    if transcript.avg_logprob < guess_logprob:
        return True  # a murmur Whisper could only guess at
    return len(words) <= max_words and all(w in BACKCHANNEL_WORDS for w in words)
