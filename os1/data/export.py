"""`os1 export`: everything OS1 keeps about a user, as JSON, plus a readable memory book.

Layout (a folder, or the same inside a zip):

    manifest.json        what was exported, when, from which schema, rows per table
    tables/NAME.json     every per-user table as a JSON array of rows (bytes as {"$base64": …})
    memory-book.md       the readable account (os1.data.book)
    files/…              user files from the data dir (your persona.toml)

Everything is read in one snapshot, so the files agree with each other.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Protocol

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from ..errors import InputError
from ..proactive.zones import user_zone_sync
from ..storage import Database
from ..types import UserId
from .book import BookWriter
from .tables import user_tables

FORMAT_VERSION = 1
USER_FILES = ("persona.toml",)
"""Files in the data dir that hold the user's own data (keys.toml holds secrets: never exported)."""


class Sink(Protocol):
    """Where export files go: a folder or a zip."""

    def open(self, name: str) -> contextlib.AbstractContextManager[IO[str]]: ...
    def copy(self, name: str, source: Path) -> None: ...


class DirSink:
    """Files in a folder readable by the user only."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @contextlib.contextmanager
    def open(self, name: str) -> Iterator[IO[str]]:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w", encoding="utf-8") as f:
            yield f

    def copy(self, name: str, source: Path) -> None:
        with self.open(name) as out, source.open(encoding="utf-8", errors="replace") as src:
            shutil.copyfileobj(src, out)


class ZipSink:
    """Files in a zip archive."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive

    @contextlib.contextmanager
    def open(self, name: str) -> Iterator[IO[str]]:
        with self.archive.open(name, "w") as raw, io.TextIOWrapper(raw, encoding="utf-8") as f:
            yield f

    def copy(self, name: str, source: Path) -> None:
        self.archive.write(source, name)


@dataclass
class ExportReport:
    """What an export wrote."""

    where: str
    tables: dict[str, int] = field(default_factory=dict)
    derived: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"where": self.where, "tables": self.tables, "derived_not_exported": self.derived, "files": self.files}


def jsonable(value: Any) -> Any:
    """A database value as JSON: times in ISO-8601 (stored UTC), bytes as base64."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return {"$base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Decimal):
        return float(value)
    return value


def _write_table(out: IO[str], rows: Iterator[Any]) -> int:
    n = 0
    out.write("[")
    for row in rows:
        out.write(",\n " if n else "\n ")
        out.write(json.dumps({k: jsonable(v) for k, v in row._mapping.items()}, ensure_ascii=False, default=str))
        n += 1
    out.write("\n]\n" if n else "]\n")
    return n


def write_export(conn: Connection, sink: Sink, user_id: UserId, *, zone: tzinfo, now: datetime,
                 home: Path | None, where: str) -> ExportReport:
    """Write every file of the export from one connection (one snapshot). Times in the memory book are in the
    user's time zone: the one they chose, else `zone` (the installation's)."""
    zone = user_zone_sync(conn, user_id, zone)
    report = ExportReport(where)
    tables = user_tables(conn)
    for t in tables:
        if t.derived:
            report.derived.append(t.name)
            continue
        with sink.open(f"tables/{t.name}.json") as out:
            report.tables[t.name] = _write_table(out, iter(conn.execute(t.rows(user_id))))
    with sink.open("memory-book.md") as out:
        BookWriter(conn, tables, user_id, zone=zone, now=now).write(out)
    report.files.append("memory-book.md")
    for name in USER_FILES:
        if home is not None and (home / name).is_file():
            sink.copy(f"files/{name}", home / name)
            report.files.append(f"files/{name}")
    manifest = {"format": "os1-export", "version": FORMAT_VERSION, "user_id": user_id, "exported_at": now.isoformat(),
                "time_zone": str(zone), "schema_revision": MigrationContext.configure(conn).get_current_revision(), **report.as_dict()}
    with sink.open("manifest.json") as out:
        json.dump(manifest, out, ensure_ascii=False, indent=2)
    return report


def export_to_dir(db: Database, user_id: UserId, directory: Path, *, zone: tzinfo, now: datetime,
                  home: Path | None = None) -> ExportReport:
    """Export into a new (or empty) folder."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise InputError(f"{directory} already exists and is not an empty folder.",
                         hint="Give the path of a new folder; OS1 never overwrites files.")
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as e:
        raise InputError(f"Cannot create {directory}: {e.strerror or e}.", hint="Choose a folder you can write to.") from e
    sink = DirSink(directory)
    return db.read_sync(lambda c: write_export(c, sink, user_id, zone=zone, now=now, home=home, where=str(directory)))


def export_zip(db: Database, user_id: UserId, *, zone: tzinfo, now: datetime, home: Path | None = None,
               spool: Callable[[], IO[bytes]] | None = None) -> tuple[IO[bytes], ExportReport]:
    """The export as a zip in a temporary file (in memory up to 32 MB), rewound for reading."""
    buffer = spool() if spool else tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        report = db.read_sync(lambda c: write_export(c, ZipSink(archive), user_id, zone=zone, now=now, home=home,
                                                     where="os1-export.zip"))
    buffer.seek(0)
    return buffer, report
