import asyncio
from datetime import datetime, timedelta

from sqlalchemy import text

from os1.memory import SqlConversationStore, recall
from os1.storage import open_database
from os1.storage.migrate import current_revision, head_revision
from os1.types import Emotion, Profile

from ..conftest import ZONE

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=ZONE)


async def test_exchanges_round_trip_with_emotion_and_time(store: SqlConversationStore) -> None:
    e = Emotion("joy", 0.8, 0.6, {"joy": 1.0})
    a = await store.add_exchange("u1", "user", "I got the job!", at=T0, emotion=e, importance=0.7)
    b = await store.add_exchange("u1", "assistant", "That's wonderful!", at=T0 + timedelta(seconds=5))
    got = await store.recent("u1", 10)
    assert [x.id for x in got] == [a.id, b.id]
    assert got[0].emotion == e and got[0].importance == 0.7
    assert got[0].created_at == T0
    assert await store.count("u1") == 2


async def test_every_read_is_scoped_to_its_user(store: SqlConversationStore) -> None:
    await store.add_exchange("alice", "user", "my cat Miso is sick", at=T0)
    await store.add_exchange("bob", "user", "my cat is fine", at=T0)
    assert [e.text for e in await store.recent("bob", 10)] == ["my cat is fine"]
    hits = await store.search("bob", "cat Miso", limit=5)
    assert [h[0].user_id for h in hits] == ["bob"]
    assert await store.count("alice") == 1


async def test_search_ranks_matching_exchanges_and_respects_before_id(store: SqlConversationStore) -> None:
    ids = []
    for t in ["my sister Rachel lives in Ohio", "I had pasta for lunch", "Rachel called me about Ohio weather"]:
        ids.append((await store.add_exchange("u", "user", t, at=T0)).id)
    hits = await store.search("u", "Where does Rachel live?", limit=5)
    assert hits and hits[0][0].id == ids[0]
    assert all("Rachel" in h[0].text for h in hits)
    assert all(score > 0 for _, score in hits)
    assert [h[0].id for h in await store.search("u", "Rachel", limit=5, before_id=ids[2])] == [ids[0]]


async def test_search_survives_fts_syntax_in_queries(store: SqlConversationStore) -> None:
    await store.add_exchange("u", "user", "NEAR the AND gate", at=T0)
    for q in ['"unbalanced', "NEAR(a b)", "AND OR NOT", "*", "col:val", "-", "💔", ""]:
        await store.search("u", q, limit=5)  # must not raise


async def test_recall_prefers_relevant_then_recent(store: SqlConversationStore) -> None:
    old = await store.add_exchange("u", "user", "my brother Sam plays guitar", at=T0 - timedelta(days=200))
    new = await store.add_exchange("u", "user", "my brother Sam plays guitar badly", at=T0 - timedelta(days=1))
    await store.add_exchange("u", "user", "the weather is grey", at=T0)
    got = await recall(store, "u", "how is Sam's guitar going?", now=T0, limit=2, before_id=None)
    assert [m.id for m in got] == [new.id, old.id]
    assert got[0].source.startswith("you said on ")
    assert await recall(store, "u", "anything", now=T0, limit=0, before_id=None) == []


async def test_profile_defaults_and_upserts(store: SqlConversationStore) -> None:
    p = await store.profile("u")
    assert (p.user_name, p.companion_name, p.stage) == (None, None, "new")
    await store.save_profile(Profile("u", "Theo", "Samantha", "met", 2), at=T0)
    await store.save_profile(Profile("u", "Theodore", "Samantha", "met", 2), at=T0)
    p = await store.profile("u")
    assert (p.user_name, p.companion_name, p.stage, p.questions_asked) == ("Theodore", "Samantha", "met", 2)


async def test_concurrent_writes_go_through_one_writer(store: SqlConversationStore) -> None:
    await asyncio.gather(*(store.add_exchange("u", "user", f"message {i}", at=T0) for i in range(200)))
    assert await store.count("u") == 200
    assert len({e.id for e in await store.recent("u", 500)}) == 200


def test_schema_is_migrated_and_in_wal_mode(tmp_path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        assert current_revision(db.engine) == head_revision(db.engine) is not None
        mode = db.read_sync(lambda c: c.execute(text("PRAGMA journal_mode")).scalar_one())
        assert mode == "wal"
    finally:
        db.close()
    # Re-opening an up-to-date database is a no-op migration.
    open_database(f"sqlite:///{tmp_path / 'x.db'}").close()


def test_fts_index_follows_deletes(tmp_path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'x.db'}")
    store = SqlConversationStore(db)
    try:
        ex = asyncio.run(store.add_exchange("u", "user", "secret garden", at=T0))
        db.write_sync(lambda c: c.execute(text("DELETE FROM messages WHERE id = :i"), {"i": ex.id}))
        assert asyncio.run(store.search("u", "garden", limit=5)) == []
    finally:
        db.close()


async def test_a_whole_turn_with_recall_runs_on_each_database(store: SqlConversationStore) -> None:
    from os1 import Companion, CompanionConfig, FakeClock, ScriptedModel
    from os1.types import Recalled

    model = ScriptedModel()
    clock = FakeClock(T0)
    companion = Companion(store, model, clock, CompanionConfig(history_turns=2, recall_limit=3))
    async for _ in companion.reply("u", "My sister Rachel moved to Denver"):
        pass
    for i in range(4):
        clock.advance(timedelta(minutes=1))
        async for _ in companion.reply("u", f"unrelated chatter {i}"):
            pass
    recalled = [e async for e in companion.reply("u", "How is Rachel?") if isinstance(e, Recalled)]
    assert any("Rachel moved to Denver" in m.text for m in recalled[0].memories)
    assert "Rachel moved to Denver" in model.last_prompt[-1].content
    assert (await store.profile("u")).companion_name
