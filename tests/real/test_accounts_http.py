"""Accounts against a real `os1 serve` process: `os1 users add` turns sign-in on, then login sets the cookies,
CSRF guards changes, the WebSocket admits only a signed-in handshake, and sign-out ends the session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .test_http import Server

websockets_client = pytest.importorskip("websockets.sync.client")
from websockets.exceptions import ConnectionClosed  # noqa: E402

pytestmark = pytest.mark.real
PASSWORD = "correct horse battery staple"


def os1(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS1_")}
    env["OS1_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "os1.cli", *args], input=stdin, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    home = tmp_path / "home"
    home.mkdir()
    # A single-user install with some history, then the first admin adopts it.
    s = Server(home).start()
    with s.client() as c:
        assert c.post("/api/v1/chat", json={"message": "I grow tomatoes on my balcony."}).status_code == 200
    s.stop()
    made = os1(home, "users", "add", "ada", "--admin", "--adopt-local", "--password-stdin", "--json", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["id"] == "local"
    listed = json.loads(os1(home, "users", "list", "--json").stdout)
    assert [(u["username"], u["admin"]) for u in listed] == [("ada", True)]
    s = Server(home).start()
    yield s
    s.stop()


def test_login_cookie_csrf_websocket_and_logout_over_real_http(server: Server) -> None:
    with server.client() as c:
        assert c.get("/api/v1/history").status_code == 401
        assert c.get("/login").status_code == 200 and "login.js" in c.get("/login").text
        r = c.post("/api/v1/auth/login", json={"username": "ada", "password": PASSWORD})
        assert r.status_code == 200, r.text
        assert "httponly" in r.headers["set-cookie"].lower()
        history = c.get("/api/v1/history").json()["messages"]
        assert any("tomatoes" in m["text"] for m in history)  # the adopted single-user data
        csrf = c.cookies["os1_csrf"]
        assert c.post("/api/v1/profile/rename", json={"name": "Sam"}).status_code == 403
        assert c.post("/api/v1/profile/rename", json={"name": "Sam"}, headers={"X-CSRF-Token": csrf}).status_code == 200
        session = c.cookies["os1_session"]

        with pytest.raises(ConnectionClosed) as refused, websockets_client.connect(server.ws_url, open_timeout=30) as ws:
            ws.recv(timeout=30)
        assert refused.value.rcvd is not None and refused.value.rcvd.code == 1008
        with websockets_client.connect(server.ws_url, open_timeout=30,
                                       additional_headers={"Cookie": f"os1_session={session}"}) as ws:
            ws.send(json.dumps({"type": "message", "text": "hello"}))
            kinds = []
            while not kinds or kinds[-1] not in ("done", "error"):
                kinds.append(json.loads(ws.recv(timeout=60))["type"])
            assert kinds[-1] == "done"

        assert c.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).json() == {"signed_out": True}
    with httpx.Client(base_url=server.base, cookies={"os1_session": session}, timeout=30) as stale:
        assert stale.get("/api/v1/history").status_code == 401


def test_an_api_token_from_the_cli_drives_the_openai_endpoint(server: Server) -> None:
    issued = os1(server.home, "users", "token", "issue", "ada", "--label", "script", "--json")
    assert issued.returncode == 0, issued.stderr
    token = json.loads(issued.stdout)["token"]
    body = {"model": "os1", "messages": [{"role": "user", "content": "hello"}]}
    with server.client() as c:
        assert c.post("/v1/chat/completions", json=body, headers={"Authorization": "Bearer sk-wrong"}).status_code == 401
        r = c.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
    tokens = json.loads(os1(server.home, "users", "token", "list", "ada", "--json").stdout)
    assert tokens[0]["last_used_at"] is not None and token not in json.dumps(tokens)
    assert os1(server.home, "users", "token", "revoke", "ada", str(tokens[0]["id"])).returncode == 0
    with server.client() as c:
        assert c.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {token}"}).status_code == 401
