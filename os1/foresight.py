"""What a spoken turn perceived before its last words were heard, kept so the turn can use it again.

Every token of a turn's prompt that is evaluated after the user stops talking is heard as silence. The
history is evaluated in the background after each reply (`Companion.warm`), but the turn's notes (time,
recalled memories, how they seem, instructions) come before the user's words in the last message and depend
on them. So the voice pipeline speculates while the user is still talking, on the words heard so far
(`Companion.speculate`); the first speculation of an utterance fixes the clock and the recalled memories,
and every later speculation, and the turn itself, reuse them while the words heard go on the same way. The
notes then stay the same and the model's cache still holds them when the turn comes: only the user's last
words are left to evaluate.

What is never reused: the risk screen and the plan it leads to (always the final words), and the emotion
reading unless the final words read the same (`Foresight.emotion_for`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from .types import Emotion, RecalledMemory

FRESH_FOR = timedelta(seconds=90)
"""A foresight older than this is not reused (the utterance it came from is long over)."""
MIN_WORDS = 3
"""Fewer words heard than this are too few to recall by: no foresight is kept from them."""
SAME_START = 3
"""The final words must start with this many of the foresight's words (or all, if it has fewer), one of them
allowed to differ when there are three or more: Whisper hears the first words of a clip cut mid-sentence a
little differently ("I mess my grand" / "I miss my grandmother"), and the memories recalled stay as relevant."""

SHADE = 0.3
"""Valence apart that still counts as the same reading in the notes of a spoken turn (`Foresight.emotion_for`)."""
STRONG = 0.45
"""A final reading at least this far from neutral always shows."""

_WORD = re.compile(r"[\w']+")


def words(text: str) -> list[str]:
    """Lower-cased words (Whisper's partial and final transcripts differ in case and punctuation)."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True, slots=True)
class Foresight:
    text: str
    """The words heard when it was made."""
    at: datetime
    """The turn's clock (the notes' "It is evening (19:05)")."""
    memories: tuple[RecalledMemory, ...]
    emotion: Emotion

    def continues(self, message: str, now: datetime) -> bool:
        """`message` is the same utterance, heard further (or in full), and this is fresh enough to reuse."""
        if not timedelta(0) <= now - self.at <= FRESH_FOR:
            return False
        seen, heard = words(self.text), words(message)
        n = min(SAME_START, len(seen))
        if n == 0 or len(heard) < n:
            return False
        differ = sum(a != b for a, b in zip(seen[:n], heard[:n], strict=True))
        return differ == 0 or (n >= 3 and differ == 1)

    def emotion_for(self, reading: Emotion) -> Emotion:
        """The emotion the notes show: the earlier reading when the final words read the same way, or only a shade
        differently (a mild reading within SHADE of it: "neutral" then "disappointment, -0.2"), else the final one.

        A changed emotion line (the notes' last line, just before the user's words) is evaluated again with the
        words once they stop talking (~14 tokens more, 0.1-0.5 s on a 2-core CPU without AMX). The final reading is
        still what is stored with the message (mood over days) and what the risk screen sees."""
        if reading.label == self.emotion.label:
            return self.emotion
        if abs(reading.valence - self.emotion.valence) < SHADE and abs(reading.valence) < STRONG:
            return self.emotion
        return reading


def worth_keeping(text: str) -> bool:
    return len(words(text)) >= MIN_WORDS
