"""`os1 delete --everything`: every row of the user gone (new tables too), indexes rebuilt, free pages and the
WAL emptied so the raw database bytes no longer hold what was said, files shredded, caches dropped."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from os1 import FakeClock
from os1.data import delete_everything
from os1.data.delete import clear_caches
from os1.memory.store import SqlConversationStore
from os1.storage import Database, open_database

from .test_data_export import SECRET, populate

OTHER = "an entirely different secret"


def raw_bytes(db_file: Path) -> bytes:
    """The database as it lies on disk: the main file, its WAL and shared-memory index."""
    return b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))


async def count(db: Database, sql: str, **params: object) -> int:
    return int(await db.read(lambda c: c.execute(text(sql), params).scalar_one()))


async def test_nothing_of_the_user_is_left_and_other_users_are_untouched(db: Database, clock: FakeClock) -> None:
    await populate(db, clock, "dana")
    await populate(db, clock, "sam", secret=OTHER)
    assert await count(db, "SELECT count(*) FROM embeddings WHERE user_id = 'dana'") > 0
    gone = await delete_everything(db, "dana")
    assert gone.verified and set(gone.remaining.values()) == {0}
    for name in ("messages", "facts", "people", "reflections", "reflection_sources", "journal",
                 "beliefs", "self_state", "profiles", "users", "test_notes", "test_note_tags"):
        assert gone.rows[name] > 0, name
    assert await count(db, "SELECT count(*) FROM users WHERE id = 'dana'") == 0
    assert gone.remaining["embeddings"] == 0  # removed with their items (triggers), counted again here
    # The other user keeps everything, and recall over the rebuilt full-text index still finds it.
    store = SqlConversationStore(db)
    found = await store.search("sam", "entirely different secret", limit=3)
    assert found and OTHER in found[0][0].text
    assert await store.search("dana", "lighthouse marmalade", limit=3) == []
    assert await count(db, "SELECT count(*) FROM test_note_tags") == 1


async def test_the_raw_database_and_wal_no_longer_hold_the_words(tmp_path: Path, clock: FakeClock) -> None:
    db_file = tmp_path / "os1.db"
    db = open_database(f"sqlite:///{db_file}")
    try:
        await populate(db, clock, "dana")
        await populate(db, clock, "sam", secret=OTHER)
        assert SECRET.encode() in raw_bytes(db_file)  # the test can fail: the words were on disk
        gone = await delete_everything(db, "dana")
        assert gone.verified and "messages_fts" in gone.indexes_rebuilt
        on_disk = raw_bytes(db_file)
        # "lighthous", "marmalad": the stems the full-text index stores.
        for word in (SECRET, "lighthous", "marmalad", "Hi, I'm Dana"):
            assert word.encode() not in on_disk, word
        assert OTHER.encode() in on_disk
        assert (await db.maintain(["PRAGMA integrity_check"]))[0][0] == "ok"
        assert await count(db, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'marmalade'") == 0
        assert await count(db, "SELECT count(*) FROM facts_fts WHERE facts_fts MATCH 'Rachel'") == 1  # sam's
    finally:
        db.close()
    assert SECRET.encode() not in raw_bytes(db_file)


async def test_user_files_are_shredded(sqlite_db: Database, clock: FakeClock, tmp_path: Path) -> None:
    await populate(sqlite_db, clock, "dana")
    home = tmp_path / "home"
    home.mkdir()
    (home / "persona.toml").write_text(f'about = "{SECRET}"\n')
    (home / "keys.toml").write_text('openai_api_key = "sk-secret"\n')
    (home / "models").mkdir()
    (home / "models" / "weights.gguf").write_bytes(b"GGUF")
    gone = await delete_everything(sqlite_db, "dana", home=home)
    assert sorted(gone.files) == ["keys.toml", "persona.toml"]
    assert sorted(p.name for p in home.iterdir()) == ["models"]  # the model weights are not user data
    assert (home / "models" / "weights.gguf").read_bytes() == b"GGUF"


async def test_a_running_companion_forgets_what_it_cached(sqlite_db: Database, clock: FakeClock) -> None:
    companion = await populate(sqlite_db, clock, "dana")
    assert companion.self_store._cache and companion.memory.index._cache is not None
    await companion.search_memories("dana", "lighthouse")  # fills the vector cache
    assert companion.memory.index._cache
    async with companion.exclusive("dana"):
        await delete_everything(sqlite_db, "dana")
        clear_caches(companion)
    assert not companion.self_store._cache and not companion.memory.index._cache
    assert await companion.search_memories("dana", "lighthouse") == []
    profile = await companion.profile("dana")
    assert profile.stage == "new" and profile.user_name is None  # a fresh start


async def test_mail_passwords_leave_the_secret_store_too(sqlite_db: Database, clock: FakeClock, tmp_path: Path) -> None:
    from os1.tools.accounts import Accounts
    from os1.tools.credentials import secrets_for

    secrets = secrets_for(tmp_path, "file")
    accounts = Accounts(sqlite_db, secrets)
    mine = await accounts.add("dana", "mail", "home", {"host": "127.0.0.1"}, secret="hunter2-dana", now=clock.now())
    theirs = await accounts.add("sam", "mail", "work", {"host": "127.0.0.1"}, secret="hunter2-sam", now=clock.now())
    assert mine.secret_ref and theirs.secret_ref and secrets().get(mine.secret_ref) == "hunter2-dana"
    await delete_everything(sqlite_db, "dana", home=tmp_path, files=False, secret_store="file")
    fresh = secrets_for(tmp_path, "file")()  # read back from the file, not a cache
    assert fresh.get(mine.secret_ref) is None
    assert fresh.get(theirs.secret_ref) == "hunter2-sam"
