"""Importing past conversations: OS1's JSON Lines format and ChatGPT's `conversations.json`.

Every accepted message becomes an exchange of the user with its original time and an `origin`
(`jsonl:<id>`, `chatgpt:<message id>`) that is unique per user, so importing the same file again
skips what is already there. Messages are inserted in batches, one transaction each: a kill
mid-import leaves whole batches only, and running the import again finishes it.

The format is documented in docs/import.md.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import os
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import IO, Any, Literal

from sqlalchemy import Connection, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..errors import InputError, OS1Error, StoreError
from ..inputs import clean_message
from ..storage import Database
from ..storage.schema import messages, users
from ..types import UserId

Format = Literal["jsonl", "chatgpt"]
FORMATS: tuple[Format, ...] = ("jsonl", "chatgpt")

BATCH_SIZE = 500
"""Messages per transaction."""
MAX_CHATGPT_BYTES = 500_000_000
"""ChatGPT's export is one JSON document, read whole: larger files are refused."""
MAX_ERRORS = 1000
"""Rejections kept with their reasons (all are counted)."""
FUTURE_SLACK = timedelta(days=1)
"""How far past the import time a message may be dated (a wrong zone is off by hours, not days)."""

_ORIGIN_MAX = 300  # messages.origin
_SESSION_MAX = 64  # messages.session_id
_SPEAKERS: dict[str, Literal["user", "assistant"]] = {
    "user": "user", "me": "user", "human": "user",
    "assistant": "assistant", "os1": "assistant", "ai": "assistant",
}
_WHITESPACE = b" \t\r\n"
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """One message ready to store."""

    origin: str
    role: Literal["user", "assistant"]
    text: str
    at: datetime
    """Aware."""
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record that could not be imported, and why."""

    where: str
    """'line 12', or 'conversation 3 ("Title"), message abc'."""
    reason: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Ignored:
    """A message left out on purpose (ChatGPT system/tool messages, images, empty ones)."""

    where: str
    reason: str


Item = ImportRecord | Rejection | Ignored
ProgressFn = Callable[[int, int], None]
"""Called after each batch with (done, total): bytes for JSON Lines, conversations for ChatGPT."""


@dataclass
class ImportReport:
    """What an import did. `new_ids` are the stored exchanges, for indexing (e.g. embeddings)."""

    file: str
    format: Format
    imported: int = 0
    duplicates: int = 0
    ignored: int = 0
    rejected: int = 0
    errors: list[Rejection] = field(default_factory=list)
    """The first MAX_ERRORS rejections (all of them are counted in `rejected`)."""
    new_ids: list[int] = field(default_factory=list)

    def reject(self, r: Rejection) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(r)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file, "format": self.format, "imported": self.imported, "duplicates": self.duplicates,
            "ignored": self.ignored, "rejected": self.rejected,
            "errors": [{"where": e.where, "line": e.line, "reason": e.reason} for e in self.errors],
            "new_ids": list(self.new_ids),
        }


@dataclass
class _Progress:
    done: int = 0
    total: int = 0


# Values ---------------------------------------------------------------------------------------------
def _describe(value: object) -> str:
    """A JSON value's type, in JSON's words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _check_time(when: datetime, now: datetime) -> datetime:
    try:
        when.astimezone(UTC)
    except (OverflowError, ValueError) as e:
        raise ValueError("is out of range") from e
    if when > now + FUTURE_SLACK:
        raise ValueError(f"is in the future (after {now:%Y-%m-%d %H:%M %Z})")
    return when


def parse_time(value: object, *, zone: tzinfo, now: datetime) -> datetime:
    """An ISO-8601 string as an aware datetime (naive ones are in `zone`), or ValueError saying why not."""
    if not isinstance(value, str):
        raise ValueError(f"must be an ISO-8601 string, not {_describe(value)}")
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value[:60]!r} is not an ISO-8601 date and time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
    return _check_time(when, now)


def _epoch_time(value: object, *, now: datetime) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number of seconds since 1970, not {_describe(value)}")
    if not math.isfinite(value):
        raise ValueError("is not a finite number")
    try:
        when = datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError("is out of range") from None
    return _check_time(when, now)


def _clean(text: object, max_chars: int, name: str) -> str:
    if not isinstance(text, str):
        raise ValueError(f"{name} must be a string, not {_describe(text)}")
    try:
        return clean_message(text, max_chars=max_chars)
    except InputError as e:
        raise ValueError(f"{name}: {e.message}") from None


# JSON Lines -----------------------------------------------------------------------------------------
def parse_jsonl_record(raw: bytes, *, line: int, zone: tzinfo, now: datetime, max_chars: int) -> ImportRecord | Rejection | None:
    """One line of a JSON Lines file: a record, a rejection, or None for a blank line. Never raises."""
    def reject(reason: str) -> Rejection:
        return Rejection(f"line {line}", reason, line)

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return reject(f"not valid UTF-8 (bad byte at position {e.start})")
    if not text.strip():
        return None
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as e:
        detail = f": {e.msg} at column {e.colno}" if isinstance(e, json.JSONDecodeError) else ""
        return reject(f"not valid JSON{detail}")
    if not isinstance(obj, dict):
        return reject(f"expected a JSON object, got {_describe(obj)}")
    missing = [k for k in ("id", "speaker", "text", "time") if k not in obj]
    if missing:
        return reject("missing " + ", ".join(repr(k) for k in missing))

    ident = obj["id"]
    if isinstance(ident, int) and not isinstance(ident, bool):
        ident = str(ident)
    if not isinstance(ident, str):
        return reject(f"'id' must be a string or an integer, not {_describe(ident)}")
    origin = "jsonl:" + ident
    if not ident.strip():
        return reject("'id' is empty")
    if len(origin) > _ORIGIN_MAX:
        return reject(f"'id' is longer than {_ORIGIN_MAX - len('jsonl:')} characters")
    try:
        origin.encode("utf-8")
    except UnicodeEncodeError:
        return reject("'id' is not valid Unicode text")

    speaker = obj["speaker"]
    role = _SPEAKERS.get(speaker.strip().lower()) if isinstance(speaker, str) else None
    if role is None:
        shown = repr(speaker[:40]) if isinstance(speaker, str) else _describe(speaker)
        return reject(f"'speaker' must be one of {', '.join(_SPEAKERS)}; got {shown}")

    session = obj.get("conversation")
    if isinstance(session, int) and not isinstance(session, bool):
        session = str(session)
    if session is not None:
        if not isinstance(session, str):
            return reject(f"'conversation' must be a string, not {_describe(session)}")
        if len(session) > _SESSION_MAX:
            return reject(f"'conversation' is longer than {_SESSION_MAX} characters")
        try:
            session.encode("utf-8")
        except UnicodeEncodeError:
            return reject("'conversation' is not valid Unicode text")
        session = session or None

    try:
        at = parse_time(obj["time"], zone=zone, now=now)
    except ValueError as e:
        return reject(f"'time' {e}")
    try:
        body = _clean(obj["text"], max_chars, "'text'")
    except ValueError as e:
        return reject(str(e))
    return ImportRecord(origin, role, body, at, session)


def max_line_bytes(max_chars: int) -> int:
    """The longest line worth reading: a message at the limit, every character escaped as a surrogate pair."""
    return max(1 << 20, max_chars * 12 + (64 << 10))


def parse_jsonl(stream: IO[bytes], *, zone: tzinfo, now: datetime, max_chars: int,
                progress: _Progress | None = None) -> Iterator[ImportRecord | Rejection]:
    """Records and rejections from a JSON Lines byte stream, line by line. Never raises on bad content."""
    limit = max_line_bytes(max_chars)
    line = 0
    while True:
        raw = stream.readline(limit + 1)
        if not raw:
            return
        line += 1
        size = len(raw)
        if line == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM):]
        if len(raw) > limit and not raw.endswith(b"\n"):
            while True:  # skip the rest of an overlong line without holding it
                chunk = stream.readline(limit)
                size += len(chunk)
                if not chunk or chunk.endswith(b"\n"):
                    break
            if progress is not None:
                progress.done += size
            yield Rejection(f"line {line}", f"longer than {limit:,} bytes", line)
            continue
        if progress is not None:
            progress.done += size
        item = parse_jsonl_record(raw.rstrip(b"\r\n"), line=line, zone=zone, now=now, max_chars=max_chars)
        if item is not None:
            yield item


# ChatGPT --------------------------------------------------------------------------------------------
def _main_thread(mapping: dict[str, Any], current: str) -> list[tuple[str, dict[str, Any]]]:
    """The (node id, message) pairs from the root to `current`, oldest first; ValueError if the tree is broken."""
    chain: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    node_id: object = current
    while node_id is not None:
        if not isinstance(node_id, str) or node_id not in mapping:
            raise ValueError(f"its message tree refers to a missing node {str(node_id)[:60]!r}")
        if node_id in seen:
            raise ValueError("its message tree has a cycle")
        seen.add(node_id)
        node = mapping[node_id]
        if not isinstance(node, dict):
            raise ValueError(f"node {node_id[:60]!r} is {_describe(node)}, not an object")
        message = node.get("message")
        if isinstance(message, dict):
            chain.append((node_id, message))
        node_id = node.get("parent")
    chain.reverse()
    return chain


def _chatgpt_message(msg: dict[str, Any], *, node_id: str, where: str, fallback: datetime | None, session: str | None,
                     now: datetime, max_chars: int) -> Item:
    author = msg.get("author")
    role = author.get("role") if isinstance(author, dict) else None
    if role not in ("user", "assistant"):
        return Ignored(where, f"{role if isinstance(role, str) else 'unknown'} message")
    metadata = msg.get("metadata")
    if isinstance(metadata, dict) and metadata.get("is_visually_hidden_from_conversation"):
        return Ignored(where, "hidden message")
    recipient = msg.get("recipient", "all")
    if recipient not in ("all", None):
        return Ignored(where, "tool call")
    content = msg.get("content")
    kind = content.get("content_type") if isinstance(content, dict) else None
    if kind not in ("text", "multimodal_text"):
        return Ignored(where, f"{kind if isinstance(kind, str) else 'unknown'} content")
    parts = content.get("parts") if isinstance(content, dict) else None
    strings = [p for p in parts if isinstance(p, str) and p.strip()] if isinstance(parts, list) else []
    if not strings:
        return Ignored(where, "no text")

    ident = msg.get("id", node_id)
    if not isinstance(ident, str) or not ident.strip():
        return Rejection(where, f"the message id must be a string, not {_describe(ident)}")
    origin = "chatgpt:" + ident
    if len(origin) > _ORIGIN_MAX:
        return Rejection(where, "the message id is too long")
    try:
        origin.encode("utf-8")
    except UnicodeEncodeError:
        return Rejection(where, "the message id is not valid Unicode text")
    stamp = msg.get("create_time")
    if stamp is None:
        if fallback is None:
            return Rejection(where, "neither the message nor its conversation has a create_time")
        at = fallback
    else:
        try:
            at = _epoch_time(stamp, now=now)
        except ValueError as e:
            return Rejection(where, f"create_time {e}")
    try:
        text = _clean("\n".join(strings), max_chars, "text")
    except ValueError as e:
        return Rejection(where, str(e))
    return ImportRecord(origin, role, text, at, session)


def _chatgpt_conversation(index: int, conv: object, *, now: datetime, max_chars: int) -> Iterator[Item]:
    where = f"conversation {index}"
    if not isinstance(conv, dict):
        yield Rejection(where, f"expected an object, got {_describe(conv)}")
        return
    title = conv.get("title")
    if isinstance(title, str) and title.strip():
        where += f" ({title.strip()[:60]!r})"
    mapping, current = conv.get("mapping"), conv.get("current_node")
    if not isinstance(mapping, dict):
        yield Rejection(where, "no 'mapping' object: not a ChatGPT conversation")
        return
    if not isinstance(current, str):
        yield Rejection(where, "no 'current_node': cannot tell which thread is the conversation")
        return
    try:
        thread = _main_thread(mapping, current)
    except ValueError as e:
        yield Rejection(where, str(e))
        return
    fallback: datetime | None = None
    if conv.get("create_time") is not None:
        try:
            fallback = _epoch_time(conv["create_time"], now=now)
        except ValueError:
            fallback = None
    conv_id = conv.get("conversation_id", conv.get("id"))
    session = f"chatgpt:{conv_id}" if isinstance(conv_id, str) and len(conv_id) <= _SESSION_MAX - 8 else None
    if session is not None:
        try:
            session.encode("utf-8")
        except UnicodeEncodeError:
            session = None
    for node_id, msg in thread:
        mid = msg.get("id", node_id)
        yield _chatgpt_message(msg, node_id=node_id, where=f"{where}, message {str(mid)[:60]}", fallback=fallback,
                               session=session, now=now, max_chars=max_chars)


def _conversation_start(conv: object) -> float:
    """Sort key: conversations are imported oldest first (exports list the newest first)."""
    stamp = conv.get("create_time") if isinstance(conv, dict) else None
    if isinstance(stamp, int | float) and not isinstance(stamp, bool) and math.isfinite(stamp):
        return float(stamp)
    return math.inf


def parse_chatgpt(data: object, *, now: datetime, max_chars: int,
                  progress: _Progress | None = None) -> Generator[Item, None, None]:
    """Records, rejections and ignored messages from a parsed ChatGPT export; InputError if it is not one."""
    if not isinstance(data, list):
        raise InputError(
            f"This is not a ChatGPT export: expected a JSON array of conversations, found {_describe(data)}.",
            hint="Import the conversations.json file from ChatGPT's data export.",
        )
    conversations: list[object] = data
    if progress is not None:
        progress.total = len(conversations)

    def walk() -> Generator[Item, None, None]:
        for i in sorted(range(len(conversations)), key=lambda i: _conversation_start(conversations[i])):
            yield from _chatgpt_conversation(i + 1, conversations[i], now=now, max_chars=max_chars)
            if progress is not None:
                progress.done += 1
    return walk()


# Files ----------------------------------------------------------------------------------------------
def _open(path: Path) -> IO[bytes]:
    try:
        return path.open("rb")
    except IsADirectoryError:
        raise InputError(f"Cannot import {path}: it is a directory.", hint="Give the path of a file.") from None
    except OSError as e:
        raise InputError(f"Cannot read {path}: {e.strerror or e}.") from None


def detect_format(path: Path) -> Format:
    """'chatgpt' for a JSON array, 'jsonl' for JSON objects (or an empty file); InputError otherwise."""
    with _open(path) as f:
        try:
            head = f.read(64 << 10)
            start = head.removeprefix(_BOM).lstrip(_WHITESPACE)
            while not start and head:  # a long run of blank space
                head = f.read(64 << 10)
                start = head.lstrip(_WHITESPACE)
        except OSError as e:
            raise InputError(f"Cannot read {path}: {e.strerror or e}.") from None
    if not start or start.startswith(b"{"):
        return "jsonl"
    if start.startswith(b"["):
        return "chatgpt"
    if start.startswith(b"PK\x03\x04"):
        raise InputError(f"{path} is a zip archive.",
                         hint="ChatGPT's export is a zip: unzip it and import the conversations.json inside.")
    raise InputError(
        f"Cannot tell what {path} is: it is neither JSON Lines nor a ChatGPT conversations.json.",
        hint="See docs/import.md for the formats OS1 imports, or pass --format jsonl|chatgpt.",
    )


def _load_chatgpt(path: Path, max_bytes: int) -> object:
    try:
        size = path.stat().st_size
    except OSError as e:
        raise InputError(f"Cannot read {path}: {e.strerror or e}.") from None
    if size > max_bytes:
        raise InputError(
            f"{path} is {size / 1e6:,.0f} MB; OS1 reads ChatGPT exports of up to {max_bytes / 1e6:,.0f} MB.",
            hint="Split the array of conversations into smaller files and import each.",
        )
    with _open(path) as f:
        try:
            raw = f.read()
        except OSError as e:
            raise InputError(f"Cannot read {path}: {e.strerror or e}.") from None
    try:
        return json.loads(raw.removeprefix(_BOM).decode("utf-8"))
    except UnicodeDecodeError as e:
        raise InputError(f"{path} is not valid UTF-8 (bad byte at offset {e.start:,}).",
                         hint="ChatGPT exports are UTF-8; is this the right file?") from None
    except json.JSONDecodeError as e:
        raise InputError(f"{path} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}.",
                         hint="Is the file complete? Try exporting again.") from None
    except (ValueError, RecursionError):
        raise InputError(f"{path} is not JSON that OS1 can read (nested too deeply).") from None


def _items(path: Path, fmt: Format, *, zone: tzinfo, now: datetime, max_chars: int, max_json_bytes: int,
           progress: _Progress) -> Generator[Item, None, None]:
    """Opens (and for ChatGPT, reads and checks) the file: InputError here means nothing was imported."""
    if fmt == "chatgpt":
        return parse_chatgpt(_load_chatgpt(path, max_json_bytes), now=now, max_chars=max_chars, progress=progress)
    stream = _open(path)
    try:
        progress.total = os.fstat(stream.fileno()).st_size
    except OSError:
        progress.total = 0

    def lines() -> Generator[Item, None, None]:
        with closing(stream):
            yield from parse_jsonl(stream, zone=zone, now=now, max_chars=max_chars, progress=progress)
    return lines()


# Storing --------------------------------------------------------------------------------------------
def _utc_naive(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None)


def insert_batch(conn: Connection, user_id: UserId, records: Iterable[ImportRecord], *, now: datetime) -> tuple[list[int], int]:
    """Insert the records whose origin is new, in order, in the caller's transaction: (new ids, duplicates)."""
    batch = list(records)
    if not batch:
        return [], 0
    dialect = conn.dialect.name
    ins = (sqlite_insert if dialect == "sqlite" else pg_insert)(users)
    conn.execute(ins.values(id=user_id, created_at=_utc_naive(now)).on_conflict_do_nothing())
    seen = set(conn.execute(
        select(messages.c.origin).where(messages.c.user_id == user_id,
                                        messages.c.origin.in_({r.origin for r in batch}))
    ).scalars())
    extracted = _utc_naive(now)
    rows = []
    for r in batch:
        if r.origin in seen:
            continue
        seen.add(r.origin)
        rows.append(dict(user_id=user_id, role=r.role, text=r.text, created_at=_utc_naive(r.at),
                         session_id=r.session_id, emotion=None, importance=0.0, notes=None,
                         extracted_at=extracted, origin=r.origin))
    if not rows:
        return [], len(batch)
    result = conn.execute(insert(messages).returning(messages.c.id, sort_by_parameter_order=True), rows)
    ids = [int(i) for i in result.scalars()]
    return ids, len(batch) - len(ids)


def _take(items: Iterator[Item], size: int, report: ImportReport) -> list[ImportRecord] | None:
    """The next `size` records (counting rejections and ignored ones into `report`); None at the end."""
    batch: list[ImportRecord] = []
    for item in items:
        if isinstance(item, ImportRecord):
            batch.append(item)
            if len(batch) >= size:
                return batch
        elif isinstance(item, Rejection):
            report.reject(item)
        else:
            report.ignored += 1
    return batch or None


async def import_file(
    db: Database, user_id: UserId, path: Path, *, zone: tzinfo, now: datetime, max_chars: int,
    fmt: Format | None = None, batch_size: int = BATCH_SIZE, max_json_bytes: int = MAX_CHATGPT_BYTES,
    on_progress: ProgressFn | None = None,
) -> ImportReport:
    """Import the conversations in `path` for `user_id`; `now` is the import time (aware).

    Raises InputError (nothing imported) when the file cannot be read or is not in a known format,
    and StoreError when the database fails (whole batches before it stay; importing again finishes).
    """
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"Unknown format {fmt!r}.", hint="Use jsonl or chatgpt, or leave it out to detect it.")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    chosen: Format = fmt if fmt is not None else await asyncio.to_thread(detect_format, path)
    progress = _Progress()
    items = await asyncio.to_thread(_items, path, chosen, zone=zone, now=now, max_chars=max_chars,
                                    max_json_bytes=max_json_bytes, progress=progress)
    report = ImportReport(file=str(path), format=chosen)
    with closing(items):
        while (batch := await asyncio.to_thread(_take, items, batch_size, report)) is not None:
            try:
                ids, duplicates = await db.write(functools.partial(insert_batch, user_id=user_id, records=batch, now=now))
            except OS1Error as e:
                raise StoreError(
                    f"{e.message} ({report.imported:,} messages were imported before it.)",
                    hint="Run the same import again to finish: what is already imported is skipped.",
                ) from e
            report.new_ids.extend(ids)
            report.imported += len(ids)
            report.duplicates += duplicates
            if on_progress is not None:
                on_progress(progress.done, progress.total)
    if on_progress is not None:
        on_progress(progress.done, progress.total)
    return report
