import asyncio
from datetime import timedelta

import pytest

from os1 import Companion, FakeClock, ScriptedModel
from os1.errors import InputError, ModelUnavailable
from os1.memory import SqlConversationStore
from os1.types import Perceived, Recalled, ReplyDone, SafetyNotice, TextDelta

from ..conftest import collect


def _done(events: list[object]) -> ReplyDone:
    done = [e for e in events if isinstance(e, ReplyDone)]
    assert len(done) == 1
    return done[0]


async def test_turn_streams_events_in_order_and_stores_both_sides(companion: Companion, model: ScriptedModel,
                                                                    sqlite_store: SqlConversationStore) -> None:
    model.enqueue("Hello there, friend.")
    events = await collect(companion.reply("u", "hi"))
    kinds = [type(e).__name__ for e in events]
    assert kinds[:2] == ["Perceived", "Recalled"] and kinds[-1] == "ReplyDone"
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello there, friend."
    stored = await sqlite_store.recent("u", 10)
    assert [(e.role, e.text) for e in stored] == [("user", "hi"), ("assistant", "Hello there, friend.")]
    assert _done(events).reply_exchange_id == stored[1].id


async def test_first_meeting_names_itself_learns_the_name_and_asks_about_you(companion: Companion,
                                                                             model: ScriptedModel) -> None:
    greeting = await collect(companion.greet("u"))
    companion_name = _done(greeting).companion_name
    assert companion_name and companion_name in model.last_prompt[-1].content
    assert "what their name is" in model.last_prompt[-1].content
    assert (await companion.profile("u")).stage == "asked_name"
    assert await collect(companion.greet("u")) == []  # only once

    await collect(companion.reply("u", "Theo"))
    p = await companion.profile("u")
    assert (p.user_name, p.stage) == ("Theo", "getting_to_know")
    assert "Greet them by name" in model.last_prompt[-1].content

    await collect(companion.reply("u", "I write letters for other people."))
    assert "one more question" in model.last_prompt[-1].content
    await collect(companion.reply("u", "My sister lives far away."))
    await collect(companion.reply("u", "ok"))
    p = await companion.profile("u")
    assert p.stage == "met"
    assert "one more question" not in model.last_prompt[-1].content
    assert "You are talking with Theo" in model.last_prompt[0].content
    assert p.companion_name == companion_name  # its name stays its own


async def test_name_in_first_message_skips_the_question(companion: Companion, model: ScriptedModel) -> None:
    await collect(companion.reply("u", "Hello! I'm Amelia."))
    p = await companion.profile("u")
    assert p.user_name == "Amelia" and p.stage == "getting_to_know"
    assert p.companion_name in model.last_prompt[-1].content  # it still introduces itself


async def test_user_can_rename_it_in_conversation_or_directly(companion: Companion, model: ScriptedModel) -> None:
    await collect(companion.reply("u", "hi"))
    await collect(companion.reply("u", "Can I call you Juniper?"))
    assert (await companion.profile("u")).companion_name == "Juniper"
    assert "Juniper" in model.last_prompt[0].content
    await companion.rename("u", "Sam")
    await collect(companion.reply("u", "hello again"))
    assert "You are Sam" in model.last_prompt[0].content


async def test_recalled_memory_reaches_the_prompt(companion: Companion, model: ScriptedModel, clock: FakeClock) -> None:
    await collect(companion.reply("u", "My sister Rachel just moved to Denver."))
    for i in range(12):  # push it out of the history window (6 messages)
        clock.advance(timedelta(minutes=5))
        await collect(companion.reply("u", f"filler message number {i} about the weather"))
    events = await collect(companion.reply("u", "How do you think Rachel is settling in?"))
    recalled = next(e for e in events if isinstance(e, Recalled))
    assert any("Rachel just moved to Denver" in m.text for m in recalled.memories)
    prompt = model.last_prompt
    assert "Rachel just moved to Denver" in prompt[-1].content
    assert all("Rachel just moved" not in m.content for m in prompt[1:-1])  # not in the window itself


async def test_emotion_reading_reaches_the_prompt(companion: Companion, model: ScriptedModel) -> None:
    events = await collect(companion.reply("u", "I feel so lonely and sad tonight"))
    perceived = next(e for e in events if isinstance(e, Perceived))
    assert perceived.emotion.label == "sadness"
    assert "slow down" in model.last_prompt[-1].content.lower()


async def test_bad_input_stores_nothing(companion: Companion, sqlite_store: SqlConversationStore, model: ScriptedModel) -> None:
    for bad in ["", "   ", "x" * 30_000, b"\xff\xfe", "a\x00b"]:
        with pytest.raises(InputError):
            await collect(companion.reply("u", bad))
    assert await sqlite_store.count("u") == 0
    assert model.history == []


async def test_model_failure_keeps_the_message_and_says_why(companion: Companion, model: ScriptedModel,
                                                            sqlite_store: SqlConversationStore) -> None:
    model.enqueue(ModelUnavailable("server down"))
    with pytest.raises(ModelUnavailable):
        await collect(companion.reply("u", "are you there?"))
    assert [e.text for e in await sqlite_store.recent("u", 5)] == ["are you there?"]


async def test_crisis_gets_resources_and_a_reply_even_when_the_model_is_down(companion: Companion,
                                                                             model: ScriptedModel) -> None:
    model.enqueue(ModelUnavailable("server down"))
    events = await collect(companion.reply("u", "I want to kill myself"))
    notice = next(e for e in events if isinstance(e, SafetyNotice))
    assert notice.level == "crisis" and any("988" in r for r in notice.resources)
    assert "988" in _done(events).text


async def test_crisis_instructions_reach_the_model(companion: Companion, model: ScriptedModel) -> None:
    await collect(companion.reply("u", "honestly everyone would be better off without me"))
    assert "safe right now" in model.last_prompt[-1].content


async def test_empty_model_reply_gets_a_fallback(companion: Companion, model: ScriptedModel) -> None:
    model.enqueue("   ")
    events = await collect(companion.reply("u", "hello"))
    assert _done(events).text.strip()


async def test_interrupted_reply_keeps_what_was_shown(companion: Companion, model: ScriptedModel,
                                                      sqlite_store: SqlConversationStore) -> None:
    model.enqueue("one two three four five six")
    gen = companion.reply("u", "tell me something")
    seen = 0
    async for event in gen:
        if isinstance(event, TextDelta):
            seen += 1
            if seen == 2:
                break
    await gen.aclose()
    stored = await sqlite_store.recent("u", 5)
    assert stored[-1].role == "assistant" and stored[-1].text.startswith("one two")


async def test_a_name_said_before_an_interrupted_reply_is_still_known(companion: Companion,
                                                                      model: ScriptedModel) -> None:
    model.enqueue("Nice to meet you, Theo, tell me about")
    gen = companion.reply("u", "Hi, I'm Theo.")
    async for event in gen:
        if isinstance(event, TextDelta):
            break  # the user talks over the first word
    await gen.aclose()
    p = await companion.profile("u")
    assert (p.user_name, p.stage) == ("Theo", "getting_to_know")


async def test_turns_for_one_user_are_serialised(companion: Companion, model: ScriptedModel,
                                                 sqlite_store: SqlConversationStore) -> None:
    model.enqueue("A", "B")
    await asyncio.gather(collect(companion.reply("u", "first")), collect(companion.reply("u", "second")))
    roles = [e.role for e in await sqlite_store.recent("u", 10)]
    assert roles == ["user", "assistant", "user", "assistant"]
