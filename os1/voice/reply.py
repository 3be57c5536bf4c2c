"""One spoken reply: the companion's turn streamed through a clause chunker into speech, and, when the
listener cut it off, the stored reply replaced by what they actually heard.

`speak` is the latency path: the first clause goes to the synthesizer while the model is still writing
the rest, and each audio chunk is played as soon as it exists. It records each stage's time in
`SpokenReply.timings` (bench/voice_bench.py reports them).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import cast

from ..companion import Companion
from ..errors import OS1Error
from ..memory.book import MemoryBook
from ..types import ReplyDone, ReplyEvent, TextDelta, UserId
from .base import Synthesizer
from .chunker import ClauseChunker
from .events import Replying, Speaking, VoiceEvent, VoiceProblem
from .playback import Playback, SpokenLog

log = logging.getLogger("os1.voice")


@dataclass
class SpokenReply:
    """A reply in progress or done, and what became of it."""

    heard: str
    """The user's words it answers."""
    task: asyncio.Task[None] | None = None
    log: SpokenLog = field(default_factory=SpokenLog)
    generated: str = ""
    done: ReplyDone | None = None
    baseline_id: int = 0
    """The newest stored exchange before this turn: the reply's own row comes after it."""
    timings: dict[str, float] = field(default_factory=dict)
    finished: bool = False
    interrupted: bool = False
    reported: bool = False


async def speak(companion: Companion, user_id: UserId, reply: SpokenReply, *, session_id: str,
                synthesizer: Synthesizer, playback: Playback, emit: Callable[[VoiceEvent], None],
                now: Callable[[], float], t_speech_end: float) -> None:
    """Run the turn for `reply.heard` and speak it, clause by clause, as it is written."""
    playback.start_reply()
    clauses: asyncio.Queue[str | None] = asyncio.Queue()
    voice = asyncio.create_task(_voice(clauses, reply, synthesizer, playback, emit, now, t_speech_end))
    chunker = ClauseChunker()
    t0 = now()
    # brief: fewer, shorter recalled memories in the notes, which are evaluated before the first word.
    turn = companion.reply(user_id, reply.heard, session_id=session_id, brief=True)
    events = cast(AsyncGenerator[ReplyEvent, None], turn)

    def clause(piece: str) -> None:
        if "first_clause" not in reply.timings:
            reply.timings["first_clause"] = 1000 * (now() - t0)
            log.debug("first clause: %r", piece)
        clauses.put_nowait(piece)

    try:
        async for event in events:
            emit(Replying(event))
            if isinstance(event, TextDelta):
                reply.timings.setdefault("first_token", 1000 * (now() - t0))
                reply.generated += event.text
                for piece in chunker.feed(event.text):
                    clause(piece)
            elif isinstance(event, ReplyDone):
                reply.done = event
        for piece in chunker.flush():
            clause(piece)
        clauses.put_nowait(None)
        await voice
    except OS1Error as e:
        emit(VoiceProblem(e))
    finally:
        voice.cancel()
        await events.aclose()
        reply.finished = True


async def _voice(clauses: asyncio.Queue[str | None], reply: SpokenReply, synthesizer: Synthesizer, playback: Playback,
                 emit: Callable[[VoiceEvent], None], now: Callable[[], float], t_speech_end: float) -> None:
    seq = 0
    while (piece := await clauses.get()) is not None:
        t_clause = now()
        async for chunk in synthesizer.synthesize(piece):
            if seq == 0:
                log.debug("first audio")
                reply.timings["tts_first"] = 1000 * (now() - t_clause)
                reply.timings["voice_to_voice"] = 1000 * (now() - t_speech_end)
            playback.play(chunk)
            reply.log.add(chunk)
            emit(Speaking(chunk, seq))
            seq += 1


async def store_heard(companion: Companion, user_id: UserId, session_id: str, reply: SpokenReply, spoken: str) -> None:
    """Replace the stored reply with what was heard, marked as cut off with " …"."""
    exchange_id = reply.done.reply_exchange_id if reply.done else None
    if exchange_id is None:
        for e in reversed(await companion.store.recent(user_id, 4)):
            if e.role == "assistant" and e.session_id == session_id and e.id > reply.baseline_id:
                exchange_id = e.id
                break
    if exchange_id is not None:  # else nothing was stored: the reply was cut off before its first word
        text = f"{spoken} …" if spoken else "…"
        book = MemoryBook(companion.memory, companion.clock.now().tzinfo)
        await book.edit(user_id, f"e{exchange_id}", text, at=companion.clock.now())
    # The next prompt holds what was heard: evaluate its start while the user talks (`Companion.reply` leaves a
    # spoken reply cut off to this).
    companion.warm_in_background(user_id)
