"""The first clause of a reply written ahead, synthesized ahead.

While the end of a turn is still being confirmed, the model already writes the reply
(`LlamaCppModel.anticipate`); as soon as its first clause is there it is synthesized too, so when the turn
takes the reply over, that clause's audio is ready to play. Only audio for the very words the turn then
speaks is used: anything else is synthesized as usual, and a risk turn whose checked reply differs never
plays the rehearsed clause.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from .base import AudioChunk, Synthesizer, VoiceInfo
from .chunker import ClauseChunker


class Rehearsal:
    """A synthesizer that can say one clause ahead of time (`rehearse`) and plays it when asked for those words."""

    def __init__(self, synthesizer: Synthesizer) -> None:
        self.synthesizer = synthesizer
        self.voice: VoiceInfo = synthesizer.voice
        self.sample_rate: int = synthesizer.sample_rate
        self._text: str | None = None
        self._audio: asyncio.Task[list[AudioChunk]] | None = None
        self.used = 0
        """Clauses played from a rehearsal (the bench reports it)."""

    def listen(self) -> ClauseListener:
        """A sink for the pieces of a reply being written ahead: its first clause is rehearsed."""
        self.drop()
        return ClauseListener(self)

    def rehearse(self, text: str) -> None:
        self.drop()
        self._text = text
        self._audio = asyncio.ensure_future(self._render(text))

    def drop(self) -> None:
        if self._audio is not None and not self._audio.done():
            self._audio.cancel()
        self._text, self._audio = None, None

    async def _render(self, text: str) -> list[AudioChunk]:
        return [chunk async for chunk in self.synthesizer.synthesize(text)]

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        audio = self._audio if text == self._text else None
        if audio is None:
            self.drop()  # the reply went another way: that clause will not be said
        else:
            self._text, self._audio = None, None
        chunks: list[AudioChunk] | None = None
        if audio is not None:
            try:
                chunks = await asyncio.shield(audio)
            except asyncio.CancelledError:
                if not audio.cancelled():
                    raise  # the reply itself was cut off (barge-in): never swallow that
            except Exception:  # the rehearsal failed: synthesize as usual below
                chunks = None
        if chunks:
            self.used += 1
            for chunk in chunks:
                yield chunk
            return
        async for chunk in self.synthesizer.synthesize(text):
            yield chunk


class ClauseListener:
    """Called with each piece written ahead; rehearses the first clause once it is complete."""

    def __init__(self, rehearsal: Rehearsal) -> None:
        self._rehearsal = rehearsal
        self._chunker: ClauseChunker | None = ClauseChunker()

    def __call__(self, piece: str) -> None:
        if self._chunker is None:
            return
        clauses = self._chunker.feed(piece)
        if clauses:
            self._chunker = None
            self._rehearsal.rehearse(clauses[0])
