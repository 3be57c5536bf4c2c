"""Recaller: hybrid recall (lexical, dense, time, people, fact history) on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import delete, insert

from os1.memory import SqlConversationStore, recall
from os1.memory.embed import EmbedKind, Vectors
from os1.memory.facts import FactCandidate, FactStore
from os1.memory.recall import Recaller, is_past_question
from os1.memory.vectors import VectorIndex
from os1.storage import Database
from os1.storage.schema import messages, reflections
from os1.types import RecalledMemory

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=NY)  # a Wednesday

# Words that mean the same thing share a dimension: a tiny embedding model that knows paraphrases.
CONCEPTS: dict[str, int] = {}
for dim, words in enumerate([
    "sister sibling rachel", "denver city town", "moved live lives living home reside", "garden tomatoes plants",
    "kitchen painted paint", "dog puppy", "job work office boss", "pasta dinner cooked", "piano music lessons",
    "hiking trail mountain", "insight pattern tend",
]):
    for w in words.split():
        CONCEPTS[w] = dim


class ConceptEmbedder:
    model_id = "concepts-test"
    dim = 16
    relevance_floor = 0.3

    def embed(self, texts: Sequence[str], *, kind: EmbedKind) -> Vectors:
        out = np.zeros((len(texts), self.dim), np.float32)
        for row, t in enumerate(texts):
            for w in re.findall(r"[a-z]+", t.lower()):
                if w in CONCEPTS:
                    out[row, CONCEPTS[w]] += 1
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1
        result: Vectors = (out / norms).astype(np.float32)
        return result


@dataclass
class Mem:
    db: Database
    store: SqlConversationStore
    facts: FactStore
    index: VectorIndex
    recaller: Recaller

    async def say(self, text: str, at: datetime, *, user: str = "u", role: str = "user", importance: float = 0.2) -> int:
        ex = await self.store.add_exchange(user, role, text, at=at, importance=importance)  # type: ignore[arg-type]
        await self.index.add(user, "exchange", ex.id, text)
        return ex.id

    async def fact(self, cand: FactCandidate, source: int | None, at: datetime, *, user: str = "u") -> int:
        applied = await self.facts.apply(user, cand, source_exchange_id=source, at=at)
        assert applied.fact is not None
        await self.index.add(user, "fact", applied.fact.id, applied.fact.text)
        return applied.fact.id

    async def recall(self, query: str, *, limit: int = 5, before_id: int | None = None, user: str = "u") -> list[RecalledMemory]:
        return await self.recaller.recall(user, query, now=NOW, limit=limit, before_id=before_id)


@pytest.fixture
def mem(db: Database) -> Mem:
    store = SqlConversationStore(db)
    facts = FactStore(db)
    index = VectorIndex(db, ConceptEmbedder())
    return Mem(db, store, facts, index, Recaller(store, facts, index))


@pytest.fixture
def smem(sqlite_db: Database) -> Mem:
    store = SqlConversationStore(sqlite_db)
    facts = FactStore(sqlite_db)
    index = VectorIndex(sqlite_db, ConceptEmbedder())
    return Mem(sqlite_db, store, facts, index, Recaller(store, facts, index))


def days_ago(n: float, hour: int = 12) -> datetime:
    return (NOW - timedelta(days=n)).replace(hour=hour, minute=0)


def texts(ms: list[RecalledMemory]) -> list[str]:
    return [m.text for m in ms]


async def test_a_paraphrase_is_found_only_with_embeddings(mem: Mem) -> None:
    moved = await mem.say("My sister moved to Denver in the spring", days_ago(40))
    await mem.say("I painted the kitchen blue", days_ago(30))
    await mem.say("Cooked pasta for dinner", days_ago(20))
    got = await mem.recall("which town does my sibling call home?")
    assert got and got[0].id == moved and got[0].kind == "exchange"
    lexical_only = Recaller(mem.store, mem.facts, None)
    assert moved not in [m.id for m in await lexical_only.recall("u", "which town does my sibling call home?",
                                                                  now=NOW, limit=5, before_id=None)]


async def test_agreement_between_lists_ranks_first(mem: Mem) -> None:
    both = await mem.say("Rachel moved to Denver", days_ago(50))
    lexical = await mem.say("The Denver airport was chaos", days_ago(2))
    dense = await mem.say("my sibling lives in a big city now", days_ago(3))
    await mem.say("I painted the kitchen", days_ago(1))
    got = await mem.recall("Rachel Denver")
    ids = [m.id for m in got]
    assert ids[0] == both
    assert lexical in ids and dense in ids
    scores = [m.score for m in got]
    assert scores == sorted(scores, reverse=True)


async def test_nothing_relevant_means_nothing_recalled(mem: Mem) -> None:
    await mem.say("My sister moved to Denver", days_ago(40))
    await mem.say("I painted the kitchen blue", days_ago(30))
    assert await mem.recall("quantum chromodynamics?") == []
    assert await mem.recall("Denver", limit=0) == []
    assert await mem.recall("   ") == []


async def test_a_few_words_are_no_memory(mem: Mem) -> None:
    cut_off = await mem.say("Denver! …", days_ago(3), role="assistant")
    bare = await mem.say("Rachel", days_ago(2))
    told = await mem.say("Rachel moved to Denver", days_ago(50))
    ids = [m.id for m in await mem.recall("Rachel Denver")]
    assert told in ids and cut_off not in ids and bare not in ids


def test_a_few_words_is_counted_in_any_script() -> None:
    from os1.memory.recall import says_something
    from os1.types import Exchange

    def ex(text: str) -> Exchange:
        return Exchange(1, "u", "user", text, NOW)

    assert not says_something(ex("Oh, hi! …")) and not says_something(ex("ok 123"))
    assert says_something(ex("my sister moved")) and says_something(ex("Zoë est partie"))
    assert says_something(ex("我想念奶奶")) and not says_something(ex("好的"))


async def test_recent_window_is_not_recalled_again(mem: Mem) -> None:
    old = await mem.say("My sister Rachel moved to Denver", days_ago(40))
    new = await mem.say("Rachel loves Denver so far", days_ago(0.1))
    got = await mem.recall("Rachel in Denver", before_id=new)
    assert [m.id for m in got] == [old]


async def test_time_named_in_the_question_filters_softly(mem: Mem) -> None:
    await mem.say("Went hiking on the mountain trail", days_ago(9))
    last_week = await mem.say("Worked in the garden with the tomatoes", days_ago(8))  # Tuesday of last week
    recent = await mem.say("The garden plants look sad", days_ago(0.3))
    yesterday = await mem.say("Had piano lessons after work", days_ago(1))
    # 'last week' ranks last week's garden talk above a newer one.
    got = await mem.recall("what did I say about the garden last week?")
    assert got[0].id == last_week and recent in [m.id for m in got]
    # 'yesterday' brings back what was said then, even with no word in common.
    got = await mem.recall("what did I do yesterday?")
    assert got[0].id == yesterday


async def test_time_span_without_embeddings(mem: Mem) -> None:
    await mem.say("Went hiking on the mountain trail", days_ago(9))
    yesterday = await mem.say("Had piano lessons after work", days_ago(1), importance=0.6)
    lexical_only = Recaller(mem.store, mem.facts, None)
    got = await lexical_only.recall("u", "what did I do yesterday?", now=NOW, limit=3, before_id=None)
    assert [m.id for m in got] == [yesterday]


async def test_people_named_bring_their_current_facts_and_history_for_the_past(mem: Mem) -> None:
    said_austin = await mem.say("My sister Rachel lives in Austin", days_ago(200))
    austin = await mem.fact(FactCandidate("person", "Rachel", "lives_in", "Austin", "Rachel lives in Austin",
                                          relation="sister"), said_austin, days_ago(200))
    said_denver = await mem.say("Rachel just moved to Denver!", days_ago(10))
    denver = await mem.fact(FactCandidate("person", "Rachel", "lives_in", "Denver", "Rachel lives in Denver"),
                            said_denver, days_ago(10))
    nurse = await mem.fact(FactCandidate("person", "Rachel", "job", "nurse", "Rachel works as a nurse"), None, days_ago(100))
    for _ in range(3):
        await mem.say("Work was busy", days_ago(5))

    # By relation, with nothing else in common: her current facts first; the old one only after them.
    got = await mem.recall("how is my sister doing?")
    facts = {m.id: m for m in got if m.kind == "fact"}
    order = [m.id for m in got if m.kind == "fact"]
    assert set(order[:2]) == {denver, nurse}
    assert all(facts[i].current for i in order[:2])
    assert austin not in facts or not facts[austin].current
    denver_m = facts[denver]
    assert denver_m.source == f"fact from what you said on {days_ago(10):%Y-%m-%d %H:%M}"
    # A fact replaces the exchange it came from: no repetition.
    assert said_denver not in [m.id for m in got if m.kind == "exchange"]

    # Asked about the past, the superseded fact comes back, marked as no longer true.
    got = await mem.recall("where did Rachel live before?")
    old = next(m for m in got if m.kind == "fact" and m.id == austin)
    assert old.current is False
    until = days_ago(10).astimezone(NY)
    assert old.source == f"fact from what you said on {days_ago(200):%Y-%m-%d %H:%M}, true until {until:%Y-%m-%d}"

    # Asked about now, the current value ranks above the old one even though both match.
    got = await mem.recall("where does Rachel live now?")
    fact_ids = [m.id for m in got if m.kind == "fact"]
    assert fact_ids[0] == denver
    assert austin not in fact_ids or fact_ids.index(austin) > fact_ids.index(denver)


async def test_sources_are_readable(smem: Mem) -> None:
    mine = await smem.say("My puppy chewed the couch", datetime(2026, 11, 20, 9, 14, tzinfo=NY))
    theirs = await smem.say("Puppies chew everything, it's a phase!", datetime(2026, 11, 20, 9, 15, tzinfo=NY),
                            role="assistant")
    got = {m.id: m for m in await smem.recall("my dog chewed")}
    assert got[mine].source == "you said on 2026-11-20 09:14"
    assert got[theirs].source == "I said on 2026-11-20 09:15"
    assert got[mine].ref == f"e{mine}"


async def test_reflections_are_recalled(mem: Mem) -> None:
    await mem.say("I painted the kitchen", days_ago(3))

    def tx(conn):  # type: ignore[no-untyped-def]
        return conn.execute(insert(reflections).values(
            user_id="u", text="You tend to pick up painting when work gets stressful",
            created_at=days_ago(2).astimezone(ZoneInfo("UTC")).replace(tzinfo=None))).inserted_primary_key[0]

    rid = await mem.db.write(tx)
    got = await Recaller(mem.store, mem.facts, None).recall("u", "why do I keep painting?", now=NOW, limit=5, before_id=None)
    refl = next(m for m in got if m.kind == "reflection")
    assert refl.id == rid and refl.source.startswith("my reflection on ")
    await mem.index.add("u", "reflection", rid, "You tend to pick up painting when work gets stressful")
    dense = await mem.recall("any pattern with my job?")
    assert rid in [m.id for m in dense if m.kind == "reflection"]


async def test_deleted_memories_never_come_back(mem: Mem) -> None:
    gone = await mem.say("My sister moved to Denver", days_ago(40))
    kept = await mem.say("Rachel visited Denver again", days_ago(30))
    assert gone in [m.id for m in await mem.recall("sibling city")]  # the matrix is loaded now
    await mem.db.write(lambda c: c.execute(delete(messages).where(messages.c.id == gone)))
    got = await mem.recall("sibling city")
    assert [m.id for m in got] == [kept]
    assert await mem.index.count("u") == 1


async def test_users_are_isolated(mem: Mem) -> None:
    a_ex = await mem.say("My sister Rachel moved to Denver", days_ago(40), user="alice")
    await mem.fact(FactCandidate("person", "Rachel", "lives_in", "Denver", "Rachel lives in Denver", relation="sister"),
                   a_ex, days_ago(40), user="alice")
    b_ex = await mem.say("My sister Rachel moved to Denver", days_ago(40), user="bob")
    await mem.fact(FactCandidate("person", "Rachel", "lives_in", "Denver", "Rachel lives in Denver", relation="sister"),
                   b_ex, days_ago(40), user="bob")
    for user in ("alice", "bob"):
        got = await mem.recall("where does my sister Rachel live? what about yesterday", user=user)
        assert got
        ex_ids = {m.id for m in got if m.kind == "exchange"}
        fact_sources = {m.source for m in got if m.kind == "fact"}
        assert ex_ids <= {a_ex if user == "alice" else b_ex}
        assert fact_sources
        mine = [m.id for m in await mem.recall("Rachel Denver", user=user)]
        other = [m.id for m in await mem.recall("Rachel Denver", user="bob" if user == "alice" else "alice")]
        assert not set(mine) & set(other)
    assert await mem.recall("Rachel Denver", user="carol") == []


async def test_module_level_recall_still_works(smem: Mem) -> None:
    ex = await smem.say("Sam started guitar lessons", days_ago(5))
    got = await recall(smem.store, "u", "how is Sam's guitar going?", now=NOW, limit=2, before_id=None)
    assert [m.id for m in got] == [ex]


@pytest.mark.parametrize(("query", "past"), [
    ("where did Rachel live before Denver?", True), ("did she used to work there?", True),
    ("where did Rachel live?", True), ("was he still working at the bank?", True),
    ("where does Rachel live now?", False), ("how is my sister?", False),
])
def test_past_questions(query: str, past: bool) -> None:
    assert is_past_question(query) is past


async def test_relation_words_and_names_link_to_the_same_person(smem: Mem) -> None:
    said = await smem.say("Carol is into birdwatching these days", days_ago(30))
    await smem.fact(FactCandidate("person", "Carol", "hobby", "birdwatching", "Carol is into birdwatching",
                                  relation="mom"), said, days_ago(30))
    hobby = await smem.say("She goes out with binoculars every weekend", days_ago(20))
    got = await smem.recall("what is my mother up to?")
    assert got and got[0].kind == "fact" and got[0].text == "Carol is into birdwatching"
    # The name also finds what was said about 'my mom' (the relation is searched for too).
    mom_said = await smem.say("My mom called, she sounded happy", days_ago(10))
    assert mom_said in [m.id for m in await smem.recall("How is Carol?") if m.kind == "exchange"]
    assert hobby not in [m.id for m in await smem.recall("How is Carol?")]


class BrokenEmbedder(ConceptEmbedder):
    fail = False

    def embed(self, texts: Sequence[str], *, kind: EmbedKind) -> Vectors:
        if self.fail:
            raise RuntimeError("no engine")
        return super().embed(texts, kind=kind)


async def test_a_failing_embedder_falls_back_to_lexical_recall(sqlite_db: Database) -> None:
    store, facts = SqlConversationStore(sqlite_db), FactStore(sqlite_db)
    emb = BrokenEmbedder()
    index = VectorIndex(sqlite_db, emb)
    ex = await store.add_exchange("u", "user", "Sam started guitar lessons", at=days_ago(3))
    await index.add("u", "exchange", ex.id, ex.text)
    emb.fail = True
    got = await Recaller(store, facts, index).recall("u", "how is Sam's guitar?", now=NOW, limit=3, before_id=None)
    assert [m.id for m in got] == [ex.id]
