"""A spoken turn's notes, evaluated while the user is still talking, are the notes the turn sends (os1/foresight.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from os1 import Companion, CompanionConfig, FakeClock
from os1.foresight import FRESH_FOR, Foresight
from os1.memory import SqlConversationStore
from os1.types import Emotion, Message

from .test_compose_warm import PrefillingModel

T0 = datetime(2026, 11, 20, 19, 5, 50, tzinfo=UTC)


def _emotion(label: str, valence: float) -> Emotion:
    return Emotion(label=label, valence=valence, arousal=0.3)


def test_a_foresight_continues_the_same_utterance_only_while_fresh() -> None:
    f = Foresight("I had a long", T0, (), _emotion("neutral", 0.0))
    assert f.continues("i had a LONG day at work today.", T0 + timedelta(seconds=3))
    assert f.continues("I had a long", T0)
    assert not f.continues("What should I cook tonight?", T0 + timedelta(seconds=3))
    assert not f.continues("I had a long day", T0 + FRESH_FOR + timedelta(seconds=1))
    assert not f.continues("I had a long day", T0 - timedelta(seconds=1))
    assert not Foresight("", T0, (), _emotion("neutral", 0.0)).continues("anything", T0)
    # One word of the first three heard differently is the same utterance; two are not.
    assert Foresight("I mess my grand", T0, (), _emotion("neutral", 0.0)).continues("I miss my grandmother.", T0)
    assert not Foresight("I mess my grand", T0, (), _emotion("neutral", 0.0)).continues("You miss me.", T0)
    assert not Foresight("Hi there", T0, (), _emotion("neutral", 0.0)).continues("Hi, where?", T0)


def test_the_notes_keep_the_earlier_emotion_only_when_the_final_words_read_the_same() -> None:
    f = Foresight("I had a long", T0, (), _emotion("sadness", -0.4))
    assert f.emotion_for(_emotion("sadness", -0.6)).valence == -0.4
    assert f.emotion_for(_emotion("joy", 0.7)).label == "joy"
    # A mild re-reading a shade away keeps the notes as they were; a clear change or a strong feeling shows.
    calm = Foresight("Work is stressful", T0, (), _emotion("neutral", 0.0))
    assert calm.emotion_for(_emotion("disappointment", -0.2)).label == "neutral"
    assert calm.emotion_for(_emotion("curiosity", 0.1)).label == "neutral"
    assert calm.emotion_for(_emotion("nervousness", -0.3)).label == "nervousness"
    assert calm.emotion_for(_emotion("amusement", 0.5)).label == "amusement"
    assert f.emotion_for(_emotion("grief", -0.7)).label == "grief"
    assert f.emotion_for(_emotion("disappointment", -0.3)).label == "sadness"


class CountingModel(PrefillingModel):
    def __init__(self) -> None:
        super().__init__()
        self.complete: list[list[Message]] = []

    async def prefill(self, messages: Any, *, complete: bool = False, user_start: str = "") -> int:
        if complete:
            self.complete.append(list(messages))
        return await super().prefill(messages, complete=complete)


@pytest.fixture
def counting() -> CountingModel:
    return CountingModel()


@pytest.fixture
def companion_c(sqlite_store: SqlConversationStore, counting: CountingModel, clock: FakeClock) -> Companion:
    return Companion(sqlite_store, counting, clock, CompanionConfig(recall_limit=3, history_turns=4, learn=False))


def _notes(message: Message) -> str:
    """The notes part of a prompt's last user message (everything before the user's own words)."""
    return message.content.rsplit("[End of notes]", 1)[0]


async def _talk(companion: Companion, text: str, *, brief: bool = False) -> None:
    async for _ in companion.reply("u", text, brief=brief):
        pass


async def _recalls(companion: Companion, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = companion.recaller.recall

    async def counted(user_id: str, query: str, **kw: Any) -> Any:
        calls.append(query)
        return await real(user_id, query, **kw)

    monkeypatch.setattr(companion.recaller, "recall", counted)
    return calls


async def _known(companion: Companion, clock: FakeClock) -> None:
    """A named companion with some history (older than the window, so recall has something to find)."""
    await companion.rename("u", "Samantha")
    for line in ("My sister Rachel lives in Ohio.", "I work long hours at the bakery.", "Rachel is visiting soon.",
                 "I like walking by the river.", "The bakery opens at five.", "Work has been a lot lately."):
        await _talk(companion, line)
        clock.advance(timedelta(minutes=1))
    clock.set(T0)


async def test_a_spoken_turn_sends_the_notes_evaluated_while_the_user_was_talking(
        companion_c: Companion, counting: CountingModel, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    await _known(companion_c, clock)
    recalls = await _recalls(companion_c, monkeypatch)
    await companion_c.speculate("u", "I had a long", brief=True)  # a second into the utterance
    clock.advance(timedelta(seconds=2))  # the minute changes: the notes keep the clock of the first look
    await companion_c.speculate("u", "I had a long day at work", brief=True)
    clock.advance(timedelta(seconds=1))
    await companion_c.speculate("u", "I had a long day at work today.", brief=True)  # the end-of-turn pause
    await _talk(companion_c, "I had a long day at work today.", brief=True)

    sent = counting.last_prompt
    assert sent[-1].content.endswith("I had a long day at work today.")
    # Every speculation evaluated the notes the turn then sent, and the history before them.
    assert [_notes(p[-1]) for p in counting.complete] == [_notes(sent[-1])] * 3
    assert all(p[:-1] == sent[:-1] for p in counting.complete)
    assert ":05)" in sent[-1].content  # 19:05 UTC, in the user's zone
    assert recalls == ["I had a long"]  # recalled once, at the first look

    # The next spoken turn starts afresh: nothing of this one's foresight is reused.
    clock.advance(timedelta(seconds=20))
    await _talk(companion_c, "What should I cook tonight?", brief=True)
    assert recalls == ["I had a long", "What should I cook tonight?"]
    assert ":06)" in counting.last_prompt[-1].content


async def test_another_utterance_or_a_typed_turn_never_reuses_a_foresight(
        companion_c: Companion, counting: CountingModel, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    await _known(companion_c, clock)
    recalls = await _recalls(companion_c, monkeypatch)
    await companion_c.speculate("u", "I went to the", brief=True)
    await _talk(companion_c, "Do you remember my sister?", brief=True)  # the words heard went another way
    assert recalls == ["I went to the", "Do you remember my sister?"]

    await companion_c.speculate("u", "I went to the", brief=True)
    await _talk(companion_c, "I went to the river today.")  # typed: full notes, its own recall
    assert recalls[-1] == "I went to the river today."
    assert companion_c._foresight == {}


async def test_the_risk_screen_always_reads_the_final_words(
        companion_c: Companion, counting: CountingModel, clock: FakeClock) -> None:
    await _known(companion_c, clock)
    await companion_c.speculate("u", "I had a long day and", brief=True)
    await _talk(companion_c, "I had a long day and I want to kill myself.", brief=True)
    notes = _notes(counting.last_prompt[-1])
    assert notes != _notes(counting.complete[-1][-1])
    events = await companion_c.safety_events.list("u")
    assert events and events[0].kind == "crisis" and events[0].message.endswith("I want to kill myself.")
