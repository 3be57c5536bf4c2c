"""Shared fixtures: a temporary data dir, a fake clock, a store on a fresh SQLite file, fakes."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
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


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'os1.db'}")
    yield database
    database.close()


@pytest.fixture
def store(db: Database) -> SqlConversationStore:
    return SqlConversationStore(db)


@pytest.fixture
def model() -> ScriptedModel:
    return ScriptedModel()


@pytest.fixture
def companion(store: SqlConversationStore, model: ScriptedModel, clock: FakeClock) -> Companion:
    return Companion(store, model, clock, CompanionConfig(recall_limit=3, history_turns=6))


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
