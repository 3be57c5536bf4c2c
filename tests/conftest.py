"""Shared fixtures: a temporary data dir, a fake clock, a store on a fresh SQLite file, fakes."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from os1 import Companion, CompanionConfig, FakeClock, ScriptedModel, Settings
from os1.memory import SqlConversationStore
from os1.storage import Database, open_database

ZONE = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's real data dir or OS1_* settings."""
    for key in list(os.environ):
        if key.startswith("OS1_") and key != "OS1_MODELS_DIR":
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("OS1_HOME", str(tmp_path / "home"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 25, 9, 30, tzinfo=ZONE))


PG_ADMIN_URL = os.environ.get("OS1_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def postgres_database() -> Iterator[str]:
    """A throw-away PostgreSQL database; skips (or fails, with OS1_TEST_REQUIRE_POSTGRES=1) without a server."""
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"os1_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as c:
            c.execute(text(f"CREATE DATABASE {name}"))
    except Exception as e:  # no server here
        admin.dispose()
        if os.environ.get("OS1_TEST_REQUIRE_POSTGRES"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {e.__class__.__name__}")
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """The same contract tests run on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        database = open_database(f"sqlite:///{tmp_path / 'os1.db'}")
        yield database
        database.close()
        return
    with postgres_database() as url:
        database = open_database(url)
        yield database
        database.close()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'os1.db'}")
    yield database
    database.close()


@pytest.fixture
def store(db: Database) -> SqlConversationStore:
    return SqlConversationStore(db)


@pytest.fixture
def sqlite_store(sqlite_db: Database) -> SqlConversationStore:
    return SqlConversationStore(sqlite_db)


@pytest.fixture
def model() -> ScriptedModel:
    return ScriptedModel()


@pytest.fixture
def companion(sqlite_store: SqlConversationStore, model: ScriptedModel, clock: FakeClock) -> Companion:
    return Companion(sqlite_store, model, clock, CompanionConfig(recall_limit=3, history_turns=6))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", model="echo")


def default_models_dir() -> Path:
    """Where `make test` assembled the default model (the developer's data dir unless OS1_MODELS_DIR)."""
    env = os.environ.get("OS1_MODELS_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("os1", appauthor=False)) / "models"


async def collect(events: AsyncIterator[object]) -> list[object]:
    return [e async for e in events]
