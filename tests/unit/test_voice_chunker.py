"""The clause chunker: the first clause early, then whole sentences; streamed in any pieces."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from os1.voice.chunker import ChunkRules, ClauseChunker, speakable


def chunks(text: str, step: int = 1) -> list[str]:
    c = ClauseChunker()
    out = [p for i in range(0, len(text), step) for p in c.feed(text[i:i + step])]
    return out + c.flush()


def test_first_clause_goes_early_then_sentences() -> None:
    text = "Oh, that sounds hard, and I'm sorry. Did you sleep at all, or were you up the whole night? Tell me."
    assert chunks(text) == ["Oh, that sounds hard,", "and I'm sorry.",
                            "Did you sleep at all, or were you up the whole night?", "Tell me."]


@pytest.mark.parametrize("text", [
    "Dr. Smith said it costs 3.50 dollars, e.g. less than before.",
    "We met at 10 a.m. and talked until noon.",
])
def test_abbreviations_and_numbers_do_not_end_a_sentence(text: str) -> None:
    pieces = chunks(text)
    assert all(not p.endswith(("Dr.", "3.", "e.g.", "a.m.")) for p in pieces)
    assert " ".join(pieces) == text


def test_a_mark_waits_for_the_next_character() -> None:
    c = ClauseChunker()
    assert c.feed("It is 3.") == []
    assert c.feed("5 degrees out there today. ") == ["It is 3.5 degrees out there today."]


def test_a_first_piece_ends_at_its_mark_without_waiting_when_the_mark_is_plain() -> None:
    c = ClauseChunker()
    assert c.feed("That sounds lovely") == [] and c.feed("!") == ["That sounds lovely!"]
    c = ClauseChunker()
    assert c.feed("Oh, I see") == [] and c.feed(",") == ["Oh, I see,"]
    c = ClauseChunker()
    assert c.feed("Good to hear.") == ["Good to hear."]
    # Ambiguous marks still wait: a number, an abbreviation, a single letter ("e.g."), too few words for a comma.
    for start in ("It costs 3.", "It is 1,", "Ask Dr.", "See e.", "Oh,"):
        assert ClauseChunker().feed(start) == [], start
    # Later pieces wait as before (their time is hidden behind the first one's audio).
    c = ClauseChunker()
    assert c.feed("Hi! ") == ["Hi!"] and c.feed("It was fine.") == []


def test_a_long_unpunctuated_start_is_cut_at_a_space() -> None:
    words = " ".join(f"word{i}" for i in range(30))
    first = chunks(words)[0]
    assert len(first.split()) == ChunkRules().first_max_words


def test_a_first_piece_may_end_before_a_conjunction() -> None:
    assert chunks("That sounds really lovely and I hope the weather holds for you. Tell me.") == [
        "That sounds really lovely", "and I hope the weather holds for you.", "Tell me."]
    # Too early for a break, and only the first piece breaks there.
    assert chunks("Yes and no, it depends. I think it is fine and you know it is, mostly.")[:2] == [
        "Yes and no,", "it depends."]
    assert chunks("Mm. Really it was so good and then some")[1:] == ["Really it was so good and then some"]


@given(st.text(alphabet=st.sampled_from(list("abc ,.!?;:\n'\"—3")), max_size=300), st.integers(1, 7))
def test_nothing_is_lost_or_reordered(text: str, step: int) -> None:
    pieces = chunks(text, step)
    assert "".join("".join(p.split()) for p in pieces) == "".join(text.split())
    assert all(p.strip() == p and p for p in pieces)


def test_speakable_drops_markup_links_and_emoji() -> None:
    assert speakable("**Great** idea 😊 — see [the notes](http://x.y/z) or https://a.b/c") == "Great idea — see the notes or"
