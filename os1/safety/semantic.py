"""The risk screen's second stage: a small classifier on the sentence embedding the emotion reading already computes.

The rules (`screen.py`) know the ways of saying it that someone wrote down; people find others ("some nights
I hope my heart just stops", "Bought a rope today. Not for camping.", "i wnat to die"). This stage reads the
meaning instead: the message's multilingual-e5-small vector (query mode, the same call and cache as the
emotion reading, so it costs no second embedding) goes through a softmax head trained by
`scripts/train_safety.py` on our labelled messages (`risk_head.npz`, next to this file):

    x = (e - mu) / sd
    p = softmax(x @ W + alpha * t @ Wt + b [+ relu(x @ W1 + b1) @ W2])    # over (none, concern, crisis)

where e is the 384-d embedding and t the message's hashed words, word pairs and character trigrams (an
L2-normalised count vector, `terms`): the embedding carries the meaning, the terms carry what a small
embedding blurs (misspellings such as "i wnat to die", slang, the exact word). Cross-validated, the terms
lifted the head's crisis average precision from 0.91 to 0.95 (scripts/train_safety.py).

A long message is also read in parts: its sentences (up to MAX_PARTS, those a broad word filter picks first:
death, pain, goodbye, pills, bridges, "anymore", "for good" ...), each with the sentence after it when it is
short, embedded in one batch, so one risk sentence in a long everyday message is not drowned out. The message counts as the most risky of
its parts.

Beside the linear head, its nearest labelled examples (`RiskHead.neighbours`, issue 9's fifth pass): the crisis
probability is blended with how much closer the text is to the crisis messages we labelled than to the others,
which keeps rare, specific ways of saying it that a linear boundary blurs.

How the two stages combine (`combine`): the rules decide first and a rule hit stands; where the rules found
nothing, the head's crisis or concern probability over its threshold (chosen by cross-validation, in the
.npz) makes the turn a crisis or a concern, unless every cue the rules found there was explained away by a
frame they read reliably (fiction, a game, news, lyrics, the recovered past, negation, an accident), or the
message is a short everyday goodbye that says when you'll talk again ("Goodbye for tonight"), and the head is
not confident beyond the stricter `veto_margin` (assessment.rules_veto).
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..memory.embed import Embedder
from ..types import SafetyReading

log = logging.getLogger("os1.safety")

WEIGHTS = Path(__file__).with_name("risk_head.npz")
LEVELS = ("none", "concern", "crisis")
Floats = npt.NDArray[np.float32]

# A long message is read in parts once it has more than this many sentences or characters (shorter ones are
# read whole: e5 reads up to ~512 tokens, but one sentence among many barely moves the mean vector).
LONG_SENTENCES = 3
LONG_CHARS = 240
MAX_PARTS = 8
"""At most this many parts of a long message are embedded (each costs about as much as a short message: ~8 ms on
llama.cpp). Issue 9's fourth pass: every sentence, not only those the parts filter picks (4 of them before): a risk
sentence with none of its words ("I don't really care what happens to me after this month") went unread."""
MIN_WORDS = 5
"""Below this many words, with no word of the parts filter, the head abstains: it has too little to read, and
took replies like "no, keep it" for a crisis. (No risk message in our sets is that short and uncued but the
rules' slang; checked with scripts/train_safety.py's data.)"""
MAX_PART_CHARS = 400
"""A part is cut to this many characters (at a word boundary), so each extra embedding costs about what a short
message does: a "sentence" with no full stop can otherwise run to e5's 512 tokens (~2,000 characters)."""
SHORT_SENTENCE = 60
"""A candidate sentence shorter than this is read with the sentence after it ("Bought a rope. Not for camping.")."""

KNN_FULL_WORDS = 10
"""From this many words, the nearest labelled examples (RiskHead.neighbours) have their full share of the crisis reading."""
TERM_BUCKETS = 1 << 14
"""Hashed term features (CRC-32 of the term, modulo this): collisions are rare at this size for our vocabulary."""
_WORDS = re.compile(r"[a-z0-9']+")
_SENTENCES = re.compile(r"(?<=[.!?;…])\s+|\s*\n+\s*")
# Broad on purpose: this only chooses which parts of a long message the head reads, so a word here costs one
# embedding, never a false alarm. Stems, matched anywhere in a lower-cased sentence.
_CANDIDATE = re.compile(
    r"\b(?:die|dying|dead|death|deaths|kill|suicid|unaliv|kms|end|ending|ended|over|gone|goodbye|bye|farewell|last|alive"
    r"|live|living|life|exist|disappear|vanish|pain|hurt|harm|cut|cuts|cutting|blade|razor|knife|bleed|blood|scar|pill"
    r"|tablet|meds|medication|overdos|dose|tylenol|paracetamol|xanax|bridge|roof|ledge|edge|jump|rope|noose|hang|gun"
    r"|train|tracks|swerv|crash|drown|sleep|wake|anymore|for good|forever|permanent|burden|without me|better off|point"
    r"|reason|miss me|letter|note|give away|giving away|gave away|rehom|won'?t be|not be here|not planning|planning"
    r"|tired|exhausted|can'?t|cannot|done|hopeless|worthless|hate myself|nobody|no one|empty|numb|free|peace|rest"
    r"|sorry|forgive|plan|tonight|ready|enough|stop|heart|breath|worried|scared|afraid|himself|herself|themsel"
    r"|myself|hospital|alone|lonely|dark|quiet|nothing)")
# What counts as a risk word for the head's normal crisis threshold (has_risk_word): the parts filter plus words of
# crisis messages in our labelled sets that had none of its words (issue 9, third pass). Kept apart from the parts
# filter so that which sentences of a long message are read does not change.
_RISK_WORD = re.compile(
    _CANDIDATE.pattern[:-1]
    + r"|born|way out|keep going|go on|fatal|insulin|antidepress|prescription|self.?delete|sewer|ctb|toaster|burn"
    r"|lighter|scratch|on purpose|deserve|funeral|terminal|relieved|favou?r|not safe|in order|affairs|shotgun|river"
    r"|deepest|medicine|oxygen|won'?t need|around|here|wasn'?t|ded|dei|wish|ocean|sea|balcony|engine|garage|wheel"
    r"|motorway|highway|off the road|tree|date|calm|picked|decided|mind|anything happens|do it|go through|make it to"
    r"|woke up|future|no me|out of the picture|wrist|knuckle|insurance|password|problem for|people like me|giving my"
    r"|stuff away|things away)")


def split_sentences(text: str) -> list[str]:
    """The message's sentences, in its own case (the head was trained on text as people write it)."""
    return [s for s in (p.strip() for p in _SENTENCES.split(text)) if s]


def is_cued(text: str) -> bool:
    """Enough for the head to read: MIN_WORDS words, or any word of the parts filter."""
    return len(_WORDS.findall(text.lower())) >= MIN_WORDS or bool(_CANDIDATE.search(text.lower()))


def has_risk_word(text: str) -> bool:
    """The text has a word of the parts filter (death, pain, pills, goodbye, "anymore", "tonight" ...) or of the
    few added to it for this (`_RISK_WORD`: "picked", "decided", "around", "wish" ...). A head
    reading of a message without one ("I think I'll make pasta.") must clear the stricter
    `RiskHead.plain_crisis_threshold`: the shape of a sentence alone is not risk."""
    return bool(_RISK_WORD.search(text.lower()))


def parts(text: str) -> list[str]:
    """What the head reads beyond the whole message: for a long message, its sentences (a short one with the sentence
    after it), at most MAX_PARTS, those with words of the parts filter first, in the message's order."""
    sentences = split_sentences(text)
    if len(sentences) <= LONG_SENTENCES and len(text) <= LONG_CHARS:
        return []
    scored: list[tuple[int, int, str]] = []
    seen = {text}
    for i, sentence in enumerate(sentences):
        score = len(_CANDIDATE.findall(sentence.lower()))
        unit = sentence
        if len(sentence) < SHORT_SENTENCE and i + 1 < len(sentences):
            unit = f"{sentence} {sentences[i + 1]}"
        if len(unit) > MAX_PART_CHARS:
            unit = unit[:MAX_PART_CHARS].rsplit(" ", 1)[0]
        if unit in seen:
            continue
        seen.add(unit)
        scored.append((-score, i, unit))
    chosen = sorted(scored)[:MAX_PARTS]
    return [unit for _, _, unit in sorted(chosen, key=lambda s: s[1])]


def terms(text: str) -> Floats:
    """The hashed term vector of a text: words, adjacent word pairs and each word's character trigrams, with
    square-root counts, L2-normalised. Hand-written (a dozen lines) because a feature-hashing library would
    mean scikit-learn at run time for one small function; CRC-32 is stable across runs and platforms."""
    words = _WORDS.findall(text.lower())
    items = [f"w:{w}" for w in words] + [f"b:{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    for w in words:
        padded = f"#{w}#"
        items += [f"c:{padded[i:i + 3]}" for i in range(len(padded) - 2)]
    counts: dict[int, float] = {}
    for item in items:
        h = zlib.crc32(item.encode()) % TERM_BUCKETS
        counts[h] = counts.get(h, 0.0) + 1.0
    out = np.zeros(TERM_BUCKETS, dtype=np.float32)
    if counts:
        out[list(counts)] = np.sqrt(np.fromiter(counts.values(), dtype=np.float32))
        out /= np.linalg.norm(out)
    return out


def _text(arr: npt.NDArray[Any]) -> str:
    return bytes(np.asarray(arr, dtype=np.uint8)).decode("utf-8")


def text_array(s: str) -> npt.NDArray[np.uint8]:
    """A string stored in an .npz without pickling (utf-8 bytes)."""
    return np.frombuffer(s.encode("utf-8"), dtype=np.uint8).copy()


@dataclass(frozen=True)
class RiskHead:
    """The softmax head over (none, concern, crisis); see the module docstring for the formula."""

    mu: Floats
    sd: Floats
    W: Floats
    b: Floats
    Wt: Floats
    """(TERM_BUCKETS, 3) weights of the hashed terms."""
    meta: Mapping[str, Any]
    W1: Floats | None = None
    """Optional hidden layer beside the linear one: (dim, hidden) weights, b1 (hidden,) and W2 (hidden, 3), adding
    relu(x @ W1 + b1) @ W2 to the logits (x the standardised embedding). None in heads without it."""
    b1: Floats | None = None
    W2: Floats | None = None
    bank: npt.NDArray[np.int8] | None = None
    """Optional labelled examples for the nearest-neighbour part (`neighbours`): (n, dim) unit embeddings of the
    training messages, times 127, as int8 (1/20 of float32's size; cosines within ~0.01)."""
    bank_crisis: npt.NDArray[np.bool_] | None = None
    """Which rows of `bank` are crisis messages."""

    @property
    def model_id(self) -> str:
        """The embedder these weights were trained on (`Embedder.model_id`)."""
        return str(self.meta.get("embedder", ""))

    @property
    def dim(self) -> int:
        return int(self.mu.shape[0])

    @property
    def crisis_threshold(self) -> float:
        return float(self.meta["crisis_threshold"])

    @property
    def plain_crisis_threshold(self) -> float:
        """The crisis threshold for a message with no word of the parts filter (`has_risk_word`); the crisis
        threshold itself in heads trained before it existed."""
        return max(float(self.meta.get("plain_crisis_threshold", self.crisis_threshold)), self.crisis_threshold)

    @property
    def concern_threshold(self) -> float:
        return float(self.meta["concern_threshold"])

    @property
    def veto_margin(self) -> float:
        """How far over its threshold the head must be to overrule a frame the rules found (fiction, news ...)."""
        return float(self.meta.get("veto_margin", 1.0))

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, npt.NDArray[Any]]) -> RiskHead:
        def f32(key: str) -> Floats:
            return np.asarray(arrays[key], dtype=np.float32)

        hidden: dict[str, Any] = {k: f32(k) for k in ("W1", "b1", "W2") if k in arrays}
        if hidden and len(hidden) != 3:
            raise ValueError("risk head weights: a hidden layer needs W1, b1 and W2")
        if "bank" in arrays:
            hidden |= {"bank": np.asarray(arrays["bank"], dtype=np.int8),
                       "bank_crisis": np.asarray(arrays["bank_crisis"], dtype=bool)}
        head = cls(f32("mu"), f32("sd"), f32("W"), f32("b"), f32("Wt"), json.loads(_text(arrays["meta"])), **hidden)
        if (head.W.shape != (head.dim, len(LEVELS)) or head.b.shape != (len(LEVELS),) or head.sd.shape != (head.dim,)
                or head.Wt.shape != (TERM_BUCKETS, len(LEVELS))):
            raise ValueError("risk head weights: inconsistent shapes")
        if head.W1 is not None and head.b1 is not None and head.W2 is not None:
            h = head.b1.shape[0]
            if head.W1.shape != (head.dim, h) or head.W2.shape != (h, len(LEVELS)):
                raise ValueError("risk head weights: inconsistent hidden layer shapes")
        if head.bank is not None and (head.bank.shape[1:] != (head.dim,) or head.bank_crisis is None
                                      or head.bank_crisis.shape != head.bank.shape[:1]):
            raise ValueError("risk head weights: inconsistent neighbour bank")
        return head

    @classmethod
    def load(cls, path: Path | None = None) -> RiskHead:
        with np.load(path or WEIGHTS, allow_pickle=False) as z:
            return cls.from_arrays({k: z[k] for k in z.files})

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        """What `from_arrays` reads back (the trainer saves this)."""
        out: dict[str, npt.NDArray[Any]] = {"mu": self.mu, "sd": self.sd, "W": self.W, "b": self.b, "Wt": self.Wt,
                                            "meta": text_array(json.dumps(dict(self.meta)))}
        if self.W1 is not None and self.b1 is not None and self.W2 is not None:
            out |= {"W1": self.W1, "b1": self.b1, "W2": self.W2}
        if self.bank is not None and self.bank_crisis is not None:
            out |= {"bank": self.bank, "bank_crisis": self.bank_crisis.astype(np.uint8)}
        return out

    @property
    def alpha(self) -> float:
        """The scale of the term features against the standardised embedding."""
        return float(self.meta.get("alpha", 1.0))

    def probabilities(self, vectors: Floats, texts: Sequence[str]) -> Floats:
        """(n, 3) probabilities of (none, concern, crisis) for n texts and their embeddings."""
        t = np.stack([terms(text) for text in texts]) if texts else np.zeros((0, TERM_BUCKETS), np.float32)
        x = (np.asarray(vectors, dtype=np.float32) - self.mu) / self.sd
        z = x @ self.W + self.alpha * (t @ self.Wt) + self.b
        if self.W1 is not None and self.b1 is not None and self.W2 is not None:
            z = z + (np.maximum(x @ self.W1 + self.b1, np.float32(0.0)) @ self.W2).astype(np.float32)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        out: Floats = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
        w = float(self.meta.get("knn_weight", 0.0))
        if self.bank is not None and w > 0 and len(texts):
            # A short text's nearest examples are short messages whatever they mean ("last night", "secret note" sat
            # next to crisis messages): the neighbours' share grows with the text's words, in full from KNN_FULL_WORDS.
            n_words = np.array([len(_WORDS.findall(t.lower())) for t in texts], dtype=np.float32)
            share = np.float32(w) * np.minimum(n_words / KNN_FULL_WORDS, 1.0)
            out[:, 2] = (1 - share) * out[:, 2] + share * self.neighbours(vectors)
        return out

    def neighbours(self, vectors: Floats) -> Floats:
        """How much closer each text is to the crisis messages we labelled than to the others: the mean cosine of its
        k nearest crisis examples minus that of its k nearest other examples, through a sigmoid (scale `knn_scale`).

        Why beside the linear head: a linear boundary on a small embedding blurs rare, specific ways of saying it
        (giving a pet away "for a while. It isn't.", "she'll be the one to find me"); the nearest examples keep
        them. Pooled out-of-fold (issue 9, fifth pass), blending this in lifted crisis recall 0.863 -> 0.895 at
        precision 0.902 -> 0.912, everyday false alarms unchanged. Hand-written: ~10,000 int8 rows need one matrix
        product, not an index library."""
        assert self.bank is not None and self.bank_crisis is not None
        k = int(self.meta.get("knn_k", 3))
        bank = self._bank_f32
        u = np.asarray(vectors, dtype=np.float32)
        u = u / np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-6)
        sims = u @ bank.T

        def top(cols: Floats) -> Floats:
            kk = min(k, cols.shape[1])
            mean: Floats = np.partition(cols, -kk, axis=1)[:, -kk:].mean(axis=1)
            return mean

        gap = top(sims[:, self.bank_crisis]) - top(sims[:, ~self.bank_crisis])
        scale = float(self.meta.get("knn_scale", 40.0))
        result: Floats = (1.0 / (1.0 + np.exp(-scale * gap))).astype(np.float32)
        return result

    @functools.cached_property
    def _bank_f32(self) -> Floats:
        """The bank as float32, converted once (a cached property writes the instance's dict, frozen or not)."""
        assert self.bank is not None
        bank: Floats = self.bank.astype(np.float32) / np.float32(127.0)
        return bank


@dataclass(frozen=True, slots=True)
class SemanticReading:
    """What the head made of one message."""

    crisis: float
    """The highest crisis probability over the message and its parts."""
    concern: float
    """The highest concern probability over the message and its parts."""
    part: str
    """The text that gave the crisis (or, failing that, the concern) score: the message or one of its sentences."""
    cued: bool = True
    """The message is long enough to read (MIN_WORDS) or has a word of the parts filter; else the head only abstains."""
    risk_word: bool = True
    """The message has a word of the parts filter (`has_risk_word`); without one, the stricter plain threshold."""


def aggregate(probs: Floats, texts: Sequence[str]) -> SemanticReading:
    """The message's reading from the probabilities of its parts (row 0: the whole message)."""
    crisis, concern = probs[:, 2], probs[:, 1]
    i = int(np.argmax(crisis))
    return SemanticReading(round(float(crisis[i]), 4), round(float(concern.max()), 4), texts[i])


EmbedderSource = Callable[[], Embedder | None]


class RiskReader:
    """Reads a message with the head (thread-safe; the weights load on first use).

    `embedder`: the model the weights were trained on, or a function returning the shared one (default: the
    emotion reading's, so the message's vector comes from its cache). With no embedder, or another model than
    the head's, `read` returns None and the rules decide alone.
    """

    def __init__(self, embedder: Embedder | EmbedderSource | None = None, head: RiskHead | None = None) -> None:
        self._head = head
        self._source: EmbedderSource = embedder if callable(embedder) else (lambda: embedder)
        self._lock = threading.Lock()
        self._warned = False

    @property
    def head(self) -> RiskHead:
        with self._lock:
            if self._head is None:
                self._head = RiskHead.load()
            return self._head

    def _embedder(self) -> Embedder | None:
        embedder = self._source()
        if embedder is None:
            return None
        head = self.head
        if embedder.model_id != head.model_id or embedder.dim != head.dim:
            self._warn(f"the risk head was trained on {head.model_id}, not {embedder.model_id}")
            return None
        return embedder

    def _warn(self, why: str) -> None:
        log.log(logging.DEBUG if self._warned else logging.WARNING, "semantic risk screen off (%s); rules only", why)
        self._warned = True

    def read(self, text: str) -> SemanticReading | None:
        """The head's reading of `text`, or None when it cannot run (no embedder, a broken model)."""
        try:
            embedder = self._embedder()
            if embedder is None:
                return None
            head = self.head
            # The whole message alone first, as the emotion reading embeds it: a cache hit, not a second embedding.
            vectors = [embedder.embed([text], kind="query")]
            extra = parts(text)
            if extra:
                vectors.append(embedder.embed(extra, kind="query"))
            texts = [text, *extra]
            reading = aggregate(head.probabilities(np.concatenate(vectors), texts), texts)
            return replace(reading, cued=is_cued(text), risk_word=has_risk_word(text))
        except Exception as e:  # a missing or broken model: the rules still answer
            self._warn(f"{type(e).__name__}: {e}")
            return None


def combine(rules: SafetyReading, vetoed: bool, semantic: SemanticReading | None, head: RiskHead, *,
            concern_vetoed: bool | None = None) -> SafetyReading:
    """The screen's verdict from the rules' reading and the head's.

    `vetoed`: the rules found cues here and explained every one away by a frame they read reliably;
    `concern_vetoed`: the same for a concern (default: `vetoed`)."""
    if semantic is None or rules.level == "crisis" or not semantic.cued:
        return rules
    margin = head.veto_margin if vetoed else 0.0
    threshold = head.crisis_threshold if semantic.risk_word else head.plain_crisis_threshold
    if semantic.crisis >= min(threshold + margin, 0.999):
        return SafetyReading("crisis", (*rules.reasons, f"semantic: {semantic.crisis:.2f}"), (*rules.categories, "semantic"))
    if rules.level == "concern":
        return rules
    margin = head.veto_margin if (vetoed if concern_vetoed is None else concern_vetoed) else 0.0
    if semantic.concern >= min(head.concern_threshold + margin, 0.999):
        return SafetyReading("concern", (f"someone else, semantic: {semantic.concern:.2f}",), ("semantic",))
    return rules


__all__ = ["LEVELS", "MIN_WORDS", "RiskHead", "RiskReader", "SemanticReading", "aggregate", "combine", "has_risk_word", "is_cued",
           "parts", "split_sentences", "terms"]
