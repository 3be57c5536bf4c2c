"""Rehearsing the first clause of a reply written ahead (os1/voice/rehearsal.py) with a tone synthesizer."""

from __future__ import annotations

import asyncio

from os1.voice.rehearsal import Rehearsal
from os1.voice.testing import ToneSynthesizer


async def _say(r: Rehearsal, text: str) -> list[str]:
    return [c.text async for c in r.synthesize(text)]


async def test_the_rehearsed_clause_is_played_from_the_rehearsal() -> None:
    tone = ToneSynthesizer()
    r = Rehearsal(tone)
    listener = r.listen()
    for piece in ["Oh", ", a long ", "day? Tell", " me."]:
        listener(piece)
    await asyncio.sleep(0)
    assert tone.texts == ["Oh, a long day?"]  # synthesized as soon as the first clause was complete
    assert await _say(r, "Oh, a long day?") == ["Oh, a long day?"]
    assert tone.texts == ["Oh, a long day?"] and r.used == 1  # not synthesized again
    assert await _say(r, "Tell me.") == ["Tell me."]  # the rest as usual
    assert await _say(r, "Oh, a long day?") == ["Oh, a long day?"] and tone.texts[-1] == "Oh, a long day?"
    assert r.used == 1  # a rehearsal is played once


async def test_other_words_are_synthesized_and_a_dropped_rehearsal_is_never_played() -> None:
    tone = ToneSynthesizer()
    r = Rehearsal(tone)
    r.rehearse("Oh, a long day?")
    assert await _say(r, "I hear you, that sounds hard.") == ["I hear you, that sounds hard."]
    assert r.used == 0
    r.rehearse("Oh, a long day?")
    r.drop()  # the user went on talking
    assert await _say(r, "Oh, a long day?") == ["Oh, a long day?"]
    assert r.used == 0 and tone.texts[-1] == "Oh, a long day?"


async def test_cutting_the_reply_off_while_it_waits_for_the_rehearsal_is_not_swallowed() -> None:
    r = Rehearsal(ToneSynthesizer())
    r.rehearse("Oh, a long day?")
    gate = asyncio.Event()
    r._audio = asyncio.ensure_future(gate.wait())  # type: ignore[assignment]  # audio that never finishes
    speaking = asyncio.create_task(_say(r, "Oh, a long day?"))
    await asyncio.sleep(0.01)
    speaking.cancel()  # a barge-in
    await asyncio.gather(speaking, return_exceptions=True)
    assert speaking.cancelled()
