"""The risk screen's semantic stage, wired with a fake embedder and a hand-set head (no model loaded).

The trained head's behaviour on real embeddings is tested in tests/real/test_safety_semantic.py.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pytest

from os1 import Companion, CompanionConfig, FakeClock, ScriptedModel
from os1.affect import reading as reading_mod
from os1.errors import ModelUnavailable
from os1.memory import SqlConversationStore
from os1.memory.embed import EmbedKind, HashEmbedder, Vectors
from os1.models.unavailable import UnavailableModel
from os1.safety import assess, resources_for, screen
from os1.safety import assessment as assess_mod
from os1.safety.semantic import (
    MAX_PARTS,
    TERM_BUCKETS,
    RiskHead,
    RiskReader,
    SemanticReading,
    combine,
    has_risk_word,
    is_cued,
    parts,
    split_sentences,
    terms,
)
from os1.types import ReplyDone, SafetyNotice, SafetyReading

from ..conftest import collect

# A toy embedding: one dimension per idea, so a hand-set head reads it like the trained one reads e5.
IDEAS = {"rope": 0, "camping": 0, "heart just stops": 0, "my sister": 1, "locked": 1, "tomatoes": 2, "garden": 2}


class IdeaEmbedder:
    """Counts the ideas in a text; records every call (texts and kind), as the real embedder is called."""

    model_id = "ideas-test"
    dim = 4
    relevance_floor = 0.0

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], EmbedKind]] = []

    def embed(self, texts: Sequence[str], *, kind: EmbedKind) -> Vectors:
        self.calls.append((list(texts), kind))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for idea, dim in IDEAS.items():
                out[row, dim] += text.lower().count(idea)
            out[row, 3] = 1.0
        return out


def idea_head(**meta: float) -> RiskHead:
    # dim 0 -> crisis, dim 1 -> concern, dim 2 -> none; dim 3 is a constant (a small prior for none).
    W = np.array([[0, 0, 3], [0, 3, 0], [6, 0, 0], [1, 0, 0]], dtype=np.float32)
    info = {"embedder": "ideas-test", "crisis_threshold": 0.6, "concern_threshold": 0.6, "veto_margin": 0.35, **meta}
    return RiskHead(np.zeros(4, np.float32), np.ones(4, np.float32), W, np.zeros(3, np.float32),
                    np.zeros((TERM_BUCKETS, 3), np.float32), info)


def test_a_long_message_is_read_in_its_sentences() -> None:
    assert parts("Bought a rope today. Not for camping.") == []   # short: read whole
    long = ("The garden is lovely this year and the tomatoes are finally red. We had the neighbours over for tea. "
            "Bought a rope today. Not for camping. Anyway the bus was late again and the cat knocked over a vase. "
            "My daughter called about the weekend and we talked about her new flat for an hour.")
    got = parts(long)
    assert "Bought a rope today. Not for camping." in got   # a short sentence keeps the sentence after it
    # Every sentence is read (issue 9, fourth pass): a risk sentence need not have a word of the parts filter.
    assert any("tomatoes" in p for p in got)
    assert 1 <= len(got) <= MAX_PARTS
    buried = ("Can you help me plan meals for the week? I'm trying to eat more protein. I usually cook on Sundays. "
              "I don't really care what happens to me after this month. Chicken and lentils are cheap where I live.")
    assert any(p.startswith("I don't really care what happens to me") for p in parts(buried))
    many = " ".join(f"Day {i}: we went for a walk and had soup." for i in range(12)) + " I can't stop crying about it."
    chosen = parts(many)
    assert len(chosen) == MAX_PARTS
    assert any("crying" in p for p in chosen)   # over MAX_PARTS sentences: those with filter words first
    assert split_sentences("one. two!\nthree? four") == ["one.", "two!", "three?", "four"]


def test_the_head_round_trips_and_rejects_inconsistent_weights() -> None:
    head = idea_head()
    again = RiskHead.from_arrays(head.arrays())
    assert again.model_id == "ideas-test" and again.crisis_threshold == 0.6 and again.veto_margin == 0.35
    texts = ["a", "b", "c", "d"]
    np.testing.assert_allclose(again.probabilities(np.eye(4, dtype=np.float32), texts),
                               head.probabilities(np.eye(4, dtype=np.float32), texts))
    arrays = head.arrays()
    arrays["Wt"] = arrays["Wt"][:100]
    with pytest.raises(ValueError):
        RiskHead.from_arrays(arrays)


def test_terms_catch_what_a_small_embedding_blurs() -> None:
    wnat, want, other = terms("i wnat to die"), terms("i want to die"), terms("the garden is lovely")
    assert wnat.shape == (TERM_BUCKETS,) and abs(float(np.linalg.norm(wnat)) - 1.0) < 1e-5
    assert float(wnat @ want) > 0.5 > float(wnat @ other)     # a misspelling shares most trigrams
    assert not terms("").any()
    # A weight on a term moves the head: the same embedding reads differently with the word in it.
    head = idea_head()
    Wt = head.Wt.copy()
    Wt[:, 2] = 4.0 * terms("wnat")
    tuned = RiskHead(head.mu, head.sd, head.W, head.b, Wt, head.meta)
    e = np.zeros((2, 4), np.float32)
    p = tuned.probabilities(e, ["i wnat to die", "the garden is lovely"])
    assert p[0, 2] > p[1, 2]


def test_the_nearest_labelled_examples_pull_the_crisis_reading() -> None:
    """A rare way of saying it, one the linear head reads as nothing, is read as a crisis near a crisis example."""
    rng = np.random.default_rng(0)
    examples = rng.standard_normal((6, 4)).astype(np.float32)
    examples /= np.linalg.norm(examples, axis=1, keepdims=True)
    labels = np.array([True, False, False, True, False, False])
    plain = idea_head()
    head = RiskHead(plain.mu, plain.sd, np.zeros_like(plain.W), plain.b, plain.Wt,
                    {**plain.meta, "knn_k": 1, "knn_scale": 40.0, "knn_weight": 0.7},
                    bank=np.round(examples * 127).astype(np.int8), bank_crisis=labels)
    near_crisis = examples[0] + 0.05 * examples[1]
    near_other = examples[1] + 0.05 * examples[0]
    ten = "one two three four five six seven eight nine ten"
    p = head.probabilities(np.stack([near_crisis, near_other, near_crisis]), [ten, ten, "two words"])
    base = plain.probabilities(np.zeros((1, 4), np.float32), ["a"])[0, 2]  # the linear part alone: a third
    assert p[0, 2] > 0.6 > base > p[1, 2]
    # A short text's neighbours are short messages whatever they mean: they pull it less.
    assert base < p[2, 2] < p[0, 2]
    # The bank survives the round trip through the .npz arrays, and a bank without labels is refused.
    again = RiskHead.from_arrays(head.arrays())
    np.testing.assert_allclose(again.probabilities(np.stack([near_crisis]), [ten]), p[:1], rtol=1e-5)
    arrays = head.arrays()
    arrays["bank_crisis"] = arrays["bank_crisis"][:3]
    with pytest.raises(ValueError):
        RiskHead.from_arrays(arrays)


def test_the_reader_embeds_the_whole_message_as_the_emotion_reading_does_then_its_sentences() -> None:
    embedder = IdeaEmbedder()
    reader = RiskReader(embedder, idea_head())
    short = reader.read("Bought a rope today. Not for camping.")
    assert short is not None and short.crisis > 0.9
    assert embedder.calls == [(["Bought a rope today. Not for camping."], "query")]   # the cached call, alone
    embedder.calls.clear()
    long = ("The garden is lovely this year. The tomatoes are finally red and the beans are climbing. We had tea outside "
            "with the neighbours. Bought a rope today. Not for camping. The bus was late and the cat knocked over a vase.")
    got = reader.read(long)
    assert got is not None and got.crisis > 0.6 and got.part == "Bought a rope today. Not for camping."
    assert embedder.calls[0] == ([long], "query") and len(embedder.calls) == 2
    assert any("tomatoes" in t for t in embedder.calls[1][0])   # every sentence
    assert len(embedder.calls[1][0]) <= MAX_PARTS


def test_without_the_heads_embedder_the_rules_decide_alone(caplog: pytest.LogCaptureFixture) -> None:
    reader = RiskReader(HashEmbedder(4), idea_head())
    with caplog.at_level(logging.WARNING, logger="os1.safety"):
        assert reader.read("Bought a rope today. Not for camping.") is None
        assert reader.read("some nights I hope my heart just stops") is None
    assert sum("rules only" in r.getMessage() for r in caplog.records) == 1   # warned once
    assert RiskReader(None, idea_head()).read("anything") is None
    assert assess("Bought a rope today. Not for camping.", reader=reader) == screen("Bought a rope today. Not for camping.")


def test_how_the_stages_combine() -> None:
    head = idea_head()
    none, crisis_rules = SafetyReading("none"), SafetyReading("crisis", ("ideation: want to die",), ("ideation",))
    concern_rules = SafetyReading("concern", ("someone else, ideation: want to die",), ("ideation",))
    sure, unsure = SemanticReading(0.9, 0.05, "x"), SemanticReading(0.3, 0.1, "x")
    assert combine(crisis_rules, False, unsure, head) == crisis_rules           # a rule hit stands
    assert combine(none, False, None, head) == none                             # no head: the rules
    assert combine(none, False, sure, head).level == "crisis"
    assert "semantic" in combine(none, False, sure, head).categories
    assert combine(none, False, unsure, head) == none
    assert combine(none, True, SemanticReading(0.8, 0.0, "x"), head) == none    # a reliable frame holds it back
    assert combine(none, True, SemanticReading(0.97, 0.0, "x"), head).level == "crisis"  # unless the head is sure
    assert combine(concern_rules, False, SemanticReading(0.1, 0.9, "x"), head) == concern_rules
    assert combine(none, False, SemanticReading(0.1, 0.8, "x"), head).level == "concern"
    assert combine(none, False, SemanticReading(0.9, 0.0, "x", cued=False), head) == none   # too little to read


def test_a_short_reply_with_no_risk_word_is_left_to_the_rules() -> None:
    reader = RiskReader(IdeaEmbedder(), idea_head())
    assert not is_cued("no, keep it") and is_cued("i wnat to die") and is_cued("we walked to the shops and back")
    reading = reader.read("camping camping")   # the toy head is sure, but two words and no risk word
    assert reading is not None and reading.crisis > 0.9 and not reading.cued
    assert assess("camping camping", reader=reader).level == "none"


def test_a_reading_with_no_risk_word_must_clear_the_plain_threshold() -> None:
    # A sentence shaped like a plan ("I think I'll ...") with no risk word in it: the head's reading alone is not
    # enough at the normal threshold (issue 9: "I think I'll make pasta." read as a crisis).
    assert not has_risk_word("I think I'll make pasta.") and not has_risk_word("I've been thinking about learning the piano.")
    assert has_risk_word("Bought a rope today. Not for camping.") and has_risk_word("I've picked the date")
    head, none = idea_head(plain_crisis_threshold=0.9), SafetyReading("none")
    assert head.plain_crisis_threshold == 0.9 and idea_head().plain_crisis_threshold == 0.6   # older heads: the same
    assert idea_head(plain_crisis_threshold=0.3).plain_crisis_threshold == 0.6                 # never under the normal one
    assert combine(none, False, SemanticReading(0.8, 0.0, "x", risk_word=False), head) == none
    assert combine(none, False, SemanticReading(0.95, 0.0, "x", risk_word=False), head).level == "crisis"
    assert combine(none, False, SemanticReading(0.8, 0.0, "x", risk_word=True), head).level == "crisis"
    # The reader sets it from the message: "camping" is a crisis idea to the toy head, but no risk word.
    reader = RiskReader(IdeaEmbedder(), idea_head(plain_crisis_threshold=0.999))
    text = "we went camping at the lake with my cousins"
    plain = reader.read(text)
    assert plain is not None and not plain.risk_word and 0.6 < plain.crisis < 0.999
    assert assess(text, reader=reader).level == "none"
    assert assess(text, reader=RiskReader(IdeaEmbedder(), idea_head())).level == "crisis"
    rope = reader.read("Bought a rope today. Not for camping.")
    assert rope is not None and rope.risk_word and assess("Bought a rope today. Not for camping.", reader=reader).level == "crisis"


def test_assess_adds_what_the_rules_miss_and_keeps_their_frames() -> None:
    reader = RiskReader(IdeaEmbedder(), idea_head())
    assert screen("Bought a rope today. Not for camping.").level == "none"
    assert assess("Bought a rope today. Not for camping.", reader=reader).level == "crisis"
    assert assess("I'm worried, my sister locked herself in and won't answer", reader=reader).level == "concern"
    assert assess("We had tomatoes from the garden", reader=reader).level == "none"
    # The rules read it as a story: the head's ~0.85 for 'rope' is under its threshold plus the veto margin.
    story = "In the game my character climbed a rope and jumped off a cliff"
    assert any(h.explained_by == "fiction or game" for h in assess_mod.find_hits(story))
    assert assess(story, reader=reader).level == "none"
    assert assess("I want to kill myself", reader=reader).level == "crisis"   # rules alone; no embedding needed


def test_the_default_reader_uses_the_emotion_readings_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = IdeaEmbedder()
    monkeypatch.setattr(reading_mod._default, "_embedder", embedder)
    monkeypatch.setattr(reading_mod._default, "_model", True)
    assert reading_mod.shared_embedder() is embedder
    monkeypatch.setattr(assess_mod, "_default", RiskReader(assess_mod._shared_embedder, idea_head()))
    assert assess("Bought a rope today. Not for camping.").level == "crisis" and embedder.calls
    monkeypatch.setattr(reading_mod._default, "_model", False)   # word list only: no embedder, rules only
    assert reading_mod.shared_embedder() is None
    assert assess("Bought a rope today. Not for camping.").level == "none"


# The turn ----------------------------------------------------------------------------------------
@pytest.fixture
def semantic(monkeypatch: pytest.MonkeyPatch) -> IdeaEmbedder:
    embedder = IdeaEmbedder()
    monkeypatch.setattr(assess_mod, "_default", RiskReader(embedder, idea_head()))
    return embedder


async def test_a_turn_uses_the_semantic_stage(semantic: IdeaEmbedder, sqlite_store: SqlConversationStore,
                                              model: ScriptedModel, clock: FakeClock) -> None:
    companion = Companion(sqlite_store, model, clock, CompanionConfig(recall_limit=0, learn=False,
                                                                      crisis_resources=resources_for("GB")))
    model.enqueue("I'm here with you. Are you safe right now? Samaritans: 116 123.")
    events = await collect(companion.reply("u", "Bought a rope today. Not for camping."))
    assert next(e for e in events if isinstance(e, SafetyNotice)).level == "crisis"
    assert "safe right now" in model.last_prompt[-1].content   # the model was told the crisis protocol
    [event] = await companion.safety_events.list("u")
    assert event.kind == "crisis" and "semantic" in event.categories


async def test_prepare_lets_a_semantic_risk_through_when_the_model_is_down(
        semantic: IdeaEmbedder, sqlite_store: SqlConversationStore, clock: FakeClock) -> None:
    down = UnavailableModel("local", ModelUnavailable("no model"))
    companion = Companion(sqlite_store, down, clock, CompanionConfig(recall_limit=0, learn=False))
    with pytest.raises(ModelUnavailable):
        await companion.prepare("What should I cook with tomatoes from the garden?")
    assert await companion.prepare("Bought a rope today. Not for camping.")
    events = await collect(companion.reply("u", "Bought a rope today. Not for camping."))
    done = next(e for e in events if isinstance(e, ReplyDone))
    assert "safe right now" in done.text   # the reviewed crisis text


def test_an_everyday_goodbye_holds_the_head_back_but_a_farewell_does_not() -> None:
    # The toy head reads 'rope' as a crisis (~0.85): over its threshold, under threshold + veto margin.
    reader = RiskReader(IdeaEmbedder(), idea_head())
    assert assess("Goodbye for tonight, rope, talk tomorrow!", reader=reader).level == "none"
    assert assess("Goodbye forever, rope", reader=reader).level == "crisis"          # no 'when we talk again'
    long_day = "Goodbye for tonight. " + "We walked the dog and cooked and talked about the rope swing. " * 3
    assert assess(long_day, reader=reader).level == "crisis"     # a goodbye in a long message is no veto
    assert assess_mod.rules_veto([], "bye for now, talk tomorrow")
    assert not assess_mod.rules_veto([], "this is goodbye")


def test_a_long_sentence_is_cut_before_it_is_embedded() -> None:
    sentence = "I keep thinking about the bridge " + "and the water and the night " * 40
    chosen = parts("We had lunch. It was fine. Then a walk. " + sentence + ". Then home.")
    assert chosen and all(len(p) <= 400 for p in chosen)
    assert any(p.startswith("I keep thinking about the bridge") for p in chosen)
