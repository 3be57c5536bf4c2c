"""Your data, as a person drives it: `os1 export`, `os1 delete`, `os1 encrypt`, `os1 goodbye` in real processes,
and the same over real HTTP (`/api/v1/privacy`, `/api/v1/export`, `/api/v1/delete`, rate limits)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .test_cli import chat, error_of, os1, prompt
from .test_http import Server

pytestmark = pytest.mark.real
SECRET = "the lighthouse keeper whispers marmalade"
PASS = "correct horse battery staple"


def on_disk(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in home.glob("os1.db*"))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    chat(home, "Hi, I'm Dana")
    chat(home, f"Can I tell you something? {SECRET}")
    return home


def test_export_then_delete_everything(home: Path, tmp_path: Path) -> None:
    run = os1(home, "export", str(tmp_path / "export"), "--json")
    assert run.code == 0, run.err
    report = run.json()
    assert report["tables"]["messages"] == 4 and report["tables"]["users"] == 1
    book = (tmp_path / "export" / "memory-book.md").read_text("utf-8")
    assert f"> Can I tell you something? {SECRET}" in book and "and Dana" in book.splitlines()[0]
    messages = json.loads((tmp_path / "export" / "tables" / "messages.json").read_text("utf-8"))
    assert [m["text"] for m in messages if m["role"] == "user"] == ["Hi, I'm Dana", f"Can I tell you something? {SECRET}"]
    assert error_of(os1(home, "export", str(tmp_path / "export"), "--json"), 2, "InputError")  # never overwrites

    refused = os1(home, "delete", "--everything", "--json")  # no terminal to confirm in, no --yes
    assert "not confirmed" in error_of(refused, 2, "InputError")["message"]
    assert SECRET.encode() in on_disk(home)
    assert error_of(os1(home, "delete", "--json"), 2, "InputError")  # say what to delete

    run = os1(home, "delete", "--everything", "--yes", "--json")
    assert run.code == 0, run.err
    gone = run.json()
    assert gone["verified"] and gone["rows"]["messages"] == 4 and set(gone["remaining"].values()) == {0}
    assert SECRET.encode() not in on_disk(home) and b"marmalad" not in on_disk(home)
    fresh = chat(home, "hello?")  # OS1 starts over: a first meeting, nothing remembered
    assert not any(SECRET in m["content"] for m in prompt(fresh["reply"]))
    assert fresh["user_exchange_id"] is not None


def test_encrypt_then_everything_needs_the_passphrase(home: Path) -> None:
    run = os1(home, "encrypt", OS1_PASSPHRASE=PASS)
    assert run.code == 0, run.err
    assert "encrypted" in run.out and SECRET.encode() not in on_disk(home)
    error = error_of(os1(home, "chat", "--model", "echo", "--json", "--message", "hi"), 2, "ConfigError")
    assert "encrypted and no passphrase" in error["message"] and "OS1_PASSPHRASE" in error["hint"]
    wrong = error_of(os1(home, "chat", "--model", "echo", "--json", "--message", "hi", OS1_PASSPHRASE="nope"), 2)
    assert "wrong" in wrong["message"]
    after = chat(home, "what did I tell you about the lighthouse?", OS1_PASSPHRASE=PASS)
    assert any(SECRET in m["content"] for m in prompt(after["reply"]))  # recall works on the encrypted file
    doctor = os1(home, "doctor", "--model", "echo", OS1_PASSPHRASE=PASS)
    assert "nothing leaves this machine" in doctor.out and "database is encrypted" in doctor.out
    assert SECRET.encode() not in on_disk(home)
    run = os1(home, "encrypt", "--decrypt", OS1_PASSPHRASE=PASS)
    assert run.code == 0, run.err
    assert SECRET.encode() in on_disk(home)
    chat(home, "plain again")


def test_goodbye_writes_a_letter_exports_and_deletes(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "farewell"
    run = os1(home, "goodbye", "--dir", str(out), "--delete", "--yes", "--model", "echo")
    assert run.code == 0, run.err
    letter = (out / "farewell-letter.md").read_text("utf-8")
    # The echo model shows the prompt the letter was written from: the goodbye prompt, with what was kept.
    asked = prompt_text(letter)
    assert "farewell letter" in asked and "Dana" in asked and SECRET in asked
    messages = json.loads((out / "tables" / "messages.json").read_text("utf-8"))
    assert messages[-1]["role"] == "assistant" and messages[-1]["text"] == letter.strip()  # the letter, kept
    assert (out / "memory-book.md").exists()
    assert "Verified" in run.out and SECRET.encode() not in on_disk(home)


def test_goodbye_can_keep_everything(home: Path, tmp_path: Path) -> None:
    run = os1(home, "goodbye", "--dir", str(tmp_path / "bye"), "--keep", "--model", "echo")
    assert run.code == 0, run.err
    assert "Nothing was deleted" in run.out and SECRET.encode() in on_disk(home)


def prompt_text(reply: str) -> str:
    return "\n".join(m["content"] for m in prompt_lines(reply))


def prompt_lines(reply: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in reply.splitlines() if line.strip()]


# Over HTTP -----------------------------------------------------------------------------------------
@pytest.fixture
def server(home: Path) -> Iterator[Server]:
    s = Server(home, env={"OS1_EMBEDDINGS": "0", "OS1_TURN_RATE_LIMIT": "4/minute"}).start()
    yield s
    s.stop()


def test_privacy_export_and_delete_over_http(server: Server) -> None:
    with server.client() as c:
        privacy = c.get("/api/v1/privacy").json()
        assert privacy["leaves_machine"] is False and privacy["summary"] == "nothing leaves this machine"
        assert privacy["encrypted"] is False and privacy["telemetry"] == "none"

        r = c.get("/api/v1/export")
        assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
        assert r.headers["content-disposition"].startswith('attachment; filename="os1-export-')
        with zipfile.ZipFile(io.BytesIO(r.content)) as z:
            assert {"manifest.json", "memory-book.md", "tables/messages.json"} <= set(z.namelist())
            assert SECRET in z.read("memory-book.md").decode()

        for body in ({}, {"confirm": "yes"}):
            r = c.post("/api/v1/delete", json=body)
            assert r.status_code in (400, 422), r.text
            assert "error" in r.json() or "detail" in r.json()
        assert len(c.get("/api/v1/history").json()["messages"]) == 4  # nothing deleted without confirmation

        r = c.post("/api/v1/delete", json={"confirm": "delete everything"})
        assert r.status_code == 200, r.text
        assert r.json()["verified"] is True
        assert c.get("/api/v1/history").json()["messages"] == []
        assert SECRET.encode() not in on_disk(server.home)
        assert c.post("/api/v1/chat", json={"message": "hello again"}).status_code == 200  # works after


def test_too_many_turns_get_a_429_with_a_clear_message(server: Server) -> None:
    with server.client() as c:
        codes = [c.post("/api/v1/chat", json={"message": f"turn {i}"}).status_code for i in range(5)]
        assert codes == [200, 200, 200, 200, 429]
        r = c.post("/api/v1/chat", json={"message": "one more"})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        error = r.json()["error"]
        assert error["type"] == "RateLimited" and "4 turns per minute" in error["message"] and "Wait" in error["hint"]
        assert c.get("/api/v1/history").status_code == 200  # other requests go on
        assert len(c.get("/api/v1/history").json()["messages"]) == 4 + 8  # refused turns stored nothing
        other = c.post("/api/v1/chat", json={"message": "another user"}, headers={"Authorization": "Bearer someone-else"})
        assert other.status_code == 200  # limits are per client
