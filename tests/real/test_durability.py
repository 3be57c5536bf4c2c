"""kill -9 in the middle of a turn, a memory write, an import and a migration: nothing acknowledged is lost,
the database is never corrupt, and the next run works. Real processes, signalled at controlled points."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from os1.storage import open_database
from os1.storage.migrate import current_revision, head_revision, upgrade
from os1.testing import FakeOpenAIServer, free_port, serve_app

from .test_cli import chat, os1_env, prompt

pytestmark = pytest.mark.real
SLOW_REPLY = " ".join(f"word{i}" for i in range(200))


def integrity(db_file: Path) -> str:
    with sqlite3.connect(db_file) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def user_texts(db_file: Path) -> list[str]:
    with sqlite3.connect(db_file) as conn:
        return [r[0] for r in conn.execute("SELECT text FROM messages WHERE role = 'user' ORDER BY id")]


def run_script(tmp_path: Path, home: Path, code: str) -> subprocess.Popen[str]:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(code))
    return subprocess.Popen([sys.executable, str(script)], env=os1_env(home), cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def slow_server() -> Iterator[str]:
    """An OpenAI-compatible model that streams a long reply slowly (so a process can be killed mid-reply)."""
    fake = FakeOpenAIServer(default=SLOW_REPLY, token_delay=0.05)
    with serve_app(fake.app()) as url:
        yield f"openai:fake-model@{url}/v1"


def test_kill_mid_turn_keeps_the_acknowledged_message_and_the_next_turn_works(home: Path, tmp_path: Path,
                                                                                slow_server: str) -> None:
    chat(home, "first message, finished")
    proc = subprocess.Popen([sys.executable, "-m", "os1.cli", "chat", "--model", slow_server, "--message",
                             "the second message, cut off mid-reply"], env=os1_env(home, OS1_EMBEDDINGS="0"),
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    shown = proc.stdout.read(20)  # the reply has started: the message was stored before the model ran
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert shown.startswith(b"word0")
    db_file = home / "os1.db"
    assert integrity(db_file) == "ok"
    assert user_texts(db_file) == ["first message, finished", "the second message, cut off mid-reply"]
    after = chat(home, "and a third")
    said = [m["content"] for m in prompt(after["reply"]) if m["role"] == "user"]
    assert any("cut off mid-reply" in s for s in said)  # the killed turn is part of the conversation
    assert integrity(db_file) == "ok"


def test_kill_the_server_mid_stream_loses_no_acknowledged_turn(home: Path, tmp_path: Path, slow_server: str) -> None:
    port = free_port()
    cmd = [sys.executable, "-m", "os1.cli", "serve", "--port", str(port)]
    env = os1_env(home, OS1_EMBEDDINGS="0", OS1_MODEL="echo")
    server = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        _wait_up(base)
        acknowledged = [f"acknowledged turn {i}" for i in range(3)]
        for message in acknowledged:
            assert httpx.post(f"{base}/chat", json={"message": message}, timeout=30).status_code == 200
        with httpx.stream("POST", f"{base}/chat/stream", json={"message": "streaming when killed"}, timeout=30) as r:
            for line in r.iter_lines():
                if line.startswith("data:") and json.loads(line[5:])["type"] == "recalled":
                    os.kill(server.pid, signal.SIGKILL)  # the message is stored: `recalled` comes after
                    break
    finally:
        server.kill()
        server.wait()
    db_file = home / "os1.db"
    assert integrity(db_file) == "ok"
    assert user_texts(db_file) == [*acknowledged, "streaming when killed"]
    server = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_up(base)
        assert httpx.post(f"{base}/chat", json={"message": "after the restart"}, timeout=30).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert user_texts(db_file)[-1] == "after the restart"


def _wait_up(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("the server did not start")


MEMORY_WRITER = """
import asyncio, json, os
from datetime import datetime, timedelta, UTC
from os1 import Companion, CompanionConfig, FakeClock, ScriptedModel
from os1.memory import SqlConversationStore
from os1.storage import open_database

FACT = {"kind": "preference", "subject": "user", "relation": "", "attribute": "likes", "value": "tea",
        "replaces": "", "when": "", "sentence": "They like tea."}

async def main():
    db = open_database("sqlite:///" + os.environ["OS1_HOME"] + "/os1.db")
    model = ScriptedModel(default="Lovely.")
    model.structured_default = json.dumps({"facts": [FACT]})
    clock = FakeClock(datetime(2026, 11, 25, 9, 30, tzinfo=UTC))
    companion = Companion(SqlConversationStore(db), model, clock, CompanionConfig(recall_limit=2))
    for i in range(10_000):
        clock.advance(timedelta(minutes=1))
        async for event in companion.reply("local", f"my favourite thing number {i} is tea"):
            pass
        await companion.drain()  # the facts of this message are written and committed
        print(i, flush=True)

asyncio.run(main())
"""


@pytest.mark.parametrize("after", [3, 11])
def test_kill_during_memory_writes_loses_no_acknowledged_write(home: Path, tmp_path: Path, after: int) -> None:
    home.mkdir(parents=True)
    proc = run_script(tmp_path, home, MEMORY_WRITER)
    assert proc.stdout is not None
    acked = [int(proc.stdout.readline()) for _ in range(after)]
    time.sleep(0.01 * after)  # somewhere inside the next turn or its learning
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    db_file = home / "os1.db"
    assert integrity(db_file) == "ok"
    with sqlite3.connect(db_file) as conn:
        learned = {r[0] for r in conn.execute("SELECT text FROM messages WHERE role = 'user' AND extracted_at IS NOT NULL")}
        facts = conn.execute("SELECT count(*) FROM facts WHERE value = 'tea'").fetchone()[0]
        fts = conn.execute("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'favourite'").fetchone()[0]
        stored = conn.execute("SELECT count(*) FROM messages WHERE role = 'user'").fetchone()[0]
    assert {f"my favourite thing number {i} is tea" for i in acked} <= learned
    assert facts >= 1
    assert fts == stored  # the full-text index agrees with the table
    again = run_script(tmp_path, home, MEMORY_WRITER)  # and the next run carries on
    assert again.stdout is not None
    again.stdout.readline()
    again.kill()
    again.wait()
    assert integrity(db_file) == "ok"


MIGRATOR = """
import os, signal, sys
from sqlalchemy import event
from sqlalchemy.engine import Engine

@event.listens_for(Engine, "after_cursor_execute")
def die(conn, cursor, statement, *args):
    if sys.argv[2] in statement:
        os.kill(os.getpid(), signal.SIGKILL)  # right after this statement, before the migration commits

from os1.storage import open_database
open_database(sys.argv[1])
"""


@pytest.mark.parametrize("marker", ["ADD COLUMN extracted_at", "CREATE VIRTUAL TABLE facts_fts", "CREATE TABLE people"])
def test_kill_mid_migration_leaves_no_half_schema(home: Path, tmp_path: Path, marker: str) -> None:
    db_file = tmp_path / "old.db"
    url = f"sqlite:///{db_file}"
    engine = create_engine(url)
    upgrade(engine, "0002")  # a database from an older OS1
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (id, created_at) VALUES ('local', '2026-01-01 10:00:00')"))
        for i in range(50):
            conn.execute(text("INSERT INTO messages (user_id, role, text, created_at, importance) "
                              "VALUES ('local', 'user', :t, '2026-01-01 10:00:00', 0)"), {"t": f"old message {i}"})
    engine.dispose()
    script = tmp_path / "migrate.py"
    script.write_text(MIGRATOR)
    proc = subprocess.run([sys.executable, str(script), url, marker], env=os1_env(home), capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    assert integrity(db_file) == "ok"
    db = open_database(url)  # the next start finishes the migrations
    try:
        assert current_revision(db.engine) == head_revision(db.engine)
    finally:
        db.close()
    assert integrity(db_file) == "ok"
    assert user_texts(db_file) == [f"old message {i}" for i in range(50)]


def test_kill_mid_import_into_an_encrypted_database(home: Path, tmp_path: Path) -> None:
    pytest.importorskip("sqlcipher3")
    path = tmp_path / "big.jsonl"
    total = 20_000
    with path.open("w") as f:
        for i in range(total):
            f.write(json.dumps({"id": str(i), "speaker": "user", "text": f"imported {i}", "time": "2025-01-01T10:00:00"}) + "\n")
    env = os1_env(home, OS1_PASSPHRASE="hunter2 correct horse")
    proc = subprocess.Popen([sys.executable, "-m", "os1.cli", "import", str(path)], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline and not (home / "os1.db-wal").exists():
        time.sleep(0.01)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    db = open_database(f"sqlite:///{home / 'os1.db'}", passphrase="hunter2 correct horse")
    try:
        assert db.read_sync(lambda c: c.execute(text("PRAGMA integrity_check")).scalar_one()) == "ok"
        kept = db.read_sync(lambda c: c.execute(text("SELECT count(*) FROM messages")).scalar_one())
    finally:
        db.close()
    assert kept % 500 == 0 and kept < total  # whole batches only
    done = subprocess.run([sys.executable, "-m", "os1.cli", "import", str(path), "--json"], env=env, cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["imported"] == total - kept
