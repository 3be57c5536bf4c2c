"""VectorIndex on SQLite and PostgreSQL, with the hashed stand-in embedder."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import delete, func, select

from os1.memory import SqlConversationStore
from os1.memory.embed import HashEmbedder
from os1.memory.vectors import VectorIndex, from_blob, to_blob
from os1.storage import Database
from os1.storage.schema import embeddings, messages

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=ZoneInfo("UTC"))
TEXTS = [
    "my sister Rachel moved to Denver",
    "I had pasta for dinner tonight",
    "the dog chewed my running shoes",
    "work was stressful, the deadline moved again",
    "Rachel called me about her new job in Denver",
]


async def _exchanges(store: SqlConversationStore, user: str, texts: list[str]) -> list[int]:
    ids = []
    for n, t in enumerate(texts):
        ex = await store.add_exchange(user, "user", t, at=T0 + timedelta(minutes=n))
        ids.append(ex.id)
    return ids


async def test_search_ranks_by_similarity_and_filters(db: Database) -> None:
    store = SqlConversationStore(db)
    index = VectorIndex(db, HashEmbedder())
    ids = await _exchanges(store, "u", TEXTS)
    await index.add_many("u", [("exchange", i, t) for i, t in zip(ids, TEXTS, strict=True)])
    await index.add("u", "fact", 7, "Rachel lives in Denver")

    hits = await index.search("u", "Rachel Denver", limit=3)
    assert {(k, i) for k, i, _ in hits} == {("exchange", ids[0]), ("exchange", ids[4]), ("fact", 7)}
    scores = [s for _, _, s in hits]
    assert scores == sorted(scores, reverse=True) and all(-1.0 <= s <= 1.0 + 1e-6 for s in scores)

    only_facts = await index.search("u", "Rachel Denver", limit=5, kinds=("fact",))
    assert [(k, i) for k, i, _ in only_facts] == [("fact", 7)]
    older = await index.search("u", "Rachel Denver", limit=5, kinds=("exchange",), before_id=ids[4])
    assert ids[4] not in [i for _, i, _ in older] and ids[0] in [i for _, i, _ in older]
    window = await index.search("u", "Rachel Denver", limit=5, kinds=("exchange",), exchange_window=(ids[3], ids[4]))
    assert {i for _, i, _ in window} == {ids[3], ids[4]}
    excluded = await index.search("u", "Rachel Denver", limit=5, exclude=[("fact", 7), ("exchange", ids[0])])
    assert ("fact", 7) not in [(k, i) for k, i, _ in excluded] and ids[0] not in [i for _, i, _ in excluded]
    assert await index.search("u", "Rachel", limit=0) == []
    assert await index.search("u", "   ", limit=3) == []


async def test_vectors_persist_and_a_fresh_index_loads_them(db: Database) -> None:
    store = SqlConversationStore(db)
    ids = await _exchanges(store, "u", TEXTS)
    first = VectorIndex(db, HashEmbedder())
    await first.add_many("u", [("exchange", i, t) for i, t in zip(ids, TEXTS, strict=True)])
    before = await first.search("u", "dog shoes", limit=2)

    again = VectorIndex(db, HashEmbedder())
    assert await again.stored("u") == len(TEXTS)
    after = await again.search("u", "dog shoes", limit=2)
    assert [(k, i) for k, i, _ in after] == [(k, i) for k, i, _ in before]
    assert after[0][1] == ids[2]
    np.testing.assert_allclose([s for *_, s in after], [s for *_, s in before], rtol=1e-6)
    # Another model's vectors are kept apart.
    other = VectorIndex(db, HashEmbedder(dim=64))
    assert await other.search("u", "dog shoes", limit=2) == []


async def test_users_never_see_each_others_memories(db: Database) -> None:
    store = SqlConversationStore(db)
    index = VectorIndex(db, HashEmbedder())
    a = await _exchanges(store, "alice", ["my cat Miso is sick"])
    b = await _exchanges(store, "bob", ["my cat Pepper is sick", "I play chess"])
    await index.add("alice", "exchange", a[0], "my cat Miso is sick")
    await index.add_many("bob", [("exchange", b[0], "my cat Pepper is sick"), ("exchange", b[1], "I play chess")])
    alice = await index.search("alice", "sick cat", limit=10)
    bob = await index.search("bob", "sick cat", limit=10)
    assert [i for _, i, _ in alice] == [a[0]]
    assert set(i for _, i, _ in bob) == set(b)
    assert await index.search("carol", "sick cat", limit=10) == []


async def test_adding_again_replaces_the_vector(db: Database) -> None:
    store = SqlConversationStore(db)
    index = VectorIndex(db, HashEmbedder())
    ids = await _exchanges(store, "u", ["gardening with tomatoes", "violin lessons"])
    await index.add("u", "exchange", ids[0], "gardening with tomatoes")
    await index.add("u", "exchange", ids[1], "violin lessons")
    await index.search("u", "anything", limit=1)  # loaded
    await index.add("u", "exchange", ids[0], "sailing on the lake")
    assert (await index.search("u", "sailing lake", limit=1))[0][1] == ids[0]
    assert await index.stored("u") == 2 and await index.count("u") == 2
    assert (await VectorIndex(db, HashEmbedder()).search("u", "sailing lake", limit=1))[0][1] == ids[0]


async def test_remove_and_rows_deleted_by_triggers(db: Database) -> None:
    store = SqlConversationStore(db)
    index = VectorIndex(db, HashEmbedder())
    ids = await _exchanges(store, "u", TEXTS)
    await index.add_many("u", [("exchange", i, t) for i, t in zip(ids, TEXTS, strict=True)])
    assert ids[2] in [i for _, i, _ in await index.search("u", "dog shoes", limit=5)]

    await index.remove("exchange", [ids[2]])
    assert ids[2] not in [i for _, i, _ in await index.search("u", "dog shoes", limit=5)]
    assert await index.stored("u") == len(TEXTS) - 1

    # Deleting the message deletes its embedding (trigger); the cache learns through forget_items.
    await db.write(lambda c: c.execute(delete(messages).where(messages.c.id == ids[0])))
    left = await db.read(lambda c: c.execute(select(func.count()).select_from(embeddings)
                                             .where(embeddings.c.item_id == ids[0])).scalar_one())
    assert left == 0
    index.forget_items("exchange", [ids[0]])
    assert ids[0] not in [i for _, i, _ in await index.search("u", "Rachel Denver", limit=5)]
    assert await VectorIndex(db, HashEmbedder()).count("u") == len(TEXTS) - 2


async def test_growth_and_compaction_keep_results_exact(db: Database) -> None:
    store = SqlConversationStore(db)
    emb = HashEmbedder(dim=64)
    index = VectorIndex(db, emb)
    await store.add_exchange("u", "user", "hello", at=T0)
    words = ["apple", "river", "piano", "garden", "rocket", "winter", "coffee", "island", "violin", "desert"]
    items = [("exchange", 1000 + n, f"{words[n % 10]} {words[(n * 3) % 10]} {n}") for n in range(300)]
    await index.search("u", "warm up", limit=1)  # an empty matrix, then grown by adds
    await index.add_many("u", items[:150], batch=50)  # type: ignore[arg-type]
    await index.add_many("u", items[150:], batch=50)  # type: ignore[arg-type]
    await index.remove("exchange", list(range(1000, 1200)))  # compaction
    q = emb.embed(["piano winter"], kind="query")[0]
    kept = items[200:]
    mat = emb.embed([t for _, _, t in kept], kind="passage")
    expect = sorted(zip(mat @ q, [i for _, i, _ in kept], strict=True), key=lambda p: (-p[0], p[1]))[:10]
    got = await index.search("u", "piano winter", limit=10)
    np.testing.assert_allclose([s for *_, s in got], [s for s, _ in expect], rtol=1e-5)
    assert await index.count("u") == 100


async def test_adds_while_loading_are_not_lost(db: Database) -> None:
    store = SqlConversationStore(db)
    ids = await _exchanges(store, "u", TEXTS)
    await VectorIndex(db, HashEmbedder()).add_many("u", [("exchange", i, t) for i, t in zip(ids[:3], TEXTS[:3], strict=True)])
    index = VectorIndex(db, HashEmbedder())
    await asyncio.gather(index.search("u", "x", limit=1), index.add("u", "exchange", ids[4], TEXTS[4]),
                         index.search("u", "y", limit=1))
    assert await index.count("u") == 4
    assert (await index.search("u", "new job", limit=1))[0][1] == ids[4]


async def test_backfill_embeds_what_has_no_vector(db: Database) -> None:
    store = SqlConversationStore(db)
    index = VectorIndex(db, HashEmbedder())
    ids = await _exchanges(store, "u", TEXTS)
    await _exchanges(store, "other", ["not mine"])
    await index.add("u", "exchange", ids[0], TEXTS[0])
    missing = await index.missing("u")
    assert [(k, i) for k, i, _ in missing] == [("exchange", i) for i in ids[1:]]
    assert await index.backfill("u", batch=2) == len(TEXTS) - 1
    assert await index.missing("u") == []
    assert await index.count("u") == len(TEXTS)


def test_blob_round_trip() -> None:
    v = HashEmbedder(dim=32).embed(["a b c"], kind="passage")[0]
    np.testing.assert_array_equal(from_blob(to_blob(v), 32), v)
    half = v.astype("<f2").tobytes()
    np.testing.assert_allclose(from_blob(half, 32), v, atol=1e-3)


def test_hash_embedder_is_deterministic_and_normalised() -> None:
    e = HashEmbedder()
    a = e.embed(["my sister moved to Denver", ""], kind="passage")
    b = e.embed(["my sister moved to Denver"], kind="query")
    np.testing.assert_array_equal(a[0], b[0])
    assert abs(float(np.linalg.norm(a[0])) - 1) < 1e-5 and float(np.linalg.norm(a[1])) == 0.0
    sim = e.embed(["sister Denver", "pasta dinner"], kind="passage") @ b[0]
    assert sim[0] > sim[1]

