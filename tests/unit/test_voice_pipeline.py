"""The voice pipeline on simulated streams with fake components: turns, speculation, barge-in, backchannels."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import numpy as np
import pytest

from os1 import Companion, ScriptedModel
from os1.affect import read_emotion
from os1.memory import SqlConversationStore
from os1.safety import assess
from os1.voice.base import Transcript
from os1.voice.events import (
    Backchannel,
    Heard,
    Interrupted,
    NothingHeard,
    Replying,
    Speaking,
    SpeechStarted,
    TurnDone,
    VoiceEvent,
    voice_event_dict,
)
from os1.voice.pipeline import SessionOptions, VoiceSession, is_backchannel
from os1.voice.playback import ClockedPlayback
from os1.voice.testing import EnergyActivity, ScriptedTranscriber, ToneSynthesizer, quiet, tone

LONG_REPLY = ("Oh, that sounds like a lot. I'm glad you told me about it, because it matters to me how your days go. "
              "Tell me what the hardest part was, and we can take it from there together, slowly.")
BLOCK = 512


@pytest.fixture(scope="module", autouse=True)
def _readers_loaded() -> None:
    """Load the emotion reader and risk screen (the e5 model) once, so no test's audio-time limit, which
    passes in a fraction of a second of wall time, includes loading them."""
    read_emotion("Hello there.")
    assess("Hello there.")


class Sim:
    """A microphone fed by a script, one 32 ms block at a time, that can wait for what the session did."""

    def __init__(self) -> None:
        self.seen: list[VoiceEvent] = []

    async def feed(self, samples: np.ndarray) -> AsyncIterator[np.ndarray]:
        for i in range(0, len(samples), BLOCK):
            yield samples[i:i + BLOCK]
            await asyncio.sleep(0)

    async def until(self, cond: Callable[[], bool], *, limit_s: float = 10.0) -> AsyncIterator[np.ndarray]:
        """Feed silence (audio time passes, playback advances) until `cond` holds."""
        for _ in range(int(limit_s / 0.032)):
            if cond():
                return
            yield np.zeros(BLOCK, dtype=np.float32)
            await asyncio.sleep(0.002)
        raise AssertionError(f"timed out waiting; seen: {[type(e).__name__ for e in self.seen]}")

    def has(self, kind: type, n: int = 1) -> bool:
        return sum(isinstance(e, kind) for e in self.seen) >= n


async def run(session: VoiceSession, sim: Sim, script: Callable[[Sim], AsyncIterator[np.ndarray]]) -> list[VoiceEvent]:
    async for event in session.run(script(sim)):
        sim.seen.append(event)
    return sim.seen


def make_session(companion: Companion, transcriber: ScriptedTranscriber, **options: object) -> tuple[VoiceSession, ClockedPlayback]:
    playback = ClockedPlayback()
    # Scripted transcripts come out in order: no transcripts of the words so far unless a test asks for them.
    options.setdefault("foresee_every_s", None)
    session = VoiceSession(companion, "u", transcriber=transcriber, synthesizer=ToneSynthesizer(),
                           vad=EnergyActivity(), playback=playback, options=SessionOptions(**options))  # type: ignore[arg-type]
    return session, playback


async def test_a_spoken_turn_is_an_ordinary_turn_stored_with_its_transcript(
        companion: Companion, model: ScriptedModel, sqlite_store: SqlConversationStore) -> None:
    model.enqueue("Hello, Theo. It's good to hear your voice.")
    stt = ScriptedTranscriber(["Hi, I'm Theo."])
    session, playback = make_session(companion, stt)

    async def script(sim: Sim) -> AsyncIterator[np.ndarray]:
        async for b in sim.feed(np.concatenate([quiet(0.3), tone(1.2), quiet(0.6)])):
            yield b
        async for b in sim.until(lambda: sim.has(TurnDone) and playback.position() >= playback.queued()):
            yield b

    events = await run(session, Sim(), script)
    kinds = [type(e).__name__ for e in events]
    assert kinds.index("SpeechStarted") < kinds.index("SpeechEnded") < kinds.index("Heard") < kinds.index("Replying")
    assert kinds.index("Replying") < kinds.index("Speaking") < kinds.index("TurnDone")
    # The speculative transcript taken at the pause was the final one: Whisper ran once.
    assert len(stt.clips) == 1 and 1.2 <= stt.clips[0].duration <= 1.9
    done = next(e for e in events if isinstance(e, TurnDone))
    assert done.heard == "Hi, I'm Theo." and not done.interrupted
    assert {"vad_tail", "stt", "first_clause", "tts_first", "voice_to_voice"} <= set(done.timings)
    stored = await sqlite_store.recent("u", 10)
    assert [(e.role, e.text, e.session_id) for e in stored] == [
        ("user", "Hi, I'm Theo.", session.session_id),
        ("assistant", "Hello, Theo. It's good to hear your voice.", session.session_id)]
    assert (await companion.profile("u")).user_name == "Theo"  # the same turn pipeline as text
    assert model.last_prompt[-1].content.endswith("Hi, I'm Theo.")
    # First clause first: "Hello, Theo." was synthesized on its own, before the rest was.
    spoken = [e.chunk.text for e in events if isinstance(e, Speaking)]
    assert spoken[0] == "Hello, Theo." and " ".join(spoken) == "Hello, Theo. It's good to hear your voice."
    assert playback.heard_audio(16_000).size == int(sum(e.chunk.duration for e in events if isinstance(e, Speaking)) * 16_000)
    for e in events:
        assert voice_event_dict(e)["type"]


async def test_a_pause_shorter_than_the_hangover_does_not_end_the_turn(companion: Companion, model: ScriptedModel) -> None:
    model.enqueue("Okay.")
    stt = ScriptedTranscriber(["I went to", "I went to the market today."])
    session, _ = make_session(companion, stt)

    async def script(sim: Sim) -> AsyncIterator[np.ndarray]:
        async for b in sim.feed(np.concatenate([tone(0.8), quiet(0.2), tone(0.8), quiet(0.6)])):
            yield b
        async for b in sim.until(lambda: sim.has(TurnDone)):
            yield b

    events = await run(session, Sim(), script)
    heard = [e for e in events if isinstance(e, Heard) and e.final]
    assert [h.text for h in heard] == ["I went to the market today."]
    assert stt.clips[-1].duration > 1.8  # the whole turn, not just its first half


async def test_noise_bursts_and_wordless_sounds_take_no_turn(companion: Companion, model: ScriptedModel,
                                                             sqlite_store: SqlConversationStore) -> None:
    stt = ScriptedTranscriber([""])
    session, _ = make_session(companion, stt)

    async def script(sim: Sim) -> AsyncIterator[np.ndarray]:
        async for b in sim.feed(np.concatenate([tone(0.1), quiet(0.6), tone(0.6), quiet(0.8)])):
            yield b
        async for b in sim.until(lambda: sim.has(NothingHeard, 2)):
            yield b

    events = await run(session, Sim(), script)
    assert [e.reason for e in events if isinstance(e, NothingHeard)] == ["too short to be speech", "no words in it"]
    assert not any(isinstance(e, Replying) for e in events)
    assert await sqlite_store.recent("u", 10) == []
    assert model.history == []


async def _barge_in(companion: Companion, model: ScriptedModel, words: str, burst_s: float
                    ) -> tuple[list[VoiceEvent], ClockedPlayback]:
    model.enqueue(LONG_REPLY, "Sure, go on.")
    stt = ScriptedTranscriber(["How was your day?", words])
    session, playback = make_session(companion, stt)

    async def script(sim: Sim) -> AsyncIterator[np.ndarray]:
        async for b in sim.feed(np.concatenate([tone(1.0), quiet(0.6)])):
            yield b
        async for b in sim.until(lambda: playback.position() > 1.0):
            yield b
        async for b in sim.feed(np.concatenate([tone(burst_s), quiet(0.6)])):
            yield b
        async for b in sim.until(lambda: sim.has(TurnDone, 2) or (sim.has(Backchannel) and sim.has(TurnDone)
                                                                   and playback.position() >= playback.queued())):
            yield b

    return await run(session, Sim(), script), playback


async def test_talking_over_it_stops_playback_and_stores_only_what_was_heard(
        companion: Companion, model: ScriptedModel, sqlite_store: SqlConversationStore) -> None:
    events, playback = await _barge_in(companion, model, "Actually, wait, I have to tell you something.", 1.2)
    cut = next(e for e in events if isinstance(e, Interrupted))
    first = [e.chunk for e in events if isinstance(e, Speaking) and e.chunk.text in LONG_REPLY]
    heard_first = sum(c.duration for c in playback.heard if c.text in LONG_REPLY)
    # Stopped within the barge-in window after the user started: 1 s heard + ~0.1 s detection + 0.64 s.
    assert 1.5 < heard_first < 2.2 < sum(c.duration for c in first)
    assert cut.spoken and LONG_REPLY.startswith(cut.spoken)
    assert cut.unspoken and LONG_REPLY.endswith(cut.unspoken)
    assert len(cut.spoken.split()) + len(cut.unspoken.split()) == len(LONG_REPLY.split())
    started = [e for e in events if isinstance(e, SpeechStarted)]
    assert [s.while_speaking for s in started] == [False, True]
    stored = [(e.role, e.text) for e in await sqlite_store.recent("u", 10)]
    assert stored[1] == ("assistant", cut.spoken + " …")
    assert stored[2:] == [("user", "Actually, wait, I have to tell you something."), ("assistant", "Sure, go on.")]
    done = [e for e in events if isinstance(e, TurnDone)]
    assert [d.interrupted for d in done] == [True, False]


@pytest.mark.parametrize("words", ["Mm-hmm.", "Yeah.", "Right, right.", ""])
async def test_a_backchannel_is_not_an_interruption(companion: Companion, model: ScriptedModel,
                                                    sqlite_store: SqlConversationStore, words: str) -> None:
    events, playback = await _barge_in(companion, model, words, 0.35)
    assert any(isinstance(e, Backchannel) for e in events)
    assert not any(isinstance(e, Interrupted) for e in events)
    assert sum(c.duration for c in playback.heard) == pytest.approx(playback.queued(), abs=1e-3)
    stored = [(e.role, e.text) for e in await sqlite_store.recent("u", 10)]
    assert stored == [("user", "How was your day?"), ("assistant", LONG_REPLY)]


async def test_a_short_word_that_is_not_a_backchannel_still_interrupts(companion: Companion, model: ScriptedModel) -> None:
    events, _ = await _barge_in(companion, model, "Stop.", 0.35)
    assert any(isinstance(e, Interrupted) for e in events)
    assert [e.text for e in events if isinstance(e, Heard) and e.final] == ["How was your day?", "Stop."]


async def test_without_barge_in_its_own_voice_is_ignored(companion: Companion, model: ScriptedModel) -> None:
    model.enqueue(LONG_REPLY)
    stt = ScriptedTranscriber(["How was your day?", "echo of itself"])
    session, playback = make_session(companion, stt, barge_in=False)

    async def script(sim: Sim) -> AsyncIterator[np.ndarray]:
        async for b in sim.feed(np.concatenate([tone(1.0), quiet(0.6)])):
            yield b
        async for b in sim.until(lambda: playback.position() > 1.0):
            yield b
        async for b in sim.feed(np.concatenate([tone(1.5), quiet(0.6)])):
            yield b
        async for b in sim.until(lambda: sim.has(TurnDone) and playback.position() >= playback.queued()):
            yield b

    events = await run(session, Sim(), script)
    assert not any(isinstance(e, Interrupted) for e in events)
    assert len(stt.clips) == 1


def test_backchannel_words() -> None:
    assert is_backchannel(Transcript("Mm-hmm."))
    assert is_backchannel(Transcript("Yeah, yeah."))
    assert is_backchannel(Transcript("Oh, I see."))
    assert is_backchannel(Transcript("In the name of", avg_logprob=-1.5))  # a murmur Whisper guessed at
    assert not is_backchannel(Transcript("Stop."))
    assert not is_backchannel(Transcript("No, that's wrong."))
    assert not is_backchannel(Transcript("Yeah but what about my sister?"))
