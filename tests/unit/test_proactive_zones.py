"""Each user lives on their own clock: one process, people in Tokyo, New York and the installation's zone.

Runs on SQLite and PostgreSQL, with a fake clock (never the wall clock).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, insert, select

from os1 import FakeClock
from os1.affect.mood import daily_moods
from os1.data.export import export_to_dir
from os1.errors import InputError
from os1.memory.store import _utc_naive, ensure_user
from os1.proactive import Proactive
from os1.proactive.tables import jobs
from os1.proactive.zones import UserZones
from os1.storage import Database
from os1.storage.schema import messages

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")


async def _run_until(p: Proactive, clock: FakeClock, end: datetime, step: timedelta) -> dict[str, list[datetime]]:
    """Step the fake clock to `end`, running due jobs at each step; when each user's reminders came."""
    fired: dict[str, list[datetime]] = {}
    while clock.now() < end:
        clock.advance(step)
        for item in await p.run_due():
            if item.kind == "reminder":
                fired.setdefault(item.user_id, []).append(clock.now())
    return fired


async def test_nine_am_is_nine_am_on_each_users_own_clock(db: Database) -> None:
    clock = FakeClock(datetime(2026, 3, 5, 12, 0, tzinfo=UTC))  # 21:00 in Tokyo, 07:00 in New York
    p = Proactive(db, lambda: None, clock, zone=UTC)  # the installation's zone: UTC
    await p.set_zone("aiko", "Asia/Tokyo")
    await p.set_zone("ben", "America/New_York")
    # Aiko asks in conversation, Ben through the API; Cleo never chose a zone.
    noticed = await p.notice("aiko", "remind me to water the plants tomorrow at 9am", clock.now())
    assert noticed.reminder_id is not None
    await p.reminders.add("ben", "water the plants tomorrow at 9am", now=clock.now())
    await p.reminders.add("cleo", "water the plants tomorrow at 9am", now=clock.now())

    fired = await _run_until(p, clock, datetime(2026, 3, 6, 16, 0, tzinfo=UTC), timedelta(minutes=30))

    assert fired["aiko"] == [datetime(2026, 3, 6, 9, 0, tzinfo=TOKYO)]  # 00:00 UTC
    assert fired["ben"] == [datetime(2026, 3, 6, 9, 0, tzinfo=NEW_YORK)]  # 14:00 UTC
    assert fired["cleo"] == [datetime(2026, 3, 6, 9, 0, tzinfo=UTC)]


async def test_a_daily_reminder_keeps_its_wall_time_across_one_users_dst_change(db: Database) -> None:
    # New York springs forward on Sunday 8 March 2026; Tokyo has no DST.
    clock = FakeClock(datetime(2026, 3, 6, 12, 0, tzinfo=UTC))
    p = Proactive(db, lambda: None, clock, zone=UTC)
    await p.set_zone("aiko", "Asia/Tokyo")
    await p.set_zone("ben", "America/New_York")
    for user in ("aiko", "ben"):
        await p.reminders.add(user, "every day at 9am take the pills", now=clock.now())

    fired = await _run_until(p, clock, datetime(2026, 3, 10, 18, 0, tzinfo=UTC), timedelta(minutes=30))

    assert [t.astimezone(NEW_YORK).strftime("%d %H:%M") for t in fired["ben"]] == \
        ["06 09:00", "07 09:00", "08 09:00", "09 09:00", "10 09:00"]
    assert [t.astimezone(UTC).hour for t in fired["ben"]] == [14, 14, 13, 13, 13]  # the UTC hour moved, 9 am did not
    assert [t.astimezone(TOKYO).strftime("%d %H:%M") for t in fired["aiko"]] == \
        ["07 09:00", "08 09:00", "09 09:00", "10 09:00"]


async def test_check_ins_are_planned_in_each_users_zone_and_move_when_it_changes(db: Database) -> None:
    clock = FakeClock(datetime(2026, 3, 5, 12, 0, tzinfo=UTC))
    p = Proactive(db, lambda: None, clock, zone=UTC)
    def talked(conn: Connection, user: str) -> None:
        ensure_user(conn, user, clock.now())
        conn.execute(insert(messages).values(user_id=user, role="user", text="hello",
                                             created_at=_utc_naive(clock.now() - timedelta(hours=1))))

    for user in ("aiko", "ben"):
        db.write_sync(partial(talked, user=user))
    await p.set_zone("aiko", "Asia/Tokyo")

    def morning(user: str, day: str) -> datetime:
        q = select(jobs.c.run_at).where(jobs.c.user_id == user, jobs.c.key == f"checkin:morning:{day}",
                                        jobs.c.status == "pending")
        run_at: datetime = db.read_sync(lambda c: c.execute(q).scalar_one())
        return run_at.replace(tzinfo=UTC)

    await p.checkins.plan(clock.now())
    assert morning("aiko", "2026-03-06") == datetime(2026, 3, 6, 8, 30, tzinfo=TOKYO)
    assert morning("ben", "2026-03-06") == datetime(2026, 3, 6, 8, 30, tzinfo=UTC)  # the installation's zone

    await p.set_zone("ben", "America/New_York")
    await p.checkins.plan(clock.now())
    assert morning("ben", "2026-03-06") == datetime(2026, 3, 6, 8, 30, tzinfo=NEW_YORK)
    assert morning("aiko", "2026-03-06") == datetime(2026, 3, 6, 8, 30, tzinfo=TOKYO)  # untouched


async def test_quiet_hours_are_the_users_night_not_the_servers(db: Database) -> None:
    # 13:30 UTC on a Thursday is 22:30 in Tokyo (quiet hours, 22:00-08:00 by default) and 08:30 in New York.
    clock = FakeClock(datetime(2026, 3, 5, 13, 30, tzinfo=UTC))
    p = Proactive(db, lambda: None, clock, zone=UTC)
    await p.set_zone("aiko", "Asia/Tokyo")
    await p.set_zone("ben", "America/New_York")
    from os1.proactive.settings import hold

    s = await p.settings.get("aiko")
    aiko = db.read_sync(lambda c: hold(c, "aiko", s, clock.now(), p.zone_for("aiko")))
    ben = db.read_sync(lambda c: hold(c, "ben", s, clock.now(), p.zone_for("ben")))
    assert aiko == (datetime(2026, 3, 6, 8, 0, tzinfo=TOKYO), "quiet hours")
    assert ben is None


async def test_an_unknown_zone_is_refused_and_changes_nothing(db: Database, clock: FakeClock) -> None:
    p = Proactive(db, lambda: None, clock, zone=UTC)
    await p.set_zone("aiko", "Asia/Tokyo")
    for bad in ("Mars/Olympus_Mons", "asia/tokyo", "../../etc/passwd", "America", "x" * 200):
        with pytest.raises(InputError, match="Unknown time zone"):
            await p.set_zone("aiko", bad)
    assert await p.zone("aiko") == TOKYO and await p.zone_choice("aiko") == "Asia/Tokyo"
    assert await p.set_zone("aiko", None) == UTC  # back to the installation's
    assert await p.zone_choice("aiko") is None and p.zone_for("aiko") == UTC


async def test_another_process_sees_a_change_once_its_cache_entry_expires(db: Database) -> None:
    ticks = [0.0]
    here = UserZones(db, UTC)
    there = UserZones(db, UTC, ttl=60, monotonic=lambda: ticks[0])  # a second server or `os1 worker`
    assert await there.get("aiko") == UTC
    await here.set("aiko", "Asia/Tokyo", at=datetime(2026, 3, 5, tzinfo=UTC))
    assert await here.get("aiko") == TOKYO  # the process that changed it knows at once
    assert await there.get("aiko") == UTC  # still cached
    ticks[0] += 61
    assert await there.get("aiko") == TOKYO
    assert there.get_blocking("aiko") == TOKYO


async def test_mood_days_and_the_export_use_the_users_zone(db: Database, tmp_path: Path) -> None:
    now = datetime(2026, 3, 6, 3, 0, tzinfo=UTC)  # 12:00 on 6 March in Tokyo
    p = Proactive(db, lambda: None, FakeClock(now), zone=UTC)
    await p.set_zone("aiko", "Asia/Tokyo")
    said = datetime(2026, 3, 5, 20, 0, tzinfo=UTC)  # 5 March in UTC, 6 March (05:00) in Tokyo
    db.write_sync(lambda c: c.execute(insert(messages).values(
        user_id="aiko", role="user", text="good morning", created_at=_utc_naive(said),
        emotion={"label": "joy", "valence": 0.6, "arousal": 0.4})))
    # Callers pass the installation's zone; the user's own choice wins.
    days = await daily_moods(db, "aiko", days=2, now=now, zone=UTC)
    assert [d.day.isoformat() for d in days] == ["2026-03-06"]
    report = export_to_dir(db, "aiko", tmp_path / "out", zone=UTC, now=now)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["time_zone"] == "Asia/Tokyo"
    assert report.tables["user_zones"] == 1
