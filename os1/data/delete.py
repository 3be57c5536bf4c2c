"""`os1 delete --everything`: a user's data gone, verifiably, indexes and caches included.

Deleting rows is not enough for text to be gone from disk: SQLite keeps deleted content in free pages,
in FTS5 index segments (a delete only adds a tombstone until the segments merge) and in the WAL. So:

1. every per-user table (found by walking the database, os1.data.tables) loses the user's rows, in one
   transaction, children first; `secure_delete` (set on every connection) zeroes the freed pages;
2. each FTS5 index is rebuilt from its content table, so no segment still holds the deleted words;
3. the WAL is checkpointed, the file is VACUUMed (rewritten without free pages) and the WAL truncated;
4. the user's files in the data dir (persona.toml, keys.toml) are overwritten and removed;
5. what is left for the user is counted: every table must be at zero.

On PostgreSQL, step 3 is VACUUM on the touched tables; the server's own WAL is recycled by PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, func, select, text

from ..errors import OS1Error, StoreError
from ..storage import Database
from ..types import UserId
from .export import USER_FILES
from .tables import fts_tables, user_tables

CONFIRMATION = "delete everything"
"""What a person types (or an API client sends) to confirm."""
SECRET_FILES = ("keys.toml",)
"""Files with the user's credentials: never exported, but deleted with everything else."""


@dataclass
class Deleted:
    """What was deleted, and the proof that nothing is left."""

    rows: dict[str, int] = field(default_factory=dict)
    remaining: dict[str, int] = field(default_factory=dict)
    indexes_rebuilt: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    compacted: str = ""

    @property
    def verified(self) -> bool:
        return not any(self.remaining.values())

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "remaining": self.remaining, "verified": self.verified,
                "indexes_rebuilt": self.indexes_rebuilt, "files": self.files, "compacted": self.compacted}


def _delete_rows(conn: Connection, user_id: UserId) -> tuple[dict[str, int], list[str]]:
    counts: dict[str, int] = {}
    for t in reversed(user_tables(conn)):
        counts[t.name] = int(conn.execute(delete(t.table).where(t.condition(user_id))).rowcount or 0)
    rebuilt = []
    for name, content in fts_tables(conn):
        if content is None:
            cols = [r[1] for r in conn.execute(text(f'PRAGMA table_info("{name}")'))]
            if "user_id" in cols:
                conn.execute(text(f'DELETE FROM "{name}" WHERE user_id = :u'), {"u": user_id})
            conn.execute(text(f"INSERT INTO \"{name}\"(\"{name}\") VALUES ('optimize')"))
        else:
            conn.execute(text(f"INSERT INTO \"{name}\"(\"{name}\") VALUES ('rebuild')"))
        rebuilt.append(name)
    return counts, rebuilt


def _remaining(conn: Connection, user_id: UserId) -> dict[str, int]:
    return {t.name: int(conn.execute(select(func.count()).select_from(t.table).where(t.condition(user_id))).scalar_one())
            for t in user_tables(conn)}


async def _compact(db: Database, tables: list[str]) -> str:
    if db.dialect != "sqlite":
        await db.maintain([f'VACUUM "{t}"' for t in tables])
        return "VACUUM on " + ", ".join(tables)
    await db.maintain(["PRAGMA wal_checkpoint(TRUNCATE)", "VACUUM"])
    for _ in range(50):  # a reader still holding an old snapshot makes the checkpoint wait for it
        busy = (await db.maintain(["PRAGMA wal_checkpoint(TRUNCATE)"]))[0]
        if busy is None or not busy[0]:
            return "free pages removed (VACUUM), write-ahead log checkpointed and truncated"
        await asyncio.sleep(0.1)
    raise StoreError("Could not empty the write-ahead log: another reader kept it busy.",
                     hint="Run the delete again; stop other OS1 processes first if it keeps failing.")


def shred(path: Path) -> None:
    """Overwrite a file with zeros, then remove it (best effort against recovery; SSDs may keep copies)."""
    with contextlib.suppress(OSError):
        size = path.stat().st_size
        with path.open("r+b") as f:
            f.write(b"\0" * size)
            f.flush()
            os.fsync(f.fileno())
    path.unlink(missing_ok=True)


async def _forget_passwords(db: Database, user_id: UserId, home: Path | None, secret_store: str) -> None:
    """Remove the passwords of connected mail/calendar accounts from the keyring or secrets file.

    They live outside the database (os1/tools/credentials.py), so the row cascade alone would leave them.
    """
    from ..tools.accounts import Accounts
    from ..tools.credentials import secrets_for

    accounts = Accounts(db, secrets_for(home, secret_store))
    for account in await accounts.list(user_id):
        with contextlib.suppress(OS1Error):  # a keyring that is gone cannot keep anything either
            await accounts.remove(user_id, account.name)


async def delete_everything(db: Database, user_id: UserId, *, home: Path | None = None,
                            files: bool = True, secret_store: str = "auto") -> Deleted:
    """Delete every trace of `user_id` from the database (and with `files`, the data dir)."""
    report = Deleted()
    if home is not None:
        await _forget_passwords(db, user_id, home, secret_store)
    report.rows, report.indexes_rebuilt = await db.write(lambda c: _delete_rows(c, user_id))
    report.compacted = await _compact(db, [t for t, n in report.rows.items() if n])
    report.remaining = await db.read(lambda c: _remaining(c, user_id))
    if files and home is not None:
        for name in (*USER_FILES, *SECRET_FILES):
            if (home / name).is_file():
                shred(home / name)
                report.files.append(name)
    return report


def clear_caches(companion: Any) -> None:
    """Drop what a running companion keeps in memory about its users (after a delete)."""
    memory = getattr(companion, "memory", None)
    index = getattr(memory, "index", None)
    if index is not None:
        index.invalidate()
        recent = getattr(index.embedder, "_recent", None)  # the embedder's last few texts
        if recent is not None:
            recent.clear()
    for holder, attr in ((getattr(companion, "self_store", None), "_cache"),
                         (getattr(companion, "learner", None), "_reflect_tried_at")):
        cache = getattr(holder, attr, None)
        if isinstance(cache, dict):
            cache.clear()
