"""The job runner's promises, on SQLite and PostgreSQL: persisted, claimed once, leased, retried, never lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from os1 import FakeClock
from os1.proactive import Delivery, JobQueue, JobRunner, Outcome, Proactive
from os1.proactive.jobs import Job, LostLease, enqueue
from os1.proactive.tables import inbox, jobs, reminders
from os1.storage import Database
from os1.storage.schema import messages

from ..conftest import ZONE


class LeaseClock:
    """Real time stands still until told (leases run on real time, not the user's clock)."""

    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _rows(db: Database, table: Any) -> list[Any]:
    return db.read_sync(lambda c: c.execute(select(table).order_by(table.c.id)).all())


def _add(db: Database, key: str, run_at: datetime, kind: str = "probe") -> None:
    db.write_sync(lambda c: enqueue(c, "u", kind, key, run_at, {"n": key}, now=run_at - timedelta(hours=1)))


async def _deliver(job: Job, now: datetime) -> Outcome:
    return Outcome("done", Delivery("reminder", f"probe {job.payload['n']}", "a test asked for it"))


async def test_enqueue_is_idempotent_and_claims_are_exclusive(db: Database, clock: FakeClock) -> None:
    now = clock.now()
    _add(db, "a", now)
    _add(db, "a", now)  # planned twice: still one job
    _add(db, "later", now + timedelta(hours=1))
    assert len(_rows(db, jobs)) == 2
    one, two = JobQueue(db, "w1"), JobQueue(db, "w2")
    first = await one.claim(now)
    assert [j.key for j in first] == ["a"]  # the later one is not due
    assert await two.claim(now) == []  # held by w1
    await one.finish(first[0], Outcome("done"), now)
    assert await two.claim(now) == []  # done is done
    row = next(r for r in _rows(db, jobs) if r.key == "a")
    assert (row.status, row.attempts, row.locked_by) == ("done", 1, None)


async def test_reminder_fires_once_across_a_restart(db: Database, clock: FakeClock) -> None:
    p = Proactive(db, lambda: None, clock, zone=ZONE)
    await p.reminders.add("u", "call mom Sunday at 6", now=clock.now())
    assert await p.run_due() == []  # not yet
    clock.set(datetime(2026, 11, 29, 18, 0, 30, tzinfo=ZONE))
    delivered = await p.run_due()
    assert [d.kind for d in delivered] == ["reminder"] and "call mom" in delivered[0].text
    # A new process (new worker, same database) finds nothing left to do, even much later.
    again = Proactive(db, lambda: None, clock, zone=ZONE, worker_id="after-restart")
    clock.advance(timedelta(days=3))
    assert await again.run_due() == []
    assert len(_rows(db, inbox)) == 1
    stored = [m for m in _rows(db, messages) if (m.origin or "").startswith("proactive:reminder:")]
    assert len(stored) == 1 and stored[0].role == "assistant" and stored[0].text == delivered[0].text
    assert _rows(db, reminders)[0].status == "done"


async def test_a_crashed_worker_loses_its_lease_and_the_job_is_delivered_exactly_once(db: Database, clock: FakeClock) -> None:
    lease = LeaseClock()
    _add(db, "k", clock.now())
    crashed = JobQueue(db, "crashed", lease=timedelta(minutes=5), lease_clock=lease)
    taken = await crashed.claim(clock.now())
    assert len(taken) == 1  # ... and the process dies before finishing
    rescuer = JobRunner(JobQueue(db, "rescuer", lease=timedelta(minutes=5), lease_clock=lease), clock,
                        handlers={"probe": _deliver})
    assert await rescuer.run_due() == []  # the lease still holds
    lease.now += timedelta(minutes=6)
    assert len(await rescuer.run_due()) == 1
    with pytest.raises(LostLease):  # the first worker comes back to life: its result is refused
        await crashed.finish(taken[0], await _deliver(taken[0], clock.now()), clock.now())
    assert len(_rows(db, inbox)) == 1
    assert _rows(db, jobs)[0].attempts == 2


async def test_failures_are_retried_with_backoff_then_kept_as_failed(db: Database, clock: FakeClock) -> None:
    calls: list[datetime] = []

    async def broken(job: Job, now: datetime) -> Outcome:
        calls.append(now)
        raise RuntimeError("the mail server is down")

    _add(db, "k", clock.now())
    runner = JobRunner(JobQueue(db, "w"), clock, handlers={"probe": broken})
    for _ in range(10):
        await runner.run_due()
        clock.advance(timedelta(hours=2))
    assert len(calls) == 5  # MAX_ATTEMPTS, each after a wait
    row = _rows(db, jobs)[0]
    assert row.status == "failed" and "mail server is down" in row.last_error
    assert (await runner.queue.counts()) == {"failed": 1}
    assert [j.key for j, _ in await runner.queue.failed()] == ["k"]


async def test_a_job_with_no_handler_is_not_silently_dropped(db: Database, clock: FakeClock) -> None:
    _add(db, "k", clock.now(), kind="unknown")
    runner = JobRunner(JobQueue(db, "w"), clock)
    await runner.run_due()
    row = _rows(db, jobs)[0]
    assert row.status == "pending" and "no handler" in row.last_error  # retried later, visibly


async def test_deferring_is_not_an_attempt(db: Database, clock: FakeClock) -> None:
    async def wait(job: Job, now: datetime) -> Outcome:
        return Outcome("deferred", note="quiet hours", defer_until=now + timedelta(hours=1))

    _add(db, "k", clock.now())
    runner = JobRunner(JobQueue(db, "w"), clock, handlers={"probe": wait})
    for _ in range(8):
        await runner.run_due()
        clock.advance(timedelta(hours=1))
    row = _rows(db, jobs)[0]
    assert (row.status, row.attempts, row.note) == ("pending", 0, "quiet hours")


async def test_repeating_reminder_fires_at_the_same_wall_time_across_dst(db: Database) -> None:
    clock = FakeClock(datetime(2026, 10, 30, 12, 0, tzinfo=ZONE))  # clocks go back on 1 November
    p = Proactive(db, lambda: None, clock, zone=ZONE)
    await p.reminders.add("u", "every day at 8 take the pills", now=clock.now())
    fired = []
    for _ in range(4 * 24):  # four days, hour by hour
        clock.advance(timedelta(hours=1))
        fired += await p.run_due()
    times = [i.created_at.astimezone(ZONE) for i in fired]
    assert [(t.day, t.hour) for t in times] == [(31, 8), (1, 8), (2, 8), (3, 8)]
    assert [t.astimezone(UTC).hour for t in times] == [12, 13, 13, 13]


async def test_edit_and_cancel_replace_the_pending_job(db: Database, clock: FakeClock) -> None:
    p = Proactive(db, lambda: None, clock, zone=ZONE)
    r = await p.reminders.add("u", "call mom Sunday at 6", now=clock.now())
    r = await p.reminders.edit("u", r.id, now=clock.now(), when="tomorrow at 7pm", text="call mom and dad")
    assert r.due_at == datetime(2026, 11, 26, 19, tzinfo=ZONE)
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=ZONE))  # past both times
    delivered = await p.run_due()
    assert [d.text.split(".")[0] for d in delivered] == ["Time to call mom and dad"]  # once, with the new words
    assert "late" in delivered[0].text  # it says it is late: OS1 was not running at 7 pm
    r2 = await p.reminders.add("u", "water the plants tomorrow at 9", now=clock.now())
    await p.reminders.cancel("u", r2.id, now=clock.now())
    clock.advance(timedelta(days=2))
    assert await p.run_due() == []
