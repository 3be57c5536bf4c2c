"""Several worker processes on one database never deliver the same job twice (real processes, real PostgreSQL
at 127.0.0.1:5432, and SQLite across processes too)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from os1.proactive.jobs import enqueue
from os1.proactive.tables import inbox, jobs
from os1.storage import open_database

from ..conftest import postgres_database

JOBS = 300
WORKERS = 3
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=ZoneInfo("America/New_York"))

WORKER = '''
import asyncio, pathlib, sys
from datetime import datetime
from zoneinfo import ZoneInfo
from os1.clock import FakeClock
from os1.proactive import Delivery, JobQueue, JobRunner, Outcome
from os1.storage import open_database

url, name, ready, go, out = sys.argv[1:6]

async def probe(job, now):
    await asyncio.sleep(0.002)  # a little work, so the workers overlap
    return Outcome("done", Delivery("reminder", "probe %s" % job.payload["n"], "a test asked for it"))

async def main():
    db = open_database(url)
    clock = FakeClock(datetime(2026, 11, 25, 9, 30, tzinfo=ZoneInfo("America/New_York")))
    runner = JobRunner(JobQueue(db, name), clock, handlers={"probe": probe})
    pathlib.Path(ready).touch()
    while not pathlib.Path(go).exists():
        await asyncio.sleep(0.005)
    items = await runner.run_due(limit=100000, plan=False)
    pathlib.Path(out).write_text(" ".join(str(i.id) for i in items))
    db.close()

asyncio.run(main())
'''


@pytest.fixture(params=["postgresql", "sqlite"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'os1.db'}"
        return
    with postgres_database() as pg:
        yield pg


def test_concurrent_workers_deliver_every_job_exactly_once(url: str, tmp_path: Path) -> None:
    db = open_database(url)

    def fill(conn: object) -> None:
        for n in range(JOBS):
            enqueue(conn, "u", "probe", f"probe:{n}", NOW - timedelta(minutes=n % 7), {"n": n}, now=NOW)  # type: ignore[arg-type]

    db.write_sync(fill)
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    go = tmp_path / "go"
    procs, outs, readies = [], [], []
    for i in range(WORKERS):
        ready, out = tmp_path / f"ready{i}", tmp_path / f"out{i}"
        readies.append(ready)
        outs.append(out)
        procs.append(subprocess.Popen([sys.executable, str(script), url, f"w{i}", str(ready), str(go), str(out)],
                                      cwd=Path(__file__).parents[2], stderr=subprocess.PIPE))
    deadline = time.monotonic() + 120
    while not all(r.exists() for r in readies):
        assert time.monotonic() < deadline, "the workers did not start"
        assert all(p.poll() is None for p in procs), [p.stderr.read() for p in procs if p.stderr]  # type: ignore[union-attr]
        time.sleep(0.05)
    go.touch()  # all at once
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read() if p.stderr else ""  # type: ignore[union-attr]

    per_worker = [[int(x) for x in o.read_text().split()] for o in outs]
    delivered = [i for ids in per_worker for i in ids]
    assert len(delivered) == JOBS and len(set(delivered)) == JOBS
    assert sum(1 for ids in per_worker if ids) >= 2, [len(ids) for ids in per_worker]  # they really ran together
    rows = db.read_sync(lambda c: c.execute(select(jobs)).all())
    assert {r.status for r in rows} == {"done"}
    assert {r.attempts for r in rows} == {1}  # each claimed exactly once: nobody ran a job another held
    assert len({r.locked_by for r in rows}) == 1  # cleared on finish (None)
    boxed = db.read_sync(lambda c: c.execute(select(inbox.c.job_id)).all())
    assert sorted(r.job_id for r in boxed) == sorted(r.id for r in rows)  # one delivery per job
    db.close()
