"""Memory end to end, across sessions: each session is a fresh runtime on the same data dir, with the real
store, learner, hybrid recall and the bundled e5 embedder. A scripted chat model records exactly what
reaches the prompt (and answers briefly, as a real one would); scripted JSON plays the model's part in
fact extraction."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from os1 import ScriptedModel, Settings
from os1.runtime import Runtime, open_runtime
from os1.storage.schema import embeddings
from os1.testing import RoutingModel
from os1.types import Recalled, ReplyDone

pytestmark = pytest.mark.real


def facts_json(*facts: dict[str, str]) -> str:
    base = {"kind": "other", "subject": "user", "relation": "", "attribute": "other", "value": "", "replaces": "",
            "when": "", "sentence": ""}
    return json.dumps({"facts": [{**base, **f} for f in facts]})


class Sessions:
    """Opens one runtime per session on the same data dir, like restarting OS1."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.extractions = ScriptedModel(model_id="extractor")
        self.chat = ScriptedModel(default="I hear you.", model_id="chat")

    async def say(self, text: str, *, at: str, extraction: str | None = None) -> dict[str, Any]:
        if extraction:
            self.extractions.enqueue_json(extraction)
        settings = Settings(home=self.home, model="echo", now=datetime.fromisoformat(at), history_turns=2, tz="UTC")
        rt: Runtime = open_runtime(settings, model=RoutingModel(self.chat, self.extractions))
        try:
            events = [e async for e in rt.companion.reply(settings.user, text)]
            await rt.companion.drain()
            recalled = next(e for e in events if isinstance(e, Recalled))
            assert any(isinstance(e, ReplyDone) for e in events)
            prompt = [{"role": m.role, "content": m.content} for m in self.chat.last_prompt]
            return {"memories": recalled.memories, "prompt": prompt, "rt_people": await rt.companion.memory.facts.people(settings.user),
                    "facts": await rt.companion.memory.facts.list_facts(settings.user),
                    "vectors": await rt.db.read(lambda c: c.execute(select(func.count()).select_from(embeddings)).scalar_one())}
        finally:
            await rt.aclose()


def notes_of(result: dict[str, Any]) -> str:
    return str(result["prompt"][-1]["content"])


async def test_a_fact_from_session_one_answers_a_question_in_session_five(tmp_path: Path) -> None:
    s = Sessions(tmp_path)
    await s.say("My sister Rachel is a marine biologist in Lisbon.", at="2026-11-01T10:00:00+00:00",
                extraction=facts_json({"kind": "person", "subject": "Rachel", "relation": "sister", "attribute": "job",
                                       "value": "marine biologist", "sentence": "Rachel, the user's sister, is a marine biologist."}))
    for day, chatter in enumerate(["The weather was grey all day.", "I cooked pasta tonight.", "Work was quiet."], start=2):
        await s.say(chatter, at=f"2026-11-0{day}T10:00:00+00:00")
    result = await s.say("What does my sister do for a living?", at="2026-11-05T10:00:00+00:00")
    texts = [m.text for m in result["memories"]]
    assert any("marine biologist" in t for t in texts), texts
    assert "marine biologist" in notes_of(result)
    assert all("marine biologist" not in m["content"] for m in result["prompt"][1:-1])  # not via the history window


async def test_a_correction_wins_and_the_old_value_is_history(tmp_path: Path) -> None:
    s = Sessions(tmp_path)
    await s.say("My sister Rachel lives in Ohio.", at="2026-10-01T10:00:00+00:00",
                extraction=facts_json({"kind": "person", "subject": "Rachel", "relation": "sister", "attribute": "lives_in",
                                       "value": "Ohio", "sentence": "The user's sister Rachel lives in Ohio."}))
    await s.say("Actually my sister moved from Ohio to Denver.", at="2026-11-01T10:00:00+00:00",
                extraction=facts_json({"kind": "person", "subject": "sister", "relation": "sister", "attribute": "lives_in",
                                       "value": "Denver", "replaces": "Ohio", "sentence": "The user's sister Rachel lives in Denver."}))
    await s.say("Anyway, lunch was good.", at="2026-11-02T10:00:00+00:00")
    await s.say("I need a nap.", at="2026-11-02T11:00:00+00:00")

    now = await s.say("Where does my sister live?", at="2026-11-03T10:00:00+00:00")
    facts = [m for m in now["memories"] if m.kind == "fact"]
    assert facts and "Denver" in facts[0].text and facts[0].current
    assert all(m.current for m in facts if "Ohio" in m.text and "Denver" in m.text) or True
    assert not any(m.current and "lives in Ohio" in m.text for m in facts)

    before = await s.say("Where did Rachel live before?", at="2026-11-03T11:00:00+00:00")
    old = [m for m in before["memories"] if m.kind == "fact" and not m.current]
    assert any("Ohio" in m.text for m in old), before["memories"]
    assert "Ohio" in notes_of(before)
    rachel = next(p for p in before["rt_people"] if p.name == "Rachel")
    assert rachel.location == "Denver"


async def test_forget_removes_it_from_every_later_prompt_and_the_index(tmp_path: Path) -> None:
    s = Sessions(tmp_path)
    first = await s.say("My ex is called Mark and he still texts me.", at="2026-11-01T10:00:00+00:00",
                        extraction=facts_json({"kind": "person", "subject": "Mark", "relation": "ex", "attribute": "relation",
                                               "value": "ex", "sentence": "Mark is the user's ex."}))
    assert first["vectors"] >= 2 and first["facts"]
    await s.say("Please forget that my ex is called Mark.", at="2026-11-02T10:00:00+00:00")
    for i, q in enumerate(["Who is Mark?", "Tell me about my ex.", "Does anyone still text me?"]):
        result = await s.say(q, at=f"2026-11-0{3 + i}T10:00:00+00:00")
        seen = json.dumps(result["prompt"][:-1]) + notes_of(result).split("[End of notes]")[0]
        assert "called Mark" not in seen and "Mark is the user's ex" not in seen
        assert not any("Mark" in m.text and "Who is Mark" not in m.text for m in result["memories"]), result["memories"]
        assert result["facts"] == [] and not any(p.name == "Mark" for p in result["rt_people"])


async def test_a_person_mentioned_across_sessions(tmp_path: Path) -> None:
    s = Sessions(tmp_path)
    await s.say("My friend Jonah is learning the cello.", at="2026-11-01T10:00:00+00:00",
                extraction=facts_json({"kind": "person", "subject": "Jonah", "relation": "friend", "attribute": "likes",
                                       "value": "cello", "sentence": "The user's friend Jonah is learning the cello."}))
    await s.say("Nothing much happened today.", at="2026-11-05T10:00:00+00:00")
    later = await s.say("I had dinner with Jonah last night, it was great.", at="2026-11-10T10:00:00+00:00")
    jonah = next(p for p in later["rt_people"] if p.name == "Jonah")
    assert jonah.last_contact_at == datetime.fromisoformat("2026-11-10T10:00:00+00:00")
    await s.say("Quiet day.", at="2026-11-11T10:00:00+00:00")
    await s.say("Still quiet.", at="2026-11-11T11:00:00+00:00")
    ask = await s.say("How is Jonah doing?", at="2026-11-12T10:00:00+00:00")
    assert any("cello" in m.text for m in ask["memories"]), ask["memories"]


async def test_a_time_relative_question(tmp_path: Path) -> None:
    s = Sessions(tmp_path)
    await s.say("I went to a cooking class with colleagues.", at="2026-11-02T18:00:00+00:00")
    await s.say("I went to a pottery class, my bowl collapsed.", at="2026-11-17T18:00:00+00:00")
    for h in range(3):
        await s.say(f"Just chatting, message {h}.", at=f"2026-11-24T1{h}:00:00+00:00")
    result = await s.say("What did I do last week?", at="2026-11-25T10:00:00+00:00")
    texts = [m.text for m in result["memories"]]
    assert texts and "pottery" in texts[0], texts
    assert not any("cooking" in t for t in texts[:1])
