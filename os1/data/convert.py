"""`os1 encrypt`: turn a plain database into an encrypted one (or back, or change the passphrase).

SQLCipher's `sqlcipher_export` copies schema and rows (FTS5 indexes and triggers included) into a new
file with the new key. The copy is verified (integrity check, the same row count in every table) before
it atomically replaces the original; then the original's bytes are overwritten. Nothing else may have
the database open meanwhile: an exclusive lock proves it, else a clear error asks to stop OS1 first.

Crash safety: until the final `os.replace`, the original file is untouched; the replaced original is
kept under a hard link only while it is being overwritten (`*.plain-old`; removed by the next run).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, StoreError
from .crypto import is_encrypted, key_connection, passphrase_error, sqlcipher
from .delete import shred

LEFTOVER_SUFFIXES = (".converting", ".plain-old")


@dataclass(frozen=True, slots=True)
class Converted:
    path: Path
    encrypted: bool
    tables: int
    rows: int


def _counts(conn: Any, schema: str) -> dict[str, int]:
    names = [r[0] for r in conn.execute(f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' "
                                        "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%'")]
    return {n: int(conn.execute(f'SELECT count(*) FROM {schema}."{n}"').fetchone()[0]) for n in names}


def _open(module: Any, path: Path, key: str | None) -> Any:
    conn = module.connect(str(path), isolation_level=None, timeout=0.5)
    if key is not None:
        key_connection(conn, key)
    else:
        conn.execute("PRAGMA cipher_log_level = NONE")
    return conn


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def clean_leftovers(path: Path) -> list[Path]:
    """Remove what an interrupted conversion left beside the database (never the database itself)."""
    gone = []
    for suffix in LEFTOVER_SUFFIXES:
        for extra in ("", "-wal", "-shm", "-journal"):
            p = path.with_name(path.name + suffix + extra)
            if p.exists():
                shred(p)
                gone.append(p)
    return gone


def convert(path: Path, *, old: str | None, new: str | None) -> Converted:
    """Re-write the database at `path` from key `old` to key `new` (None: plain SQLite)."""
    state = is_encrypted(path)
    if state is None:
        raise ConfigError(f"There is no database at {path} yet.", hint="Start OS1 once, or set OS1_PASSPHRASE before "
                          "the first start to create it encrypted.")
    if state and old is None:
        raise ConfigError(f"The database at {path} is already encrypted.",
                          hint="Use `os1 encrypt --change` for a new passphrase, or `--decrypt`.")
    if not state and old is not None:
        raise ConfigError(f"The database at {path} is not encrypted.", hint="Run `os1 encrypt` to encrypt it.")
    module = sqlcipher()
    clean_leftovers(path)
    tmp = path.with_name(path.name + ".converting")
    src = _open(module, path, old)
    try:
        try:
            src.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except module.DatabaseError as e:
            raise passphrase_error(e) from e
        try:
            # Hold the database alone from here to the end: another OS1 process would keep writing to
            # the file this one is about to replace.
            src.execute("PRAGMA locking_mode = EXCLUSIVE")
            src.execute("BEGIN EXCLUSIVE")
            src.execute("COMMIT")
        except module.OperationalError as e:
            raise StoreError(f"The database at {path} is in use by another OS1 process.",
                             hint="Stop `os1 serve` and any `os1 chat`, then run this again.") from e
        target_key = "'" + (new or "").replace("'", "''") + "'"
        src.execute(f"ATTACH DATABASE '{str(tmp).replace(chr(39), chr(39) * 2)}' AS target KEY {target_key}")
        src.execute("SELECT sqlcipher_export('target')")
        version = src.execute("PRAGMA main.user_version").fetchone()[0]
        src.execute(f"PRAGMA target.user_version = {int(version)}")
        before = _counts(src, "main")
        src.execute("DETACH DATABASE target")
        src.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        src.close()
    check = _open(module, tmp, new)
    try:
        ok = check.execute("PRAGMA integrity_check").fetchone()[0]
        after = _counts(check, "main")
        check.execute("PRAGMA journal_mode = WAL")
    finally:
        check.close()
    if ok != "ok" or after != before:
        shred(tmp)
        raise StoreError(f"The converted copy did not verify ({ok}); the original database is unchanged.")
    for extra in ("-wal", "-shm"):
        # Empty after the checkpoint; a stale WAL must never be replayed into the new file.
        path.with_name(path.name + extra).unlink(missing_ok=True)
    old_link = path.with_name(path.name + ".plain-old")
    os.link(path, old_link)
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    shred(old_link)  # the original's bytes, overwritten now that the new file is in place
    return Converted(path, new is not None, len(after), sum(after.values()))
