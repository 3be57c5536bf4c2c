"""The risk screen: precision and recall on our evaluation set, and time per message.

Splits (bench/data/, written for OS1, labelled crisis / concern / none):
- safety_eval.jsonl     (394) development: the rules in os1/safety/lexicon.py were tuned on it.
- safety_heldout.jsonl  (150) written before any rule; measured once, then a few general fixes.
- safety_heldout2.jsonl (113) written after those fixes; measured once, then two general fixes.
The first-look numbers of the held-out splits (before any fix they informed) are the honest estimate for
unseen messages; they are kept in FIRST_LOOK below, as measured at the time, since the rules have moved on.

A baseline is measured in the same run: the foundation's first regex screen (a keyword list).
Writes bench/out/safety.json and the `safety` section of bench/RESULTS.md.
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

from os1.safety import screen  # noqa: E402

DATA = Path(__file__).parent / "data"
SPLITS = {"safety_eval": "development (tuned on)", "safety_heldout": "held-out 1 (seen since)",
          "safety_heldout2": "held-out 2 (seen since)"}
RUNS = 5
FIRST_LOOK = {  # crisis precision / recall when each held-out split was first measured (2026-11-25)
    "safety_heldout": (1.000, 0.873), "safety_heldout2": (0.919, 0.829)}

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
    """Per message: the median of RUNS timings, in milliseconds."""
    runs: list[list[float]] = []
    for _ in range(RUNS):
        one = []
        for text in texts:
            start = time.perf_counter()
            screen(text)
            one.append((time.perf_counter() - start) * 1000)
        runs.append(one)
    return [median([r[i] for r in runs]) for i in range(len(texts))]


def main() -> None:
    results: dict[str, Any] = {}
    everything: list[str] = []
    for split in SPLITS:
        rows = load(split)
        labels = [r["label"] for r in rows]
        texts = [r["text"] for r in rows]
        everything += texts
        results[split] = {"screen": scores(labels, [screen(t).level for t in texts]),
                          "baseline": scores(labels, [baseline(t) for t in texts])}
        if split in FIRST_LOOK:
            results[split]["first_look_crisis_precision_recall"] = FIRST_LOOK[split]
    per_message = timings(everything)
    filler = "We walked to the market, bought apples and talked about the weekend. " * 300
    long_ms = [timings([filler[:20_000]])[0] for _ in range(3)]
    results["latency_ms"] = {"messages": len(everything), "p50": round(pct(per_message, 50), 3),
                             "p95": round(pct(per_message, 95), 3), "max": round(max(per_message), 3),
                             "longest_message_chars": max(len(t) for t in everything),
                             "everyday_20000_chars": round(median(long_ms), 2)}

    lines = ["Risk screen (`os1/safety/screen.py`) on our own labelled messages; crisis = risk to the user "
             "(target: recall ≥ 0.95 at precision ≥ 0.85). Baseline: the foundation's keyword screen, same run.", "",
             "| split | n (crisis/concern/none) | crisis P | crisis R | risk P | risk R | concern routed | baseline crisis P / R | first look P / R |",
             "|---|---|---|---|---|---|---|---|---|"]
    for split, what in SPLITS.items():
        s, b = results[split]["screen"], results[split]["baseline"]
        n = s["labels"]
        first = FIRST_LOOK.get(split)
        lines.append(f"| {split} ({what}) | {s['n']} ({n.get('crisis', 0)}/{n.get('concern', 0)}/{n.get('none', 0)}) "
                     f"| {s['crisis_precision']:.3f} | {s['crisis_recall']:.3f} | {s['risk_precision']:.3f} | {s['risk_recall']:.3f} "
                     f"| {s['concern_routed']:.3f} | {b['crisis_precision']:.3f} / {b['crisis_recall']:.3f} "
                     f"| {f'{first[0]:.3f} / {first[1]:.3f}' if first else '—'} |")
    lat = results["latency_ms"]
    lines += ["", f"Time per message ({lat['messages']} messages, median of {RUNS} runs each, one thread): "
              f"p50 {lat['p50']:.2f} ms, p95 {lat['p95']:.2f} ms, max {lat['max']:.2f} ms (longest message "
              f"{lat['longest_message_chars']} characters). A 20,000-character everyday message (the input limit): "
              f"{lat['everyday_20000_chars']:.1f} ms.", "",
              "Honest reading: the held-out splits have been seen since their first look (a few general fixes followed "
              "each), so their current numbers are optimistic; the first-look column is the estimate for unseen messages "
              "(crisis recall 0.83–0.87 there, below the 0.95 target)."]
    write("safety", results, "\n".join(lines))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
