"""The companion evaluates the next prompt's start after each reply (a scripted model that records prefills)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

import pytest

from os1 import Companion, CompanionConfig, FakeClock, ScriptedModel
from os1.memory import SqlConversationStore
from os1.models.base import Capabilities
from os1.types import Message, TextDelta
from os1.voice.reply import SpokenReply, store_heard

from ..conftest import collect


class PrefillingModel(ScriptedModel):
    """A scripted model with a prefix cache: records what it was asked to prefill."""

    capabilities = Capabilities(streaming=True, prefix_cache=True, local=True)

    def __init__(self) -> None:
        super().__init__(default="Tell me more about that, I'm listening. " * 3)
        self.prefills: list[list[Message]] = []
        self.user_starts: list[str] = []

    async def prefill(self, messages: Sequence[Message], *, complete: bool = False, user_start: str = "") -> int:
        self.prefills.append(list(messages))
        self.user_starts.append(user_start)
        return sum(len(m.content) for m in messages)


@pytest.fixture
def prefilling() -> PrefillingModel:
    return PrefillingModel()


def _companion(store: SqlConversationStore, model: ScriptedModel, clock: FakeClock, budget: int = 10_000) -> Companion:
    return Companion(store, model, clock, CompanionConfig(recall_limit=3, history_turns=6, budget_chars=budget,
                                                          learn=False))


async def _settle(companion: Companion) -> None:
    if companion._warming is not None:
        await asyncio.wait({companion._warming})


@pytest.mark.parametrize("budget", [10_000, 6_500])
async def test_each_prompt_starts_with_what_was_prefilled_after_the_last_reply(
        sqlite_store: SqlConversationStore, prefilling: PrefillingModel, clock: FakeClock, budget: int) -> None:
    companion = _companion(sqlite_store, prefilling, clock, budget)
    for i in range(14):  # the window moves (history_turns=6) and, with the small budget, the budget binds
        await collect(companion.reply("u", f"Message number {i} about my day, and the weather, and the cat."))
        await _settle(companion)
        assert len(prefilling.prefills) == i + 1
        if i:
            prompt = prefilling.last_prompt
            assert prompt[:-1] == prefilling.prefills[i - 1], f"turn {i}: the prefilled start did not match"
            assert len(prompt) > 3  # history kept
        clock.advance(timedelta(minutes=1))
    starts = {p[1].content for p in prefilling.prefills[4:]}
    assert 1 < len(starts) < 10  # the start moved, but not every turn


async def _met(store: SqlConversationStore, model: PrefillingModel, clock: FakeClock, first: str) -> Companion:
    """A named companion after one turn, its next prompt's start evaluated."""
    companion = _companion(store, model, clock)
    await companion.rename("u", "Samantha")
    await collect(companion.reply("u", first))
    await _settle(companion)
    return companion


async def test_the_next_notes_header_and_clock_are_evaluated_with_the_history(
        sqlite_store: SqlConversationStore, prefilling: PrefillingModel, clock: FakeClock) -> None:
    companion = await _met(sqlite_store, prefilling, clock, "I had a long day at work today.")
    opening = prefilling.user_starts[-1]
    assert opening.startswith("[Notes for you") and "It is " in opening and opening.endswith(").\n")
    await collect(companion.reply("u", "My boss asked me to redo a whole project."))
    assert prefilling.last_prompt[-1].content.startswith(opening)  # the same minute: the same start
    await _settle(companion)
    warmed = prefilling.user_starts[-1]
    clock.advance(timedelta(minutes=3))
    await collect(companion.reply("u", "Also, my sister called me tonight, which was nice."))
    assert not prefilling.last_prompt[-1].content.startswith(warmed)  # the clock moved on: only the header is shared
    assert prefilling.last_prompt[-1].content.startswith(warmed.splitlines()[0])


async def test_a_model_without_a_prefix_cache_is_never_asked(sqlite_store: SqlConversationStore, model: ScriptedModel,
                                                             clock: FakeClock) -> None:
    companion = _companion(sqlite_store, model, clock)
    await collect(companion.reply("u", "hi"))
    assert companion._warming is None and await companion.warm("u") == 0


async def test_warming_errors_stay_quiet(sqlite_store: SqlConversationStore, prefilling: PrefillingModel,
                                         clock: FakeClock) -> None:
    async def broken(messages: Sequence[Message], *, complete: bool = False) -> int:
        raise RuntimeError("llama.cpp said no")

    prefilling.prefill = broken  # type: ignore[method-assign]
    companion = _companion(sqlite_store, prefilling, clock)
    events = await collect(companion.reply("u", "hi"))
    assert events
    assert companion._warming is not None and await companion._warming == 0


async def test_a_spoken_turn_carries_fewer_memories(sqlite_store: SqlConversationStore, model: ScriptedModel,
                                                    clock: FakeClock) -> None:
    companion = _companion(sqlite_store, model, clock)
    for i in range(12):
        await collect(companion.reply("u", f"My sister Rachel lives in Ohio and likes gardening, note {i}."))
        clock.advance(timedelta(hours=1))
    await collect(companion.reply("u", "What does Rachel like?"))
    full = model.last_prompt[-1].content
    await collect(companion.reply("u", "What does Rachel like?", brief=True))
    brief = model.last_prompt[-1].content
    assert full.count("\n- (") > brief.count("\n- (") >= 1
    assert brief.count("\n- (") <= 2


async def _cut_after_first_words(companion: Companion, text: str, *, brief: bool) -> None:
    """A reply whose listener stops it after its first piece (a barge-in, a Stop button)."""
    turn = companion.reply("u", text, session_id="s1", brief=brief)
    async for event in turn:
        if isinstance(event, TextDelta):
            break
    await turn.aclose()


async def test_a_spoken_reply_cut_off_is_evaluated_once_as_far_as_it_was_heard(
        sqlite_store: SqlConversationStore, prefilling: PrefillingModel, clock: FakeClock) -> None:
    companion = await _met(sqlite_store, prefilling, clock, "hi")
    warmed = len(prefilling.prefills)

    # Typed and stopped: what was shown is the stored reply, so the next prompt's start is evaluated now.
    await _cut_after_first_words(companion, "Tell me a story.", brief=False)
    await _settle(companion)
    assert len(prefilling.prefills) == warmed + 1
    assert prefilling.prefills[-1][-1].content.endswith(" …")

    # Spoken and cut off: the voice stores again what the listener heard; only that history is evaluated.
    baseline = (await companion.store.recent("u", 1))[-1].id
    await _cut_after_first_words(companion, "Tell me another story.", brief=True)
    await _settle(companion)
    assert len(prefilling.prefills) == warmed + 1  # not for the written text, about to change
    await store_heard(companion, "u", "s1", SpokenReply("Tell me another story.", baseline_id=baseline), "Tell")
    await _settle(companion)
    assert len(prefilling.prefills) == warmed + 2
    assert prefilling.prefills[-1][-1] == Message("assistant", "Tell …")
