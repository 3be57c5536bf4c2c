"""Scale-out on real PostgreSQL with real processes: two app servers and a worker, and two learning workers.

- A reminder delivered by an `os1 worker` reaches the user's WebSockets on both app servers, once each.
  The servers' safety poll is set far longer than the test waits, so only NOTIFY can bring it in time.
- Two workers learning from one database never learn from the same message twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from os1.accounts import Accounts
from os1.storage import open_database

from ..conftest import postgres_database
from .test_http import Server

websockets_client = pytest.importorskip("websockets.sync.client")
WAIT = 60.0
"""Longest wait for a push; the servers' poll (OS1_JOB_POLL_SECONDS=300) is longer, so only NOTIFY can win."""


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


def account(url: str, name: str) -> tuple[str, str]:
    async def go() -> tuple[str, str]:
        db = open_database(url)
        try:
            accounts = Accounts(db)
            made = await accounts.create(name)
            return made.id, await accounts.issue_token(made.id, "test")
        finally:
            db.close()

    return asyncio.run(go())


def base_env(url: str) -> dict[str, str]:
    return {"OS1_DATABASE_URL": url, "OS1_EMBEDDINGS": "0", "OS1_TZ": "UTC", "OS1_RUN_JOBS": "0",
            "OS1_BACKGROUND": "worker"}


def start_worker(home: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("OS1_")}
    full.update(env, OS1_HOME=str(home), OS1_MODEL="echo", PYTHONUNBUFFERED="1")
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "os1.cli", "worker"], env=full, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT)


def proactive(ws: Any, until_text: str) -> list[str]:
    """Proactive texts received until `until_text` arrives (or WAIT runs out)."""
    got: list[str] = []
    deadline = time.monotonic() + WAIT
    while until_text not in got:
        left = deadline - time.monotonic()
        assert left > 0, f"only {got} arrived"
        event = json.loads(ws.recv(timeout=left))
        if event.get("type") == "proactive":
            got.append(event["text"])
    return got


def test_a_worker_delivery_reaches_sockets_on_every_server_once(pg_url: str, tmp_path: Path) -> None:
    _, token = account(pg_url, "ann")
    bob_id, bob_token = account(pg_url, "bob")
    env = {**base_env(pg_url), "OS1_JOB_POLL_SECONDS": "300"}
    a = Server(tmp_path / "a", "echo", env).start()
    b = Server(tmp_path / "b", "echo", env).start()
    worker = start_worker(tmp_path / "w", {**base_env(pg_url), "OS1_JOB_POLL_SECONDS": "0.3"}, tmp_path / "worker.log")
    auth = {"Authorization": f"Bearer {token}"}
    try:
        with websockets_client.connect(a.ws_url, additional_headers=auth, open_timeout=30) as on_a, \
                websockets_client.connect(b.ws_url, additional_headers=auth, open_timeout=30) as on_b, \
                websockets_client.connect(a.ws_url, additional_headers={"Authorization": f"Bearer {bob_token}"},
                                          open_timeout=30) as bob_on_a:
            with httpx.Client(base_url=b.base, headers=auth, timeout=30) as c:
                for task, later in (("stretch", 3), ("drink water", 4)):
                    due = datetime.now(UTC) + timedelta(seconds=later)
                    r = c.post("/api/v1/reminders", json={"task": task, "due_at": due.isoformat()})
                    assert r.status_code == 201, r.text
            # The second reminder is the fence: when it is in, a duplicate of the first would be too.
            assert proactive(on_a, "Time to drink water.") == ["Time to stretch.", "Time to drink water."]
            assert proactive(on_b, "Time to drink water.") == ["Time to stretch.", "Time to drink water."]
            with httpx.Client(base_url=a.base, headers={"Authorization": f"Bearer {bob_token}"}, timeout=30) as c:
                due = datetime.now(UTC) + timedelta(seconds=3)
                r = c.post("/api/v1/reminders", json={"task": "feed the cat", "due_at": due.isoformat()})
                assert r.status_code == 201, r.text
            assert proactive(bob_on_a, "Time to feed the cat.") == ["Time to feed the cat."]  # nothing of ann's
            assert bob_id
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        a.stop()
        b.stop()


LEARNER = '''
import asyncio, json, pathlib, sys
from datetime import datetime, UTC
from os1.clock import FakeClock
from os1.memory.learning import Learner, Memory
from os1.storage import open_database

url, go, out = sys.argv[1:4]

class Counting:
    """Answers fact extraction with no facts, and notes which message each request was about."""
    model_id = "counting"
    from os1.models.base import Capabilities
    capabilities = Capabilities()
    seen: list[str] = []
    async def load(self): pass
    async def close(self): pass
    async def stream(self, messages, *, options):
        prompt = messages[-1].content
        self.seen.extend(line for line in prompt.splitlines() if "probe-" in line)
        await asyncio.sleep(0.01)  # a model call takes time: the workers overlap
        yield '{"facts": []}'

async def main():
    db = open_database(url)
    model = Counting()
    learner = Learner(Memory.open(db), model, FakeClock(datetime(2026, 11, 25, tzinfo=UTC)), reflect_every=10**6)
    while not pathlib.Path(go).exists():
        await asyncio.sleep(0.01)
    while await learner.step(backfill=False):
        pass
    pathlib.Path(out).write_text(json.dumps(model.seen))
    learner.claims.close()
    db.close()

asyncio.run(main())
'''


def test_two_workers_never_learn_from_the_same_message_twice(pg_url: str, tmp_path: Path) -> None:
    from sqlalchemy import func, select

    from os1.memory import SqlConversationStore
    from os1.storage.schema import messages

    db = open_database(pg_url)
    store = SqlConversationStore(db)
    at = datetime(2026, 11, 25, tzinfo=UTC)

    async def fill() -> None:
        for u in range(6):
            for n in range(8):
                await store.add_exchange(f"user{u}", "user", f"my friend probe-{u}-{n} lives in Paris", at=at)

    asyncio.run(fill())
    script, go = tmp_path / "learner.py", tmp_path / "go"
    script.write_text(LEARNER)
    outs = [tmp_path / f"out{i}" for i in range(2)]
    procs = [subprocess.Popen([sys.executable, str(script), pg_url, str(go), str(out)]) for out in outs]
    go.touch()
    for p in procs:
        assert p.wait(timeout=240) == 0
    seen = [line for out in outs for line in json.loads(out.read_text())]
    probes = [word for line in seen for word in line.split() if word.startswith("probe-")]
    assert sorted(probes) == sorted(f"probe-{u}-{n}" for u in range(6) for n in range(8))  # each once, none twice
    pending = select(func.count()).select_from(messages).where(messages.c.extracted_at.is_(None))
    assert db.read_sync(lambda c: c.execute(pending).scalar_one()) == 0
    db.close()


async def test_rate_limits_in_redis_are_shared_by_every_server() -> None:
    """Two app servers' limiters on one Redis (OS1_RATE_LIMIT_STORAGE) count the same client together."""
    pytest.importorskip("redis", minversion="5.2")
    import uuid

    from limits import parse
    from limits.aio.strategies import MovingWindowRateLimiter

    from os1.server.limits import rate_storage

    item, key = parse("3/minute"), f"test-{uuid.uuid4().hex}"
    a, b = (MovingWindowRateLimiter(rate_storage("redis://127.0.0.1:6379")) for _ in range(2))
    try:
        hits = [await (a if i % 2 else b).hit(item, "requests", key) for i in range(4)]
    except Exception as e:  # no Redis server here
        pytest.skip(f"Redis not reachable at 127.0.0.1:6379: {e}")
    assert hits == [True, True, True, False]
    await a.clear(item, "requests", key)


def test_one_person_is_answered_by_one_server_at_a_time(pg_url: str, tmp_path: Path) -> None:
    """Two messages of one person sent to two app servers at once: one is answered, the other is refused
    (429) instead of interleaving two replies; once the first ends, either server answers the next."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fake = subprocess.Popen([sys.executable, str(Path(__file__).parents[2] / "bench" / "fake_openai.py"), "--port",
                             str(port), "--first-token", "1.5", "--tokens", "4"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, token = account(pg_url, "ann")
    model = f"openai:fake@http://127.0.0.1:{port}/v1"
    a = Server(tmp_path / "a", model, base_env(pg_url)).start()
    b = Server(tmp_path / "b", model, base_env(pg_url)).start()
    auth = {"Authorization": f"Bearer {token}"}

    async def both() -> list[int]:
        async with httpx.AsyncClient(headers=auth, timeout=60) as c:
            first = asyncio.create_task(c.post(a.base + "/api/v1/chat", json={"message": "Hello from my phone."}))
            await asyncio.sleep(0.5)  # the first turn is waiting on the model
            second = await c.post(b.base + "/api/v1/chat", json={"message": "And hello from my laptop."})
            return [(await first).status_code, second.status_code]

    try:
        assert asyncio.run(both()) == [200, 429]
        with httpx.Client(base_url=b.base, headers=auth, timeout=60) as c:
            r = c.post("/api/v1/chat", json={"message": "Now from the laptop again."})
            assert r.status_code == 200, r.text
            history = c.get("/api/v1/history").json()
        texts = [m["text"] for m in history["messages"] if m["role"] == "user"]
        assert texts == ["Hello from my phone.", "Now from the laptop again."]
    finally:
        a.stop()
        b.stop()
        fake.terminate()
        fake.wait(timeout=30)
