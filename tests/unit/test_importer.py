"""`os1 import`'s core: JSON Lines and ChatGPT exports into the conversation store, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from os1.errors import InputError, StoreError
from os1.inputs import clean_message
from os1.memory import SqlConversationStore, importer
from os1.memory.importer import ImportRecord, ImportReport, Rejection, import_file, max_line_bytes, parse_jsonl
from os1.storage import Database
from os1.storage.schema import messages

from ..conftest import ZONE

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=ZONE)
MAX = 2000
USER = "u1"


# Helpers ---------------------------------------------------------------------------------------------
def jsonl(path: Path, *records: dict[str, Any] | str | bytes) -> Path:
    """Write records (objects as JSON, str/bytes verbatim) one per line."""
    lines = []
    for r in records:
        if isinstance(r, dict):
            lines.append(json.dumps(r).encode("utf-8"))
        elif isinstance(r, str):
            lines.append(r.encode("utf-8"))
        else:
            lines.append(r)
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def rec(ident: str, speaker: str, text: str, time: str = "2025-06-01T10:00:00", **extra: Any) -> dict[str, Any]:
    return {"id": ident, "speaker": speaker, "text": text, "time": time, **extra}


async def run(db: Database, path: Path, **kw: Any) -> ImportReport:
    kw.setdefault("zone", ZONE)
    kw.setdefault("now", NOW)
    kw.setdefault("max_chars", MAX)
    user = kw.pop("user", USER)
    return await import_file(db, user, path, **kw)


def rows(db: Database, user: str = USER) -> list[Any]:
    q = select(messages).where(messages.c.user_id == user).order_by(messages.c.id)
    return list(db.read_sync(lambda c: c.execute(q).all()))


def reasons(report: ImportReport) -> dict[int | None, str]:
    return {e.line: e.reason for e in report.errors}


# JSON Lines: what is stored --------------------------------------------------------------------------
async def test_jsonl_stores_each_message_with_its_time_role_origin_and_session(db: Database, tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "h.jsonl",
        rec("a1", "me", "my sister Rachel lives in Ohio", "2025-06-01T10:00:00", conversation="s1"),
        rec("a2", "OS1", "Ohio! Do you visit her often?", "2025-06-01T10:00:05-04:00", conversation="s1"),
        rec("a3", " Human ", "Caf\u0065\u0301 \x1b[31mtime\x1b[0m\r\nlater", "2025-06-02T08:00:00Z"),
        rec(7, "ai", "Sounds lovely.", "2025-06-02 08:00:30+00:00"),
    )
    report = await run(db, path)
    assert (report.imported, report.duplicates, report.rejected, report.ignored) == (4, 0, 0, 0)
    assert report.format == "jsonl" and report.errors == []
    got = rows(db)
    assert [r.id for r in got] == report.new_ids
    assert [(r.role, r.origin, r.session_id) for r in got] == [
        ("user", "jsonl:a1", "s1"), ("assistant", "jsonl:a2", "s1"), ("user", "jsonl:a3", None),
        ("assistant", "jsonl:7", None)]
    # Naive times are in the user's zone (New York, EDT in June); aware ones keep their offset.
    assert [r.created_at for r in got] == [datetime(2025, 6, 1, 14, 0), datetime(2025, 6, 1, 14, 0, 5),
                                           datetime(2025, 6, 2, 8, 0), datetime(2025, 6, 2, 8, 0, 30)]
    # Text is cleaned as chat input is: NFC, no terminal escapes, normalised newlines.
    assert got[2].text == "Café time\nlater"
    # Facts are not extracted from imported history: it is marked as done at import time.
    assert all(r.extracted_at == NOW.astimezone(UTC).replace(tzinfo=None) for r in got)
    # Imported messages are found by lexical search like any other.
    store = SqlConversationStore(db)
    hits = await store.search(USER, "Where does Rachel live?", limit=3)
    assert hits and hits[0][0].id == got[0].id
    assert hits[0][0].created_at == datetime(2025, 6, 1, 10, 0, tzinfo=ZONE)


async def test_messages_keep_the_file_order(db: Database, tmp_path: Path) -> None:
    texts = [f"message {i}" for i in range(12)]
    path = jsonl(tmp_path / "h.jsonl", *(rec(str(i), "user" if i % 2 else "assistant", t,
                                             f"2025-01-01T10:{i:02d}:00") for i, t in enumerate(texts)))
    report = await run(db, path, batch_size=5)
    assert report.imported == 12
    assert report.new_ids == sorted(report.new_ids)
    recent = await SqlConversationStore(db).recent(USER, 100)
    assert [e.text for e in recent] == texts
    assert [e.created_at.minute for e in recent] == list(range(12))


async def test_reimport_skips_what_is_there_and_adds_only_new_lines(db: Database, tmp_path: Path) -> None:
    first = [rec(str(i), "user", f"hello {i}") for i in range(7)]
    path = jsonl(tmp_path / "h.jsonl", *first)
    assert (await run(db, path, batch_size=3)).imported == 7
    again = await run(db, path, batch_size=3)
    assert (again.imported, again.duplicates, again.new_ids) == (0, 7, [])
    jsonl(path, *first, rec("7", "user", "hello 7"), rec("3", "user", "a different text, same id"))
    more = await run(db, path, batch_size=3)
    assert (more.imported, more.duplicates) == (1, 8)
    assert [r.text for r in rows(db)] == [f"hello {i}" for i in range(8)]


async def test_a_repeated_id_in_one_file_is_a_duplicate(db: Database, tmp_path: Path) -> None:
    path = jsonl(tmp_path / "h.jsonl", rec("x", "user", "first"), rec("x", "user", "second"), rec("y", "user", "third"))
    report = await run(db, path)
    assert (report.imported, report.duplicates) == (2, 1)
    assert [r.text for r in rows(db)] == ["first", "third"]


async def test_origins_are_unique_per_user_only(db: Database, tmp_path: Path) -> None:
    path = jsonl(tmp_path / "h.jsonl", rec("x", "user", "mine"))
    assert (await run(db, path, user="alice")).imported == 1
    assert (await run(db, path, user="bob")).imported == 1
    assert [r.text for r in rows(db, "bob")] == ["mine"]


# JSON Lines: bad input is reported, the rest is imported ---------------------------------------------
async def test_bad_lines_are_rejected_with_line_numbers_and_the_rest_imported(db: Database, tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "h.jsonl",
        rec("ok1", "user", "fine"),                                  # 1
        '{"id": "x", "speaker": "user", "text": "unterminated',      # 2
        "[1, 2, 3]",                                                 # 3
        '"just a string"',                                           # 4
        {"id": "m", "speaker": "user"},                              # 5
        "",                                                          # 6: blank, not an error
        rec("b1", "robot", "hi"),                                    # 7
        rec("b2", 42, "hi"),                                         # 8
        rec("b3", "user", 42),                                       # 9
        rec("b4", "user", "hi", 1717236000),                         # 10
        rec("b5", "user", "hi", "yesterday"),                        # 11
        rec("b6", "user", "hi", "2030-01-01T00:00:00Z"),             # 12
        {"id": True, "speaker": "user", "text": "hi", "time": "2025-01-01"},   # 13
        {"id": ["a"], "speaker": "user", "text": "hi", "time": "2025-01-01"},  # 14
        rec("", "user", "hi"),                                       # 15
        rec("b8", "user", "   \n\t "),                               # 16
        rec("b9", "user", "x" * (MAX + 1)),                          # 17
        rec("b10", "user", "nul\x00byte"),                           # 18
        rec("b11", "user", "hi", conversation={"a": 1}),             # 19
        rec("b12", "user", "hi", conversation="c" * 65),             # 20
        rec("b13", "user", "lone \ud800 surrogate"),                 # 21
        rec("x" * 300, "user", "hi"),                                # 22
        rec("ok2", "assistant", "also fine"),                        # 23
    )
    report = await run(db, path)
    assert report.imported == 2
    assert [r.origin for r in rows(db)] == ["jsonl:ok1", "jsonl:ok2"]
    why = reasons(report)
    assert report.rejected == len(why) == 20
    assert sorted(why) == [2, 3, 4, 5, *range(7, 23)]
    assert why[2].startswith("not valid JSON")
    assert why[3] == "expected a JSON object, got an array"
    assert why[5] == "missing 'text', 'time'"
    assert "'speaker' must be one of" in why[7] and "'robot'" in why[7]
    assert "'speaker' must be one of" in why[8] and "a number" in why[8]
    assert why[9] == "'text' must be a string, not a number"
    assert why[10] == "'time' must be an ISO-8601 string, not a number"
    assert "not an ISO-8601 date and time" in why[11]
    assert "in the future" in why[12]
    assert why[13] == "'id' must be a string or an integer, not a boolean"
    assert why[14] == "'id' must be a string or an integer, not an array"
    assert why[15] == "'id' is empty"
    assert "empty" in why[16]
    assert f"up to {MAX:,}" in why[17]
    assert "NUL" in why[18]
    assert why[19] == "'conversation' must be a string, not an object"
    assert "longer than 64" in why[20]
    assert "not valid Unicode" in why[21]
    assert "'id' is longer than" in why[22]
    assert all(e.where == f"line {e.line}" for e in report.errors)


async def test_invalid_utf8_lines_are_rejected_alone(db: Database, tmp_path: Path) -> None:
    path = jsonl(tmp_path / "h.jsonl", rec("a", "user", "before"),
                 b'{"id": "b", "speaker": "user", "text": "caf\xe9", "time": "2025-01-01T00:00:00"}',
                 rec("c", "user", "after"))
    report = await run(db, path)
    assert report.imported == 2 and report.rejected == 1
    assert reasons(report)[2].startswith("not valid UTF-8 (bad byte at position")


async def test_a_latin1_file_is_refused_or_rejected_line_by_line(sqlite_db: Database, tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("\xe9t\xe9 \xe0 Paris\n".encode("latin-1"))
    with pytest.raises(InputError, match="Cannot tell what"):
        await run(sqlite_db, path)
    report = await run(sqlite_db, path, fmt="jsonl")
    assert (report.imported, report.rejected) == (0, 1)
    assert reasons(report)[1].startswith("not valid UTF-8")
    assert rows(sqlite_db) == []


async def test_an_overlong_line_is_rejected_without_losing_the_next(sqlite_db: Database, tmp_path: Path) -> None:
    limit = max_line_bytes(MAX)
    path = jsonl(tmp_path / "h.jsonl", rec("a", "user", "one"), b'{"id": "' + b"z" * (limit * 2 + 5) + b'"}',
                 rec("c", "user", "three"))
    report = await run(sqlite_db, path)
    assert report.imported == 2
    assert reasons(report) == {2: f"longer than {limit:,} bytes"}
    assert [r.text for r in rows(sqlite_db)] == ["one", "three"]


async def test_bom_crlf_and_blank_lines_are_fine(sqlite_db: Database, tmp_path: Path) -> None:
    body = "\r\n".join(json.dumps(r) for r in [rec("a", "user", "one"), rec("b", "ai", "two")])
    path = tmp_path / "h.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode() + b"\r\n\r\n   \r\n")
    report = await run(sqlite_db, path)
    assert (report.imported, report.rejected) == (2, 0)
    assert [r.text for r in rows(sqlite_db)] == ["one", "two"]


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf"])
async def test_an_empty_file_imports_nothing_without_error(sqlite_db: Database, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(content)
    report = await run(sqlite_db, path)
    assert report.as_dict() == {"file": str(path), "format": "jsonl", "imported": 0, "duplicates": 0, "ignored": 0,
                                "rejected": 0, "errors": [], "new_ids": []}


def test_time_zone_rules() -> None:
    parse = importer.parse_time
    assert parse("2025-01-15T09:00:00", zone=ZONE, now=NOW) == datetime(2025, 1, 15, 14, 0, tzinfo=UTC)
    assert parse("2025-01-15T09:00:00Z", zone=ZONE, now=NOW) == datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
    assert parse("2025-01-15T09:00+09:00", zone=ZONE, now=NOW) == datetime(2025, 1, 15, 0, 0, tzinfo=UTC)
    assert parse(" 2025-01-15 ", zone=ZONE, now=NOW) == datetime(2025, 1, 15, tzinfo=ZONE)
    # A day of slack for a wrong zone; beyond that it is the future.
    assert parse("2026-11-26T09:00:00", zone=ZONE, now=NOW)
    with pytest.raises(ValueError, match="future"):
        parse("2026-11-27T09:00:00", zone=ZONE, now=NOW)
    with pytest.raises(ValueError, match="out of range"):
        parse("0001-01-01T00:00:00+05:00", zone=ZONE, now=NOW)


# Files that cannot be imported at all -----------------------------------------------------------------
async def test_unreadable_and_unknown_files_raise_input_error_and_store_nothing(sqlite_db: Database, tmp_path: Path) -> None:
    (tmp_path / "export.zip").write_bytes(b"PK\x03\x04rest of a zip")
    (tmp_path / "notes.txt").write_text("dear diary\n")
    (tmp_path / "dir").mkdir()
    cases = {"missing.jsonl": "No such file", "export.zip": "zip archive", "notes.txt": "Cannot tell what",
             "dir": "is a directory"}
    for name, match in cases.items():
        with pytest.raises(InputError, match=match) as info:
            await run(sqlite_db, tmp_path / name)
        assert info.value.hint or name in ("missing.jsonl",)
    with pytest.raises(InputError, match="Unknown format"):
        await run(sqlite_db, tmp_path / "notes.txt", fmt="csv")
    assert rows(sqlite_db) == []


# Batches: all or nothing each ------------------------------------------------------------------------
async def test_a_failure_mid_import_leaves_whole_batches_and_a_rerun_finishes(
        db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = jsonl(tmp_path / "h.jsonl", *(rec(str(i), "user", f"line {i}") for i in range(10)))
    real = importer.insert_batch
    calls = 0

    def failing_second_batch(conn: Any, user_id: str, records: Any, *, now: datetime) -> Any:
        nonlocal calls
        calls += 1
        result = real(conn, user_id, records, now=now)  # the rows are written, then the batch fails
        if calls == 2:
            raise OperationalError("INSERT INTO messages", {}, Exception("disk I/O error"))
        return result

    monkeypatch.setattr(importer, "insert_batch", failing_second_batch)
    with pytest.raises(StoreError, match="4 messages were imported before it") as info:
        await run(db, path, batch_size=4)
    assert "again" in (info.value.hint or "")
    assert [r.text for r in rows(db)] == [f"line {i}" for i in range(4)]  # batch 2 rolled back whole

    monkeypatch.setattr(importer, "insert_batch", real)
    report = await run(db, path, batch_size=4)
    assert (report.imported, report.duplicates) == (6, 4)
    assert [r.text for r in rows(db)] == [f"line {i}" for i in range(10)]


async def test_progress_reports_bytes_read(sqlite_db: Database, tmp_path: Path) -> None:
    path = jsonl(tmp_path / "h.jsonl", *(rec(str(i), "user", f"line {i}") for i in range(5)))
    seen: list[tuple[int, int]] = []
    await run(sqlite_db, path, batch_size=2, on_progress=lambda done, total: seen.append((done, total)))
    size = path.stat().st_size
    assert seen[-1] == (size, size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and len(seen) >= 3


# ChatGPT ---------------------------------------------------------------------------------------------
def node(nid: str, parent: str | None, role: str | None, parts: list[Any] | None = None, *, t: float | None = None,
         content_type: str = "text", **message: Any) -> dict[str, Any]:
    msg = None
    if role is not None:
        msg = {"id": nid, "author": {"role": role}, "create_time": t,
               "content": {"content_type": content_type, "parts": parts or []}, **message}
    return {"id": nid, "message": msg, "parent": parent, "children": []}


def conversation(title: str, nodes: list[dict[str, Any]], current: str, *, created: float | None,
                 cid: str | None = None) -> dict[str, Any]:
    mapping = {n["id"]: n for n in nodes}
    for n in nodes:
        if n["parent"] in mapping:
            mapping[n["parent"]]["children"].append(n["id"])
    return {"title": title, "create_time": created, "update_time": created, "mapping": mapping,
            "current_node": current, "conversation_id": cid or f"conv-{title}", "id": cid or f"conv-{title}"}


T = datetime(2025, 3, 10, 12, 0, tzinfo=UTC).timestamp()


def garden() -> dict[str, Any]:
    """A conversation with a system prompt, an edited (branched) question, tool use, an image and hidden context."""
    return conversation("Garden", [
        node("root", None, None),
        node("sys", "root", "system", [""], t=None),
        node("ctx", "sys", "user", ["custom instructions"], t=T, metadata={"is_visually_hidden_from_conversation": True}),
        node("u1", "ctx", "user", ["How do I grow tomatoes?"], t=T + 1),
        node("a1-old", "u1", "assistant", ["Old answer from a branch."], t=T + 2),
        node("a1", "u1", "assistant", ["Full sun, ", "and water daily."], t=T + 3),
        node("u2-old", "a1", "user", ["what about basil? (edited away)"], t=T + 4),
        node("u2", "a1", "user", ["And peppers?", {"content_type": "image_asset_pointer"}], t=T + 5,
             content_type="multimodal_text"),
        node("call", "u2", "assistant", ['{"search": "peppers"}'], t=T + 6, recipient="browser"),
        node("tool", "call", "tool", ["results..."], t=T + 7),
        node("code", "tool", "assistant", ["print(1)"], t=T + 8, content_type="code"),
        node("img", "code", "user", [{"content_type": "image_asset_pointer"}], t=T + 9,
             content_type="multimodal_text"),
        node("a2", "img", "assistant", ["Peppers like heat."], t=None),
    ], current="a2", created=T - 60, cid="c-garden")


async def test_chatgpt_imports_the_current_thread_only(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([garden()]))
    report = await run(db, path)
    assert report.format == "chatgpt"
    assert (report.imported, report.rejected) == (4, 0)
    assert report.ignored == 6  # system prompt, hidden context, tool call, tool result, code, image only
    got = rows(db)
    assert [(r.role, r.text, r.origin) for r in got] == [
        ("user", "How do I grow tomatoes?", "chatgpt:u1"),
        ("assistant", "Full sun, \nand water daily.", "chatgpt:a1"),
        ("user", "And peppers?", "chatgpt:u2"),
        ("assistant", "Peppers like heat.", "chatgpt:a2"),
    ]
    assert {r.session_id for r in got} == {"chatgpt:c-garden"}
    # Each message's own time; the conversation's when it has none.
    assert [r.created_at for r in got] == [datetime.fromtimestamp(T + d, UTC).replace(tzinfo=None) for d in (1, 3, 5)] \
        + [datetime.fromtimestamp(T - 60, UTC).replace(tzinfo=None)]
    again = await run(db, path)
    assert (again.imported, again.duplicates, again.ignored) == (0, 4, 6)


async def test_chatgpt_conversations_are_imported_oldest_first(db: Database, tmp_path: Path) -> None:
    def simple(title: str, created: float) -> dict[str, Any]:
        return conversation(title, [node("r-" + title, None, None),
                                    node("m-" + title, "r-" + title, "user", [f"{title} said"], t=created)],
                            current="m-" + title, created=created)

    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([simple("newest", T + 200), simple("oldest", T), simple("middle", T + 100)]))
    await run(db, path)
    assert [r.text for r in rows(db)] == ["oldest said", "middle said", "newest said"]


async def test_broken_chatgpt_conversations_are_rejected_and_the_rest_imported(db: Database, tmp_path: Path) -> None:
    ok = conversation("ok", [node("r", None, None), node("m", "r", "user", ["kept"], t=T)], current="m", created=T)
    cyclic = conversation("loop", [node("x", "y", "user", ["x"], t=T), node("y", "x", "user", ["y"], t=T)],
                          current="x", created=T)
    dangling = conversation("dangling", [node("d", "gone", "user", ["d"], t=T)], current="d", created=T)
    no_current = conversation("nocurrent", [node("n", None, "user", ["n"], t=T)], current="n", created=T)
    del no_current["current_node"]
    bad_times = conversation("times", [node("r2", None, None), node("t1", "r2", "user", ["bad time"], t=1e300),
                                       node("t2", "t1", "user", ["future"], t=T * 2),
                                       node("t3", "t2", "user", ["no time at all"])], current="t3", created=None)
    too_long = conversation("long", [node("l", None, "assistant", ["y" * (MAX + 1)], t=T)], current="l", created=T)
    data: list[Any] = [ok, cyclic, dangling, no_current, "not an object", {"title": "no mapping"}, bad_times, too_long]
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(data))
    report = await run(db, path)
    assert [r.text for r in rows(db)] == ["kept"]
    why = {e.where: e.reason for e in report.errors}
    assert why == {
        "conversation 2 ('loop')": "its message tree has a cycle",
        "conversation 3 ('dangling')": "its message tree refers to a missing node 'gone'",
        "conversation 4 ('nocurrent')": "no 'current_node': cannot tell which thread is the conversation",
        "conversation 5": "expected an object, got a string",
        "conversation 6 ('no mapping')": "no 'mapping' object: not a ChatGPT conversation",
        "conversation 7 ('times'), message t1": "create_time is out of range",
        "conversation 7 ('times'), message t2": f"create_time is in the future (after {NOW:%Y-%m-%d %H:%M %Z})",
        "conversation 7 ('times'), message t3": "neither the message nor its conversation has a create_time",
        "conversation 8 ('long'), message l": f"text: The message is {MAX + 1:,} characters long; OS1 takes up to {MAX:,} at a time.",
    }
    assert all(e.line is None for e in report.errors)


@pytest.mark.parametrize(("content", "match"), [
    (b'{"not": "a list"}', "expected a JSON array of conversations, found an object"),
    (b'[{"title": "cut off', "not valid JSON"),
    (b"[" + b"\xff" * 3 + b"]", "not valid UTF-8"),
    (b"[" * 100_000, "nested too deeply"),
])
async def test_a_file_that_is_not_a_chatgpt_export_is_refused_whole(sqlite_db: Database, tmp_path: Path, content: bytes,
                                                                     match: str) -> None:
    path = tmp_path / "conversations.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=match):
        await run(sqlite_db, path, fmt="chatgpt")
    assert rows(sqlite_db) == []


async def test_a_chatgpt_export_over_the_size_limit_is_refused(sqlite_db: Database, tmp_path: Path) -> None:
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([garden()]))
    with pytest.raises(InputError, match="OS1 reads ChatGPT exports of up to 0 MB") as info:
        await run(sqlite_db, path, max_json_bytes=100)
    assert "Split" in (info.value.hint or "")
    assert rows(sqlite_db) == []


# The JSON Lines parser never crashes ------------------------------------------------------------------
def parse_all(data: bytes, max_chars: int = 200) -> list[ImportRecord | Rejection]:
    return list(parse_jsonl(io.BytesIO(data), zone=ZONE, now=NOW, max_chars=max_chars))


def check_items(data: bytes, items: list[ImportRecord | Rejection]) -> None:
    lines = data.count(b"\n") + 1
    assert len(items) <= lines
    for item in items:
        if isinstance(item, Rejection):
            assert item.line is not None and 1 <= item.line <= lines and item.reason
        else:
            assert isinstance(item, ImportRecord)
            assert item.origin.startswith("jsonl:") and item.text and item.at.tzinfo is not None
            assert item.role in ("user", "assistant")


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_crash_the_parser(data: bytes) -> None:
    check_items(data, parse_all(data))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
fields = st.fixed_dictionaries({}, optional={
    "id": json_values | st.text(max_size=10), "speaker": json_values | st.sampled_from(["user", "ai", "Me", "OS1"]),
    "text": json_values | st.text(max_size=300), "time": json_values | st.datetimes().map(datetime.isoformat),
    "conversation": json_values,
})


@settings(max_examples=150, deadline=None)
@given(st.lists(fields | json_values, max_size=6))
def test_arbitrary_json_records_never_crash_the_parser(records: list[Any]) -> None:
    data = b"\n".join(json.dumps(r).encode() for r in records)
    check_items(data, parse_all(data))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=10).filter(str.strip), st.sampled_from(["user", "me", "assistant", "ai"]),
                          st.text(max_size=100),
                          st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2026, 1, 1))), max_size=5))
def test_valid_records_come_back_as_written(specs: list[tuple[str, str, str, datetime]]) -> None:
    data = b"\n".join(json.dumps(rec(i, s, t, w.isoformat())).encode() for i, s, t, w in specs)
    items = parse_all(data)
    assert len(items) == len(specs)
    for (ident, speaker, text, when), item in zip(specs, items, strict=True):
        if isinstance(item, Rejection):  # only text that chat would refuse too (empty once cleaned)
            assert item.reason.startswith("'text'"), item
            continue
        assert item.origin == "jsonl:" + ident
        assert item.role == ("user" if speaker in ("user", "me") else "assistant")
        assert item.at == when.replace(tzinfo=ZONE)
        assert item.text == clean_message(text, max_chars=200)


def test_the_report_serialises_to_json() -> None:
    report = ImportReport(file="f", format="jsonl", imported=1, new_ids=[5])
    report.reject(Rejection("line 2", "bad", 2))
    assert json.loads(json.dumps(report.as_dict())) == {
        "file": "f", "format": "jsonl", "imported": 1, "duplicates": 0, "ignored": 0, "rejected": 1,
        "errors": [{"where": "line 2", "line": 2, "reason": "bad"}], "new_ids": [5]}
    for i in range(importer.MAX_ERRORS + 5):
        report.reject(Rejection(f"line {i}", "bad", i))
    assert report.rejected == importer.MAX_ERRORS + 6 and len(report.errors) == importer.MAX_ERRORS
