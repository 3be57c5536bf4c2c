"""Signing in over the API: the modes, cookies and their flags, CSRF, API tokens, admin routes, the WebSocket."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from os1 import Settings
from os1.accounts import Account, Accounts, Passwords
from os1.server import create_app

T = TypeVar("T")
PASSWORD = "a long password"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def make_client(tmp_path: Path, **settings: Any) -> TestClient:
    s = Settings(home=tmp_path / "home", model="echo", embeddings=False, rate_limit="", turn_rate_limit="",
                 secret_store="file", **settings)
    app = create_app(s)
    app.state.auth.accounts.passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    return TestClient(app)


def accounts_of(client: TestClient) -> Accounts:
    accounts: Accounts = client.app.state.auth.accounts  # type: ignore[attr-defined]
    return accounts


def add(client: TestClient, name: str, *, admin: bool = False, password: str | None = PASSWORD) -> Account:
    return run(accounts_of(client).create(name, password, admin=admin))


def login(client: TestClient, name: str, password: str = PASSWORD) -> Any:
    return client.post("/api/v1/auth/login", json={"username": name, "password": password})


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with make_client(tmp_path) as c:
        yield c


def test_without_accounts_nobody_signs_in_and_everything_is_the_local_user(client: TestClient) -> None:
    assert client.post("/api/v1/chat", json={"message": "hello"}).status_code == 200
    me = client.get("/api/v1/auth/me").json()
    assert me == {"id": "local", "username": None, "admin": True, "via": "open", "sign_in_required": False}
    # OpenAI clients always send some key: in this mode it is ignored, not refused.
    r = client.post("/v1/chat/completions", headers={"Authorization": "Bearer sk-anything"},
                    json={"model": "os1", "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 200


def test_once_an_account_exists_every_data_route_asks_for_sign_in(client: TestClient) -> None:
    add(client, "ada", admin=True)
    r = client.get("/api/v1/history")
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["error"]["type"] == "SignInRequired" and r.json()["error"]["hint"]
    assert client.post("/api/v1/chat", json={"message": "hello"}).status_code == 401
    r = client.post("/v1/chat/completions", json={"model": "os1", "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    assert client.get("/api/v1/health").status_code == 200  # the load balancer's check stays open
    assert client.get("/api/v1/safety/resources").status_code == 200  # crisis lines never sit behind a sign-in
    assert client.get("/login").status_code == 200


def test_mode_required_asks_even_with_no_account_and_off_never_does(tmp_path: Path) -> None:
    with make_client(tmp_path / "a", auth="required") as c:
        assert c.get("/api/v1/profile").status_code == 401
    with make_client(tmp_path / "b", auth="off") as c:
        add(c, "ada")
        assert c.get("/api/v1/profile").status_code == 200
        assert c.get("/api/v1/auth/me").json()["id"] == "local"


def test_login_sets_safe_cookies_and_logout_ends_the_session(client: TestClient) -> None:
    ada = add(client, "ada")
    assert login(client, "ada", "wrong password").status_code == 401
    r = login(client, "Ada")
    assert r.status_code == 200 and r.json()["username"] == "ada" and r.json()["via"] == "session"
    cookies = {c.split("=", 1)[0]: c.lower() for c in r.headers.get_list("set-cookie")}
    assert "httponly" in cookies["os1_session"] and "samesite=lax" in cookies["os1_session"]
    assert "httponly" not in cookies["os1_csrf"] and "secure" not in cookies["os1_session"]  # plain http here
    assert client.get("/api/v1/auth/me").json()["id"] == ada.id
    session = client.cookies["os1_session"]
    csrf = client.cookies["os1_csrf"]
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).json() == {"signed_out": True}
    client.cookies.set("os1_session", session)  # a copy of the old cookie no longer works
    assert client.get("/api/v1/auth/me").status_code == 401


def test_cookies_are_secure_when_told_to(tmp_path: Path) -> None:
    with make_client(tmp_path, secure_cookies=True) as c:
        add(c, "ada")
        r = login(c, "ada")
        assert all("secure" in h.lower() for h in r.headers.get_list("set-cookie"))


def test_a_cookie_signed_change_needs_the_csrf_token(client: TestClient) -> None:
    add(client, "ada")
    login(client, "ada")
    csrf = client.cookies["os1_csrf"]
    body = {"name": "Sam"}
    assert client.get("/api/v1/profile").status_code == 200  # reading needs no token
    for headers in ({}, {"X-CSRF-Token": "guess"}, {"X-CSRF-Token": ""}):
        r = client.post("/api/v1/profile/rename", json=body, headers=headers)
        assert r.status_code == 403 and r.json()["error"]["type"] == "CsrfRejected"
    client.cookies.set("os1_csrf", "planted")  # a planted cookie matching a planted header is not enough
    assert client.post("/api/v1/profile/rename", json=body, headers={"X-CSRF-Token": "planted"}).status_code == 403
    client.cookies.set("os1_csrf", csrf)
    r = client.post("/api/v1/profile/rename", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["companion_name"] == "Sam"


def test_api_tokens_need_no_csrf_and_stop_working_when_revoked(client: TestClient) -> None:
    add(client, "ada")
    login(client, "ada")
    csrf = {"X-CSRF-Token": client.cookies["os1_csrf"]}
    issued = client.post("/api/v1/auth/tokens", json={"label": "script"}, headers=csrf)
    assert issued.status_code == 201
    token, info = issued.json()["token"], issued.json()["info"]
    listed = client.get("/api/v1/auth/tokens").json()["tokens"]
    assert [t["id"] for t in listed] == [info["id"]] and token not in str(listed)
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/profile/rename", json={"name": "Sam"}, headers=bearer).status_code == 200
    assert client.get("/api/v1/auth/me", headers=bearer).json()["via"] == "token"
    assert client.delete(f"/api/v1/auth/tokens/{info['id']}", headers=bearer).status_code == 200
    r = client.get("/api/v1/profile", headers=bearer)
    assert r.status_code == 401 and "not valid" in r.json()["error"]["message"]


def test_sign_in_attempts_are_limited(tmp_path: Path) -> None:
    with make_client(tmp_path, login_rate_limit="3/minute") as c:
        add(c, "ada")
        assert [login(c, "ada", "wrong password").status_code for _ in range(3)] == [401] * 3
        r = login(c, "ada")  # even the right password, once the limit is reached
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1


def test_only_admins_manage_accounts_and_install_wide_settings(client: TestClient) -> None:
    add(client, "root", admin=True)
    bob = add(client, "bob", password=None)
    bob_token = run(accounts_of(client).issue_token(bob.id, "t"))
    as_bob = {"Authorization": f"Bearer {bob_token}"}
    assert client.get("/api/v1/admin/users", headers=as_bob).status_code == 403
    assert client.post("/api/v1/admin/users", json={"username": "eve"}, headers=as_bob).status_code == 403
    assert client.delete("/api/v1/admin/users/root", headers=as_bob).status_code == 403
    assert client.put("/api/v1/settings", json={"model": "echo"}, headers=as_bob).status_code == 403
    root_token = run(accounts_of(client).issue_token(run(accounts_of(client).get("root")).id, "t"))  # type: ignore[union-attr]
    as_root = {"Authorization": f"Bearer {root_token}"}
    made = client.post("/api/v1/admin/users", json={"username": "eve", "password": PASSWORD}, headers=as_root)
    assert made.status_code == 201 and made.json()["user"]["has_password"]
    assert [u["username"] for u in client.get("/api/v1/admin/users", headers=as_root).json()["users"]] == ["bob", "eve", "root"]
    assert client.delete("/api/v1/admin/users/root", headers=as_root).status_code == 400  # not yourself
    assert client.delete("/api/v1/admin/users/bob", headers=as_root).status_code == 200
    assert client.get("/api/v1/profile", headers=as_bob).status_code == 401


def test_the_websocket_needs_a_session_or_token_and_refuses_other_sites(client: TestClient) -> None:
    add(client, "ada")
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/api/v1/ws") as ws:
        ws.receive_json()
    assert closed.value.code == 1008
    login(client, "ada")
    with pytest.raises(WebSocketDisconnect) as closed, \
            client.websocket_connect("/api/v1/ws", headers={"Origin": "https://evil.example"}) as ws:
        ws.receive_json()
    assert closed.value.code == 1008
    with client.websocket_connect("/api/v1/ws", headers={"Origin": "http://testserver"}) as ws:
        ws.send_json({"type": "message", "text": "hello"})
        assert any(ws.receive_json()["type"] == "done" for _ in range(50))
    token = run(accounts_of(client).issue_token(run(accounts_of(client).get("ada")).id, "t"))  # type: ignore[union-attr]
    client.cookies.clear()
    with client.websocket_connect("/api/v1/ws", headers={"Authorization": f"Bearer {token}"}) as ws:
        ws.send_json({"type": "message", "text": "hello"})
        assert any(ws.receive_json()["type"] == "done" for _ in range(50))
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/api/v1/voice") as ws:
        ws.receive_json()
    assert closed.value.code == 1008


def test_the_openapi_document_describes_sign_in(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}
    assert "401" in doc["paths"]["/api/v1/history"]["get"]["responses"]
    assert "401" in doc["paths"]["/v1/chat/completions"]["post"]["responses"]
    assert "429" in doc["paths"]["/api/v1/auth/login"]["post"]["responses"]
