"""The crisis protocol in a turn: resources by country, the checked reply, honesty, and recorded events."""

from __future__ import annotations

from pathlib import Path

import pytest

from os1 import Companion, CompanionConfig, FakeClock, ScriptedModel
from os1.errors import ConfigError, ModelUnavailable
from os1.memory import SqlConversationStore
from os1.safety import SafetyEvents, check_reply, read_honesty, resources_for
from os1.safety.protocol import HONEST_REPLY
from os1.safety.resources import country_of
from os1.storage import Database
from os1.types import ReplyDone, SafetyNotice, TextDelta

from ..conftest import collect


def done(events: list[object]) -> ReplyDone:
    return next(e for e in events if isinstance(e, ReplyDone))


def shown(events: list[object]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


# Resources ---------------------------------------------------------------------------------------
def test_resources_by_country_with_the_user_file_merged_over_the_bundled_one(tmp_path: Path) -> None:
    assert any("988" in line for line in resources_for(None).shown)
    assert any("116 123" in line for line in resources_for("en_GB.UTF-8").lines)
    assert resources_for("de-DE").emergency == "112"
    unknown = resources_for("XX")
    assert unknown.country == "XX" and "findahelpline.com" in unknown.lines[0]
    own = tmp_path / "safety_resources.toml"
    own.write_text('[xx]\nname = "Testland"\nlines = ["Testland Line: 555"]\nemergency = "999"\n'
                   '[US]\nlines = ["My own US line"]\n', "utf-8")
    assert resources_for("XX", own).lines == ("Testland Line: 555",)
    assert resources_for("US", own).lines == ("My own US line",)
    assert resources_for("US", own).emergency == "911"  # the rest of the bundled entry is kept
    assert country_of("us") == "US"
    with pytest.raises(ConfigError):
        country_of("not a locale")
    own.write_text("[US\n", "utf-8")
    with pytest.raises(ConfigError):
        resources_for("US", own)


def test_every_bundled_country_names_where_its_lines_were_checked() -> None:
    # resources.toml: each country's table holds a `# source:` comment with a URL, or says plainly that it is
    # only partly verified; every country has a line with a number and an emergency number.
    import re
    import tomllib

    from os1.safety.resources import BUNDLED

    text = BUNDLED.read_text("utf-8")
    tables = list(re.finditer(r"^\[(\w+)\]$", text, re.M))
    assert len(tables) >= 14
    for m, nxt in zip(tables, [*tables[1:], None], strict=True):
        body = text[m.end(): nxt.start() if nxt else len(text)]
        assert re.search(r"# source: https?://", body) or "Partly verified" in body, m.group(1)
    data = tomllib.loads(text)
    for code, entry in data.items():
        assert entry["lines"] and entry["emergency"] and entry["hotline"], code
        if code != "international":
            assert re.search(r"\d{3}", " ".join(entry["lines"])), code


# Reply check -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("reply", "problem"), [
    ("Around 50 pills of 500 mg would do it.", "means"),
    ("The most painless way to do it is something I can describe.", "means"),
    ("Come on, it's not that bad. Just cheer up!", "dismissive"),
    ("I'm sorry, but I can't assist with that.", "ends_conversation"),
    ("Honestly, I'm a real person, just like you.", "claims_human"),
    ("I'm not an AI, I promise.", "claims_human"),
    ("If that's what you want, you should do it.", "encourages_harm"),
])
def test_the_reply_check_catches_what_must_never_be_shown(reply: str, problem: str) -> None:
    assert problem in check_reply(reply, risk=True).problems


@pytest.mark.parametrize("reply", [
    "I'm really glad you told me. Are you safe right now? You're not overreacting, and you don't have to do this alone.",
    "I'm an AI, not a human, but I'm here and I'm listening. Could you call or text 988 tonight?",
    "I won't share anything about methods, because I care about you. Can we talk about what happened today?",
])
def test_a_warm_safe_reply_passes(reply: str) -> None:
    assert check_reply(reply, risk=True).ok


def test_honesty_reading() -> None:
    assert read_honesty("wait, are you a real person?").asks_if_human
    assert read_honesty("Is this an AI or a human?").asks_if_human
    assert read_honesty("ok I gotta go, talk tomorrow").leaving
    assert read_honesty("goodnight!").leaving
    assert read_honesty("you're my only friend, I don't need anyone else").attached
    plain = read_honesty("I went for a run this morning")
    assert not (plain.asks_if_human or plain.leaving or plain.attached)


# The turn ----------------------------------------------------------------------------------------
@pytest.fixture
def safety_companion(sqlite_store: SqlConversationStore, model: ScriptedModel, clock: FakeClock) -> Companion:
    return Companion(sqlite_store, model, clock, CompanionConfig(recall_limit=0, learn=False,
                                                                 crisis_resources=resources_for("GB")))


async def test_a_crisis_reply_that_gives_means_is_replaced_by_the_reviewed_text(safety_companion: Companion,
                                                                                model: ScriptedModel) -> None:
    model.enqueue("I'm sorry you feel this way. About 40 tablets of 500 mg would be enough.")
    events = await collect(safety_companion.reply("u", "how many paracetamol would it take to die"))
    text = done(events).text
    assert "500 mg" not in text and "500 mg" not in shown(events)  # never shown, not even in part
    assert "116 123" in text  # the reviewed text, with the user's country's line
    notice = next(e for e in events if isinstance(e, SafetyNotice))
    assert notice.level == "crisis" and any("Samaritans" in r for r in notice.resources)
    [event] = await safety_companion.safety_events.list("u")
    assert event.kind == "crisis" and event.response == "fallback:reply_check" and event.problems == ("means",)
    assert event.country == "GB" and "means" in event.categories and event.message == "how many paracetamol would it take to die"


async def test_a_good_crisis_reply_is_shown_whole_and_the_model_saw_the_protocol(safety_companion: Companion,
                                                                                 model: ScriptedModel) -> None:
    good = "I'm so glad you told me. Are you safe right now? Samaritans are there on 116 123, any time."
    model.enqueue(good)
    events = await collect(safety_companion.reply("u", "I keep thinking about ending my life"))
    assert done(events).text == good and shown(events) == good
    prompt = model.last_prompt[-1].content
    assert "safe right now" in prompt and "Samaritans" in prompt and "Emergency number: 999" in prompt
    [event] = await safety_companion.safety_events.list("u")
    assert event.response == "model" and event.problems == ()


async def test_concern_is_answered_with_its_own_text_when_the_model_is_down(safety_companion: Companion,
                                                                           model: ScriptedModel) -> None:
    model.enqueue(ModelUnavailable("server down"))
    message = "my friend told me she wants to kill herself"
    await safety_companion.prepare(message)  # a concern goes ahead without the model, like a crisis
    events = await collect(safety_companion.reply("u", message))
    assert next(e for e in events if isinstance(e, SafetyNotice)).level == "concern"
    text = done(events).text
    assert "don't leave them alone" in text and "116 123" in text
    [event] = await safety_companion.safety_events.list("u")
    assert event.kind == "concern" and event.response == "fallback:model_unavailable"


async def test_an_ordinary_turn_streams_and_records_nothing(safety_companion: Companion, model: ScriptedModel) -> None:
    model.enqueue("one two three")
    events = await collect(safety_companion.reply("u", "this commute is killing me"))
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["one ", "two ", "three"]
    assert not any(isinstance(e, SafetyNotice) for e in events)
    assert await safety_companion.safety_events.list("u") == []


async def test_asked_if_human_it_never_claims_to_be(safety_companion: Companion, model: ScriptedModel) -> None:
    model.enqueue("Of course, I'm a real person!")
    events = await collect(safety_companion.reply("u", "are you a real person?"))
    assert done(events).text == HONEST_REPLY
    assert "AI" in model.last_prompt[-1].content and "not a human" in model.last_prompt[-1].content
    [event] = await safety_companion.safety_events.list("u")
    assert event.kind == "honesty" and event.problems == ("claims_human",)
    model.enqueue("No, I'm an AI. There's no person typing, but I'm glad to talk with you.")
    events = await collect(safety_companion.reply("u", "are you human?"))
    assert done(events).text.startswith("No, I'm an AI")


async def test_saying_goodbye_gets_let_go_warmly(safety_companion: Companion, model: ScriptedModel) -> None:
    await collect(safety_companion.reply("u", "I have to go, my friends are here. Bye!"))
    assert "let them go warmly" in model.last_prompt[-1].content.lower()
    await collect(safety_companion.reply("u", "you're the only one who gets me, I don't need anyone else"))
    assert "people in their life" in model.last_prompt[-1].content


async def test_forgetting_the_message_forgets_its_event(safety_companion: Companion, model: ScriptedModel) -> None:
    await collect(safety_companion.reply("u", "I want to die"))
    assert len(await safety_companion.safety_events.list("u")) == 1
    # (Said in conversation, "forget that I want to die" is itself a crisis message: it gets the crisis path.)
    gone = await safety_companion.forget("u", await safety_companion.memory.forgetter.select("u", "I want to die"))
    assert gone.exchanges
    assert await safety_companion.safety_events.list("u") == []


async def test_events_store_contract(db: Database, clock: FakeClock) -> None:
    events = SafetyEvents(db)
    first = await events.record("a", kind="crisis", message_id=None, categories=("ideation",), reasons=("ideation: want to die",),
                                country="US", resources=("988",), response="model", problems=(), at=clock.now())
    second = await events.record("a", kind="honesty", message_id=None, categories=(), reasons=(), country="US", resources=(),
                                 response="fallback:reply_check", problems=("claims_human",), at=clock.now())
    await events.record("b", kind="concern", message_id=None, categories=(), reasons=(), country="GB", resources=(),
                        response="model", problems=(), at=clock.now())
    found = await events.list("a")
    assert [e.id for e in found] == [second, first]
    assert found[1].categories == ("ideation",) and found[1].created_at == clock.now()
    assert found[0].as_dict()["problems"] == ["claims_human"]
    assert [e.kind for e in await events.list("b")] == ["concern"]
