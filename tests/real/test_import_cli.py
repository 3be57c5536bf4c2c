"""`os1 import` as users run it: real processes, real SQLite files, then the imported history in a chat turn."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from .test_cli import RACHEL, chat, error_of, final_user, os1, os1_env, stored

REPORT_KEYS = {"file", "format", "imported", "duplicates", "ignored", "rejected", "errors", "new_ids"}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def write_jsonl(path: Path, records: list[dict[str, Any] | str]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), "utf-8")
    return path


def history(n: int) -> list[dict[str, Any] | str]:
    """A past conversation: the first thing said is about Rachel, then small talk."""
    records: list[dict[str, Any] | str] = [
        {"id": "h0", "speaker": "me", "text": RACHEL, "time": "2025-06-01T10:00:00", "conversation": "old"}]
    for i in range(1, n):
        records.append({"id": f"h{i}", "speaker": "ai" if i % 2 else "me", "text": f"small talk about the weather, part {i}",
                        "time": f"2025-06-01T10:{i:02d}:30", "conversation": "old"})
    return records


def test_imported_history_is_recalled_in_chat_and_a_second_import_skips_it_all(home: Path, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "history.jsonl", history(40))
    run = os1(home, "import", str(path), "--json")
    assert run.code == 0, run.err
    report = run.json()
    assert set(report) == REPORT_KEYS
    assert (report["format"], report["imported"], report["duplicates"], report["rejected"]) == ("jsonl", 40, 0, 0)
    exchanges, _ = stored(home)
    assert [e.id for e in exchanges] == report["new_ids"]
    assert exchanges[0].text == RACHEL and exchanges[0].role == "user" and exchanges[1].role == "assistant"
    # Naive times are in the user's zone (OS1_NOW's offset here, -05:00).
    assert exchanges[0].created_at == datetime(2025, 6, 1, 15, 0, tzinfo=UTC)

    # 40 messages: Rachel is older than the prompt's recent window, so she comes back through recall.
    result = chat(home, "How is Rachel doing in Ohio these days?")
    rachel = [m for m in result["memories"] if m["text"] == RACHEL]
    assert rachel, result["memories"]
    assert rachel[0]["source"] == "you said on 2025-06-01 10:00"
    assert RACHEL in final_user(result)

    again = os1(home, "import", str(path), "--json")
    assert again.code == 0, again.err
    assert {k: again.json()[k] for k in ("imported", "duplicates", "rejected", "new_ids")} == \
        {"imported": 0, "duplicates": 40, "rejected": 0, "new_ids": []}
    plain = os1(home, "import", str(path))
    assert plain.code == 0, plain.err
    assert plain.out.strip() == (f"Imported 0 messages from {path} (JSON Lines): 40 already there, 0 rejected, "
                                 "0 ignored (not conversation text).")
    assert len(stored(home)[0]) == 42  # 40 imported + one chat turn, nothing twice


def test_rejected_lines_are_listed_and_exit_1_with_the_rest_imported(home: Path, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "h.jsonl", [
        {"id": "a", "speaker": "user", "text": "kept", "time": "2026-01-02T09:00:00"},
        "{not json",
        {"id": "b", "speaker": "user", "text": "x" * 20_001, "time": "2026-01-02T09:00:00"},
        {"id": "c", "speaker": "user", "text": "no time"},
    ])
    run = os1(home, "import", str(path), OS1_TZ="Asia/Tokyo")
    assert run.code == 1, run.err
    assert "Imported 1 messages" in run.out and "3 rejected" in run.out
    assert "line 2: not valid JSON" in run.err
    assert "line 3: 'text': The message is 20,001 characters long" in run.err
    assert "line 4: missing 'time'" in run.err
    exchanges, _ = stored(home)
    assert [e.text for e in exchanges] == ["kept"]
    assert exchanges[0].created_at == datetime(2026, 1, 2, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo

    run = os1(home, "import", str(path), "--json")
    assert run.code == 1
    report = run.json()
    assert (report["imported"], report["duplicates"], report["rejected"]) == (0, 1, 3)
    assert [e["line"] for e in report["errors"]] == [2, 3, 4]


def test_a_chatgpt_export_is_detected_and_imported(home: Path, tmp_path: Path) -> None:
    t = datetime(2025, 3, 10, 12, 0, tzinfo=UTC).timestamp()
    mapping = {
        "root": {"id": "root", "message": None, "parent": None, "children": ["q"]},
        "q": {"id": "q", "message": {"id": "q", "author": {"role": "user"}, "create_time": t,
                                     "content": {"content_type": "text", "parts": ["My dog Biscuit loves the beach"]}},
              "parent": "root", "children": ["a"]},
        "a": {"id": "a", "message": {"id": "a", "author": {"role": "assistant"}, "create_time": t + 5,
                                     "content": {"content_type": "text", "parts": ["Biscuit sounds fun!"]}},
              "parent": "q", "children": []},
    }
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([{"title": "Dogs", "create_time": t, "mapping": mapping, "current_node": "a",
                                 "conversation_id": "c1"}]))
    run = os1(home, "import", str(path))
    assert run.code == 0, run.err
    assert run.out.strip().startswith("Imported 2 messages from") and "(ChatGPT export)" in run.out
    exchanges, _ = stored(home)
    assert [(e.role, e.text, e.session_id) for e in exchanges] == [
        ("user", "My dog Biscuit loves the beach", "chatgpt:c1"), ("assistant", "Biscuit sounds fun!", "chatgpt:c1")]
    # --format overrides detection: the export is one line of JSON that is not an object.
    run = os1(home, "import", str(path), "--format", "jsonl", "--json")
    assert run.code == 1 and run.json()["errors"][0]["reason"] == "expected a JSON object, got an array"


@pytest.mark.parametrize(("name", "content", "message"), [
    ("missing.jsonl", None, "Cannot read"),
    ("notes.txt", b"dear diary\n", "Cannot tell what"),
    ("export.zip", b"PK\x03\x04zipped", "zip archive"),
    ("conversations.json", b'[{"title": "cut', "not valid JSON"),
])
def test_files_that_cannot_be_imported_exit_2_with_a_clear_error(home: Path, tmp_path: Path, name: str,
                                                                   content: bytes | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    error = error_of(os1(home, "import", str(path), "--json"), 2, "InputError")
    assert message in error["message"]
    run = os1(home, "import", str(path))
    assert run.code == 2 and "Error:" in run.err and message in run.err and run.out == ""
    assert stored(home)[0] == []


def test_an_unknown_format_option_exits_2(home: Path, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "h.jsonl", history(1))
    error = error_of(os1(home, "import", str(path), "--format", "csv", "--json"), 2, "InputError")
    assert "csv" in error["message"]


def test_a_killed_import_leaves_whole_batches_and_a_rerun_finishes(home: Path, tmp_path: Path) -> None:
    total = 40_000
    path = tmp_path / "big.jsonl"
    with path.open("w") as f:
        for i in range(total):
            f.write(json.dumps({"id": str(i), "speaker": "user", "text": f"message {i}", "time": "2025-01-01T10:00:00"}) + "\n")
    db_file = home / "os1.db"
    proc = subprocess.Popen([sys.executable, "-m", "os1.cli", "import", str(path)], env=os1_env(home),
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def count() -> int:
        try:
            with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=5) as conn:
                return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
        except sqlite3.OperationalError:  # not created or not migrated yet
            return 0

    try:
        deadline = time.monotonic() + 120
        while count() == 0 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    kept = count()
    assert 0 < kept < total and kept % 500 == 0, kept  # killed mid-import: only whole batches
    texts = [e.text for e in stored(home)[0]]
    assert texts == [f"message {i}" for i in range(kept)]

    run = os1(home, "import", str(path), "--json")
    assert run.code == 0, run.err
    report = run.json()
    assert (report["imported"], report["duplicates"]) == (total - kept, kept)
    assert count() == total
