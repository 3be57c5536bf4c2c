"""Speculative prompt evaluation while the end of a spoken turn is being confirmed (fake model, VAD, STT)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from os1 import Companion, CompanionConfig, FakeClock
from os1.affect import read_emotion
from os1.memory import SqlConversationStore
from os1.models.llamacpp import LlamaCppModel
from os1.safety import assess
from os1.types import Message
from os1.voice.events import Heard, TurnDone
from os1.voice.testing import ScriptedTranscriber, quiet, tone

from .test_compose_warm import PrefillingModel
from .test_llamacpp_anticipate import WORDS, WritingLlama
from .test_voice_pipeline import Sim, make_session, run


class HeldPrefills(PrefillingModel):
    """Whole-prompt prefills wait at a gate until released, so one can be caught in progress."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.speculated: list[list[Message]] = []
        self.cancelled: list[list[Message]] = []

    async def prefill(self, messages: Sequence[Message], *, complete: bool = False, user_start: str = "") -> int:
        if not complete:
            return await super().prefill(messages)
        self.speculated.append(list(messages))
        try:
            await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled.append(list(messages))
            raise
        return 1


@pytest.fixture(scope="module", autouse=True)
def _readers_loaded() -> None:
    """Load the emotion reader and risk screen once, so no test's audio-time limit includes loading them."""
    read_emotion("Hello there.")
    assess("Hello there.")


@pytest.fixture
def held() -> HeldPrefills:
    return HeldPrefills()


@pytest.fixture
def companion_h(sqlite_store: SqlConversationStore, held: HeldPrefills, clock: FakeClock) -> Companion:
    return Companion(sqlite_store, held, clock, CompanionConfig(recall_limit=3, history_turns=6, learn=False))


async def _named(companion: Companion) -> None:
    await companion.rename("u", "Samantha")


async def _wait_for(cond: Callable[[], bool]) -> None:
    """Wait in wall time without feeding audio: in audio time, the user is still inside the pause."""
    for _ in range(2000):
        if cond():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the speculation never started")


async def _say(sim: Sim, held: HeldPrefills, seconds: float, *, then_quiet: float = 0.6) -> AsyncIterator[np.ndarray]:
    """Speech, the first silent frames (the speculation starts), then the rest of the silence."""
    n = len(held.speculated)
    async for b in sim.feed(np.concatenate([tone(seconds), quiet(0.064)])):
        yield b
    await _wait_for(lambda: len(held.speculated) > n)
    async for b in sim.feed(quiet(then_quiet)):
        yield b


async def test_the_prompt_is_evaluated_before_the_turn_is_confirmed(companion_h: Companion, held: HeldPrefills) -> None:
    await _named(companion_h)
    held.gate.set()
    stt = ScriptedTranscriber(["I had a long day at work today."])
    session, _ = make_session(companion_h, stt)

    async def script(sim: Sim) -> AsyncIterator[np.ndarray]:
        async for b in sim.feed(quiet(0.3)):
            yield b
        async for b in _say(sim, held, 1.2):
            yield b
        async for b in sim.until(lambda: sim.has(TurnDone)):
            yield b

    await run(session, Sim(), script)
    # The speculation composed exactly the prompt the turn then sent: the turn finds it in the cache.
    assert len(held.speculated) == 1 and held.speculated[0] == held.last_prompt
    assert held.last_prompt[-1].content.endswith("I had a long day at work today.")


async def test_going_on_after_a_pause_drops_the_speculation(companion_h: Companion, held: HeldPrefills) -> None:
    await _named(companion_h)
    stt = ScriptedTranscriber(["I went to", "I went to the market today."])
    session, _ = make_session(companion_h, stt)

    async def script(sim: Sim) -> AsyncIterator[np.ndarray]:
        async for b in _say(sim, held, 0.8, then_quiet=0.1):
            yield b
        async for b in _say(sim, held, 0.8):
            yield b
        async for b in sim.until(lambda: sim.has(TurnDone)):
            yield b

    events = await run(session, Sim(), script)
    assert [e.text for e in events if isinstance(e, Heard) and e.final] == ["I went to the market today."]
    # "I went to" was being evaluated when they went on: dropped at once.
    assert held.speculated[0][-1].content.endswith("I went to")
    assert held.cancelled and held.cancelled[0] == held.speculated[0]
    assert held.speculated[-1] == held.last_prompt


async def test_no_speculation_when_switched_off_or_while_it_talks(companion_h: Companion, held: HeldPrefills) -> None:
    await _named(companion_h)
    held.gate.set()
    stt = ScriptedTranscriber(["Hello there."])
    session, _ = make_session(companion_h, stt, speculate=False)

    async def script(sim: Sim) -> AsyncIterator[np.ndarray]:
        async for b in sim.feed(np.concatenate([quiet(0.3), tone(1.2), quiet(0.6)])):
            yield b
        async for b in sim.until(lambda: sim.has(TurnDone)):
            yield b

    await run(session, Sim(), script)
    assert held.speculated == []


async def test_the_notes_are_evaluated_while_the_user_is_still_talking(companion_h: Companion, held: HeldPrefills) -> None:
    await _named(companion_h)
    held.gate.set()
    # Transcripts of the words so far at 0.5 s and 1 s of the utterance, then the final one at the pause.
    stt = ScriptedTranscriber(["I had a long", "I had a long day at", "I had a long day at work today."])
    session, _ = make_session(companion_h, stt, foresee_every_s=0.5)

    async def script(sim: Sim) -> AsyncIterator[np.ndarray]:
        async for b in sim.feed(quiet(0.3)):
            yield b
        async for b in sim.feed(tone(0.6)):
            yield b
        await _wait_for(lambda: len(held.speculated) == 1)  # the words so far, while the user talks on
        async for b in _say(sim, held, 0.6):
            yield b
        async for b in sim.until(lambda: sim.has(TurnDone)):
            yield b

    events = await run(session, Sim(), script)
    assert [e.text for e in events if isinstance(e, Heard) and e.final] == ["I had a long day at work today."]
    # (The one at 1 s may be dropped for the pause's before it reaches the model: the newest words win.)
    first, *_, at_pause = held.speculated
    assert first[-1].content.endswith("I had a long") and at_pause == held.last_prompt
    # The turn's notes are the ones evaluated mid-utterance: only the words after them were left to evaluate.
    notes = first[-1].content.rsplit("[End of notes]", 1)[0]
    assert all(p[-1].content.startswith(notes) and p[:-1] == first[:-1] for p in held.speculated)
    assert not any(isinstance(e, Heard) and not e.final for e in events)  # partial transcripts only when asked


# Writing the reply during the pause (LlamaCppModel.anticipate) --------------------------------------------


@pytest.fixture
def writer() -> tuple[LlamaCppModel, WritingLlama]:
    model = LlamaCppModel(Path("fake.gguf"), model_id="fake", n_ctx=8192, prefill_chunk=64)
    fake = WritingLlama()
    model.llm = fake
    return model, fake


def _written_ahead(model: LlamaCppModel) -> bool:
    ahead = model._anticipated
    return ahead is not None and ahead.writing.worker.done()


async def test_the_reply_is_written_during_the_pause_and_the_turn_takes_it_over(
        sqlite_store: SqlConversationStore, clock: FakeClock, writer: tuple[LlamaCppModel, WritingLlama]) -> None:
    model, fake = writer
    companion = Companion(sqlite_store, model, clock, CompanionConfig(recall_limit=3, history_turns=6, learn=False))
    await _named(companion)
    lines = ["I had a long day at work today.", "My boss asked me to redo a whole project."]
    # Each utterance is also heard once while it is spoken (its notes evaluated early), as in real use.
    stt = ScriptedTranscriber(["I had a long", lines[0], "My boss asked", lines[1]])
    session, playback = make_session(companion, stt, foresee_every_s=0.5)

    async def script(sim: Sim) -> AsyncIterator[np.ndarray]:
        for n in range(2):
            async for b in sim.feed(np.concatenate([quiet(0.3), tone(0.5), quiet(0.064)])):
                yield b
            await _wait_for(lambda: _written_ahead(model))  # written whole while the pause is still being waited out
            async for b in sim.feed(quiet(0.6)):
                yield b
            async for b in sim.until(lambda n=n: sim.has(TurnDone, n + 1) and playback.position() >= playback.queued()):
                yield b

    events = await run(session, Sim(), script)
    assert [e.text for e in events if isinstance(e, Heard) and e.final] == lines
    # Each turn composed exactly the prompt written ahead for it: every reply was written once, during the pause.
    assert model.anticipations == {"started": 2, "taken": 2, "dropped": 0}
    assert [w.rsplit("[End of notes]", 1)[-1].strip() for w in fake.writes] == lines
    stored = [e.text for e in await sqlite_store.recent("u", 10) if e.role == "assistant"]
    assert stored[-2:] == ["".join(WORDS)] * 2
    # Their first clause was synthesized during the pause too, and played from there.
    assert session.synthesizer.used == 2


async def test_going_on_after_the_pause_throws_the_written_reply_away(
        sqlite_store: SqlConversationStore, clock: FakeClock, writer: tuple[LlamaCppModel, WritingLlama]) -> None:
    model, fake = writer
    companion = Companion(sqlite_store, model, clock, CompanionConfig(recall_limit=3, history_turns=6, learn=False))
    await _named(companion)
    stt = ScriptedTranscriber(["I went to", "I went to the market today."])
    session, playback = make_session(companion, stt)

    async def script(sim: Sim) -> AsyncIterator[np.ndarray]:
        async for b in sim.feed(np.concatenate([tone(0.6), quiet(0.064)])):
            yield b
        await _wait_for(lambda: _written_ahead(model))
        async for b in sim.feed(np.concatenate([quiet(0.1), tone(0.8), quiet(0.6)])):  # they go on
            yield b
        async for b in sim.until(lambda: sim.has(TurnDone) and playback.position() >= playback.queued()):
            yield b

    events = await run(session, Sim(), script)
    assert [e.text for e in events if isinstance(e, Heard) and e.final] == ["I went to the market today."]
    assert model.anticipations["dropped"] >= 1 and model._anticipated is None
    assert fake.writes[0].endswith("I went to")  # written during the first pause, then thrown away
    users = [e.text for e in await sqlite_store.recent("u", 10) if e.role == "user"]
    assert users == ["I went to the market today."]
    assert len([e for e in await sqlite_store.recent("u", 10) if e.role == "assistant"]) == 1
