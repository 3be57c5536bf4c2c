"""The reminder-time parser: the phrases people use, the ambiguous hour, repeats, and DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from os1.proactive.reminders import reminder_request, reminder_text
from os1.proactive.when import find_when, next_after, parse_when

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
SYDNEY = ZoneInfo("Australia/Sydney")
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=NY)  # a Wednesday morning


def ny(m: int, d: int, h: int, mi: int = 0, y: int = 2026) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=NY)


@pytest.mark.parametrize(("text", "task", "at"), [
    ("remind me to call mom Sunday at 6", "call mom", ny(11, 29, 18)),  # dateparser reads this as June
    ("Remind me to take out the trash tomorrow at 7:30pm", "take out the trash", ny(11, 26, 19, 30)),
    ("remind me in 20 minutes to stretch", "stretch", ny(11, 25, 9, 50)),
    ("remind me to stretch in an hour", "stretch", ny(11, 25, 10, 30)),
    ("remind me in half an hour to check the oven", "check the oven", ny(11, 25, 10)),
    ("remind me about the dentist on Dec 3", "about the dentist", ny(12, 3, 9)),
    ("remind me that my passport expires on 3 December", "that my passport expires", ny(12, 3, 9)),
    ("remind me at 9 to call", "call", ny(11, 25, 21)),  # 9 am has passed: the next 9 is tonight
    ("remind me at 3 to nap", "nap", ny(11, 25, 15)),
    ("remind me at 6am to run", "run", ny(11, 26, 6)),  # am honoured: tomorrow
    ("remind me at 18:00 to cook", "cook", ny(11, 25, 18)),
    ("Can you remind me to buy milk tonight?", "buy milk", ny(11, 25, 20)),
    ("remind me next Wednesday at noon to pay rent", "pay rent", ny(12, 2, 12)),
    ("remind me tomorrow morning to email Sam", "email Sam", ny(11, 26, 9)),
    ("Sunday at 6, remind me to call mom", "call mom", ny(11, 29, 18)),
    ("good morning! remind me to call mom at 6", "call mom", ny(11, 25, 18)),
    ("remind me in 3 days to follow up", "follow up", ny(11, 28, 9, 30)),
    ("remind me on Wednesday at 8 to water the fern", "water the fern", ny(11, 25, 20)),  # today: 8 am passed, 8 pm not
    ("remind me Saturday evening at 7 to book the table", "book the table", ny(11, 28, 19)),
])
def test_reminder_requests(text: str, task: str, at: datetime) -> None:
    req = reminder_request(text, NOW)
    assert req is not None and req.when is not None
    assert (req.task, req.when.at, req.when.rule) == (task, at, None)


@pytest.mark.parametrize(("text", "rule", "first"), [
    ("every Tuesday water the plants", "FREQ=WEEKLY;BYDAY=TU;BYHOUR=9;BYMINUTE=0", ny(12, 1, 9)),
    ("every day at 8 take pills", "FREQ=DAILY;BYHOUR=8;BYMINUTE=0", ny(11, 26, 8)),
    ("every weekday at 9 standup", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9;BYMINUTE=0", ny(11, 26, 9)),
    ("on Tuesdays and Fridays at 6pm go running", "FREQ=WEEKLY;BYDAY=TU,FR;BYHOUR=18;BYMINUTE=0", ny(11, 27, 18)),
    ("every other day water the fern", "FREQ=DAILY;INTERVAL=2;BYHOUR=9;BYMINUTE=0", ny(11, 27, 9)),
    ("every evening stretch", "FREQ=DAILY;BYHOUR=19;BYMINUTE=0", ny(11, 25, 19)),
    ("pay rent every month", "FREQ=MONTHLY;BYMONTHDAY=25;BYHOUR=9;BYMINUTE=0", ny(12, 25, 9)),
])
def test_repeats(text: str, rule: str, first: datetime) -> None:
    req = reminder_request(text, NOW, trigger=False)
    assert req is not None and req.when is not None and req.when.rule is not None
    assert rule in req.when.rule and req.when.at == first


@pytest.mark.parametrize("text", [
    "remind me to call mom", "remind me sometime to call", "at 25 call", "on Feb 30 call", "tomorrow and Friday call",
    "today at 6am call",  # passed, and "today" is explicit: ask rather than move it
])
def test_unclear_times_are_none(text: str) -> None:
    req = reminder_request(text, NOW, trigger=False)
    assert req is None or req.when is None


@pytest.mark.parametrize("text", ["can you remind me what we talked about?", "remind me again who Rachel is",
                                  "it reminds me of home", "my mom keeps reminding me to eat"])
def test_not_reminder_requests(text: str) -> None:
    assert reminder_request(text, NOW) is None


def test_bare_hour_is_the_next_sensible_one() -> None:
    early = datetime(2026, 11, 25, 5, 0, tzinfo=NY)
    assert parse_when("at 6", early).at == ny(11, 25, 6)  # the morning one is still ahead
    assert parse_when("at 6", NOW).at == ny(11, 25, 18)  # the morning has passed
    assert parse_when("at 6 am", NOW).at == ny(11, 26, 6)
    assert parse_when("Tuesday at 9", NOW).at == ny(12, 1, 9)  # another day: 8-11 mean morning
    assert parse_when("Tuesday at 7", NOW).at == ny(12, 1, 19)  # 1-7 mean evening
    assert parse_when("Tuesday morning at 7", NOW).at == ny(12, 1, 7)


def test_not_a_time() -> None:
    assert parse_when("hello there", NOW) is None
    assert find_when("I sat down with 2 eggs", NOW) is None
    assert find_when("good morning", NOW) is None


def test_dst_fall_back_keeps_wall_time_for_days_and_elapsed_time_for_minutes() -> None:
    before = datetime(2026, 10, 30, 9, 0, tzinfo=NY)  # EDT; clocks go back at 2:00 on 1 November
    daily = parse_when("every day at 8", before)
    assert daily is not None and daily.rule
    at, seen = daily.at, []
    for _ in range(3):
        seen.append(at)
        at = next_after(daily.rule, NY, at)  # type: ignore[assignment]
    assert [t.astimezone(NY).hour for t in seen] == [8, 8, 8]
    assert [t.astimezone(UTC).hour for t in seen] == [12, 13, 13]  # 8 EDT, then 8 EST
    # "in 20 minutes" at 1:50 EDT on the change day is 20 real minutes later (1:10 EST).
    change = datetime(2026, 11, 1, 5, 50, tzinfo=UTC).astimezone(NY)
    soon = parse_when("in 20 minutes", change)
    assert soon is not None and soon.at.astimezone(UTC) - change.astimezone(UTC) == timedelta(minutes=20)
    assert soon.at.astimezone(UTC) == datetime(2026, 11, 1, 6, 10, tzinfo=UTC)
    # "in 3 days" keeps the wall-clock time across the change.
    assert parse_when("in 3 days", before).at == datetime(2026, 11, 2, 9, 0, tzinfo=NY)  # type: ignore[union-attr]


def test_dst_spring_forward_moves_a_skipped_time_past_the_gap() -> None:
    now = datetime(2026, 3, 7, 12, 0, tzinfo=NY)  # 2:00-3:00 on 8 March does not exist
    at = parse_when("tomorrow at 2:30am", now)
    assert at is not None and at.at.astimezone(NY).hour == 3 and at.at.astimezone(NY).minute == 30
    daily = parse_when("every day at 2:30am", now)
    assert daily is not None and daily.rule
    nxt = next_after(daily.rule, NY, daily.at)
    assert nxt is not None and (nxt.astimezone(NY).hour, nxt.astimezone(NY).day) == (2, 9)


def test_describe_and_reminder_text() -> None:
    req = reminder_request("remind me to call my mom Sunday at 6", NOW)
    assert req is not None and req.when is not None
    assert req.when.describe(NOW) == "Sunday at 6 pm"
    assert reminder_text(req.task, None, NOW) == "Time to call your mom."
    late = reminder_text("about the dentist", ny(11, 25, 8), NOW)
    assert late.startswith("A reminder about the dentist.") and "sorry it's late" in late


# Properties ------------------------------------------------------------------------------------------
ZONES = [NY, BERLIN, SYDNEY, ZoneInfo("UTC"), ZoneInfo("Asia/Kolkata")]
WORDS = ["remind", "me", "to", "at", "in", "on", "every", "next", "this", "tomorrow", "today", "tonight", "sunday",
         "tuesdays", "dec", "3", "6", "6pm", "18:00", "noon", "midnight", "minutes", "hours", "days", "weeks", "a",
         "half", "an", "hour", "morning", "evening", "weekday", "other", "and", "3rd", "of", "march", "am", "pm",
         "2026", "29", "feb", ":", ",", "call", "mom", "99", "0", "13pm"]
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.sampled_from(ZONES))


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(st.text(max_size=80), st.lists(st.sampled_from(WORDS), max_size=10).map(" ".join)), now=moments)
def test_never_crashes_and_is_always_in_the_future(text: str, now: datetime) -> None:
    found = find_when(text, now)
    if found is not None:
        assert found[0].at.astimezone(UTC) > now.astimezone(UTC)  # in UTC: same-zone compares ignore DST fold
        assert found[0].at.tzinfo is not None
    req = reminder_request(text, now, trigger=False)
    if req is not None and req.when is not None:
        assert req.when.at.astimezone(UTC) > now.astimezone(UTC)


@settings(max_examples=300, deadline=None)
@given(now=moments, hour=st.integers(0, 23), minute=st.integers(0, 59),
       day=st.sampled_from(["day", "weekday", "sunday", "tuesday and friday", "other day"]))
def test_repeats_keep_their_wall_clock_time_across_dst(now: datetime, hour: int, minute: int, day: str) -> None:
    zone = now.tzinfo
    assert zone is not None
    when = parse_when(f"every {day} at {hour:02d}:{minute:02d}", now)
    assert when is not None and when.rule is not None
    at = when.at
    for _ in range(6):
        local = at.astimezone(zone)
        # A time a DST change skips moves past the gap (by the gap, at most an hour); otherwise it is exact.
        shifted = (local.replace(tzinfo=None) - datetime.combine(local.date(), datetime.min.time())) \
            - timedelta(hours=hour, minutes=minute)
        assert shifted in (timedelta(0), timedelta(minutes=30), timedelta(hours=1))
        nxt = next_after(when.rule, zone, at)
        assert nxt is not None and nxt.astimezone(UTC) > at.astimezone(UTC)
        at = nxt


@settings(max_examples=300, deadline=None)
@given(now=moments, n=st.integers(1, 5000), unit=st.sampled_from(["minutes", "hours"]))
def test_delays_are_exact_elapsed_time(now: datetime, n: int, unit: str) -> None:
    when = parse_when(f"in {n} {unit}", now)
    assert when is not None
    assert when.at.astimezone(UTC) - now.astimezone(UTC) == timedelta(**{unit: n})
