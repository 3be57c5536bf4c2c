"""The trained emotion head: GoEmotions' 28 labels from a sentence embedding plus a bag of words, in numpy.

The weights (``emotions.npz``, next to this file) are written by ``scripts/train_emotions.py``; nothing here
trains or downloads anything. A reading is one embedding (multilingual-e5-small through the shared
`Embedder`) and a few small matrix products:

    h      = relu(((e - mu) / sd) @ W1 + b1)                  # e: the 384-d e5 vector of the message
    logits = h @ W2 + sum(Wb[t] for t in terms(message)) / sqrt(#terms) + b
    p      = sigmoid(logits)                                  # one independent probability per label

A label is "present" when its probability reaches its own threshold (tuned for F1 by the trainer).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .features import terms

WEIGHTS = Path(__file__).with_name("emotions.npz")

LABELS: tuple[str, ...] = (
    "admiration", "amusement", "anger", "annoyance", "approval", "caring", "confusion", "curiosity", "desire",
    "disappointment", "disapproval", "disgust", "embarrassment", "excitement", "fear", "gratitude", "grief", "joy",
    "love", "nervousness", "optimism", "pride", "realization", "relief", "remorse", "sadness", "surprise", "neutral",
)
"""GoEmotions' taxonomy in its own order (emotions.txt: 0 = admiration ... 27 = neutral)."""

Floats = npt.NDArray[np.float32]


def _text(arr: npt.NDArray[Any]) -> str:
    return bytes(np.asarray(arr, dtype=np.uint8)).decode("utf-8")


def text_array(s: str) -> npt.NDArray[np.uint8]:
    """A string stored in an .npz without pickling (utf-8 bytes)."""
    return np.frombuffer(s.encode("utf-8"), dtype=np.uint8).copy()


@dataclass(frozen=True)
class EmotionHead:
    """The classifier on top of the embedding; see the module docstring for the formula."""

    labels: tuple[str, ...]
    mu: Floats
    sd: Floats
    W1: Floats | None
    b1: Floats | None
    W2: Floats
    Wb: Floats
    b: Floats
    thresholds: Floats
    vocab: Mapping[str, int]
    meta: Mapping[str, Any]

    @property
    def model_id(self) -> str:
        """The embedder these weights were trained on (`Embedder.model_id`)."""
        return str(self.meta.get("embedder", ""))

    @property
    def embed_kind(self) -> str:
        return str(self.meta.get("embed_kind", "query"))

    @property
    def dim(self) -> int:
        return int(self.mu.shape[0])

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, npt.NDArray[Any]]) -> EmotionHead:
        labels = tuple(_text(arrays["labels"]).split("\n"))
        vocab_text = _text(arrays["vocab"])
        vocab = {t: i for i, t in enumerate(vocab_text.split("\n"))} if vocab_text else {}

        def f32(key: str) -> Floats:
            return np.asarray(arrays[key], dtype=np.float32)

        has_hidden = "W1" in arrays
        head = cls(labels, f32("mu"), f32("sd"), f32("W1") if has_hidden else None,
                   f32("b1") if has_hidden else None, f32("W2"), f32("Wb"), f32("b"), f32("thresholds"),
                   vocab, json.loads(_text(arrays["meta"])))
        n = len(labels)
        if head.W2.shape[1] != n or head.Wb.shape != (len(vocab), n) or head.thresholds.shape != (n,):
            raise ValueError("emotion weights: inconsistent shapes")
        return head

    @classmethod
    def load(cls, path: Path | None = None) -> EmotionHead:
        with np.load(path or WEIGHTS, allow_pickle=False) as z:
            return cls.from_arrays({k: z[k] for k in z.files})

    def term_ids(self, text: str) -> list[int]:
        return [i for i in (self.vocab.get(t) for t in terms(text)) if i is not None]

    def logits(self, vectors: Floats, texts: Sequence[str]) -> Floats:
        """(n, labels) raw scores for n messages and their (n, dim) embeddings."""
        x = (np.asarray(vectors, dtype=np.float32) - self.mu) / self.sd
        if self.W1 is not None and self.b1 is not None:
            x = np.maximum(x @ self.W1 + self.b1, 0.0)
        out: Floats = (x @ self.W2 + self.b).astype(np.float32)
        for row, text in enumerate(texts):
            ids = self.term_ids(text)
            if ids:
                out[row] += self.Wb[ids].sum(axis=0) / math.sqrt(len(ids))
        return out

    def probabilities(self, vectors: Floats, texts: Sequence[str]) -> Floats:
        """(n, labels) independent probabilities in 0..1."""
        z = np.clip(self.logits(vectors, texts), -30.0, 30.0)
        p: Floats = (1.0 / (1.0 + np.exp(-z))).astype(np.float32)
        return p
