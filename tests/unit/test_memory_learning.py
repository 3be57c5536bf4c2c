"""Learning from conversations: extraction, corrections with history, people, forgetting, reflection."""

import json
from datetime import timedelta

from os1 import Companion, CompanionConfig, FakeClock, ScriptedModel
from os1.memory.facts import FactCandidate, FactStore
from os1.memory.forget import anchors, forget_request
from os1.memory.learning import Memory
from os1.memory.store import SqlConversationStore

from ..conftest import collect


def facts_json(*facts: dict[str, str]) -> str:
    full = [{"kind": "other", "subject": "user", "relation": "", "attribute": "other", "value": "", "replaces": "",
             "when": "", "sentence": "", **f} for f in facts]
    return json.dumps({"facts": full})


SISTER_OHIO = {"kind": "person", "subject": "Rachel", "relation": "sister", "attribute": "lives_in", "value": "Ohio",
               "sentence": "The user's sister Rachel lives in Ohio."}
SISTER_DENVER = {"kind": "person", "subject": "sister", "relation": "sister", "attribute": "lives_in", "value": "Denver",
                 "replaces": "Ohio", "sentence": "The user's sister Rachel lives in Denver."}


async def test_a_correction_supersedes_but_keeps_history(store: SqlConversationStore, clock: FakeClock) -> None:
    facts = FactStore(store.db)
    a = await facts.apply("u", FactCandidate(**{k: SISTER_OHIO[k] for k in ("kind", "subject", "relation", "attribute", "value")},
                                             text=SISTER_OHIO["sentence"]), source_exchange_id=None, at=clock.now())
    clock.advance(timedelta(days=30))
    b = await facts.apply("u", FactCandidate("person", "sister", "lives_in", "Denver", "Rachel lives in Denver.",
                                             relation="sister", replaces="Ohio"), source_exchange_id=None, at=clock.now())
    assert a.fact and b.fact and b.superseded and b.superseded[0].id == a.fact.id
    assert b.fact.subject == "Rachel"  # "sister" resolved to the person already known
    current = await facts.list_facts("u", include_history=False)
    assert [f.value for f in current] == ["Denver"]
    old = await facts.history("u", b.fact)
    assert [(f.value, f.current) for f in old] == [("Ohio", False)]
    person = await facts.person("u", "my sister")
    assert person and person.name == "Rachel" and person.location == "Denver"
    # Saying the same thing again adds nothing.
    again = await facts.apply("u", FactCandidate("person", "Rachel", "lives_in", "denver", "x"), source_exchange_id=None,
                              at=clock.now())
    assert again.fact is None


async def test_multi_valued_facts_accumulate(store: SqlConversationStore, clock: FakeClock) -> None:
    facts = FactStore(store.db)
    for v in ("hiking", "jazz"):
        await facts.apply("u", FactCandidate("preference", "user", "likes", v, f"Likes {v}."), source_exchange_id=None,
                          at=clock.now())
    assert sorted(f.value for f in await facts.list_facts("u", include_history=False)) == ["hiking", "jazz"]


async def test_learning_runs_after_the_reply_and_extracts_facts(sqlite_store, clock) -> None:
    model = ScriptedModel()
    model.enqueue_json(facts_json(SISTER_OHIO))
    companion = Companion(sqlite_store, model, clock, CompanionConfig())
    await collect(companion.reply("u", "My sister Rachel lives in Ohio."))
    await companion.drain()
    facts = await companion.memory.facts.list_facts("u")
    assert [(f.subject, f.value) for f in facts] == [("Rachel", "Ohio")]
    assert facts[0].source_exchange_id == (await sqlite_store.recent("u", 2))[0].id
    assert await companion.learner.pending_count() == 0
    # The extraction call was a structured side request, not a chat turn.
    assert model.options[-1].json_schema is not None and len(model.history) == 2


async def test_messages_with_nothing_personal_skip_the_model(sqlite_store, clock) -> None:
    model = ScriptedModel()
    companion = Companion(sqlite_store, model, clock, CompanionConfig())
    await collect(companion.reply("u", "ok"))
    await companion.drain()
    assert len(model.history) == 1 and await companion.learner.pending_count() == 0


async def test_malformed_extraction_output_is_ignored(sqlite_store, clock) -> None:
    model = ScriptedModel()
    model.enqueue_json('{"facts": [{"kind": "pers')
    companion = Companion(sqlite_store, model, clock, CompanionConfig())
    await collect(companion.reply("u", "My brother Sam lives in Austin."))
    await companion.drain()
    assert await companion.memory.facts.list_facts("u") == []


async def test_people_are_tracked_with_last_mention_and_contact(sqlite_store, clock) -> None:
    model = ScriptedModel()
    model.enqueue_json(facts_json({"kind": "person", "subject": "Sam", "relation": "brother", "attribute": "relation",
                                   "value": "brother", "sentence": "Sam is the user's brother."}))
    companion = Companion(sqlite_store, model, clock, CompanionConfig())
    await collect(companion.reply("u", "My brother Sam is visiting next month."))
    await companion.drain()
    sam = await companion.memory.facts.person("u", "Sam")
    assert sam and sam.relation == "brother" and sam.last_contact_at is None
    clock.advance(timedelta(days=3))
    await collect(companion.reply("u", "I called Sam last night, it was lovely."))
    await companion.drain()
    sam = await companion.memory.facts.person("u", "brother")
    assert sam and sam.last_contact_at == clock.now()


def test_forget_requests_are_recognised() -> None:
    assert forget_request("Please forget that my ex is called Mark.") == "my ex is called Mark"
    assert forget_request("forget about Mark") == "Mark"
    assert forget_request("Can you forget what I said about my job?") == "my job"
    assert forget_request("Don't forget my mom's birthday") is None
    assert forget_request("I forget things all the time") is None
    assert forget_request("forget it") is None
    assert anchors("that my ex is called Mark") == ["mark"]


async def test_forgetting_in_conversation_removes_everything_derived(sqlite_store, clock) -> None:
    model = ScriptedModel()
    model.enqueue_json(facts_json({"kind": "person", "subject": "Mark", "relation": "ex", "attribute": "relation",
                                   "value": "ex-boyfriend", "sentence": "Mark is the user's ex-boyfriend."}))
    companion = Companion(sqlite_store, model, clock, CompanionConfig(history_turns=4))
    await collect(companion.reply("u", "My ex-boyfriend is called Mark."))
    await companion.drain()
    mem: Memory = companion.memory
    assert await mem.facts.list_facts("u") and await mem.facts.people("u")
    events = await collect(companion.reply("u", "Please forget that my ex is called Mark."))
    assert "forgotten" in events[-1].text  # type: ignore[attr-defined]
    assert await mem.facts.list_facts("u") == [] and await mem.facts.people("u") == []
    texts = [e.text for e in await sqlite_store.recent("u", 50)]
    assert not any("Mark" in t for t in texts)
    # It never reaches a prompt again.
    await collect(companion.reply("u", "Who is Mark?"))
    assert all("Mark is the user's" not in m.content and "called Mark" not in m.content for m in model.last_prompt)


async def test_reflection_links_insights_to_real_sources(sqlite_store, clock) -> None:
    model = ScriptedModel()
    # No background learning: it could take the scripted reflection below for one of its own requests.
    companion = Companion(sqlite_store, model, clock, CompanionConfig(learn=False))
    companion.learner.reflect_every = 3
    for i in range(3):
        await collect(companion.reply("u", f"work was stressful again today, day {i}"))
        clock.advance(timedelta(hours=1))
    first_id = (await sqlite_store.recent("u", 10))[0].id
    model.enqueue_json(json.dumps({"insights": [
        {"text": "Work has been weighing on them all week.", "sources": [f"e{first_id}", "e99999"]},
        {"text": "An insight with no real source.", "sources": ["f12345"]}]}))
    await companion.learner.reflect_now("u", user_name="Theo", companion_name="Iris")
    got = await companion.memory.reflections.list_reflections("u")
    assert [r.text for r in got] == ["Work has been weighing on them all week."]
    assert got[0].sources == (f"e{first_id}",)
    # Forgetting a source removes the insight built on it.
    sel = await companion.memory.forgetter.select("u", f"e{first_id}")
    await companion.memory.forgetter.forget("u", sel)
    assert await companion.memory.reflections.list_reflections("u") == []
