"""Scheduled and background work that survives restarts and never runs twice: a jobs table and a runner.

Why hand-written: APScheduler 3's job stores "must never be shared between schedulers" (its user guide),
so two worker processes on one PostgreSQL would fire a job twice; APScheduler 4, which fixes that, is a
pre-release; procrastinate is PostgreSQL-only while OS1 defaults to SQLite; Celery, RQ, Dramatiq and
Huey need a broker (Redis, RabbitMQ) a laptop install does not have. What OS1 needs is small: one
table, an atomic claim, a lease and retries, here in about 200 lines.

- Persisted: a job is a row, written in the transaction that made it (a reminder and its job commit
  together); `(user_id, key)` is unique, so planning the same job twice adds nothing.
- Claimed atomically: one `UPDATE jobs … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING` on
  PostgreSQL, so concurrent workers never claim the same row; on SQLite the same `UPDATE … RETURNING`
  runs under SQLite's single write lock (in-process through the single writer thread).
- Leased: a claim holds the job until `lease_until` (real time); a worker killed mid-job loses the
  lease and another claims the job again.
- Finished exactly once: the outcome (the delivered message, the next occurrence) commits in one
  transaction with `status='done'`, and only while this worker still holds the lease, so a job whose
  lease was taken over cannot deliver twice; a unique index on inbox.job_id backs this up.
- Never dropped silently: a failing job is retried with backoff, then marked `failed` with its error
  (logged at ERROR, counted by `os1 worker --status`); a job skipped on purpose says why in `note`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..clock import Clock
from ..errors import StoreError
from ..memory.store import _aware, _utc_naive, ensure_user
from ..storage import Database
from .inbox import Delivery, InboxItem, deliver_sync
from .tables import jobs

log = logging.getLogger("os1.proactive")

LEASE = timedelta(minutes=5)
"""How long a claimed job is held; a slow model call (a check-in on 2 cores) takes well under a minute."""
MAX_ATTEMPTS = 5
BACKOFF_CAP = timedelta(hours=1)


def real_now() -> datetime:
    return datetime.now(UTC)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    user_id: str
    kind: str
    key: str
    payload: dict[str, Any]
    run_at: datetime
    attempts: int
    max_attempts: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """What running a job came to; the runner commits it together with the job's new status."""

    status: Literal["done", "skipped", "deferred"] = "done"
    deliver: Delivery | None = None
    then: Callable[[Connection], None] | None = None
    """More writes for the same transaction (the next occurrence, a follow-up marked asked)."""
    note: str | None = None
    """Why it was skipped or deferred, in words."""
    defer_until: datetime | None = None


Handler = Callable[[Job, datetime], Awaitable[Outcome]]
Planner = Callable[[datetime], Awaitable[None]]
Listener = Callable[[InboxItem], Awaitable[None]]


class LostLease(Exception):
    """Another worker took the job over (this one was too slow); its result is dropped, not delivered."""


def _job(row: Any) -> Job:
    return Job(row.id, row.user_id, row.kind, row.key, dict(row.payload or {}), _aware(row.run_at), row.attempts,
               row.max_attempts)


def enqueue(conn: Connection, user_id: str, kind: str, key: str, run_at: datetime, payload: dict[str, Any], *,
            now: datetime, reschedule: bool = False) -> None:
    """Add a job in the caller's transaction; a job with the same key is kept (or, with `reschedule`,
    moved to `run_at` if it has not run yet)."""
    ensure_user(conn, user_id, now)
    values = dict(user_id=user_id, kind=kind, key=key, payload=payload, run_at=_utc_naive(run_at), status="pending",
                  attempts=0, max_attempts=MAX_ATTEMPTS, created_at=_utc_naive(now), updated_at=_utc_naive(now))
    ins = (sqlite_insert if conn.dialect.name == "sqlite" else pg_insert)(jobs).values(**values)
    if reschedule:
        conn.execute(ins.on_conflict_do_update(
            index_elements=[jobs.c.user_id, jobs.c.key],
            set_={"run_at": _utc_naive(run_at), "payload": payload, "updated_at": _utc_naive(now)},
            where=jobs.c.status == "pending"))
    else:
        conn.execute(ins.on_conflict_do_nothing(index_elements=[jobs.c.user_id, jobs.c.key]))


def cancel_jobs(conn: Connection, user_id: str, key_prefix: str, *, now: datetime) -> int:
    """Cancel pending jobs whose key starts with `key_prefix` (a reminder edited or cancelled)."""
    res = conn.execute(update(jobs).where(jobs.c.user_id == user_id, jobs.c.status == "pending",
                                          jobs.c.key.startswith(key_prefix, autoescape=True))
                       .values(status="cancelled", updated_at=_utc_naive(now), done_at=_utc_naive(now)))
    return int(res.rowcount)


def unplan(conn: Connection, user_id: str, kinds: Sequence[str]) -> int:
    """Delete a user's planned jobs of these kinds that no worker has claimed, so the planners make them
    again (at new times: the user's time zone changed). Jobs already running finish as they are."""
    res = conn.execute(delete(jobs).where(jobs.c.user_id == user_id, jobs.c.status == "pending",
                                          jobs.c.kind.in_(list(kinds))))
    return int(res.rowcount)


@dataclass
class JobQueue:
    """Claims and finishes jobs for one worker."""

    db: Database
    worker_id: str = field(default_factory=worker_name)
    lease: timedelta = LEASE
    lease_clock: Callable[[], datetime] = real_now

    def _claim(self, conn: Connection, now: datetime, limit: int) -> list[Job]:
        lease_now = _utc_naive(self.lease_clock())
        # Jobs whose worker vanished after its last attempt: failed, with the reason, never silently gone.
        conn.execute(update(jobs).where(jobs.c.status == "running", jobs.c.lease_until < lease_now,
                                        jobs.c.attempts >= jobs.c.max_attempts)
                     .values(status="failed", last_error="the worker stopped before finishing (lease expired)",
                             updated_at=lease_now, done_at=lease_now))
        due = and_(jobs.c.attempts < jobs.c.max_attempts, or_(
            and_(jobs.c.status == "pending", jobs.c.run_at <= _utc_naive(now)),
            and_(jobs.c.status == "running", jobs.c.lease_until < lease_now)))
        pick = select(jobs.c.id).where(due).order_by(jobs.c.run_at, jobs.c.id).limit(limit)
        if conn.dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        rows = conn.execute(
            update(jobs).where(jobs.c.id.in_(pick.scalar_subquery()), due)
            .values(status="running", locked_by=self.worker_id, lease_until=lease_now + self.lease,
                    attempts=jobs.c.attempts + 1, updated_at=lease_now)
            .returning(*jobs.c)).all()
        return sorted((_job(r) for r in rows), key=lambda j: (j.run_at, j.id))

    async def claim(self, now: datetime, limit: int = 10) -> list[Job]:
        """Take up to `limit` due jobs (or jobs whose worker lost its lease) for this worker."""
        return await self.db.write(lambda c: self._claim(c, now, limit))

    def _held(self, job: Job) -> Any:
        return and_(jobs.c.id == job.id, jobs.c.locked_by == self.worker_id, jobs.c.status == "running")

    def _finish(self, conn: Connection, job: Job, outcome: Outcome, now: datetime) -> InboxItem | None:
        at = _utc_naive(now)
        values: dict[str, Any] = {"locked_by": None, "lease_until": None, "updated_at": at, "note": outcome.note}
        if outcome.status == "deferred":
            # Waiting for quiet hours to end is not a failed attempt.
            values.update(status="pending", run_at=_utc_naive(outcome.defer_until or now),
                          attempts=max(0, job.attempts - 1))
        else:
            values.update(status=outcome.status, done_at=at)
        if conn.execute(update(jobs).where(self._held(job)).values(**values)).rowcount != 1:
            raise LostLease(f"job {job.id}")
        item = deliver_sync(conn, job.user_id, outcome.deliver, at=now, job_id=job.id) if outcome.deliver else None
        if outcome.then is not None:
            outcome.then(conn)
        return item

    async def finish(self, job: Job, outcome: Outcome, now: datetime) -> InboxItem | None:
        """Commit the outcome, and the delivery with it, if this worker still holds the job."""
        return await self.db.write(lambda c: self._finish(c, job, outcome, now))

    async def retry(self, job: Job, error: str, now: datetime) -> None:
        """A failed attempt: try again later with backoff, or mark it failed after the last attempt."""
        last = job.attempts >= job.max_attempts
        wait = min(BACKOFF_CAP, timedelta(seconds=30 * 2 ** max(0, job.attempts - 1)))
        values: dict[str, Any] = {"locked_by": None, "lease_until": None, "last_error": error[:2000],
                                  "updated_at": _utc_naive(now)}
        values.update({"status": "failed", "done_at": _utc_naive(now)} if last else
                      {"status": "pending", "run_at": _utc_naive(now + wait)})
        await self.db.write(lambda c: c.execute(update(jobs).where(self._held(job)).values(**values)))
        (log.error if last else log.warning)("job %s (%s) %s: %s", job.id, job.kind,
                                             "failed for good" if last else f"failed, retrying in {wait}", error)

    async def counts(self) -> dict[str, int]:
        q = select(jobs.c.status, func.count()).group_by(jobs.c.status)
        return {s: int(n) for s, n in await self.db.read(lambda c: c.execute(q).all())}

    async def failed(self, limit: int = 20) -> list[tuple[Job, str]]:
        q = select(jobs).where(jobs.c.status == "failed").order_by(jobs.c.id.desc()).limit(limit)
        return [(_job(r), r.last_error or "") for r in await self.db.read(lambda c: c.execute(q).all())]

    async def next_run_at(self) -> datetime | None:
        q = select(func.min(jobs.c.run_at)).where(jobs.c.status == "pending")
        found = await self.db.read(lambda c: c.execute(q).scalar())
        return _aware(found) if found is not None else None


@dataclass
class JobRunner:
    """Runs due jobs with their handlers: on demand (`run_due`, the CLI) or continuously (`run_forever`)."""

    queue: JobQueue
    clock: Clock
    handlers: dict[str, Handler] = field(default_factory=dict)
    planners: list[Planner] = field(default_factory=list)
    """Called before each pass to add jobs that come round regularly (check-ins, nudges); idempotent."""
    listeners: list[Listener] = field(default_factory=list)
    """Told of each delivery after it commits (WebSocket push, voice)."""
    idle: Callable[[], bool] = lambda: True
    """False while OS1 is answering someone: jobs wait, so a reply never queues behind a check-in."""
    plan_every: timedelta = timedelta(minutes=1)
    _planned_at: datetime | None = field(default=None, init=False)
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    def wake(self, *, replan: bool = False) -> None:
        """Look for due jobs now (something was just scheduled); with `replan`, plan again first (a user's
        check-in times or time zone changed)."""
        if replan:
            self._planned_at = None
        self._wake.set()

    async def plan(self, now: datetime, *, force: bool = False) -> None:
        stamp = real_now()
        if not force and self._planned_at is not None and stamp - self._planned_at < self.plan_every:
            return
        self._planned_at = stamp
        for planner in self.planners:
            try:
                await planner(now)
            except Exception:  # planning runs again next pass; one user's bad data must not stop the rest
                log.exception("planning proactive jobs failed")

    async def run_due(self, *, limit: int = 100, plan: bool = True) -> list[InboxItem]:
        """Run every job due now (up to `limit`); returns what was delivered."""
        now = self.clock.now()
        if plan:
            await self.plan(now, force=True)
        delivered: list[InboxItem] = []
        ran = 0
        while ran < limit:
            batch = await self.queue.claim(now, min(10, limit - ran))
            if not batch:
                break
            for job in batch:
                ran += 1
                item = await self.run_one(job, now)
                if item is not None:
                    delivered.append(item)
        return delivered

    async def run_one(self, job: Job, now: datetime) -> InboxItem | None:
        while not self.idle():
            await asyncio.sleep(0.2)
        handler = self.handlers.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for jobs of kind {job.kind!r}")
            outcome = await handler(job, now)
        except Exception as e:
            log.exception("job %s (%s) raised", job.id, job.kind)
            await self.queue.retry(job, f"{type(e).__name__}: {e}", now)
            return None
        try:
            item = await self.queue.finish(job, outcome, now)
        except LostLease:
            log.warning("job %s (%s) was taken over by another worker; its result was dropped", job.id, job.kind)
            return None
        except StoreError as e:
            await self.queue.retry(job, e.message, now)
            return None
        if item is not None:
            for listener in self.listeners:
                try:
                    await listener(item)
                except Exception:  # a closed socket must not undo a delivery
                    log.exception("a delivery listener failed")
        return item

    async def run_forever(self, stop: asyncio.Event, *, poll: float = 5.0) -> None:
        """Run jobs as they come due until `stop` is set; errors are logged and the loop goes on."""
        while not stop.is_set():
            try:
                await self.plan(self.clock.now())
                await self.run_due(plan=False)
            except Exception:
                log.exception("the job runner's pass failed; trying again shortly")
            self._wake.clear()
            waiters: Sequence[asyncio.Task[Any]] = [asyncio.ensure_future(stop.wait()),
                                                    asyncio.ensure_future(self._wake.wait())]
            _, pending = await asyncio.wait(waiters, timeout=poll, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
