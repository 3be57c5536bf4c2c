"""Wiring: one place that turns Settings into a running Companion, for the CLI and the server alike."""

from __future__ import annotations

from dataclasses import dataclass

from .affect import use_embedder
from .clock import Clock, FakeClock, SystemClock
from .companion import Companion, CompanionConfig
from .config import Settings
from .errors import ModelError
from .memory import SqlConversationStore
from .memory.learning import Memory
from .models import ChatModel, resolve
from .models.unavailable import UnavailableModel
from .safety import USER_FILE_NAME, resources_for
from .storage import Database, open_database
from .types import GenOptions


@dataclass
class Runtime:
    settings: Settings
    db: Database
    store: SqlConversationStore
    model: ChatModel
    clock: Clock
    companion: Companion

    async def aclose(self) -> None:
        await self.model.close()
        self.db.close()


def make_clock(settings: Settings) -> Clock:
    zone = settings.zone()
    if settings.now is not None:
        return FakeClock(settings.now, zone)
    return SystemClock(zone)


def companion_config(settings: Settings) -> CompanionConfig:
    persona = settings.home / "persona.toml"
    return CompanionConfig(
        max_message_chars=settings.max_message_chars,
        history_turns=settings.history_turns,
        recall_limit=settings.recall_limit,
        # About 3 characters per token; keep room for the reply.
        budget_chars=max(2000, (settings.n_ctx - GenOptions().max_tokens - 64) * 3),
        persona_file=persona if persona.is_file() else None,
        zone=settings.zone(),
        proactive_words=settings.proactive_words,
        crisis_resources=resources_for(settings.locale, settings.home / USER_FILE_NAME),
        home=settings.home,
        secret_store=settings.secret_store,
        # With OS1_BACKGROUND=worker, `os1 worker` processes learn (claiming each user); servers only reply.
        learn=settings.background == "inline",
    )


def limit_blas_threads(n: int) -> None:
    """Cap the BLAS library numpy loaded (OpenBLAS) at `n` threads, for the whole process (Settings.blas_threads)."""
    import numpy  # noqa: F401  # loads OpenBLAS: the limit applies to the libraries loaded now
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n, user_api="blas")


def open_runtime(settings: Settings, *, model: ChatModel | None = None) -> Runtime:
    """Open the database (migrating it) and build the model (not loading it yet)."""
    settings.ensure_home()
    limit_blas_threads(settings.blas_threads)
    db = open_database(settings.db_url)
    try:
        chat_model = model or resolve(settings.model, settings)
    except ModelError as e:
        chat_model = UnavailableModel(settings.model, e)
    except Exception:
        db.close()
        raise
    store = SqlConversationStore(db)
    clock = make_clock(settings)
    index = None
    if settings.embeddings:
        from .memory.embed import e5_embedder
        from .memory.vectors import VectorIndex

        index = VectorIndex(db, e5_embedder(num_threads=settings.embed_threads))
    if index is not None:
        # The emotion reading embeds each message with the same model: share it (and its cache) with recall.
        use_embedder(index.embedder)
    memory = Memory.open(db, index)
    companion = Companion(store, chat_model, clock, companion_config(settings), memory=memory)
    return Runtime(settings, db, store, chat_model, clock, companion)
