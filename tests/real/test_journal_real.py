"""A real model writes a journal entry (structure only: the wording is the model's)."""

from datetime import timedelta
from pathlib import Path

import pytest

from os1 import Companion, CompanionConfig, Settings
from os1.models.registry import resolve
from os1.types import GenOptions

from ..conftest import collect, default_models_dir

pytestmark = [pytest.mark.real, pytest.mark.default_model]


async def test_the_default_model_writes_a_journal_entry(tmp_path: Path, sqlite_store, clock) -> None:
    settings = Settings(home=tmp_path, models_dir_override=default_models_dir())  # type: ignore[call-arg]
    model = resolve("default", settings)
    companion = Companion(sqlite_store, model, clock, CompanionConfig(learn=False, options=GenOptions(max_tokens=24)))
    try:
        for text in ("Hi, I'm Theo. I write letters for people who can't find the words.",
                     "My sister Rachel moved to Denver and I miss her.",
                     "I think I'll call her this weekend."):
            await collect(companion.reply("u", text))
            clock.advance(timedelta(minutes=3))
        entry = await companion.journal.write(model, "u", now=clock.now(), user_name="Theo", companion_name="Iris")
    finally:
        await model.close()
    assert entry is not None and len(entry.text.split()) >= 5
    [stored] = await companion.journal.entries("u")
    assert stored.id == entry.id and stored.text == entry.text
    me = await companion.self_store.get("u", at=clock.now())
    assert me.mood  # a mood is always there, grown or seeded
    assert all(c.reason for c in entry.changes)
