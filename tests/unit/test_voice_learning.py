"""A spoken turn and background learning: the voice pipeline's reply is an ordinary `Companion.reply`, so
learning that holds the model (fact extraction from the last message) is cancelled before the spoken
reply's model call starts, and the two never run on the model at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import numpy as np

from os1 import Companion, CompanionConfig, FakeClock, ScriptedModel
from os1.memory import SqlConversationStore
from os1.models.base import Capabilities
from os1.types import GenOptions, Message
from os1.voice.events import TurnDone, VoiceEvent
from os1.voice.pipeline import SessionOptions, VoiceSession
from os1.voice.playback import ClockedPlayback
from os1.voice.testing import EnergyActivity, ScriptedTranscriber, ToneSynthesizer, quiet, tone


class SlowLearner(ScriptedModel):
    """Structured (learning) requests hang until cancelled; records what ran, and whether they overlapped."""

    def __init__(self) -> None:
        super().__init__(["Nice to meet you, Theo.", "Hello again."])
        self.log: list[str] = []
        self.learning_now = 0
        self.learning_started = asyncio.Event()

    async def stream(self, messages: Sequence[Message], *, options: GenOptions) -> AsyncIterator[str]:
        if options.json_schema is None:
            self.log.append(f"chat (learning running: {self.learning_now})")
        else:
            self.log.append("learn")
            self.learning_now += 1
            self.learning_started.set()
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                self.log.append("learn cancelled")
                raise
            finally:
                self.learning_now -= 1
        async for piece in super().stream(messages, options=options):
            yield piece


async def test_a_voice_turn_stops_background_learning_before_its_reply(sqlite_store: SqlConversationStore,
                                                                      clock: FakeClock) -> None:
    model = SlowLearner()
    companion = Companion(sqlite_store, model, clock, CompanionConfig(learn=True, history_turns=6))
    async for _ in companion.reply("u", "Hi, I'm Theo and my sister Rachel lives in Ohio."):
        pass
    await asyncio.wait_for(model.learning_started.wait(), 5)  # learning now holds the model

    session = VoiceSession(companion, "u", transcriber=ScriptedTranscriber(["How are you today?"]),
                           synthesizer=ToneSynthesizer(), vad=EnergyActivity(), playback=ClockedPlayback(),
                           options=SessionOptions(foresee_every_s=None))  # one scripted transcript: the final one
    seen: list[VoiceEvent] = []

    async def mic() -> AsyncIterator[np.ndarray]:
        audio = np.concatenate([quiet(0.3), tone(1.0), quiet(0.8)])
        for i in range(0, len(audio), 512):
            yield audio[i:i + 512]
            await asyncio.sleep(0)
        for _ in range(500):
            if any(isinstance(e, TurnDone) for e in seen):
                return
            yield np.zeros(512, np.float32)
            await asyncio.sleep(0.002)

    async for event in session.run(mic()):
        seen.append(event)
    assert any(isinstance(e, TurnDone) for e in seen)
    spoken_reply = model.log.index("chat (learning running: 0)", 1)
    assert model.log[:spoken_reply] == ["chat (learning running: 0)", "learn", "learn cancelled"]
    await companion.pause_learning()


class PrefillingLearner(SlowLearner):
    capabilities = Capabilities(streaming=True, prefix_cache=True, local=True)

    async def prefill(self, messages: Sequence[Message], *, complete: bool = False, user_start: str = "") -> int:
        self.log.append(f"prefill (learning running: {self.learning_now})")
        return 1


async def test_the_user_talking_stops_background_learning(sqlite_store: SqlConversationStore, clock: FakeClock) -> None:
    """Evaluating the words heard so far (the user is still talking) already takes the model back from learning."""
    model = PrefillingLearner()
    companion = Companion(sqlite_store, model, clock, CompanionConfig(learn=True, history_turns=6))
    await companion.rename("u", "Samantha")
    async for _ in companion.reply("u", "Hi, I'm Theo and my sister Rachel lives in Ohio."):
        pass
    await asyncio.wait_for(model.learning_started.wait(), 5)
    assert await companion.speculate("u", "How are you", brief=True) == 1
    assert "learn cancelled" in model.log and model.log[-1] == "prefill (learning running: 0)"
    await companion.pause_learning()
