"""The whole risk screen: the rules (synchronous, ~0.2 ms) and then the semantic head (one embedding, shared).

    reading = screen(message)                 # rules only: what `prepare()` and plan_turn use at once
    reading = assess(message)                 # rules + head: what the turn awaits with the emotion reading

`assess` blocks on the embedding model; the companion runs it in a thread next to the emotion reading, which
embeds the same message through the same cached embedder, so the vector is computed once.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..memory.embed import Embedder
from ..types import SafetyReading
from .frames import EVERYDAY_GOODBYE, IDIOMS
from .screen import Hit, find_hits, normalize, verdict
from .semantic import RiskReader, combine

GRIEF = "a death that already happened"
RELIABLE_FRAMES = frozenset({
    "negation", "accident", "lyrics or quotation", "fiction or game", "news", "a death that already happened",
    "the past", "the past, recovered", "a question someone asked"})
"""Explanations the rules get right often enough to hold back the head (measured with scripts/train_safety.py)."""


GOODBYE_WORDS = 15
"""An everyday goodbye holds the head back only in a message this short ("Goodbye for tonight, talk tomorrow!")."""


def rules_veto(hits: Sequence[Hit], text: str, *, for_concern: bool = False) -> bool:
    """The rules found cues (or an idiom) here and explained each away by a reliable frame: no cue stands.

    Also a short everyday goodbye that says when you will talk again ("goodbye for tonight"), with no cue at
    all. For a concern, a death that already happened is no veto: worry about the one left behind ("since dad
    died she keeps saying she wants to join him") is exactly a concern."""
    if any(h.explained_by is None for h in hits):
        return False
    frames = RELIABLE_FRAMES - {GRIEF} if for_concern else RELIABLE_FRAMES
    if any(h.explained_by in frames for h in hits):
        return True
    normalized = normalize(text)
    if not hits and len(normalized.split()) <= GOODBYE_WORDS and EVERYDAY_GOODBYE.search(normalized):
        return True
    return bool(IDIOMS.search(normalized))


def _shared_embedder() -> Embedder | None:
    from ..affect.reading import shared_embedder

    return shared_embedder()


_default = RiskReader(_shared_embedder)


def assess(text: str, *, reader: RiskReader | None = None) -> SafetyReading:
    """Rules first, then the semantic head where it can run (see semantic.combine); never calls a language model."""
    hits = find_hits(text)
    rules = verdict(hits, text)
    reader = reader or _default
    if rules.level == "crisis":
        return rules
    semantic = reader.read(text)
    if semantic is None:
        return rules
    return combine(rules, rules_veto(hits, text), semantic, reader.head,
                   concern_vetoed=rules_veto(hits, text, for_concern=True))


__all__ = ["GOODBYE_WORDS", "RELIABLE_FRAMES", "assess", "rules_veto"]
