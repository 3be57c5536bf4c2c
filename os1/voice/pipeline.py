"""The spoken conversation: listen → end of turn → transcript → reply → speech, with barge-in.

One `VoiceSession` per conversation. Microphone audio (16 kHz float32 blocks of any size) goes in;
typed events (`os1.voice.events`) come out, and reply audio goes to a `Playback`. Every spoken turn
is an ordinary `Companion.reply` turn: memory, emotion and safety apply, and the transcript is stored.

Latency: the final transcript is started speculatively at the first silent frame after speech, so
it runs while the detector waits out the hangover, and as soon as it is there the model starts on the
prompt that turn would get and writes its reply (`Companion.speculate(write=True)`: nothing stored,
thrown away if the user goes on); the turn, once confirmed, composes the same prompt and takes over
what was written (`LlamaCppModel.anticipate`). While the user talks, the words so far are transcribed
every `foresee_every_s` and the turn's notes evaluated (os1/foresight.py). The reply streams into a
clause chunker, and the first clause is synthesized and played while the rest is generated (reply.py);
when the reply was written during the pause, its first clause was synthesized then too (rehearsal.py).

Barge-in: speech that starts while OS1 talks and lasts `barge_in_ms` stops playback at once; a
shorter burst is transcribed first, and a backchannel ("mm-hm", "yeah") is let through. When OS1 is
cut off, the stored reply is replaced by what the listener actually heard, ending in " …".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from ..companion import Companion
from ..errors import OS1Error
from ..types import UserId
from .backchannel import is_backchannel
from .base import SAMPLE_RATE, AudioClip, Samples, Synthesizer, Transcriber, Transcript, VoiceActivity
from .events import (
    Backchannel,
    Heard,
    Interrupted,
    NothingHeard,
    SpeechEnded,
    SpeechStarted,
    TurnDone,
    VoiceEvent,
    VoiceProblem,
)
from .playback import Playback
from .rehearsal import Rehearsal
from .reply import SpokenReply, speak, store_heard
from .vad import FrameSplitter, TurnDetector, TurnTiming

__all__ = ["SessionOptions", "VoiceSession", "is_backchannel"]


async def _ready(transcript: Transcript) -> Transcript:
    return transcript

log = logging.getLogger("os1.voice")


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """How the session takes turns. Defaults from listening tests and bench/voice_bench.py."""

    timing: TurnTiming = TurnTiming()
    barge_in: bool = True
    """Let the user interrupt. Off for a loudspeaker without echo cancellation (OS1 would hear itself)."""
    barge_in_ms: int = 640
    """Speech over OS1 this long interrupts at once; "mm-hm" and "yeah" are 250-500 ms."""
    min_turn_speech_ms: int = 160
    """A turn needs this much speech; shorter sounds are noise."""
    partial_every_s: float | None = None
    """Transcribe the turn so far this often while the user talks (shown as partial transcripts)."""
    max_turn_seconds: float = 120.0
    """A turn this long ends there (OS1_MAX_AUDIO_SECONDS): endless noise can't grow a turn forever."""
    speculate: bool = True
    """Evaluate the turn's prompt while the end of turn is still being confirmed (dropped if the user goes on),
    and while the user talks, on the words heard so far (see `foresee_every_s`)."""
    foresee_every_s: float | None = 1.0
    """While the user talks, transcribe the turn so far this often and evaluate its prompt (notes and the words
    heard): the turn reuses those notes (os1/foresight.py), so only its last words are left when it comes.
    None: only at the end-of-turn pause."""
    write_ahead: bool = True
    """At the end-of-turn pause, write the reply too, not only evaluate its prompt (`LlamaCppModel.anticipate`): the
    turn takes over what was written while the pause was waited out. Off: the turn starts writing when it comes."""


class VoiceSession:
    """A spoken conversation with one user."""

    def __init__(self, companion: Companion, user_id: UserId, *, transcriber: Transcriber, synthesizer: Synthesizer,
                 vad: VoiceActivity, playback: Playback, options: SessionOptions | None = None,
                 session_id: str | None = None, now: Callable[[], float] = time.perf_counter) -> None:
        self.companion, self.user_id = companion, user_id
        self.transcriber, self.vad, self.playback = transcriber, vad, playback
        self.synthesizer = Rehearsal(synthesizer)
        """Speaks the first clause of a reply written during the pause ahead of time (rehearsal.py)."""
        self.options = options or SessionOptions()
        self.session_id = session_id or f"voice-{uuid.uuid4().hex[:12]}"
        self.now = now
        self.detector = TurnDetector(vad.frame_samples, self.options.timing)
        self._events: asyncio.Queue[VoiceEvent | None] = asyncio.Queue()
        self._reply: SpokenReply | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._spec: asyncio.Task[Transcript] | None = None
        self._speculation: asyncio.Task[None] | None = None
        self._burst = False
        self._ignore = False
        self._partial_at = 0.0
        self._partial_task: asyncio.Task[None] | None = None
        self._foreseen_text = ""
        self._live = False
        self.audio_time = 0.0

    # The stream --------------------------------------------------------------------------------------
    async def run(self, mic: AsyncIterable[Samples]) -> AsyncIterator[VoiceEvent]:
        """Listen to `mic` (16 kHz float32 blocks) until it ends; yield what happens."""
        self._live = True
        listener = asyncio.create_task(self._listen(mic))
        try:
            while (event := await self._events.get()) is not None:
                yield event
            await listener  # re-raise what stopped it
        finally:
            listener.cancel()
            await self.close()

    async def answer(self, clip: AudioClip) -> AsyncIterator[VoiceEvent]:
        """One turn from a whole recording (a file): no turn-taking, the reply is spoken to the end."""
        task = self._spawn(self._take_turn(clip.samples, None, burst=False, t_end=self.now(), vad_tail=0.0))
        task.add_done_callback(lambda _: self._events.put_nowait(None))
        while (event := await self._events.get()) is not None:
            yield event
        await task

    async def close(self) -> None:
        """Stop talking and finish the bookkeeping of an interrupted reply."""
        if self._reply is not None and not self._reply.finished:
            self.interrupt()
        self._drop_speculation()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def end_turn(self) -> None:
        """End the user's turn now (push-to-talk released), without waiting for silence."""
        if self.detector.in_speech:
            self._end_turn()

    def speaking(self) -> bool:
        """OS1 is replying: generating, or its voice is still playing."""
        r = self._reply
        return r is not None and (not r.finished or self.playback.position() < self.playback.queued() - 1e-6)

    async def _listen(self, mic: AsyncIterable[Samples]) -> None:
        split = FrameSplitter(self.vad.frame_samples)
        frame_s = self.vad.frame_samples / SAMPLE_RATE
        try:
            async for block in mic:
                for frame in split(block):
                    self.audio_time += frame_s
                    self.playback.tick(frame_s)
                    self._hear(frame, self.vad.speech_probability(frame))
                    r = self._reply
                    if r is not None and r.finished and not r.interrupted and not self.speaking():
                        self._report(r)
            if self.detector.in_speech:
                self._end_turn()
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
            if self._reply is not None and not self._reply.interrupted:
                self._report(self._reply)  # the microphone closed while OS1 was still talking
        finally:
            self._events.put_nowait(None)

    def _hear(self, frame: Samples, probability: float) -> None:
        d, o = self.detector, self.options
        signal = d.push(frame, probability)
        if signal == "start":
            talking = self.speaking()
            self._burst, self._ignore = talking and o.barge_in, talking and not o.barge_in
            self._spec, self._partial_at, self._foreseen_text = None, 0.0, ""
            self._drop_speculation()
            self._emit(SpeechStarted(self.audio_time - d.speech_ms() / 1000, while_speaking=talking))
        elif signal == "pause" and not self._ignore and d.speech_ms() >= o.min_turn_speech_ms:
            log.debug("pause: transcribing %.1f s", d.utterance_seconds)
            self._spec = asyncio.ensure_future(self.transcriber.transcribe(AudioClip(d.utterance(), SAMPLE_RATE)))
            if o.speculate and not self._burst:
                self._drop_speculation()
                self._speculation = asyncio.ensure_future(self._speculate(self._spec, write=o.write_ahead))
        elif signal == "resume":
            self._spec = None
            self._drop_speculation()  # they went on: that prompt is not the one
        elif signal == "end":
            self._end_turn()
            return
        if d.in_speech and d.utterance_seconds >= o.max_turn_seconds:
            self._end_turn()
            return
        if d.in_speech and self._burst and d.speech_ms() >= o.barge_in_ms:
            self._burst = False
            self.interrupt()  # the user goes on talking: this becomes their turn
        every = o.partial_every_s or (o.foresee_every_s if o.speculate else None)
        if (d.in_speech and every and not self._burst and not self._ignore and self._spec is None
                and d.utterance_seconds - self._partial_at >= every
                and (self._partial_task is None or self._partial_task.done())):
            self._partial_at = d.utterance_seconds
            self._partial_task = self._spawn(self._partial(d.utterance()))

    def _end_turn(self) -> None:
        log.debug("end of turn")
        d = self.detector
        audio, speech_ms = d.utterance(), d.speech_ms()
        vad_tail = (d.frames_seen - d.last_speech_frame) * d.frame_ms
        spec, burst, ignore = self._spec, self._burst, self._ignore
        self._spec, self._burst, self._ignore = None, False, False
        d.reset()
        if ignore:
            return
        self._emit(SpeechEnded(self.audio_time - vad_tail / 1000))
        if speech_ms < self.options.min_turn_speech_ms:
            self._emit(NothingHeard("too short to be speech"))
            return
        self._spawn(self._take_turn(audio, spec, burst=burst, t_end=self.now(), vad_tail=vad_tail))

    # A turn ------------------------------------------------------------------------------------------
    async def _take_turn(self, audio: Samples, spec: asyncio.Future[Transcript] | None, *, burst: bool,
                         t_end: float, vad_tail: float) -> None:
        try:
            transcript = await spec if spec is not None else \
                await self.transcriber.transcribe(AudioClip(audio, SAMPLE_RATE))
        except OS1Error as e:
            self._emit(VoiceProblem(e))
            return
        t_heard = self.now()
        if burst:
            if is_backchannel(transcript):
                self._emit(Backchannel(transcript.text))
                return
            self.interrupt()  # a short "wait" or "stop" still takes the turn
        if not transcript.text:
            self._emit(NothingHeard("no words in it"))
            return
        self._emit(Heard(transcript.text, final=True))
        await self._finish_previous()
        timings = {"vad_tail": vad_tail, "stt": 1000 * (t_heard - t_end)}
        await self._speak_reply(transcript.text, timings, t_end - vad_tail / 1000)

    async def _speculate(self, spec: asyncio.Future[Transcript], *, write: bool = False) -> None:
        try:
            transcript = await asyncio.shield(spec)  # dropping the speculation must not cancel the transcript
            log.debug("speculative transcript: %r", transcript.text)
            if transcript.text:
                n = await self.companion.speculate(self.user_id, transcript.text, brief=True, write=write,
                                                   on_piece=self.synthesizer.listen() if write else None)
                log.debug("speculation done: %d %s", n, "pieces written ahead, taken by the turn" if write
                          else "tokens evaluated")
        except asyncio.CancelledError:
            raise
        except Exception:  # only ever a head start
            log.debug("speculative prompt evaluation failed", exc_info=True)

    def _drop_speculation(self) -> None:
        if self._speculation is not None and not self._speculation.done():
            self._speculation.cancel()  # the model stops within one small chunk
            self.synthesizer.drop()
        self._speculation = None

    async def _partial(self, audio: Samples) -> None:
        with contextlib.suppress(OS1Error):
            log.debug("look: transcribing %.1f s", len(audio) / SAMPLE_RATE)
            t = await self.transcriber.transcribe(AudioClip(audio, SAMPLE_RATE))
            log.debug("look: heard %r", t.text)
            if not t.text or not self.detector.in_speech:
                return
            if self.options.partial_every_s:
                self._emit(Heard(t.text, final=False))
            if (self.options.speculate and self._spec is None and not self._burst and not self._ignore
                    and t.text != self._foreseen_text):
                # Still talking, no pause yet: evaluate the notes and the words so far (os1/foresight.py). (The same
                # words heard again would only restart the same work.)
                self._foreseen_text = t.text
                self._drop_speculation()
                self._speculation = asyncio.ensure_future(self._speculate(asyncio.ensure_future(_ready(t))))

    async def _finish_previous(self) -> None:
        prev = self._reply
        if prev is not None and prev.task is not None and not prev.task.done():
            self.interrupt()
            with contextlib.suppress(asyncio.CancelledError):
                await prev.task

    async def _speak_reply(self, text: str, timings: dict[str, float], t_speech_end: float) -> None:
        recent = await self.companion.store.recent(self.user_id, 1)
        reply = SpokenReply(text, baseline_id=recent[-1].id if recent else 0, timings=timings)
        reply.task = asyncio.current_task()
        self._reply = reply
        await speak(self.companion, self.user_id, reply, session_id=self.session_id, synthesizer=self.synthesizer,
                    playback=self.playback, emit=self._emit, now=self.now, t_speech_end=t_speech_end)
        if not self._live:
            self._report(reply)  # a file: nobody can interrupt, the turn is over when the reply is

    # Barge-in ----------------------------------------------------------------------------------------
    def interrupt(self) -> None:
        """Stop talking now; the reply is stored as far as it was heard (done in the background)."""
        reply = self._reply
        if reply is None or reply.interrupted or not self.speaking():
            return
        reply.interrupted = True
        position = self.playback.stop()
        if reply.task is not None and not reply.task.done():
            reply.task.cancel()
        self._spawn(self._record_interruption(reply, position))

    async def _record_interruption(self, reply: SpokenReply, position: float) -> None:
        if reply.task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reply.task
        spoken, unspoken = reply.log.split(position, reply.generated)
        try:
            await store_heard(self.companion, self.user_id, self.session_id, reply, spoken)
        except OS1Error as e:
            self._emit(VoiceProblem(e))
        self._emit(Interrupted(spoken, unspoken))
        self._report(reply, spoken)

    def _report(self, reply: SpokenReply, spoken: str | None = None) -> None:
        """The turn is over: interrupted, or its last word was heard."""
        if not reply.reported:
            reply.reported = True
            heard = reply.generated.strip() if spoken is None else spoken
            self._emit(TurnDone(reply.heard, heard, reply.interrupted, dict(reply.timings)))

    # Plumbing ----------------------------------------------------------------------------------------
    def _emit(self, event: VoiceEvent) -> None:
        self._events.put_nowait(event)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled() or (exc := task.exception()) is None:
            return
        if isinstance(exc, OS1Error):
            self._emit(VoiceProblem(exc))
        else:
            log.error("voice turn failed", exc_info=exc)
            self._emit(VoiceProblem(OS1Error("Something went wrong on our side while answering.",
                                             hint="Try again; the details are in the log.")))
