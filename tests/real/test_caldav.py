"""Calendars against a real CalDAV server (Radicale, started by the tests) and real .ics files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import icalendar
import pytest

from os1 import Companion, CompanionConfig, FakeClock
from os1.errors import ToolError
from os1.memory import SqlConversationStore
from os1.storage import Database
from os1.testing import EchoModel, RoutingModel, ScriptedModel
from os1.tools.calendar.backends import CalDav
from os1.types import ReplyDone, ToolProposed, ToolResult

from ..conftest import collect
from .tool_servers import DavServer, caldav_server

pytestmark = pytest.mark.real
USER = "local"


@pytest.fixture
def dav() -> Iterator[DavServer]:
    with caldav_server() as s:
        yield s


async def test_week_add_move_delete_over_caldav(dav: DavServer, sqlite_db: Database, clock: FakeClock, tmp_path: Path) -> None:
    picks = ScriptedModel()
    c = Companion(SqlConversationStore(sqlite_db), RoutingModel(EchoModel(), picks), clock,  # type: ignore[arg-type]
                  CompanionConfig(learn=False, home=tmp_path))
    await c.tools.accounts.add(USER, "caldav", "work", {"url": dav.url, "username": dav.user}, secret=dav.password,
                               now=clock.now())
    picks.enqueue_json(json.dumps({"tool": "calendar_add", "arguments": {"title": "Dinner with Paul", "when": "Thursday at 7pm"}}))
    (added,) = [e for e in await collect(c.reply(USER, "add dinner with Paul on Thursday at 7pm")) if isinstance(e, ToolResult)]
    assert added.ok, added.summary
    assert not (tmp_path / "calendar.ics").exists()  # it went to the CalDAV account, not the local file

    # Seen from another client: the event is on the server, with OS1's reminder id.
    other = CalDav(dav.url, dav.user, dav.password, clock.now().tzinfo)  # type: ignore[arg-type]
    now = clock.now()
    (ev,) = other.events(now, now + timedelta(days=7))
    assert ev.summary == "Dinner with Paul" and (ev.start.weekday(), ev.start.hour) == (3, 19) and ev.reminder_id
    (reminder,) = await c.proactive.reminders.list(USER)
    assert reminder.id == ev.reminder_id

    picks.enqueue_json(json.dumps({"tool": "calendar_agenda", "arguments": {"range": "this week"}}))
    events = await collect(c.reply(USER, "what does my week look like?"))
    assert "Dinner with Paul" in next(e for e in events if isinstance(e, ReplyDone)).text

    picks.enqueue_json(json.dumps({"tool": "calendar_move", "arguments": {"event": "dinner", "when": "Friday at 8pm"}}))
    (moved,) = [e for e in await collect(c.reply(USER, "move dinner with Paul to Friday at 8pm")) if isinstance(e, ToolResult)]
    assert moved.ok, moved.summary
    (ev,) = other.events(now, now + timedelta(days=7))
    assert (ev.start.weekday(), ev.start.hour) == (4, 20)
    (reminder,) = await c.proactive.reminders.list(USER)
    assert reminder.due_at == ev.start - timedelta(minutes=30)

    picks.enqueue_json(json.dumps({"tool": "calendar_delete", "arguments": {"event": "dinner"}}))
    (proposed,) = [e for e in await collect(c.reply(USER, "cancel the dinner with Paul")) if isinstance(e, ToolProposed)]
    assert len(other.events(now, now + timedelta(days=7))) == 1  # still there until the yes
    (done,) = [e for e in await collect(c.reply(USER, "yes, delete it")) if isinstance(e, ToolResult)]
    assert done.ok and done.action_id == proposed.action_id
    assert other.events(now, now + timedelta(days=7)) == []
    assert await c.proactive.reminders.list(USER) == []


async def test_recurring_events_expand_in_the_week(dav: DavServer, clock: FakeClock) -> None:
    now = clock.now()
    b = CalDav(dav.url, dav.user, dav.password, now.tzinfo)  # type: ignore[arg-type]
    cal = icalendar.Calendar()
    cal.add("PRODID", "-//test//EN")
    cal.add("VERSION", "2.0")
    ev = icalendar.Event()
    ev.add("UID", "yoga@test")
    ev.add("SUMMARY", "Yoga")
    ev.add("DTSTART", now + timedelta(hours=2))
    ev.add("DTEND", now + timedelta(hours=3))
    ev.add("RRULE", {"FREQ": "DAILY"})
    cal.add_component(ev)
    b._call(lambda c: c.save_event(cal.to_ical().decode()))
    found = b.events(now, now + timedelta(days=3))
    assert [e.summary for e in found] == ["Yoga"] * 3 and all(e.recurring for e in found)


def test_wrong_password_is_a_clear_error(dav: DavServer, clock: FakeClock) -> None:
    with pytest.raises(ToolError, match="refused the login"):
        CalDav(dav.url, dav.user, "nope", clock.now().tzinfo).events(clock.now(), clock.now() + timedelta(days=1))  # type: ignore[arg-type]


async def test_an_ics_file_account_reads_and_writes_in_place(sqlite_db: Database, clock: FakeClock, tmp_path: Path) -> None:
    path = tmp_path / "family.ics"
    path.write_bytes(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Other//EN\r\nBEGIN:VEVENT\r\nUID:bday@x\r\n"
                     b"SUMMARY:Mum's birthday\r\nDTSTART;VALUE=DATE:20261127\r\nDTEND;VALUE=DATE:20261128\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    c = Companion(SqlConversationStore(sqlite_db), ScriptedModel(), clock, CompanionConfig(learn=False, home=tmp_path / "home"))
    await c.tools.accounts.add(USER, "ics", "family", {"path": str(path)}, secret=None, now=clock.now())
    out = await c.tools.use(USER, "calendar_agenda", {"range": "this week"}, clock.now())
    (ev,) = out.data["events"]  # type: ignore[union-attr]
    assert ev["summary"] == "Mum's birthday" and ev["all_day"] is True
    await c.tools.use(USER, "calendar_add", {"title": "Call Mum", "when": "Friday at 9am"}, clock.now())
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    assert sorted(str(e["SUMMARY"]) for e in cal.walk("VEVENT")) == ["Call Mum", "Mum's birthday"]
    assert str(cal["PRODID"]) == "-//Other//EN"  # their file, kept as it was apart from the new event


async def test_a_corrupt_ics_file_is_a_clear_error(sqlite_db: Database, clock: FakeClock, tmp_path: Path) -> None:
    path = tmp_path / "bad.ics"
    path.write_text("this is not a calendar")
    c = Companion(SqlConversationStore(sqlite_db), ScriptedModel(), clock, CompanionConfig(learn=False))
    await c.tools.accounts.add(USER, "ics", "bad", {"path": str(path)}, secret=None, now=clock.now())
    with pytest.raises(ToolError, match="Cannot read the calendar file"):
        await c.tools.use(USER, "calendar_agenda", {"range": "today"}, clock.now())
    assert path.read_text() == "this is not a calendar"  # nothing overwritten
