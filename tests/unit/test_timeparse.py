"""time_range: which span of time a question is about, in the user's own time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from os1.memory.timeparse import in_range, time_range

NY = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
# A Wednesday.
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=NY)


def local(y: int, m: int, d: int, h: int = 0, tz: ZoneInfo = NY) -> datetime:
    return datetime(y, m, d, h, tzinfo=tz)


@pytest.mark.parametrize(("query", "start", "end"), [
    ("What did I do yesterday?", local(2026, 11, 24), local(2026, 11, 25)),
    ("anything earlier today?", local(2026, 11, 25), local(2026, 11, 26)),
    ("the day before yesterday", local(2026, 11, 23), local(2026, 11, 24)),
    ("what happened last week", local(2026, 11, 16), local(2026, 11, 23)),
    ("this week has been long", local(2026, 11, 23), local(2026, 11, 30)),
    ("the week before last", local(2026, 11, 9), local(2026, 11, 16)),
    ("how was last month", local(2026, 10, 1), local(2026, 11, 1)),
    ("what did I say in March?", local(2026, 3, 1), local(2026, 4, 1)),
    ("what did I say on Monday?", local(2026, 11, 23), local(2026, 11, 24)),
    ("last Friday", local(2026, 11, 20), local(2026, 11, 21)),
    ("on Wednesday", local(2026, 11, 18), local(2026, 11, 19)),  # today is Wednesday: a week ago
    ("3 days ago", local(2026, 11, 22), local(2026, 11, 23)),
    ("two weeks ago", local(2026, 11, 9), local(2026, 11, 16)),
    ("a month ago", local(2026, 10, 1), local(2026, 11, 1)),
    ("this morning", local(2026, 11, 25, 5), local(2026, 11, 25, 12)),
    ("yesterday evening", local(2026, 11, 24, 17), local(2026, 11, 25)),
    ("last night", local(2026, 11, 24, 18), local(2026, 11, 25, 5)),
    ("tonight", local(2026, 11, 25, 17), local(2026, 11, 26, 5)),
    ("last year", local(2025, 1, 1), local(2026, 1, 1)),
    ("back in 2025", local(2025, 1, 1), local(2026, 1, 1)),
    ("on 2026-03-14", local(2026, 3, 14), local(2026, 3, 15)),
    ("on March 14th", local(2026, 3, 14), local(2026, 3, 15)),
    ("on the 14th of March 2025", local(2025, 3, 14), local(2025, 3, 15)),
    ("Dec 24", local(2025, 12, 24), local(2025, 12, 25)),  # not yet this year: last year's
    ("in May 2025", local(2025, 5, 1), local(2025, 6, 1)),
    ("last weekend", local(2026, 11, 21), local(2026, 11, 23)),
    ("the past 3 days", local(2026, 11, 22), NOW),
    ("since March", local(2026, 3, 1), NOW),
])
def test_phrases(query: str, start: datetime, end: datetime) -> None:
    assert time_range(query, NOW) == (start, end)


@pytest.mark.parametrize("query", [
    "how are you?", "I love Mondays", "what's next week looking like", "see you next Monday",
    "I may go out", "in 3025", "tell me about my sister",
])
def test_no_time_or_only_the_future(query: str) -> None:
    assert time_range(query, NOW) is None


def test_month_and_year_boundaries() -> None:
    new_year = datetime(2027, 1, 1, 8, 0, tzinfo=NY)  # a Friday
    assert time_range("yesterday", new_year) == (local(2026, 12, 31), local(2027, 1, 1))
    assert time_range("last month", new_year) == (local(2026, 12, 1), local(2027, 1, 1))
    assert time_range("last year", new_year) == (local(2026, 1, 1), local(2027, 1, 1))
    assert time_range("last week", new_year) == (local(2026, 12, 21), local(2026, 12, 28))
    assert time_range("in December", new_year) == (local(2026, 12, 1), local(2027, 1, 1))
    assert time_range("2 months ago", new_year) == (local(2026, 11, 1), local(2026, 12, 1))
    march = datetime(2026, 3, 1, 10, 0, tzinfo=NY)
    assert time_range("yesterday", march) == (local(2026, 2, 28), local(2026, 3, 1))
    assert time_range("in March", march) == (local(2026, 3, 1), local(2026, 4, 1))  # this March has begun
    assert time_range("last March", march) == (local(2025, 3, 1), local(2025, 4, 1))
    assert time_range("in April", march) == (local(2025, 4, 1), local(2025, 5, 1))
    leap = datetime(2028, 3, 1, 10, 0, tzinfo=NY)
    assert time_range("yesterday", leap) == (local(2028, 2, 29), local(2028, 3, 1))
    assert time_range("Feb 29", datetime(2027, 3, 1, tzinfo=NY)) == (local(2024, 2, 29), local(2024, 3, 1))


def test_ranges_are_in_the_users_time_zone() -> None:
    # 23:30 UTC on the 24th is already the 25th in Tokyo.
    now = datetime(2026, 11, 25, 8, 30, tzinfo=TOKYO)
    start, end = time_range("yesterday", now)  # type: ignore[misc]
    assert (start, end) == (local(2026, 11, 24, tz=TOKYO), local(2026, 11, 25, tz=TOKYO))
    assert start.utcoffset() == timedelta(hours=9)
    # A day with a clock change is 23 hours long, and still runs midnight to midnight.
    dst = datetime(2026, 3, 9, 12, 0, tzinfo=NY)
    start, end = time_range("yesterday", dst)  # type: ignore[misc]
    assert (start, end) == (local(2026, 3, 8), local(2026, 3, 9))
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=23)


def test_in_range() -> None:
    span = time_range("yesterday", NOW)
    assert in_range(local(2026, 11, 24, 13), span)
    assert not in_range(local(2026, 11, 25), span)
    assert not in_range(None, span)
    assert not in_range(NOW, None)


moments = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2090, 12, 31),
                       timezones=st.sampled_from([NY, TOKYO, ZoneInfo("UTC")]))


@settings(max_examples=150, deadline=None)
@given(moments)
def test_calendar_phrases_hold_their_shape(now: datetime) -> None:
    today = now.date()
    for q in ("yesterday", "last week", "last month", "last year", "in March", "on Monday", "5 days ago",
              "last weekend"):
        span = time_range(q, now)
        assert span is not None, q
        start, end = span
        assert start < end, q
        assert start.tzinfo is now.tzinfo and end.tzinfo is now.tzinfo
        assert start <= now, q
    ys, ye = time_range("yesterday", now)  # type: ignore[misc]
    assert ys.date() == today - timedelta(days=1) and ye.date() == today and ye.hour == 0
    ws, we = time_range("last week", now)  # type: ignore[misc]
    assert ws.weekday() == 0 and (we.date() - ws.date()).days == 7 and we <= now
    assert we.date() == today - timedelta(days=today.weekday())
    ms, me = time_range("last month", now)  # type: ignore[misc]
    assert ms.day == 1 and me.day == 1 and me.date() == date(today.year, today.month, 1)
    ma, mb = time_range("in March", now)  # type: ignore[misc]
    assert ma.month == 3 and ma.day == 1 and mb.month == 4 and ma <= now
    assert ma.year == (today.year if today.month >= 3 else today.year - 1)
    mo, _ = time_range("on Monday", now)  # type: ignore[misc]
    assert mo.weekday() == 0 and 1 <= (today - mo.date()).days <= 7
    we_start, we_end = time_range("last weekend", now)  # type: ignore[misc]
    assert we_start.weekday() == 5 and we_end.weekday() == 0 and we_end.date() <= today + timedelta(days=1)
    assert 0 <= (today - we_start.date()).days <= 13
