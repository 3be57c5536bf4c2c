"""Property-based tests of every parser of outside input: imports, time expressions, message cleaning.

Each property says what must hold for any input: a clear error or a well-formed result, never a crash."""

from __future__ import annotations

import asyncio
import json
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from os1.errors import InputError
from os1.inputs import clean_message, elide_middle
from os1.memory.extract import parse_when
from os1.memory.importer import Ignored, ImportRecord, Rejection, import_file, parse_chatgpt, parse_jsonl_record
from os1.memory.timeparse import find_time
from os1.storage import open_database

ZONE = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=ZONE)
MAX = 2000
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=30,
)
times = st.one_of(st.text(max_size=40), st.integers(), st.floats(), st.none(),
                  st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)).map(lambda d: d.isoformat()))
records = st.fixed_dictionaries(
    {"id": st.one_of(st.text(max_size=30), st.integers()), "speaker": st.sampled_from(["user", "assistant", "me", "bot", "", "USER "]),
     "text": st.text(max_size=300), "time": times},
    optional={"conversation": st.one_of(st.text(max_size=20), st.integers(), st.none())})


@FUZZ
@given(st.binary(max_size=400))
@example(b'{"id": 1, "speaker": "user", "text": "\\ud800", "time": "2026-01-01T10:00:00"}')
@example(b"[" * 5000)
def test_a_jsonl_line_of_any_bytes_is_a_record_a_rejection_or_blank(raw: bytes) -> None:
    got = parse_jsonl_record(raw, line=7, zone=ZONE, now=NOW, max_chars=MAX)
    assert got is None or isinstance(got, ImportRecord | Rejection)
    if isinstance(got, Rejection):
        assert got.where == "line 7" and got.reason.strip()


@FUZZ
@given(records)
def test_a_well_formed_record_keeps_its_text_as_chat_would_store_it(record: dict[str, object]) -> None:
    got = parse_jsonl_record(json.dumps(record).encode(), line=1, zone=ZONE, now=NOW, max_chars=MAX)
    assert isinstance(got, ImportRecord | Rejection)
    if isinstance(got, ImportRecord):
        assert got.text == clean_message(str(record["text"]), max_chars=MAX)
        assert got.origin == f"jsonl:{record['id']}" and got.role in ("user", "assistant")
        assert got.at <= NOW + timedelta(days=2)


@FUZZ
@given(json_values)
def test_any_json_is_a_chatgpt_export_or_a_clear_error(data: object) -> None:
    try:
        items = list(parse_chatgpt(data, now=NOW, max_chars=MAX))
    except InputError as e:
        assert e.message.strip()
        return
    for item in items:
        assert isinstance(item, ImportRecord | Rejection | Ignored)
        if isinstance(item, ImportRecord):
            assert item.text == clean_message(item.text, max_chars=MAX)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(content=st.one_of(st.binary(max_size=300), records.map(lambda r: (json.dumps(r) + "\n").encode() * 3),
                         json_values.map(lambda v: json.dumps(v).encode())))
def test_importing_any_file_reports_or_refuses_and_the_store_stays_whole(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "input.data"
    path.write_bytes(content)
    db = open_database(f"sqlite:///{tmp_path / 'fuzz.db'}")
    try:
        try:
            report = asyncio.run(import_file(db, "u", path, zone=ZONE, now=NOW, max_chars=MAX))
        except InputError as e:
            assert e.message.strip()
        else:
            assert report.imported + report.duplicates + report.rejected + report.ignored >= report.imported
        assert (db.maintain_sync(["PRAGMA integrity_check"]))[0][0] == "ok"
    finally:
        db.close()


@FUZZ
@given(st.text(max_size=120), st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1)))
@example("in the first week of 0", datetime(2026, 1, 1))
@example("99999 years ago", datetime(2026, 1, 1))
@example("last 4000000 days", datetime(2026, 1, 1))
def test_a_time_expression_is_a_past_span_or_nothing(query: str, now: datetime) -> None:
    now = now.replace(tzinfo=ZONE)
    found = find_time(query, now)
    if found is not None:
        (start, end), words = found
        assert start < end and start <= now
        assert words and words in " ".join(query.lower().replace("\u2019", "'").split())


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=60))
@example("next 99999999 weeks")
@example("on the 31st of February")
def test_a_when_phrase_is_a_date_or_nothing(phrase: str) -> None:
    got = parse_when(phrase, NOW)
    assert got is None or isinstance(got, datetime)


@FUZZ
@given(st.one_of(st.text(), st.binary()), st.integers(min_value=100, max_value=500))
@example("\x1b[31mred\x1b[0m\r\nnext", 100)
@example(b"\xff\xfe", 100)
@example("\ud800", 100)
def test_a_cleaned_message_is_printable_normalised_bounded_and_stable(raw: str | bytes, limit: int) -> None:
    try:
        text = clean_message(raw, max_chars=limit)
    except InputError as e:
        assert e.message.strip()
        return
    assert text and text == text.strip() and len(text) <= limit
    assert unicodedata.is_normalized("NFC", text)
    assert all(ch in "\n\t" or unicodedata.category(ch) != "Cc" for ch in text)
    assert "\x1b" not in text and "\r" not in text
    assert clean_message(text, max_chars=limit) == text


@FUZZ
@given(st.text(max_size=3000), st.integers(min_value=50, max_value=2000))
def test_elision_keeps_both_ends_within_bounds(text: str, limit: int) -> None:
    short, cut = elide_middle(text, limit)
    assert cut == (len(text) > limit)
    if not cut:
        assert short == text
    else:
        assume(limit > 100)
        keep = (limit - 40) // 2
        assert short.startswith(text[:keep]) and short.endswith(text[len(text) - keep:])
        assert len(short) < len(text) + 60


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
