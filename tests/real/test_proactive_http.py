"""Reminders, inbox and check-in settings over real HTTP, and proactive messages pushed over the WebSocket.

`os1 serve` runs as a subprocess on the real clock (so its job runner sees time pass), with the echo model.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from .test_http import Server, prompt_of

websockets_client = pytest.importorskip("websockets.sync.client")
NY = ZoneInfo("America/New_York")


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start echo servers on fresh data dirs, with extra OS1_* settings; all stopped at the end."""
    started: list[Server] = []

    def start(**env: str) -> Server:
        server = Server(tmp_path / f"home{len(started)}", "echo", env)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


def wait_for_proactive(ws: Any, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, "no proactive message was pushed"
        event = json.loads(ws.recv(timeout=left))
        if event.get("type") == "proactive":
            return dict(event)


def test_reminder_is_pushed_live_and_kept_in_inbox_and_history(start_server: Callable[..., Server]) -> None:
    server = start_server(OS1_TZ="America/New_York", OS1_JOB_POLL_SECONDS="0.3")
    with server.client() as c, websockets_client.connect(server.ws_url, open_timeout=30) as ws:
        due = datetime.now(NY) + timedelta(seconds=3)
        r = c.post("/api/v1/reminders", json={"task": "stretch", "due_at": due.isoformat()})
        assert r.status_code == 201, r.text
        made = r.json()
        assert made["reminder"]["text"] == "stretch" and made["confirmation"].startswith("I'll remind you: stretch")
        event = wait_for_proactive(ws, timeout=60)
        assert (event["kind"], event["text"], event["ref"]) == ("reminder", "Time to stretch.", f"reminder:{made['reminder']['id']}")
        assert event["why"].startswith("You asked me") and event["read"] is False
        assert datetime.fromisoformat(event["created_at"]) >= due - timedelta(seconds=1)

        inbox = c.get("/api/v1/inbox").json()
        assert [i["id"] for i in inbox["items"]] == [event["id"]] and inbox["unread"] == 1
        assert c.post(f"/api/v1/inbox/{event['id']}/read").json()["item"]["read"] is True
        assert c.get("/api/v1/inbox", params={"unread": True}).json() == {"items": [], "unread": 0}
        assert c.post("/api/v1/inbox/999/read").status_code == 400
        history = c.get("/api/v1/history").json()["messages"]
        assert (history[-1]["role"], history[-1]["text"]) == ("assistant", "Time to stretch.")
        assert c.get("/api/v1/reminders").json()["reminders"] == []  # done
        assert [x["status"] for x in c.get("/api/v1/reminders", params={"all": True}).json()["reminders"]] == ["done"]


def test_reminders_and_checkins_rest(start_server: Callable[..., Server]) -> None:
    server = start_server(OS1_TZ="America/New_York", OS1_NOW="2026-11-25T09:30:00-05:00")
    with server.client() as c:
        r = c.post("/api/v1/reminders", json={"text": "call mom Sunday at 6"})
        assert r.status_code == 201, r.text
        made = r.json()["reminder"]
        assert (made["text"], made["when"], made["due_at"]) == ("call mom", "Sunday at 6 pm", "2026-11-29T18:00:00-05:00")
        weekly = c.post("/api/v1/reminders", json={"text": "every Tuesday water the plants"}).json()["reminder"]
        assert weekly["repeat"] == "every Tuesday" and weekly["due_at"] == "2026-12-01T09:00:00-05:00"
        assert [x["id"] for x in c.get("/api/v1/reminders").json()["reminders"]] == [made["id"], weekly["id"]]

        changed = c.patch(f"/api/v1/reminders/{made['id']}", json={"when": "tomorrow at 9", "text": "call mom and dad"})
        assert changed.status_code == 200, changed.text
        assert (changed.json()["reminder"]["due_at"], changed.json()["reminder"]["text"]) == \
            ("2026-11-26T09:00:00-05:00", "call mom and dad")
        assert c.delete(f"/api/v1/reminders/{weekly['id']}").json()["reminder"]["status"] == "cancelled"
        assert [x["id"] for x in c.get("/api/v1/reminders").json()["reminders"]] == [made["id"]]

        bad = c.post("/api/v1/reminders", json={"text": "call mom"})
        assert bad.status_code == 400 and "when" in bad.json()["error"]["message"]
        assert c.post("/api/v1/reminders", json={"task": "x", "due_at": "2020-01-01T00:00:00Z"}).status_code == 400
        assert c.patch("/api/v1/reminders/999", json={"text": "x"}).status_code == 400

        put = c.put("/api/v1/checkins", json={"morning": "07:45", "evening": "off", "nudges": False, "snooze": "2 hours",
                                              "quiet_hours": {"start": "23:00", "end": "07:00"}})
        assert put.status_code == 200, put.text
        got = c.get("/api/v1/checkins").json()
        assert (got["morning"], got["evening"], got["nudges"], got["quiet_hours"]) == \
            ("07:45", None, False, {"start": "23:00", "end": "07:00"})
        assert datetime.fromisoformat(got["snooze_until"]) == datetime(2026, 11, 25, 11, 30, tzinfo=NY)
        assert c.put("/api/v1/checkins", json={"morning": "25:00"}).status_code == 400

        # In conversation: the reminder is set before the model is called, and the reply is asked to confirm it.
        reply = c.post("/api/v1/chat", json={"message": "remind me to water the plants tomorrow at 9pm"}).json()["reply"]
        assert "You have set it for tomorrow at 9 pm" in prompt_of(reply)[-1]["content"]
        assert "water the plants" in [x["text"] for x in c.get("/api/v1/reminders").json()["reminders"]]


def test_openapi_lists_the_proactive_routes(start_server: Callable[..., Server]) -> None:
    server = start_server()
    paths = httpx.get(server.base + "/openapi.json", timeout=30).json()["paths"]
    for path in ("/api/v1/reminders", "/api/v1/reminders/{rid}", "/api/v1/inbox", "/api/v1/inbox/{item_id}/read",
                 "/api/v1/checkins"):
        assert path in paths
