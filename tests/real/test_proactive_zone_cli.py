"""`os1 checkins --tz`: a user's own time zone, chosen from the terminal, kept in the database and used by
the next process for their reminders (the installation's OS1_TZ stays New York)."""

from __future__ import annotations

import json
from pathlib import Path

from .test_cli import os1

TZ = "America/New_York"  # NOW in test_cli is Wednesday 2026-11-25 09:30 there, 23:30 in Tokyo


def test_a_chosen_zone_outlives_the_process_and_places_reminders(tmp_path: Path) -> None:
    home = tmp_path / "home"
    shown = os1(home, "checkins", "--json", OS1_TZ=TZ).json()
    assert (shown["time_zone"], shown["time_zone_chosen"]) == (TZ, False)

    bad = os1(home, "checkins", "--tz", "Mars/Olympus_Mons", OS1_TZ=TZ)
    assert bad.code == 2 and "Unknown time zone" in bad.err + bad.out
    chosen = os1(home, "checkins", "--tz", "Asia/Tokyo", "--json", OS1_TZ=TZ).json()
    assert (chosen["time_zone"], chosen["time_zone_chosen"]) == ("Asia/Tokyo", True)

    # A new process: "tomorrow at 9" is tomorrow in Tokyo (already the 25th's night there), at 9 Tokyo time.
    assert os1(home, "reminders", "add", "call mom tomorrow at 9am", OS1_TZ=TZ).code == 0
    listed = json.loads(os1(home, "reminders", "--json", OS1_TZ=TZ).out)["reminders"]
    assert [r["due_at"] for r in listed] == ["2026-11-26T09:00:00+09:00"]

    back = os1(home, "checkins", "--tz", "default", "--json", OS1_TZ=TZ).json()
    assert (back["time_zone"], back["time_zone_chosen"]) == (TZ, False)
    listed = json.loads(os1(home, "reminders", "--json", OS1_TZ=TZ).out)["reminders"]
    assert [r["due_at"] for r in listed] == ["2026-11-25T19:00:00-05:00"]  # the same moment, shown in New York
