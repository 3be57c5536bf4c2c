"""Embedded models: assembly and load time; time to first token and tokens/s, cold and with a warm prefix.

Follow-up turns go through the real Companion (persona, history, notes), so the prompt is what users
get. "No prefix reuse" resets llama.cpp's cached tokens before each turn: the baseline for the cache.
Target: p50 time to first token <= 500 ms for a follow-up turn with the default model on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).parent))
from common import median, pct, write  # noqa: E402

from os1 import Companion, CompanionConfig, FakeClock, Settings  # noqa: E402
from os1.memory import SqlConversationStore  # noqa: E402
from os1.models import weights  # noqa: E402
from os1.models.llamacpp import LlamaCppModel  # noqa: E402
from os1.models.registry import resolve  # noqa: E402
from os1.storage import open_database  # noqa: E402
from os1.types import GenOptions, TextDelta  # noqa: E402

USER_TURNS = [
    "Hi! I'm Theo.",
    "I write letters for other people, for a website. It's strange work but I like it.",
    "My sister Rachel just moved to Denver and I miss her a lot.",
    "I have a job interview on Thursday and I'm pretty nervous about it.",
    "What do you think I should say when they ask why I want to leave my current job?",
    "Thanks. Also, I've been trying to get back into running in the mornings.",
    "Do you have a favourite time of day?",
    "I think I'll call Rachel this weekend.",
    "Anyway, tell me something that made you curious today.",
]


def bench_assembly(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            weights.assemble(weights.QWEN_1_5B, Path(tmp))
            times.append(time.perf_counter() - t0)
    return times


async def bench_load(model_name: str, settings: Settings, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        model = resolve(model_name, settings)
        t0 = time.perf_counter()
        await model.load()
        times.append(time.perf_counter() - t0)
        await model.close()
    return times


async def conversation(model_name: str, settings: Settings, *, reuse_prefix: bool) -> dict[str, list[float]]:
    """One conversation of USER_TURNS; TTFT of the first (cold) turn and of each follow-up."""
    model = resolve(model_name, settings)
    assert isinstance(model, LlamaCppModel)
    await model.load()
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'b.db'}")
        clock = FakeClock(datetime(2026, 11, 25, 19, 0, tzinfo=ZoneInfo("America/New_York")))
        companion = Companion(SqlConversationStore(db), model, clock,
                              CompanionConfig(options=GenOptions(max_tokens=48, temperature=0.7)))
        ttft, tps = [], []
        for text in USER_TURNS:
            if not reuse_prefix:
                model.llm.reset()
            t0 = time.perf_counter()
            first = last = None
            n = 0
            async for event in companion.reply("u", text):
                if isinstance(event, TextDelta):
                    now = time.perf_counter()
                    first = first or now
                    last = now
                    n += 1
            clock.advance(__import__("datetime").timedelta(minutes=2))
            if first is not None:
                ttft.append((first - t0) * 1000)
                if n > 1 and last and last > first:
                    tps.append((n - 1) / (last - first))
        db.close()
    await model.close()
    return {"cold_ms": ttft[:1], "follow_up_ms": ttft[1:], "tok_s": tps}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="tiny,default")
    ap.add_argument("--runs", type=int, default=3, help="conversations (and loads) per configuration")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--skip-assembly", action="store_true")
    args = ap.parse_args()
    settings = Settings()
    if args.threads:
        settings = settings.model_copy(update={"threads": args.threads})
    data: dict[str, object] = {"threads": settings.threads, "batch_threads": settings.batch_threads,
                               "extra_bufts": settings.extra_bufts}
    rows = ["| model | load s (median) | cold TTFT ms | follow-up TTFT p50 / p95 ms, prefix reused | "
            "follow-up TTFT p50 / p95 ms, no reuse | speed-up | generation tok/s |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    if not args.skip_assembly and shutil.disk_usage(tempfile.gettempdir()).free > 3 * weights.QWEN_1_5B.size:
        t = bench_assembly(args.runs)
        data["assembly_s"] = {"median": median(t), "runs": t}
    for name in args.models.split(","):
        loads = asyncio.run(bench_load(name, settings, args.runs))
        warm: dict[str, list[float]] = {"cold_ms": [], "follow_up_ms": [], "tok_s": []}
        cold: dict[str, list[float]] = {"cold_ms": [], "follow_up_ms": [], "tok_s": []}
        for _ in range(args.runs):
            for target, reuse in ((warm, True), (cold, False)):
                r = asyncio.run(conversation(name, settings, reuse_prefix=reuse))
                for k, v in r.items():
                    target[k].extend(v)
        w50, c50 = pct(warm["follow_up_ms"], 50), pct(cold["follow_up_ms"], 50)
        data[name] = {"load_s": loads, "warm": warm, "no_reuse": cold,
                      "follow_up_p50_ms": w50, "follow_up_p95_ms": pct(warm["follow_up_ms"], 95),
                      "no_reuse_p50_ms": c50, "speedup": c50 / w50 if w50 else None}
        rows.append(f"| {name} | {median(loads):.2f} | {median(warm['cold_ms'] + cold['cold_ms']):.0f} | "
                    f"{w50:.0f} / {pct(warm['follow_up_ms'], 95):.0f} | {c50:.0f} / {pct(cold['follow_up_ms'], 95):.0f} | "
                    f"{c50 / w50:.1f}x | {median(warm['tok_s']):.1f} |")
    table = "\n".join(rows)
    if "assembly_s" in data:
        table += f"\n\nAssembling the default model from its 22 packages (1.1 GB, sha256 checked): {data['assembly_s']['median']:.1f} s median."  # type: ignore[index]
    table += (f"\n\nThreads: {settings.threads} for generation, {settings.batch_threads} for prompts; extra buffer types "
              f"{'on' if settings.extra_bufts else 'off'}. {args.runs} conversations of {len(USER_TURNS)} turns per row "
              "through the real Companion (persona, history, notes; replies capped at 48 tokens). 'No reuse' resets "
              "llama.cpp's cached tokens before each turn, in the same run. Target: follow-up p50 <= 500 ms (default model).")
    write("models", data, table)


if __name__ == "__main__":
    main()
