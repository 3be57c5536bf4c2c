"""Encryption at rest (SQLCipher): nothing readable on disk, everything still works, clear errors without the
right passphrase, and `os1 encrypt` converting a database both ways without losing a row."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from os1 import FakeClock, Settings
from os1.data import delete_everything, export_to_dir
from os1.data.convert import convert
from os1.data.crypto import in_use, is_encrypted
from os1.errors import ConfigError, StoreError
from os1.storage import open_database

from ..conftest import ZONE
from .test_data_delete import raw_bytes
from .test_data_export import SECRET, populate

pytest.importorskip("sqlcipher3")
PASS = "correct horse battery staple"


async def test_everything_works_on_an_encrypted_database_and_the_file_shows_nothing(tmp_path: Path, clock: FakeClock) -> None:
    db_file = tmp_path / "os1.db"
    db = open_database(f"sqlite:///{db_file}", passphrase=PASS)
    try:
        assert db.encrypted
        companion = await populate(db, clock, "dana")
        # Chat with recall over FTS5 and embeddings, facts and people from learning: all on the encrypted file.
        found = await companion.search_memories("dana", "lighthouse marmalade")
        assert found and SECRET in found[0].text
        assert [p.name for p in await companion.memory.facts.people("dana")] == ["Rachel"]
        assert await db.read(lambda c: c.execute(text("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'marmalade'")).scalar_one()) == 1
        on_disk = raw_bytes(db_file)
        assert len(on_disk) > 100_000 and b"SQLite format 3" not in on_disk
        for word in (SECRET, "lighthous", "marmalade", "Rachel", "Denver", "CREATE TABLE"):
            assert word.encode() not in on_disk, word
        report = export_to_dir(db, "dana", tmp_path / "export", zone=ZONE, now=clock.now())
        assert report.tables["messages"] == 6
    finally:
        db.close()
    assert is_encrypted(db_file) is True
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(db_file).execute("SELECT count(*) FROM sqlite_master").fetchone()
    again = open_database(f"sqlite:///{db_file}", passphrase=PASS)  # and it opens again
    try:
        gone = await delete_everything(again, "dana")
        assert gone.verified
    finally:
        again.close()


def test_a_wrong_or_missing_passphrase_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'os1.db'}"
    open_database(url, passphrase=PASS).close()
    monkeypatch.setenv("OS1_KEYRING", "0")
    with pytest.raises(ConfigError, match="passphrase .* is wrong") as wrong:
        open_database(url, passphrase="not it")
    assert wrong.value.hint and "OS1_PASSPHRASE" in wrong.value.hint
    with pytest.raises(ConfigError, match="encrypted and no passphrase was given") as missing:
        open_database(url)  # no OS1_PASSPHRASE, no keyring, no terminal to ask in
    assert missing.value.hint and "OS1_PASSPHRASE" in missing.value.hint
    monkeypatch.setenv("OS1_PASSPHRASE", "not it either")
    with pytest.raises(ConfigError, match="is wrong"):
        open_database(url)
    monkeypatch.setenv("OS1_PASSPHRASE", PASS)
    open_database(url).close()  # the environment is one of the ways to give it
    with pytest.raises(ConfigError, match="empty"):
        open_database(url, passphrase="")


def test_the_passphrase_setting_creates_an_encrypted_database_and_is_never_shown(tmp_path: Path,
                                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OS1_PASSPHRASE", PASS)
    settings = Settings(home=tmp_path / "home")
    assert PASS not in repr(settings) and PASS not in str(settings.model_dump())
    settings.ensure_home()
    open_database(settings.db_url).close()
    assert is_encrypted(settings.home / "os1.db") is True
    plain = tmp_path / "plain.db"
    monkeypatch.delenv("OS1_PASSPHRASE")
    open_database(f"sqlite:///{plain}").close()
    monkeypatch.setenv("OS1_PASSPHRASE", PASS)
    with pytest.raises(ConfigError, match="not encrypted") as e:
        open_database(f"sqlite:///{plain}")  # a passphrase that would do nothing is an error, not a silent no-op
    assert e.value.hint and "os1 encrypt" in e.value.hint


async def test_convert_both_ways_keeps_every_row_and_leaves_no_plain_copy(tmp_path: Path, clock: FakeClock) -> None:
    db_file = tmp_path / "os1.db"
    url = f"sqlite:///{db_file}"
    db = open_database(url)
    try:
        await populate(db, clock, "dana")
        count = await db.read(lambda c: c.execute(text("SELECT count(*) FROM messages")).scalar_one())
    finally:
        db.close()
    assert SECRET.encode() in raw_bytes(db_file)

    done = convert(db_file, old=None, new=PASS)
    assert done.encrypted and done.rows > 0
    assert SECRET.encode() not in raw_bytes(db_file)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["os1.db"]  # no copy, no leftover WAL
    with pytest.raises(ConfigError, match="already encrypted"):
        convert(db_file, old=None, new="again")
    with pytest.raises(ConfigError, match="Cannot read"):
        convert(db_file, old="wrong", new="new one")

    convert(db_file, old=PASS, new="a new passphrase")
    db = open_database(url, passphrase="a new passphrase")
    try:
        assert await db.read(lambda c: c.execute(text("SELECT count(*) FROM messages")).scalar_one()) == count
        found = await db.read(lambda c: c.execute(text("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'marmalade'")).scalar_one())
        assert found == 1
        with pytest.raises(StoreError, match="in use"):
            convert(db_file, old="a new passphrase", new=None)  # this process has it open
        assert in_use(db_file, "a new passphrase")
    finally:
        db.close()
    assert not in_use(db_file, "a new passphrase")

    convert(db_file, old="a new passphrase", new=None)
    assert is_encrypted(db_file) is False
    db = open_database(url)
    try:
        assert await db.read(lambda c: c.execute(text("PRAGMA integrity_check")).scalar_one()) == "ok"
        assert await db.read(lambda c: c.execute(text("SELECT count(*) FROM messages")).scalar_one()) == count
    finally:
        db.close()
