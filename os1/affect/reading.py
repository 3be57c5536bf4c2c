"""A first emotion reading: a small hand-made lexicon with negation handling, no model call.

This is the foundation's simple reader; the feelings issue replaces it with a classifier trained on
GoEmotions. It lives behind `read_emotion` so that swap touches nothing else.
"""

from __future__ import annotations

import re

from ..types import Emotion

# word -> (label, valence, arousal). Hand-picked, common words only.
_LEXICON: dict[str, tuple[str, float, float]] = {}


def _add(label: str, valence: float, arousal: float, words: str) -> None:
    for w in words.split():
        _LEXICON[w] = (label, valence, arousal)


_add("sadness", -0.7, 0.3, "sad unhappy lonely alone miserable depressed down crying cry cried tears heartbroken "
     "grief grieving miss missing hopeless empty hurt hurts lost gloomy")
_add("fear", -0.6, 0.8, "scared afraid anxious anxiety nervous worried worry terrified panic panicking dread frightened")
_add("anger", -0.7, 0.8, "angry mad furious annoyed annoying irritated pissed hate hated rage frustrated frustrating")
_add("joy", 0.8, 0.6, "happy glad great wonderful amazing awesome fantastic joy joyful excited thrilled delighted "
     "love loved lovely fun yay wonderful best proud")
_add("gratitude", 0.7, 0.3, "thanks thank grateful thankful appreciate")
_add("relief", 0.5, 0.2, "relieved relief finally")
_add("nervousness", -0.4, 0.7, "stressed stress overwhelmed tense pressure")
_add("disappointment", -0.5, 0.3, "disappointed disappointing letdown")
_add("tiredness", -0.3, 0.1, "tired exhausted drained sleepy worn")

_NEGATORS = frozenset(["not", "no", "never", "don't", "dont", "can't", "cant", "won't", "wont", "isn't", "isnt", "wasn't", "wasnt", "didn't", "didnt", "hardly", "barely", "nothing"])
# After "can't stop"/"won't stop", the feeling word is intensified, not negated ("I can't stop crying").
_PERSIST = frozenset(["stop", "help", "quit"])
_TOKEN = re.compile(r"[a-z']+")

_GUIDANCE = {
    "sadness": "They seem sad. Slow down, acknowledge the feeling, listen; ask before offering advice.",
    "fear": "They seem anxious or scared. Be steady and reassuring; ask what would help.",
    "nervousness": "They seem stressed. Be calm and practical; ask before advising.",
    "anger": "They seem frustrated or angry. Don't argue or rush to fix; acknowledge it first.",
    "joy": "They seem happy. Be glad with them and celebrate it.",
    "gratitude": "They seem grateful. Receive it warmly.",
    "relief": "They seem relieved. Share the relief.",
    "disappointment": "They seem disappointed. Acknowledge it gently.",
    "tiredness": "They seem tired. Keep it gentle and short.",
    "neutral": "",
}


def read_emotion(text: str) -> Emotion:
    """Dominant emotion, valence (-1..1) and arousal (0..1) of a message."""
    tokens = _TOKEN.findall(text.lower().replace("’", "'"))
    scores: dict[str, float] = {}
    valence_sum, arousal_sum, hits = 0.0, 0.0, 0
    for i, tok in enumerate(tokens):
        entry = _LEXICON.get(tok)
        if entry is None:
            continue
        label, val, aro = entry
        window = tokens[max(0, i - 3):i]
        negated = any(w in _NEGATORS for w in window) and not any(w in _PERSIST for w in window)
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


def guidance(emotion: Emotion) -> str:
    """One sentence telling the model how to meet this feeling (empty for neutral)."""
    return _GUIDANCE.get(emotion.label, "")
