"""`os1 safety` and the safety routes, for real: subprocesses, a real database, real HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from os1 import Settings


def os1(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("OS1_") or k == "OS1_MODELS_DIR"}
    full.update({"OS1_HOME": str(home), "OS1_MODEL": "echo", "OS1_EMBEDDINGS": "0", **env})
    return subprocess.run([sys.executable, "-m", "os1.cli", *args], capture_output=True, text=True, env=full, timeout=300)


def test_safety_events_are_listed_after_a_crisis_turn(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert json.loads(os1(home, "safety", "--json").stdout) == []
    run = os1(home, "chat", "--message", "I want to kill myself", "--json", OS1_LOCALE="en_AU")
    assert run.returncode == 0, run.stderr
    assert any("13 11 14" in r for r in json.loads(run.stdout)["safety"]["resources"])
    os1(home, "chat", "--message", "my sister said she wants to die", "--json")
    os1(home, "chat", "--message", "I had a lovely walk", "--json")
    events = json.loads(os1(home, "safety", "--json").stdout)
    assert [e["kind"] for e in events] == ["concern", "crisis"]
    assert events[1]["country"] == "AU" and events[1]["message"] == "I want to kill myself"
    assert events[1]["response"] == "model" and "ideation" in events[1]["categories"]
    table = os1(home, "safety")
    assert table.returncode == 0 and "crisis" in table.stdout and "concern" in table.stdout


def test_safety_resources_follow_the_locale_and_the_users_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shown = json.loads(os1(home, "safety", "resources", "--json", OS1_LOCALE="GB").stdout)
    assert shown["country"] == "GB" and any("116 123" in line for line in shown["shown"])
    (home / "safety_resources.toml").write_text('[GB]\nlines = ["My local line: 0100"]\n', "utf-8")
    shown = json.loads(os1(home, "safety", "resources", "--json", OS1_LOCALE="GB").stdout)
    assert shown["lines"] == ["My local line: 0100"] and shown["emergency"] == "999"
    bad = os1(home, "safety", "resources", OS1_LOCALE="not a locale")
    assert bad.returncode == 2 and "OS1_LOCALE" in bad.stderr


def test_safety_routes_over_http(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from os1.server import create_app

    app = create_app(Settings(home=tmp_path / "home", model="echo", embeddings=False, locale="CA"))
    with TestClient(app) as client:
        assert client.get("/api/v1/safety/events").json() == {"events": []}
        r = client.post("/api/v1/chat", json={"message": "everyone would be better off without me"})
        assert r.status_code == 200 and r.json()["safety"]["level"] == "crisis"
        [event] = client.get("/api/v1/safety/events").json()["events"]
        assert event["kind"] == "crisis" and event["country"] == "CA" and event["message_id"] == r.json()["user_exchange_id"]
        resources = client.get("/api/v1/safety/resources").json()
        assert resources["country"] == "CA" and any("988" in line for line in resources["lines"])
        assert client.get("/api/v1/safety/events?limit=0").status_code == 422
