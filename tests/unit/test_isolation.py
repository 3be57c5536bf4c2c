"""Two users on one server: every operation in the OpenAPI document, and the WebSocket, tried by Alice on Bob's data.

Bob has data of every kind (history, memories, a fact, reminders, inbox, journal, self changes, safety
events, letters and suggestions, pending actions, check-in settings, a tool account, an API token). Alice
calls every operation the OpenAPI document lists (so a new route cannot be missed), with Bob's ids in
the path. Nothing Alice gets back may carry Bob's marker, and every row of Bob's data must be unchanged.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import re
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import insert

from os1 import Settings
from os1.accounts import Accounts, Passwords
from os1.data.tables import user_tables
from os1.memory.facts import FactCandidate
from os1.persona.self import Growth
from os1.proactive.inbox import Delivery
from os1.server import create_app
from os1.storage.schema import journal

MARKERS = ("ZEBRA", "zebra", "Zebra")
"""Every piece of Bob's data carries one of these."""
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/v1/chat"): {"message": "What is my secret word? Tell me about Zoe."},
    ("POST", "/api/v1/chat/stream"): {"message": "What do you remember about me?"},
    ("POST", "/api/v1/profile/rename"): {"name": "Alma"},
    ("PATCH", "/api/v1/memory/{ref}"): {"text": "changed by alice"},
    ("POST", "/api/v1/memory/forget"): {"query": "secret", "dry_run": False},
    ("POST", "/api/v1/delete"): {"confirm": "delete everything"},
    ("PUT", "/api/v1/settings"): {"tz": "Europe/Paris"},
    ("POST", "/v1/chat/completions"): {"model": "os1", "user": "bob",
                                       "messages": [{"role": "user", "content": "What is my secret word?"}]},
    ("POST", "/api/v1/reminders"): {"text": "stretch in 20 minutes"},
    ("PATCH", "/api/v1/reminders/{rid}"): {"text": "changed by alice"},
    ("PUT", "/api/v1/checkins"): {"max_per_day": 1, "nudges": False},
    ("POST", "/api/v1/accounts/mail"): {"address": "a@example.invalid", "password": "x", "imap_host": "127.0.0.1",
                                        "smtp_host": "127.0.0.1", "imap_port": 9, "smtp_port": 9, "check": False},
    ("POST", "/api/v1/accounts/calendar"): {"name": "alice-cal", "ics_path": "/nonexistent/alice.ics"},
    ("POST", "/api/v1/mail/reply"): {"message": "1", "say": "yes"},
    ("POST", "/api/v1/mail/send"): {"to": "x@example.invalid", "subject": "s", "say": "hi"},
    ("POST", "/api/v1/calendar/events"): {"title": "t", "when": "tomorrow at 9"},
    ("PATCH", "/api/v1/calendar/events/{event}"): {"when": "tomorrow at 10"},
    ("POST", "/api/v1/letters"): {"title": "alice's", "body": "Dear Sam"},
    ("PATCH", "/api/v1/letters/{letter_id}"): {"body": "changed by alice", "status": "final"},
    ("POST", "/api/v1/auth/login"): {"username": "bob", "password": "not bob's password"},
    ("POST", "/api/v1/auth/tokens"): {"label": "alice's"},
    ("POST", "/api/v1/admin/users"): {"username": "mallory", "password": "a long password", "admin": True,
                                      "adopt_local": True},
}
"""A valid body for every operation that takes one: a new route with a body must be added here."""
LAST = {("POST", "/api/v1/delete")}
QUERY = {"q": "zebra", "all": "true", "status": "all", "kind": "all", "limit": "100"}
"""Query parameters that widen what a listing shows (routes ignore those they do not take)."""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    settings = Settings(home=tmp_path / "home", model="echo", embeddings=False, rate_limit="", turn_rate_limit="",
                        secret_store="file", auth="required", job_poll_seconds=0.2, run_jobs=False)
    app = create_app(settings)
    accounts: Accounts = app.state.auth.accounts
    accounts.passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    with TestClient(app) as client:
        yield client, seed(client, accounts)


def seed(client: TestClient, accounts: Accounts) -> dict[str, Any]:
    """Alice and Bob, and data of every kind for Bob; ids of Bob's things by path parameter name."""
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    alice, bob = asyncio.run(accounts.create("alice", "a long password")), asyncio.run(accounts.create("bob", "a long password"))
    ids: dict[str, Any] = {"alice": alice.id, "bob": bob.id, "username": ["bob"], "model": ["os1"], "decision": ["accept", "reject"]}
    ids["alice_token"] = asyncio.run(accounts.issue_token(alice.id, "alice"))
    ids["bob_token"] = asyncio.run(accounts.issue_token(bob.id, "zebra phone"))
    ids["token_id"] = [asyncio.run(accounts.tokens(bob.id))[0].id]
    as_bob = {"Authorization": f"Bearer {ids['bob_token']}"}

    def post(path: str, body: Any, method: str = "POST") -> Any:
        r = client.request(method, path, json=body, headers=as_bob)
        assert r.status_code < 300, (path, r.text)
        return r.json()

    ex = post("/api/v1/chat", {"message": "My secret word is ZEBRA and my sister Zoe Zebra lives in Lisbon."})
    post("/api/v1/chat", {"message": "I want to kill myself, ZEBRA"})  # a safety event
    post("/api/v1/profile/rename", {"name": "Zebra"})
    post("/api/v1/checkins", {"max_per_day": 7, "muted_people": ["Zebra"]}, "PUT")
    rid = post("/api/v1/reminders", {"text": "call the zebra keeper tomorrow at 9"})["reminder"]["id"]
    letter = post("/api/v1/letters", {"title": "Zebra letter", "body": "Dear Zebra, I recieve teh letter.", "recipient": "Zebra"})
    letter_id = letter["letter"]["id"]
    suggestions = post(f"/api/v1/letters/{letter_id}/proofread", None)["suggestions"]
    post("/api/v1/accounts/calendar", {"name": "zebra-cal", "ics_path": "/nonexistent/zebra.ics"})

    async def more() -> dict[str, Any]:
        now = rt.clock.now()
        applied = await rt.companion.memory.facts.apply(bob.id, FactCandidate(
            kind="person", subject="Zoe Zebra", attribute="lives_in", value="Lisbon", text="Zoe Zebra lives in Lisbon",
            relation="sister"), source_exchange_id=ex["user_exchange_id"], at=now)
        item = await rt.companion.proactive.inbox.deliver(bob.id, Delivery("checkin", "Zebra check-in", "zebra why"), at=now)
        changes = await rt.companion.self_store.grow(bob.id, Growth(opinions=[("zebra stripes", "zebra-lovely", "zebra talk")]),
                                                     mood=None, curious_about=None, journal_id=None, at=now)
        action = await rt.companion.tools.actions.propose(bob.id, tool="mail_compose", risk="send", summary="Email Zebra",
                                                          payload={"to": "zebra@example.invalid"}, warnings=[],
                                                          requested="zebra", now=now)
        await rt.db.write(lambda c: c.execute(insert(journal).values(
            user_id=bob.id, text="Zebra journal", created_at=now.astimezone(UTC).replace(tzinfo=None))))
        assert applied.fact is not None and changes
        return {"fact": applied.fact.id, "item": item.id, "change": changes[0].id, "action": action.id}

    got = asyncio.run(more())
    ids.update(ref=[f"e{ex['user_exchange_id']}", f"e{ex['reply_exchange_id']}", f"f{got['fact']}"], rid=[rid],
               item_id=[got["item"]], change_id=[got["change"]], action_id=[got["action"]], letter_id=[letter_id],
               suggestion_id=[s["id"] for s in suggestions] or [1], name=["zebra-cal"], event=["zebra"])
    return ids


def bobs_rows(client: TestClient, bob: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of Bob's data, table by table."""
    db = client.app.state.runtime.db  # type: ignore[attr-defined]

    def read(conn: Any) -> dict[str, list[dict[str, Any]]]:
        return {t.name: [dict(r._mapping) for r in conn.execute(t.rows(bob))] for t in user_tables(conn)}

    return db.read_sync(read)  # type: ignore[no-any-return]


def leaks(r: Any, sent: list[str]) -> list[str]:
    """Bob's markers in a response (zip archives opened), once what Alice sent herself is taken out of it."""
    texts = [r.text if "zip" not in r.headers.get("content-type", "") else ""]
    if "zip" in r.headers.get("content-type", ""):
        with zipfile.ZipFile(io.BytesIO(r.content)) as z:
            texts += [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
    for echo in sorted(sent, key=len, reverse=True):  # an error may quote the id or words asked about
        texts = [t.replace(echo, "") for t in texts]
    return [m for m in MARKERS for t in texts if m in t]


def operations(client: TestClient) -> list[tuple[str, str]]:
    doc = client.app.openapi()  # type: ignore[attr-defined]
    ops = sorted((m.upper(), p) for p, item in doc["paths"].items() for m in item if m in ("get", "post", "put", "patch", "delete"))
    return [o for o in ops if o not in LAST] + sorted(LAST)


def test_alice_can_neither_see_nor_change_anything_of_bobs(server: tuple[TestClient, dict[str, Any]]) -> None:
    client, ids = server
    doc = client.app.openapi()  # type: ignore[attr-defined]
    before = bobs_rows(client, ids["bob"])
    assert all(before[t] for t in ("messages", "facts", "people", "reminders", "inbox", "journal", "belief_changes",
                                   "safety_events", "letters", "tool_actions", "tool_accounts", "accounts", "api_tokens"))
    as_alice = {"Authorization": f"Bearer {ids['alice_token']}"}
    tried: set[tuple[str, str]] = set()
    for method, path in operations(client):
        params = re.findall(r"{(\w+)}", path)
        missing = [p for p in params if p not in ids]
        assert not missing, f"{method} {path}: add Bob's value for {missing} to seed()"
        op = doc["paths"][path][method.lower()]
        if "requestBody" in op:
            assert (method, path) in BODIES, f"{method} {path}: add a valid body to BODIES"
        for values in itertools.product(*(ids[p] for p in params)):
            url = path
            for p, v in zip(params, values, strict=True):
                url = url.replace("{" + p + "}", str(v))
            r = client.request(method, url, headers=as_alice, params=QUERY if method == "GET" else None,
                               json=BODIES.get((method, path)))
            # 502: Alice's own (unreachable) mail server; never a crash
            assert r.status_code < 500 or r.status_code == 502, (method, url, r.status_code, r.text[:300])
            assert not leaks(r, [str(v) for v in values] + list(QUERY.values())), (method, url, r.text[:500])
            tried.add((method, path))
    assert len(tried) >= 60 and ("GET", "/api/v1/history") in tried
    assert bobs_rows(client, ids["bob"]) == before
    as_bob = {"Authorization": f"Bearer {ids['bob_token']}"}
    assert client.get("/api/v1/auth/me", headers=as_bob).json()["username"] == "bob"
    assert any("ZEBRA" in m["text"] for m in client.get("/api/v1/history", headers=as_bob).json()["messages"])


def test_alice_on_the_websocket_hears_nothing_of_bobs(server: tuple[TestClient, dict[str, Any]]) -> None:
    client, ids = server
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    with client.websocket_connect("/api/v1/ws", headers={"Authorization": f"Bearer {ids['alice_token']}"}) as ws:
        ws.send_json({"type": "message", "text": "What is my secret word? Who is Zoe?"})
        events = []
        while not events or events[-1]["type"] not in ("done", "error"):
            events.append(ws.receive_json())
        assert events[-1]["type"] == "done" and not [m for m in MARKERS if m in str(events)]

        async def deliver() -> None:  # Bob's first: if it reached Alice it would come before her own
            now = rt.clock.now()
            await rt.companion.proactive.inbox.deliver(ids["bob"], Delivery("nudge", "Zebra for bob", "zebra"), at=now)
            await rt.companion.proactive.inbox.deliver(ids["alice"], Delivery("nudge", "for alice", "because"),
                                                       at=now + timedelta(seconds=1))

        asyncio.run(deliver())
        with ThreadPoolExecutor(1) as pool:  # a bounded wait: a missing push fails instead of hanging
            pushed = pool.submit(ws.receive_json).result(timeout=30)
        assert pushed["type"] == "proactive" and pushed["text"] == "for alice", pushed
