"""`os1 doctor`: what is in use, whether it works, and what to do when it does not."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass

from .config import Settings, cpu_has_amx
from .errors import OS1Error
from .models import complete, resolve
from .models.registry import EchoChoice, EmbeddedChoice, OpenAIChoice, parse
from .storage import open_database
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
    try:
        db = open_database(settings.db_url)
        try:
            rev, head = current_revision(db.engine), head_revision(db.engine)
            checks.append(Check("database", rev == head, f"{_redact(settings.db_url)} ({db.check()}, schema {rev})",
                                None if rev == head else "Restart OS1 to migrate."))
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

    # What leaves the machine.
    remote = isinstance(choice, OpenAIChoice) and not choice.base_url.startswith(("http://127.", "http://localhost"))
    checks.append(Check("privacy", True, f"conversations are sent to {choice.base_url}" if remote  # type: ignore[union-attr]
                        else "nothing leaves this machine"))
    if os.environ.get("OS1_NOW"):
        checks.append(Check("clock", True, f"fixed by OS1_NOW at {settings.now}"))
    return checks
