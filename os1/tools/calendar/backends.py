"""Where events live: an iCalendar file (`icalendar`, recurrences expanded by `recurring-ical-events`) or a
CalDAV account (the `caldav` client). Both are synchronous libraries; callers run them in a thread."""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Protocol, TypeVar

import icalendar

from ...errors import InputError, ToolError
from .events import CalEvent, from_component, new_calendar, retime, set_reminder, to_component

T = TypeVar("T")


class Backend(Protocol):
    name: str

    def events(self, start: datetime, end: datetime) -> list[CalEvent]: ...
    def get(self, uid: str) -> CalEvent | None: ...
    def add(self, event: CalEvent, now: datetime) -> CalEvent: ...
    def move(self, uid: str, start: datetime, end: datetime, now: datetime) -> CalEvent: ...
    def set_reminder(self, uid: str, reminder_id: int | None) -> None: ...
    def delete(self, uid: str) -> None: ...


def _missing(uid: str) -> InputError:
    return InputError(f"There is no event {uid!r}.", hint="`os1 calendar week` lists events with their ids.")


class IcsFile:
    """A calendar in one .ics file; written atomically (temporary file, fsync, rename)."""

    _locks: dict[Path, threading.Lock] = {}

    def __init__(self, path: Path, zone: tzinfo, name: str = "local") -> None:
        self.path = path
        self.zone = zone
        self.name = name
        self._lock = self._locks.setdefault(path.resolve(), threading.Lock())

    def _read(self) -> icalendar.Calendar:
        if not self.path.exists():
            return new_calendar()
        try:
            return icalendar.Calendar.from_ical(self.path.read_bytes())
        except (ValueError, OSError) as e:
            raise ToolError(f"Cannot read the calendar file {self.path}: {e}", hint="Is it an iCalendar (.ics) file?") from e

    def _write(self, cal: icalendar.Calendar) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(cal.to_ical())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def _find(self, cal: icalendar.Calendar, uid: str) -> Any:
        matches = [c for c in cal.walk("VEVENT") if str(c.get("UID")) == uid or str(c.get("UID")).startswith(uid)]
        if len(matches) > 1 and not any(str(c.get("UID")) == uid for c in matches):
            raise InputError(f"More than one event starts with {uid!r}; give more of its id.")
        return next((c for c in matches if str(c.get("UID")) == uid), matches[0] if matches else None)

    def events(self, start: datetime, end: datetime) -> list[CalEvent]:
        import recurring_ical_events

        with self._lock:
            cal = self._read()
        # Expanded occurrences lose their RRULE: tell repeating events by the source.
        repeating = {str(c.get("UID")) for c in cal.walk("VEVENT") if c.get("RRULE") is not None or c.get("RDATE") is not None}
        found = [from_component(c, self.zone) for c in recurring_ical_events.of(cal).between(start, end)]
        return sorted((replace(e, recurring=e.recurring or e.uid in repeating) for e in found), key=lambda e: e.start)

    def get(self, uid: str) -> CalEvent | None:
        with self._lock:
            c = self._find(self._read(), uid)
        return from_component(c, self.zone) if c is not None else None

    def add(self, event: CalEvent, now: datetime) -> CalEvent:
        with self._lock:
            cal = self._read()
            cal.add_component(to_component(event, now))
            self._write(cal)
        return event

    def move(self, uid: str, start: datetime, end: datetime, now: datetime) -> CalEvent:
        with self._lock:
            cal = self._read()
            c = self._find(cal, uid)
            if c is None:
                raise _missing(uid)
            all_day = from_component(c, self.zone).all_day
            retime(c, start, end, now, all_day=all_day)
            self._write(cal)
            return from_component(c, self.zone)

    def set_reminder(self, uid: str, reminder_id: int | None) -> None:
        with self._lock:
            cal = self._read()
            c = self._find(cal, uid)
            if c is not None:
                set_reminder(c, reminder_id)
                self._write(cal)

    def delete(self, uid: str) -> None:
        with self._lock:
            cal = self._read()
            c = self._find(cal, uid)
            if c is None:
                raise _missing(uid)
            cal.subcomponents.remove(c)
            self._write(cal)


class CalDav:
    """One calendar of a CalDAV account (the named one, else the first)."""

    def __init__(self, url: str, username: str, password: str, zone: tzinfo, *, calendar: str | None = None,
                 name: str = "caldav", timeout: float = 30.0) -> None:
        self.url = url
        self.username = username
        self._password = password
        self.zone = zone
        self.calendar_name = calendar
        self.name = name
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"CalDav({self.url!r}, {self.username!r})"

    def _call(self, fn: Callable[[Any], T]) -> T:
        from caldav.davclient import DAVClient
        from caldav.lib import error as dav_error

        try:
            with DAVClient(url=self.url, username=self.username, password=self._password,
                                  timeout=int(self.timeout)) as client:
                calendars = client.principal().calendars()  # type: ignore[no-untyped-call]
                if not calendars:
                    raise ToolError(f"The CalDAV account at {self.url} has no calendar.", hint="Create one on the server first.")
                cal = next((c for c in calendars if self.calendar_name and c.get_display_name() == self.calendar_name),
                           calendars[0])
                return fn(cal)
        except (ToolError, InputError):
            raise
        except dav_error.AuthorizationError as e:
            raise ToolError(f"The CalDAV server refused the login for {self.username}.",
                            hint="Check the user name and password (`os1 calendar connect`).") from e
        except (dav_error.DAVError, OSError) as e:
            raise ToolError(f"The CalDAV server at {self.url} failed: {e.__class__.__name__}.",
                            hint="Check the URL and that the server is running.") from e
        except Exception as e:  # the HTTP stack under caldav raises its own connection errors
            raise ToolError(f"Cannot reach the CalDAV server at {self.url} ({e.__class__.__name__}).",
                            hint="Check the URL and that the server is running.") from e

    def _components(self, obj: Any) -> list[Any]:
        return [c for c in obj.icalendar_instance.walk("VEVENT")]

    def events(self, start: datetime, end: datetime) -> list[CalEvent]:
        def go(cal: Any) -> list[CalEvent]:
            found = cal.search(start=start, end=end, event=True, expand=True)
            return [from_component(c, self.zone) for obj in found for c in self._components(obj)]
        events = self._call(go)
        # Expanded occurrences lose their RRULE: an id seen twice in the range repeats.
        seen = Counter(e.uid for e in events)
        return sorted((replace(e, recurring=e.recurring or seen[e.uid] > 1) for e in events), key=lambda e: e.start)

    def _object(self, cal: Any, uid: str) -> Any:
        from caldav.lib import error as dav_error

        try:
            return cal.event_by_uid(uid)
        except dav_error.NotFoundError:
            raise _missing(uid) from None

    def get(self, uid: str) -> CalEvent | None:
        def go(cal: Any) -> CalEvent | None:
            comps = self._components(self._object(cal, uid))
            return from_component(comps[0], self.zone) if comps else None
        try:
            return self._call(go)
        except InputError:
            return None

    def add(self, event: CalEvent, now: datetime) -> CalEvent:
        cal_obj = new_calendar()
        cal_obj.add_component(to_component(event, now))
        self._call(lambda cal: cal.save_event(cal_obj.to_ical().decode("utf-8")))
        return event

    def move(self, uid: str, start: datetime, end: datetime, now: datetime) -> CalEvent:
        def go(cal: Any) -> CalEvent:
            obj = self._object(cal, uid)
            comp = self._components(obj)[0]
            retime(comp, start, end, now, all_day=from_component(comp, self.zone).all_day)
            obj.save()
            return from_component(comp, self.zone)
        return self._call(go)

    def set_reminder(self, uid: str, reminder_id: int | None) -> None:
        def go(cal: Any) -> None:
            obj = self._object(cal, uid)
            set_reminder(self._components(obj)[0], reminder_id)
            obj.save()
        self._call(go)

    def delete(self, uid: str) -> None:
        self._call(lambda cal: self._object(cal, uid).delete())
