"""Many people at once: N WebSockets over 2+ app servers and a worker on PostgreSQL, with a fake model.

    .venv/bin/python bench/load_bench.py                       # the full run (8,316 people, under ~10 min)
    .venv/bin/python bench/load_bench.py --users 200 --rates 1,2 --step-seconds 15   # a smoke run

Loopback only, bounded in time (--deadline) and count, stops by itself and cleans up: a fresh PostgreSQL
database per run (created and dropped as tests/conftest.py does), every process it started stopped.

Reports connected people, sustained turns per second at each offered rate, the latency OS1 adds (the
client's first-word time minus the fake model's own first-word delay; the whole turn minus the model's
whole stream), server memory per connected person, and lost or duplicated messages (turns and proactive
reminders delivered by the worker). The knee is the highest offered rate whose p95 added first-word
latency stays within the target with every turn answered.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))  # run as a script: its sibling modules
from common import pct, write  # noqa: E402
from load_client import Crowd, Person, Turn  # noqa: E402

ADMIN_URL = os.environ.get("OS1_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TARGET_USERS, TARGET_P95_MS = 8316, 100.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """The fake model, the app servers and the worker, as subprocesses logging to a temp dir."""

    def __init__(self, url: str, servers: int, args: argparse.Namespace, tmp: Path) -> None:
        self.url, self.tmp, self.args = url, tmp, args
        self.model_port = free_port()
        self.ports = [free_port() for _ in range(servers)]
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def env(self, name: str, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS1_")}
        env.update(OS1_HOME=str(self.tmp / name), OS1_DATABASE_URL=self.url, OS1_TZ="UTC", OS1_AUTH="required",
                   OS1_MODEL=f"openai:fake@http://127.0.0.1:{self.model_port}/v1", OS1_RUN_JOBS="0",
                   OS1_BACKGROUND="worker", OS1_MAX_TURNS=str(self.args.max_turns), PYTHONUNBUFFERED="1", **extra)
        return env

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        with (self.tmp / f"{name}.log").open("ab") as log:
            self.procs[name] = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                                stderr=subprocess.STDOUT)

    def start(self) -> None:
        a = self.args
        self.spawn("model", [sys.executable, str(Path(__file__).parent / "fake_openai.py"), "--port", str(self.model_port),
                             "--first-token", str(a.first_token), "--tokens-per-second", str(a.tps), "--tokens", str(a.tokens)])
        for i, port in enumerate(self.ports):
            self.spawn(f"app{i}", [sys.executable, "-m", "os1.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                       self.env(f"app{i}"))
        self.spawn("worker", [sys.executable, "-m", "os1.cli", "worker"], self.env("worker", OS1_JOB_POLL_SECONDS="0.5"))
        deadline = time.monotonic() + 180
        for url in [f"http://127.0.0.1:{self.model_port}/v1/models"] + [f"{self.base(i)}/api/v1/health" for i in range(len(self.ports))]:
            while True:
                self.check()
                try:
                    if httpx.get(url, timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} did not come up; logs in {self.tmp}")
                time.sleep(0.2)

    def base(self, i: int) -> str:
        return f"http://127.0.0.1:{self.ports[i]}"

    def check(self) -> None:
        for name, p in self.procs.items():
            if p.poll() is not None:
                tail = (self.tmp / f"{name}.log").read_text("utf-8", "replace")[-3000:]
                raise RuntimeError(f"{name} exited with {p.returncode}:\n{tail}")

    def app_rss(self) -> float:
        return sum(rss_mb(p.pid) for n, p in self.procs.items() if n.startswith("app"))

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


async def make_people(url: str, count: int, shards: int = 8) -> list[str]:
    """`count` token-only accounts through `Accounts`, and their API tokens. Each shard has its own
    `Database` (its own writer thread), so commits overlap instead of queueing behind one writer."""
    from os1.accounts import Accounts
    from os1.storage import open_database

    open_database(url).close()  # migrate once, before the shards and the servers start

    async def shard(k: int) -> list[str]:
        db = open_database(url, migrate=False)
        try:
            accounts = Accounts(db)
            tokens = []
            for i in range(k, count, shards):
                made = await accounts.create(f"person{i}")
                tokens.append(await accounts.issue_token(made.id, "load bench"))
            return tokens
        finally:
            db.close()

    parts = await asyncio.gather(*(shard(k) for k in range(shards)))
    return [tok for part in parts for tok in part]


def summarize(rate: float, seconds: float, turns: list[Turn], model_first: float, model_whole: float) -> dict[str, Any]:
    ok = [t for t in turns if t.done is not None and t.error is None and t.first is not None]
    added_first = [(t.first - t.sent - model_first) * 1000 for t in ok if t.first is not None]
    added_whole = [(t.done - t.sent - model_whole) * 1000 for t in ok if t.done is not None]
    errors: dict[str, int] = {}
    for t in turns:
        if t.error is not None or t.done is None:
            key = t.error or "no answer"
            errors[key] = errors.get(key, 0) + 1
    return {"offered_per_s": rate, "sent": len(turns), "answered": len(ok), "turns_per_s": round(len(ok) / seconds, 2),
            "added_first_ms_p50": round(pct(added_first, 50), 1), "added_first_ms_p95": round(pct(added_first, 95), 1),
            "added_turn_ms_p50": round(pct(added_whole, 50), 1), "added_turn_ms_p95": round(pct(added_whole, 95), 1),
            "errors": errors}


async def push_reminders(cluster: Cluster, people: list[Person], count: int, rng: random.Random) -> tuple[int, int, int]:
    """Reminders for `count` people through the API, delivered by the worker; (expected, received, duplicated)."""
    chosen = rng.sample(people, min(count, len(people)))
    before = {p.index: len(p.proactive) for p in chosen}
    async with httpx.AsyncClient(timeout=60) as client:
        sem = asyncio.Semaphore(50)

        async def one(p: Person) -> None:
            async with sem:
                due = (datetime.now(UTC) + timedelta(seconds=5)).isoformat()
                r = await client.post(f"{cluster.base(p.index % len(cluster.ports))}/api/v1/reminders",
                                      json={"task": "stretch", "due_at": due}, headers={"Authorization": f"Bearer {p.token}"})
                r.raise_for_status()

        await asyncio.gather(*(one(p) for p in chosen))
    end = time.monotonic() + 90
    while time.monotonic() < end and any(len(p.proactive) - before[p.index] < 1 for p in chosen):
        await asyncio.sleep(0.2)
    await asyncio.sleep(2)  # time for a duplicate to show up
    got = [p.proactive[before[p.index]:] for p in chosen]
    received = sum(1 for g in got if g)
    duplicated = sum(len(g) - len(set(g)) for g in got)
    return len(chosen), received, duplicated


async def run(args: argparse.Namespace, url: str, tmp: Path) -> dict[str, Any]:
    deadline = time.monotonic() + args.deadline
    rng = random.Random(7)
    t0 = time.monotonic()
    tokens = await make_people(url, args.users)
    print(f"{args.users} accounts with tokens in {time.monotonic() - t0:.0f} s", flush=True)
    cluster = Cluster(url, args.servers, args, tmp)
    try:
        cluster.start()
        idle_rss = cluster.app_rss()
        people = [Person(i, tok, cluster.base(i % args.servers).replace("http", "ws") + "/api/v1/ws")
                  for i, tok in enumerate(tokens)]
        crowd = Crowd(people)
        per_s = await crowd.connect(at_once=args.handshakes, deadline=deadline)
        await asyncio.sleep(2)
        connected = crowd.connected
        rss = cluster.app_rss()
        print(f"{connected} connected ({per_s:.0f}/s); app servers {rss:.0f} MB", flush=True)
        # Warm-up, not counted: the first turns in each process load the embedder and fill caches.
        await crowd.run_rate(2, args.warmup_seconds, rng)
        model_first = args.first_token
        model_whole = args.first_token + (args.tokens - 1) / args.tps
        steps = []
        for rate in args.rates:
            if time.monotonic() + args.step_seconds + 60 > deadline:
                break
            cluster.check()
            turns = await crowd.run_rate(rate, args.step_seconds, rng)
            steps.append(summarize(rate, args.step_seconds, turns, model_first, model_whole))
            print(steps[-1], flush=True)
        expected, received, dup = await push_reminders(cluster, people, args.reminders, rng)
        still = crowd.connected
        await crowd.close()
        knee = max((s["offered_per_s"] for s in steps if s["added_first_ms_p95"] <= TARGET_P95_MS
                    and s["answered"] == s["sent"]), default=None)
        lost_turns = sum(s["sent"] - s["answered"] for s in steps)
        return {"users": args.users, "servers": args.servers, "connected": connected, "still_connected_at_end": still,
                "connects_per_s": round(per_s, 1), "app_rss_idle_mb": round(idle_rss, 1), "app_rss_connected_mb": round(rss, 1),
                "kb_per_connection": round((rss - idle_rss) * 1024 / max(1, connected), 1),
                "model": {"first_token_s": args.first_token, "tokens_per_s": args.tps, "tokens": args.tokens},
                "steps": steps, "knee_turns_per_s": knee, "lost_turns": lost_turns,
                "proactive": {"expected": expected, "received": received, "lost": expected - received, "duplicated": dup}}
    finally:
        cluster.stop()


def table(r: dict[str, Any]) -> str:
    lines = ["| offered turns/s | sent | answered | sustained turns/s | added first word p50 / p95 ms | added whole turn p50 / p95 ms | errors |",
             "|---:|---:|---:|---:|---:|---:|---|"]
    for s in r["steps"]:
        lines.append(f"| {s['offered_per_s']:g} | {s['sent']} | {s['answered']} | {s['turns_per_s']} | "
                     f"{s['added_first_ms_p50']} / {s['added_first_ms_p95']} | {s['added_turn_ms_p50']} / {s['added_turn_ms_p95']} | "
                     f"{', '.join(f'{k}: {v}' for k, v in s['errors'].items()) or '0'} |")
    p, m = r["proactive"], r["model"]
    knee = (f"{r['knee_turns_per_s']} turns/s" if r["knee_turns_per_s"] is not None
            else f"below the lowest offered rate ({min(float(x['offered_per_s']) for x in r['steps'])} turns/s)"
            if r.get("steps") else "not measured")
    return "\n".join(lines) + (
        f"\n\n{r['connected']:,} of {r['users']:,} people connected over WebSocket to {r['servers']} app servers "
        f"({r['connects_per_s']} handshakes/s; {r['still_connected_at_end']:,} still connected at the end), one worker, "
        f"PostgreSQL; fake model: first word after {m['first_token_s']} s, {m['tokens']} words at {m['tokens_per_s']:g}/s. "
        f"App server memory {r['app_rss_idle_mb']:.0f} MB idle, {r['app_rss_connected_mb']:.0f} MB connected: "
        f"{r['kb_per_connection']} KB per connected person. Knee (p95 added first word <= {TARGET_P95_MS:g} ms, every turn "
        f"answered): {knee}. Lost turns: {r['lost_turns']}. Reminders delivered by the worker: "
        f"{p['received']}/{p['expected']} received, {p['lost']} lost, {p['duplicated']} duplicated. The client, the servers, "
        f"the worker, the fake model and PostgreSQL share the machine's cores. Target: {TARGET_USERS:,} connected, p95 added <= "
        f"{TARGET_P95_MS:g} ms.")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=TARGET_USERS)
    p.add_argument("--servers", type=int, default=2)
    p.add_argument("--rates", default="1,2,4,6,8", help="offered turns per second, one step each")
    p.add_argument("--step-seconds", type=float, default=40)
    p.add_argument("--reminders", type=int, default=300)
    p.add_argument("--first-token", type=float, default=0.3)
    p.add_argument("--tps", type=float, default=40)
    p.add_argument("--tokens", type=int, default=24)
    p.add_argument("--max-turns", type=int, default=64)
    p.add_argument("--warmup-seconds", type=float, default=15)
    p.add_argument("--handshakes", type=int, default=200, help="WebSocket handshakes in flight while connecting")
    p.add_argument("--deadline", type=float, default=590, help="seconds; the run stops by then whatever happens")
    p.add_argument("--name", default="load", help="the RESULTS.md section and bench/out/NAME.json")
    args = p.parse_args()
    args.rates = [float(x) for x in args.rates.split(",")]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # a socket per person, twice on loopback

    from sqlalchemy import create_engine, text

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"os1_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        with tempfile.TemporaryDirectory(prefix="os1-load-") as tmp:
            result = asyncio.run(run(args, url, Path(tmp)))
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
    write(args.name, result, table(result))


if __name__ == "__main__":
    main()
