"""`os1 reminders`, `os1 inbox`, `os1 checkins`, `os1 worker` and `os1 chat` as real processes: a reminder set in
one process fires once, in whichever later process finds it due, and joins the conversation."""

from __future__ import annotations

import json
from pathlib import Path

from .test_cli import chat, final_user, history_of, os1

TZ = "America/New_York"  # NOW in test_cli is Wednesday 2026-11-25 09:30 there


def test_reminders_from_the_terminal(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run = os1(home, "reminders", "add", "call mom Sunday at 6", OS1_TZ=TZ)
    assert run.code == 0, run.err
    assert "call mom" in run.out and "Sunday at 6 pm" in run.out
    listed = json.loads(os1(home, "reminders", "--json", OS1_TZ=TZ).out)["reminders"]
    assert [(r["id"], r["due_at"]) for r in listed] == [(1, "2026-11-29T18:00:00-05:00")]
    run = os1(home, "reminders", "edit", "1", "--when", "Saturday at 10am", OS1_TZ=TZ)
    assert run.code == 0 and "Saturday at 10 am" in run.out
    assert os1(home, "reminders", "add", "call mom", OS1_TZ=TZ).code == 2  # no time: a clear error
    assert os1(home, "reminders", "cancel", "42", OS1_TZ=TZ).code == 2

    assert json.loads(os1(home, "inbox", "--json", "--model", "echo", OS1_TZ=TZ).out)["items"] == []  # not due yet
    later = "2026-11-28T10:05:00-05:00"
    first = json.loads(os1(home, "inbox", "--json", "--model", "echo", OS1_TZ=TZ, OS1_NOW=later).out)["items"]
    assert [(i["kind"], i["text"]) for i in first] == [("reminder", "Time to call mom.")]
    assert "You asked me" in first[0]["why"]
    # Another process, later still: nothing new, and the one reminder is there once.
    again = json.loads(os1(home, "inbox", "--json", "--model", "echo", OS1_TZ=TZ, OS1_NOW="2026-11-30T10:00:00-05:00").out)
    assert again["items"] == []
    everything = json.loads(os1(home, "inbox", "--all", "--json", "--model", "echo", OS1_TZ=TZ).out)["items"]
    assert [i["id"] for i in everything] == [first[0]["id"]]
    status = os1(home, "worker", "--status", "--model", "echo", OS1_TZ=TZ)
    assert status.code == 0 and "done: 1" in status.out


def test_chat_sets_a_reminder_and_later_turns_see_it_fire(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = chat(home, "remind me in 20 minutes to stretch", OS1_TZ=TZ)
    assert "You have set it for today at 9:50 am" in final_user(result)
    # A later one-shot turn delivers what is due before answering, so the reminder is in its history.
    result = chat(home, "hi again", OS1_TZ=TZ, OS1_NOW="2026-11-25T10:00:00-05:00")
    # (OS1's consecutive messages are joined in the prompt: its last reply, then the reminder.)
    assert any(m["role"] == "assistant" and m["content"].endswith("\n\nTime to stretch.") for m in history_of(result))


def test_checkin_settings_from_the_terminal(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run = os1(home, "checkins", "--morning", "07:30", "--quiet", "23:00-07:00", "--nudges", "off", "--snooze",
              "until tomorrow", "--mute", "my brother", "--json", OS1_TZ=TZ)
    assert run.code == 0, run.err
    s = run.json()
    assert (s["morning"], s["quiet_hours"], s["nudges"], s["muted_people"]) == \
        ("07:30", {"start": "23:00", "end": "07:00"}, False, ["brother"])
    assert s["snooze_until"].startswith("2026-11-26T08:00")
    shown = os1(home, "checkins", OS1_TZ=TZ)
    assert shown.code == 0 and "morning 07:30" in shown.out and "nudges off" in shown.out
    assert os1(home, "checkins", "--morning", "99:00", OS1_TZ=TZ).code == 2
    assert os1(home, "checkins", "--off", "--snooze", "off", "--json", OS1_TZ=TZ).json()["checkins"] is False
