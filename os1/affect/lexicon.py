"""The fallback reader: a small hand-made lexicon with negation handling, no model at all.

It was OS1's first emotion reader. Now it answers only when the trained reader cannot (the embedding model
failed to load or to run), so a turn never fails for want of a feeling. Labels are GoEmotions labels.
"""

from __future__ import annotations

from ..types import Emotion
from .features import negation_scope, tokens

# word -> (label, valence, arousal). Hand-picked, common words only.
_LEXICON: dict[str, tuple[str, float, float]] = {}


def _add(label: str, valence: float, arousal: float, words: str) -> None:
    for w in words.split():
        _LEXICON[w] = (label, valence, arousal)


_add("sadness", -0.7, 0.3, "sad unhappy lonely alone miserable depressed down crying cry cried tears heartbroken "
     "grief grieving miss missing hopeless empty hurt hurts lost gloomy")
_add("fear", -0.6, 0.8, "scared afraid anxious anxiety worried worry terrified panic panicking dread frightened")
_add("anger", -0.7, 0.8, "angry mad furious pissed hate hated rage")
_add("annoyance", -0.5, 0.6, "annoyed annoying irritated frustrated frustrating")
_add("joy", 0.8, 0.6, "happy glad great wonderful amazing awesome fantastic joy joyful delighted fun yay best")
_add("excitement", 0.7, 0.9, "excited thrilled")
_add("love", 0.8, 0.5, "love loved lovely")
_add("pride", 0.7, 0.5, "proud")
_add("gratitude", 0.7, 0.3, "thanks thank grateful thankful appreciate")
_add("relief", 0.5, 0.2, "relieved relief finally")
_add("nervousness", -0.4, 0.7, "nervous stressed stress overwhelmed tense pressure")
_add("disappointment", -0.5, 0.3, "disappointed disappointing letdown")


def read_lexicon(text: str) -> Emotion:
    """Dominant emotion, valence (-1..1) and arousal (0..1) from the word list alone."""
    toks = tokens(text)
    scope = negation_scope(toks)
    scores: dict[str, float] = {}
    valence_sum, arousal_sum, hits = 0.0, 0.0, 0
    for tok, negated in zip(toks, scope, strict=True):
        entry = _LEXICON.get(tok)
        if entry is None:
            continue
        label, val, aro = entry
        if negated:
            # "not happy" reads as mildly negative; "not sad" as mildly positive, with no label.
            val, aro, label = -val * 0.5, aro * 0.5, ("disappointment" if val > 0 else "neutral")
        scores[label] = scores.get(label, 0.0) + 1.0
        valence_sum += val
        arousal_sum += aro
        hits += 1
    if "!" in text:
        arousal_sum += 0.2 * hits
    if hits == 0:
        return Emotion("neutral", 0.0, 0.2, {"neutral": 1.0})
    total = sum(scores.values())
    norm = {k: round(v / total, 3) for k, v in scores.items()}
    label = max(norm, key=lambda k: (norm[k], k != "neutral"))
    return Emotion(label, round(max(-1.0, min(1.0, valence_sum / hits)), 3),
                   round(max(0.0, min(1.0, arousal_sum / hits)), 3), norm)
