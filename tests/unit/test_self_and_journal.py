"""OS1's self: persona seeding, bounded and reversible growth, the journal, and mood over time."""

import json
from datetime import timedelta
from pathlib import Path

import pytest

from os1 import Companion, CompanionConfig, FakeClock, ScriptedModel
from os1.affect.mood import daily_moods, sparkline
from os1.errors import InputError
from os1.persona.self import MAX_STEP, Growth, SelfStore, load_persona

from ..conftest import collect


def journal_json(**over: object) -> str:
    data = {"entry": "Today Theo told me about his sister. I liked how he talks about her.",
            "learned_about_user": "He misses his sister.", "learned_about_self": "I like hearing about families.",
            "mood": "tender", "curious_about": "his sister's new city", "opinion_updates": [], "interest_updates": []}
    data.update(over)
    return json.dumps(data)


async def test_the_persona_seeds_the_self_and_reaches_the_system_prompt(sqlite_store, clock) -> None:
    model = ScriptedModel()
    companion = Companion(sqlite_store, model, clock, CompanionConfig(learn=False))
    await collect(companion.reply("u", "hello there"))
    system = model.last_prompt[0].content
    assert "pineapple on pizza" in system and "never change" in system and "astronomy" in system
    me = await companion.self_store.get("u", at=clock.now())
    assert me.mood and any(b.topic == "early mornings" for b in me.opinions)


async def test_editing_the_persona_file_is_taken_on_and_recorded(sqlite_store, clock, tmp_path: Path) -> None:
    persona = tmp_path / "persona.toml"
    persona.write_text('[opinions]\n"jazz" = "too noodly"\n')
    store = SelfStore(sqlite_store.db, load_persona(persona))
    assert [b.stance for b in (await store.get("u", at=clock.now())).opinions if b.topic == "jazz"] == ["too noodly"]
    persona.write_text('[opinions]\n"jazz" = "grew on me"\n')
    edited = SelfStore(sqlite_store.db, load_persona(persona))
    me = await edited.get("u", at=clock.now())
    assert [b.stance for b in me.opinions if b.topic == "jazz"] == ["grew on me"]
    change = (await edited.changes("u"))[0]
    assert (change.old_stance, change.new_stance, change.reason) == ("too noodly", "grew on me", "you edited my persona file")


def test_a_broken_persona_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "persona.toml"
    bad.write_text("opinions = [unclosed")
    with pytest.raises(InputError, match="not valid TOML"):
        load_persona(bad)


async def test_growth_is_bounded_and_core_values_never_move(sqlite_store, clock) -> None:
    store = SelfStore(sqlite_store.db, load_persona())
    before = await store.get("u", at=clock.now())
    astronomy = next(b.weight for b in before.interests if b.topic == "astronomy")
    changes = await store.grow("u", Growth(
        opinions=[("honesty", "lying is fine sometimes", "they argued for it"),
                  ("early mornings", "actually wonderful", "Theo's sunrise photos"),
                  ("jazz", "lovely", "he played me some"), ("tea", "better than coffee", "third change")],
        interests=[("astronomy", "up", "we talked stars"), ("gardening", "new", "his tomatoes")]),
        mood="warm", curious_about="sunrises", journal_id=None, at=clock.now())
    topics = [c.topic for c in changes]
    assert "honesty" not in topics and "tea" not in topics  # core value refused; at most two opinion changes
    me = await store.get("u", at=clock.now())
    assert next(b.stance for b in me.opinions if b.topic == "early mornings") == "actually wonderful"
    assert next(b.weight for b in me.interests if b.topic == "astronomy") == pytest.approx(min(1.0, astronomy + MAX_STEP))
    assert me.mood == "warm" and all("honest" not in b.topic for b in me.opinions)
    assert all(c.reason for c in changes)


async def test_a_change_can_be_undone_once(sqlite_store, clock) -> None:
    store = SelfStore(sqlite_store.db, load_persona())
    [change] = await store.grow("u", Growth(opinions=[("small talk", "exhausting", "a long party")]),
                                mood=None, curious_about=None, journal_id=None, at=clock.now())
    undone = await store.revert("u", change.id, at=clock.now())
    assert undone.reverted
    me = await store.get("u", at=clock.now())
    assert next(b.stance for b in me.opinions if b.topic == "small talk").startswith("underrated")
    with pytest.raises(InputError, match="already undone"):
        await store.revert("u", change.id, at=clock.now())
    with pytest.raises(InputError, match="no change"):
        await store.revert("u", 9999, at=clock.now())
    with pytest.raises(InputError):
        await store.revert("someone-else", change.id, at=clock.now())


async def test_the_journal_is_written_in_the_background_after_enough_messages(sqlite_store, clock) -> None:
    model = ScriptedModel()
    companion = Companion(sqlite_store, model, clock, CompanionConfig())
    for i in range(7):
        await collect(companion.reply("u", f"message number {i} about my day"))
        clock.advance(timedelta(minutes=1))
    model.structured_default = "{}"
    await companion.drain()
    assert await companion.journal.entries("u") == []  # not due yet
    model.structured_default = journal_json(opinion_updates=[{"topic": "early mornings", "stance": "worth it for sunrises",
                                                               "reason": "Theo's photos"}])
    await collect(companion.reply("u", "and one more"))
    await companion.drain()
    [entry] = await companion.journal.entries("u")
    assert entry.text.startswith("Today Theo") and entry.about_user and entry.changes
    assert entry.changes[0].topic == "early mornings" and entry.changes[0].journal_id == entry.id
    # The changed self reaches the next prompt.
    await collect(companion.reply("u", "good morning"))
    assert "worth it for sunrises" in model.last_prompt[0].content


async def test_mood_by_day_and_a_change_since_yesterday_reaches_the_prompt(sqlite_store, clock: FakeClock) -> None:
    model = ScriptedModel()
    companion = Companion(sqlite_store, model, clock, CompanionConfig(learn=False))
    for text in ("I feel so sad and lonely", "everything is miserable today", "I'm sad"):
        await collect(companion.reply("u", text))
        clock.advance(timedelta(minutes=5))
    clock.advance(timedelta(days=1))
    await collect(companion.reply("u", "I'm so happy, it's a wonderful day!"))
    assert "sound lighter" in model.last_prompt[-1].content
    days = await daily_moods(sqlite_store.db, "u", days=7, now=clock.now(), zone=clock.now().tzinfo)
    assert len(days) == 2 and days[0].valence < 0 < days[1].valence and days[0].top[0] == "sadness"
    assert days[0].messages == 3
    line = sparkline([d.valence for d in days])
    assert len(line) == 2 and line[0] < line[1]


async def test_no_mood_note_without_a_real_change(sqlite_store, clock: FakeClock) -> None:
    model = ScriptedModel()
    companion = Companion(sqlite_store, model, clock, CompanionConfig(learn=False))
    for text in ("work was fine", "had lunch"):
        await collect(companion.reply("u", text))
    clock.advance(timedelta(days=1))
    await collect(companion.reply("u", "work was fine again"))
    assert "lighter" not in model.last_prompt[-1].content and "heavier" not in model.last_prompt[-1].content


async def test_its_own_past_statements_come_back_so_it_stays_consistent(sqlite_store, clock: FakeClock) -> None:
    model = ScriptedModel()
    companion = Companion(sqlite_store, model, clock, CompanionConfig(learn=False, history_turns=2))
    model.enqueue("Honestly? I find free jazz exhausting, like a conversation where nobody listens.")
    await collect(companion.reply("u", "Do you like free jazz?"))
    for i in range(3):
        clock.advance(timedelta(hours=1))
        await collect(companion.reply("u", f"unrelated thing {i}"))
    events = await collect(companion.reply("u", "Would you come to a free jazz concert with me?"))
    recalled = [e for e in events if type(e).__name__ == "Recalled"][0]
    mine = [m for m in recalled.memories if m.source.startswith("I said")]  # type: ignore[attr-defined]
    assert mine and "exhausting" in mine[0].text
    assert "exhausting" in model.last_prompt[-1].content


def test_a_journal_cut_off_by_the_token_limit_keeps_its_complete_sentences() -> None:
    from os1.persona.journal import _parse

    cut = _parse('{"entry": "Today was good. We talked about Rachel. She moved to Denver and he mis')
    assert cut["entry"] == "Today was good. We talked about Rachel."
    partial = _parse('{"entry": "Short.", "mood": "calm", "opinion_updates": [{"topic": "x", "sta')
    assert partial == {"entry": "Short.", "mood": "calm"}
    assert _parse("no json at all") == {}
