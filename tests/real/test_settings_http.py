"""Settings from the web app over real HTTP: GET/PUT /api/v1/settings, saved under OS1_HOME, read at the next start."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from os1 import Settings
from os1.server.app import create_app
from os1.testing import FakeOpenAIServer, serve_app

pytestmark = pytest.mark.real


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def api(home: Path) -> Iterator[httpx.Client]:
    with serve_app(create_app(Settings(home=home, model="echo", embeddings=False))) as base, \
            httpx.Client(base_url=base, timeout=60) as c:
        yield c


def test_get_describes_the_settings_and_the_models(api: httpx.Client) -> None:
    got = api.get("/api/v1/settings").json()
    assert got["model"] == "echo" and got["openai_api_key_set"] is False and got["restart_required"] == []
    names = {m["name"] for m in got["models"]}
    assert {"default", "tiny", "echo"} <= names


def test_bad_values_are_refused_and_nothing_is_saved(api: httpx.Client, home: Path) -> None:
    for body in ({"model": "nonsense"}, {"model": "gguf:/no/such/file.gguf"}, {"tz": "Mars/Olympus"},
                 {"openai_base_url": "ftp://example"}):
        r = api.put("/api/v1/settings", json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["message"] and r.json()["error"]["hint"]
    assert not (home / "settings.json").exists()
    assert api.get("/api/v1/settings").json()["model"] == "echo"
    assert api.put("/api/v1/settings", json={"model": 5}).status_code == 422


def test_a_new_backend_is_used_at_once_and_its_key_never_comes_back(api: httpx.Client, home: Path) -> None:
    fake = FakeOpenAIServer(replies=["From the fake server."], api_key="sk-secret-1")
    with serve_app(fake.app()) as fake_base:
        r = api.put("/api/v1/settings", json={"model": f"openai:fake-model@{fake_base}/v1", "openai_api_key": "sk-secret-1"})
        assert r.status_code == 200 and "sk-secret-1" not in r.text
        assert r.json()["openai_api_key_set"] is True
        reply = api.post("/api/v1/chat", json={"message": "Hello?"}).json()
        assert reply["reply"] == "From the fake server." and reply["model"].startswith("openai:fake-model")
        assert fake.headers[-1]["authorization"] == "Bearer sk-secret-1"
    assert "sk-secret-1" not in api.get("/api/v1/settings").text
    assert "sk-secret-1" not in (home / "settings.json").read_text("utf-8")
    assert "sk-secret-1" in (home / "keys.toml").read_text("utf-8")


def test_the_key_file_keeps_other_keys(api: httpx.Client, home: Path) -> None:
    (home / "keys.toml").write_text('# mine\nother_key = "keep me"\n', "utf-8")
    assert api.put("/api/v1/settings", json={"openai_api_key": "sk-2"}).status_code == 200
    text = (home / "keys.toml").read_text("utf-8")
    assert "# mine" in text and 'other_key = "keep me"' in text and "sk-2" in text
    assert api.put("/api/v1/settings", json={"openai_api_key": ""}).status_code == 200
    assert "sk-2" not in (home / "keys.toml").read_text("utf-8")


def test_saved_settings_are_read_at_the_next_start_below_the_environment(api: httpx.Client, home: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    r = api.put("/api/v1/settings", json={"model": "tiny", "tz": "Europe/Paris"})
    assert r.status_code == 200 and r.json()["restart_required"] == [] and r.json()["tz"] == "Europe/Paris"
    # The time zone is the person's own (stored with their data, applied at once), not the installation's.
    assert json.loads((home / "settings.json").read_text("utf-8")) == {"model": "tiny"}
    assert Settings(home=home).model == "tiny"
    assert api.get("/api/v1/settings").json()["tz"] == "Europe/Paris"
    monkeypatch.setenv("OS1_MODEL", "echo")
    assert Settings(home=home).model == "echo"  # OS1_* variables win
    assert api.get("/api/v1/settings").json()["from_environment"] == ["model"]


def test_an_unreadable_settings_file_is_ignored(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "settings.json").write_text("{not json", "utf-8")
    assert Settings(home=home).model == "default"
