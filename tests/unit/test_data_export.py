"""`os1 export`: every per-user table (new ones too) as JSON, one user only, and a readable memory book."""

from __future__ import annotations

import base64
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Column, Connection, ForeignKey, Integer, LargeBinary, MetaData, String, Table, Text, insert

from os1 import Companion, CompanionConfig, FakeClock, ScriptedModel
from os1.data import export_to_dir, export_zip
from os1.errors import InputError
from os1.memory.embed import HashEmbedder
from os1.memory.learning import Memory
from os1.memory.store import SqlConversationStore
from os1.memory.vectors import VectorIndex
from os1.storage import Database
from os1.storage.schema import journal

from ..conftest import ZONE, collect

SECRET = "the lighthouse keeper whispers marmalade"
RACHEL = {"kind": "person", "subject": "Rachel", "relation": "sister", "attribute": "lives_in", "value": "Denver",
          "replaces": "", "when": "", "sentence": "Dana's sister Rachel lives in Denver."}


def extra_tables(db: Database) -> tuple[Table, Table]:
    """Tables another part of OS1 might add later: one with user_id, one reaching users only through it."""
    meta = MetaData()
    Table("users", meta, Column("id", String(128), primary_key=True))
    notes = Table("test_notes", meta, Column("id", Integer, primary_key=True),
                  Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
                  Column("body", Text, nullable=False), Column("blob", LargeBinary))
    tags = Table("test_note_tags", meta, Column("id", Integer, primary_key=True),
                 Column("note_id", Integer, ForeignKey("test_notes.id", ondelete="CASCADE"), nullable=False),
                 Column("tag", Text, nullable=False))
    meta.create_all(db.engine, tables=[notes, tags])
    return notes, tags


async def populate(db: Database, clock: FakeClock, user: str = "dana", *, secret: str = SECRET) -> Companion:
    """A real history through the companion: turns, facts, people, a reflection, a journal entry, embeddings,
    rows in tables added after the fact."""
    model = ScriptedModel(default="That sounds lovely.")
    model.structured_default = json.dumps({"facts": [RACHEL]})
    index = VectorIndex(db, HashEmbedder())
    companion = Companion(SqlConversationStore(db), model, clock, CompanionConfig(recall_limit=2),
                          memory=Memory.open(db, index))
    for text in (f"Hi, I'm {user.capitalize()}", f"I need to tell someone: {secret}", "My sister Rachel lives in Denver"):
        await collect(companion.reply(user, text))
        clock.advance(timedelta(minutes=3))
    await companion.drain()
    await companion.memory.reflections.add(user, f"Dana shares secrets like {secret}", ["e2"], at=clock.now())
    await db.write(lambda c: c.execute(insert(journal).values(user_id=user, text=f"Today Dana told me {secret}.",
                                                              about_user="She trusts me.", created_at=clock.now())))
    notes, tags = extra_tables(db)

    def extra(c: Connection) -> None:
        nid = c.execute(insert(notes).values(user_id=user, body=f"note: {secret}", blob=b"\x00\xffraw")).inserted_primary_key[0]  # type: ignore[index]
        c.execute(insert(tags).values(note_id=nid, tag="tagged " + secret))

    await db.write(extra)
    return companion


def table(root: Path, name: str) -> list[dict[str, object]]:
    rows = json.loads((root / "tables" / f"{name}.json").read_text("utf-8"))
    assert isinstance(rows, list)
    return rows


async def test_export_has_every_table_new_ones_too_and_only_this_user(db: Database, clock: FakeClock, tmp_path: Path) -> None:
    await populate(db, clock, "dana")
    await populate(db, clock, "someone-else", secret="an entirely different secret")
    report = export_to_dir(db, "dana", tmp_path / "out", zone=ZONE, now=clock.now())
    out = tmp_path / "out"
    for name in ("users", "profiles", "messages", "facts", "people", "reflections", "reflection_sources", "journal",
                 "self_state", "beliefs", "test_notes", "test_note_tags"):
        assert report.tables[name] == len(table(out, name)), name
        assert report.tables[name] > 0, name
    assert "embeddings" in report.derived and not (out / "tables" / "embeddings.json").exists()
    everything = "".join(p.read_text("utf-8") for p in (out / "tables").iterdir())
    assert SECRET in everything and "entirely different secret" not in everything
    assert {r["user_id"] for r in table(out, "messages")} == {"dana"}
    assert [r["text"] for r in table(out, "messages") if r["role"] == "user"][1].endswith(SECRET)
    note = table(out, "test_notes")[0]
    assert base64.b64decode(note["blob"]["$base64"]) == b"\x00\xffraw"  # type: ignore[index]
    assert table(out, "test_note_tags")[0]["tag"] == "tagged " + SECRET
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["user_id"] == "dana" and manifest["tables"] == report.tables and manifest["schema_revision"]


async def test_the_memory_book_tells_the_story(db: Database, clock: FakeClock, tmp_path: Path) -> None:
    await populate(db, clock, "dana")
    await populate(db, clock, "someone-else", secret="an entirely different secret")
    export_to_dir(db, "dana", tmp_path / "out", zone=ZONE, now=clock.now())
    book = (tmp_path / "out" / "memory-book.md").read_text("utf-8")
    headings = [line for line in book.splitlines() if line.startswith("## ")]
    assert headings == ["## What I know about you", "## The people in your life", "## What I came to understand",
                        f"## {book.split(': ', 1)[1].split(' and ')[0]}'s journal", "## How you've been",
                        headings[5], "## Our conversations", "## Everything else"]
    assert headings[5].startswith("## Who I am")
    assert "Dana's sister Rachel lives in Denver." in book
    assert "**Rachel**: sister, lives in Denver" in book
    assert f"> I need to tell someone: {SECRET}" in book
    assert f"Today Dana told me {SECRET}." in book
    assert "### Test notes (1)" in book and f"body: note: {SECRET}" in book
    assert "entirely different secret" not in book
    assert "and Dana" in book.splitlines()[0]


async def test_the_zip_holds_the_same_export(db: Database, clock: FakeClock, tmp_path: Path) -> None:
    await populate(db, clock)
    report = export_to_dir(db, "dana", tmp_path / "dir", zone=ZONE, now=clock.now())
    buffer, zipped = export_zip(db, "dana", zone=ZONE, now=clock.now())
    with zipfile.ZipFile(buffer) as archive:
        names = set(archive.namelist())
        assert names == {str(p.relative_to(tmp_path / "dir")) for p in (tmp_path / "dir").rglob("*") if p.is_file()}
        for name in names - {"manifest.json"}:
            assert archive.read(name) == (tmp_path / "dir" / name).read_bytes(), name
    assert zipped.tables == report.tables


async def test_export_never_overwrites(db: Database, clock: FakeClock, tmp_path: Path) -> None:
    await populate(db, clock)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "mine.txt").write_text("keep me")
    with pytest.raises(InputError, match="not an empty folder"):
        export_to_dir(db, "dana", tmp_path / "full", zone=ZONE, now=clock.now())
    assert (tmp_path / "full" / "mine.txt").read_text() == "keep me"


async def test_user_files_are_exported_but_secrets_never(db: Database, clock: FakeClock, tmp_path: Path) -> None:
    await populate(db, clock)
    home = tmp_path / "home"
    home.mkdir()
    (home / "persona.toml").write_text('names = ["Wren"]\n')
    (home / "keys.toml").write_text('openai_api_key = "sk-not-for-export"\n')
    report = export_to_dir(db, "dana", tmp_path / "out", zone=ZONE, now=clock.now(), home=home)
    assert "files/persona.toml" in report.files
    assert (tmp_path / "out" / "files" / "persona.toml").read_text() == 'names = ["Wren"]\n'
    assert not any("sk-not-for-export" in p.read_text("utf-8", "replace") for p in (tmp_path / "out").rglob("*") if p.is_file())
