"""Time: the real clock, or a fixed/fake one for demos and tests (OS1_NOW)."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    """The machine's clock, in the user's zone."""

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone

    def now(self) -> datetime:
        return datetime.now(self.zone)


class FakeClock:
    """A clock that only moves when told to (OS1_NOW, tests)."""

    def __init__(self, start: datetime, zone: tzinfo | None = None) -> None:
        if start.tzinfo is None:
            if zone is None:
                raise ValueError("FakeClock needs an aware datetime or a zone")
            start = start.replace(tzinfo=zone)
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, when: datetime) -> None:
        self._now = when


def part_of_day(when: datetime) -> str:
    """'early morning', 'morning', 'afternoon', 'evening' or 'night'."""
    h = when.hour
    if 5 <= h < 8:
        return "early morning"
    if 8 <= h < 12:
        return "morning"
    if 12 <= h < 17:
        return "afternoon"
    if 17 <= h < 22:
        return "evening"
    return "night"
