"""Cut a streaming reply into pieces to speak: the first clause as early as possible, then sentences.

Speech can start as soon as the first few words make a phrase ("Oh, ..."), so the first piece ends at
the first clause mark once it has `first_min_words`; later pieces end at sentence marks (whole
sentences sound more natural) unless they grow long. A mark only counts once the next character has
arrived (a streamed "3." may be "3.5"), and common abbreviations do not end a sentence.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

SENTENCE_END = ".!?…"
CLAUSE_END = ",;:—–"
CLOSERS = "\"')]”’»"
ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "eg", "ie", "approx",
    "no", "fig", "mt", "ft", "a.m", "p.m", "am", "pm", "u.s", "inc", "ltd", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
})
BREAK_WORDS = frozenset({"and", "but", "so", "because", "or", "though", "although", "while", "which", "when", "if"})
"""A first piece may end just before one of these: a natural place to breathe ("That sounds lovely | and ...")."""
_MARKUP = re.compile(r"[*_#`~|>]+|\[(?P<label>[^\]]*)\]\([^)]*\)|https?://\S+")


@dataclass(frozen=True, slots=True)
class ChunkRules:
    """Where to cut. Numbers tuned by ear and by the latency bench (bench/voice_bench.py)."""

    first_min_words: int = 2
    """The first piece may end at a comma once it has this many words ("Oh, I see," is fine; "Oh," alone is too short)."""
    first_break_words: int = 4
    """With this many words, the first piece may also end before a conjunction (BREAK_WORDS)."""
    first_max_words: int = 10
    """With no punctuation at all, the first piece ends at a space after this many words."""
    clause_min_words: int = 8
    """Later pieces end at a clause mark only when this long (else they wait for the sentence end)."""
    max_words: int = 30
    """Any piece ends at a space past this many words."""


class ClauseChunker:
    """Feed text deltas in; take out pieces ready to synthesize."""

    def __init__(self, rules: ChunkRules | None = None) -> None:
        self.rules = rules or ChunkRules()
        self._pending = ""
        self._emitted = 0

    def feed(self, delta: str) -> list[str]:
        """Add streamed text; return the pieces now complete (often none)."""
        self._pending += delta
        pieces: list[str] = []
        while (cut := self._find_cut()) is not None:
            piece, self._pending = self._pending[:cut], self._pending[cut:]
            if piece.strip():
                pieces.append(piece.strip())
                self._emitted += 1
        return pieces

    def flush(self) -> list[str]:
        """The reply ended: whatever is left is the last piece."""
        rest, self._pending = self._pending.strip(), ""
        if rest:
            self._emitted += 1
            return [rest]
        return []

    def _find_cut(self) -> int | None:
        text = self._pending
        first = self._emitted == 0
        r = self.rules
        words = 0
        in_word = False
        word_start = 0
        for i, ch in enumerate(text):
            if ch.isspace():
                if in_word and first and words - 1 >= r.first_break_words \
                        and text[word_start:i].lower() in BREAK_WORDS and text[:word_start].rstrip()[-1:].isalnum():
                    return word_start  # "It sounds lovely | and ..."
                in_word = False
                limit = r.first_max_words if first else r.max_words
                if words >= limit:
                    return i
                continue
            if not in_word:
                words += 1
                in_word = True
                word_start = i
            if ch not in SENTENCE_END and ch not in CLAUSE_END:
                continue
            end = i + 1
            while end < len(text) and text[end] in CLOSERS:
                end += 1
            if end >= len(text):
                # The next character decides ("3." vs "3.5", "e.g." still coming), except for a first piece whose
                # mark cannot be anything else ("Oh, I see," "That sounds lovely!"): waiting for the next token
                # would cost its time (~60 ms on two cores) before anything is said.
                if first and _unambiguous(text[:i], ch) and (ch in SENTENCE_END or words >= r.first_min_words):
                    return end
                return None
            if not text[end].isspace():
                continue
            if ch in SENTENCE_END:
                if ch == "." and _is_abbreviation(text[:i]):
                    continue
                return end
            if words >= (r.first_min_words if first else r.clause_min_words):
                return end
        return None


def _unambiguous(before: str, mark: str) -> bool:
    """The mark after `before` ends a phrase whatever follows: not after a digit ("3.5", "1,000", "10:30"), and a
    period only after a word of two letters or more that is no abbreviation ("e.g.", "Dr.", "a.m.")."""
    if before[-1:].isdigit():
        return False
    if mark != ".":
        return True
    m = re.search(r"[A-Za-z.]+$", before)
    return m is not None and "." not in m.group(0) and len(m.group(0)) >= 2 and m.group(0).lower() not in ABBREVIATIONS


def _is_abbreviation(before: str) -> bool:
    """True when the period after `before` belongs to an abbreviation, an initial or a list number."""
    m = re.search(r"([A-Za-z.]+|\d+)$", before)
    if m is None:
        return False
    token = m.group(1)
    if token.isdigit():
        return before.strip() == token  # "1. First" at the start of a piece is a list number
    word = token.lower().rstrip(".")
    return word in ABBREVIATIONS or (len(token) == 1 and token.isupper())


def speakable(text: str) -> str:
    """The text as it should be read aloud: markdown, links and emoji removed, spaces tidied."""
    text = _MARKUP.sub(lambda m: m.group("label") or " ", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("So", "Cs", "Co"))
    return re.sub(r"\s+", " ", text).strip()


def has_words(text: str) -> bool:
    """True when there is something to say (at least one letter or digit)."""
    return any(ch.isalnum() for ch in text)
