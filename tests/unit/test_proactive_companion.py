"""Reminders, follow-ups, check-ins and nudges through the companion, with a fake clock and a scripted model."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from os1 import Companion, FakeClock, ScriptedModel
from os1.memory.facts import FactCandidate
from os1.proactive import InboxItem

from ..conftest import ZONE, collect

WED = datetime(2026, 11, 25, 9, 30, tzinfo=ZONE)


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ZONE)


async def run_until(companion: Companion, clock: FakeClock, until: datetime, step: timedelta = timedelta(minutes=30)) -> list[InboxItem]:
    """Move the clock forward step by step, running due jobs each time (as a running server would)."""
    out: list[InboxItem] = []
    while clock.now() < until:
        clock.set(min(until, clock.now() + step))
        out += await companion.proactive.run_due()
    return out


async def test_reminder_in_conversation_is_set_confirmed_and_fires_once(companion: Companion, model: ScriptedModel,
                                                                      clock: FakeClock) -> None:
    await collect(companion.reply("u", "Can you remind me to call my mom Sunday at 6?"))
    note = model.last_prompt[-1].content
    assert "call your mom" in note and "Sunday at 6 pm" in note  # the reply is asked to confirm it in words
    [r] = await companion.proactive.reminders.list("u")
    assert r.due_at == at(29, 18) and r.said and "Sunday at 6" in r.said
    fired = await run_until(companion, clock, at(30, 9))
    assert [(i.kind, i.created_at) for i in fired] == [("reminder", at(29, 18))]
    assert fired[0].text == "Time to call your mom." and fired[0].why.startswith("You asked me")
    # It is part of the conversation: the next reply's prompt carries it.
    await collect(companion.reply("u", "done, she says hi"))
    assert any("Time to call your mom." in m.content for m in model.last_prompt if m.role == "assistant")
    assert await run_until(companion, clock, at(2, 9, month=12)) == []  # never twice


async def test_a_reminder_with_no_clear_time_asks_when(companion: Companion, model: ScriptedModel) -> None:
    await collect(companion.reply("u", "remind me to call the bank"))
    assert "couldn't tell when" in model.last_prompt[-1].content
    assert await companion.proactive.reminders.list("u") == []


async def _checkins_off(companion: Companion) -> None:
    await companion.proactive.settings.update("u", at=WED, checkins=False)


async def test_follow_up_the_day_after_an_event(companion: Companion, clock: FakeClock) -> None:
    await _checkins_off(companion)
    await collect(companion.reply("u", "My interview is Thursday and I'm nervous about it"))
    [f] = await companion.proactive.followups.list("u")
    assert (f.about, f.status, f.event_at.astimezone(ZONE).date()) == ("your interview", "pending", at(26, 0).date())
    assert await run_until(companion, clock, at(27, 9, 30)) == []  # nothing on the day itself
    asked = await run_until(companion, clock, at(27, 12))
    assert [(i.kind, i.created_at) for i in asked] == [("followup", at(27, 10))]
    assert "interview" in asked[0].text and "You told me" in asked[0].why and "My interview is Thursday" in asked[0].why
    await collect(companion.reply("u", "It went fine, I think they liked me"))
    assert (await companion.proactive.followups.list("u"))[0].status == "answered"


async def test_no_follow_up_when_you_already_said_how_it_went(companion: Companion, clock: FakeClock) -> None:
    await _checkins_off(companion)
    await collect(companion.reply("u", "My interview is Thursday"))
    clock.set(at(26, 19))
    await collect(companion.reply("u", "The interview went really well!"))
    assert (await companion.proactive.followups.list("u"))[0].status == "answered"
    assert await run_until(companion, clock, at(29, 12)) == []


async def test_quiet_hours_hold_unsolicited_messages_but_not_reminders_you_set(companion: Companion,
                                                                               clock: FakeClock) -> None:
    p = companion.proactive
    await p.settings.update("u", at=WED, checkins=False, quiet_start=time(9, 0), quiet_end=time(12, 0))
    await collect(companion.reply("u", "my dentist appointment is tomorrow"))
    await collect(companion.reply("u", "remind me to stretch on Friday at 10:30am"))
    got = await run_until(companion, clock, at(27, 13))
    assert [(i.kind, i.created_at.astimezone(ZONE).time()) for i in got] == [
        ("reminder", time(10, 30)),  # asked for that time: it comes then
        ("followup", time(12, 0)),  # due at 10:00, held until the quiet hours end
    ]


async def test_morning_check_in_is_about_your_day_or_not_sent(companion: Companion, clock: FakeClock,
                                                             model: ScriptedModel) -> None:
    await companion.proactive.settings.update("u", at=WED, evening=None)
    await collect(companion.reply("u", "I have a job interview on Friday at 2pm"))
    got = await run_until(companion, clock, at(27, 8))
    assert got == []  # Thursday morning: nothing of theirs to mention today
    model.enqueue_json('{"message": "Big day today: your interview at 2. You\'ve prepared well."}')
    got = await run_until(companion, clock, at(27, 9))
    assert [i.kind for i in got] == ["checkin"]
    assert got[0].text.startswith("Big day today")  # the model's words, when usable
    assert "morning check-in" in got[0].why and "interview" in got[0].why
    prompt = next(h[-1].content for h, o in zip(model.history, model.options, strict=True)
                  if o.json_schema and "morning message" in h[-1].content)
    assert "interview is today at 2 pm" in prompt


async def test_evening_check_in_looks_at_tomorrow(companion: Companion, clock: FakeClock) -> None:
    await collect(companion.reply("u", "I have a job interview on Friday at 2pm"))
    got = await run_until(companion, clock, at(26, 21))
    # The plain sentence (the scripted model's JSON is unusable): mentions tomorrow's interview.
    assert [(i.kind, i.created_at) for i in got] == [("checkin", at(26, 20))]
    assert "interview is tomorrow at 2 pm" in got[0].text


async def test_check_ins_off_or_snoozed(companion: Companion, clock: FakeClock) -> None:
    p = companion.proactive
    await collect(companion.reply("u", "I have a job interview on Friday at 2pm"))
    await p.settings.update("u", at=WED, snooze_until=at(27, 23))
    assert await run_until(companion, clock, at(27, 22)) == []
    await p.settings.update("u", at=clock.now(), snooze_until=None, checkins=False)
    assert [i.kind for i in await run_until(companion, clock, at(28, 22))] == ["followup"]  # only the follow-up


async def _people(companion: Companion, *names: tuple[str, str]) -> None:
    for name, relation in names:
        await companion.memory.facts.apply("u", FactCandidate("person", name, "relation", relation, f"{name} is their {relation}",
                                                              relation=relation), source_exchange_id=None, at=WED - timedelta(days=40))


async def test_nudge_after_a_quiet_spell_and_never_more_often_than_the_limit(companion: Companion,
                                                                             clock: FakeClock) -> None:
    await _people(companion, ("Sam", "brother"), ("Rachel", "sister"), ("Jo", "friend"))
    await companion.proactive.settings.update("u", at=WED, checkins=False)
    got: list[InboxItem] = []
    for day in range(35):
        await collect(companion.reply("u", f"just an ordinary day, number {day}"))  # they keep talking with OS1
        got += await run_until(companion, clock, WED + timedelta(days=day + 1), step=timedelta(hours=4))
    nudges = [i for i in got if i.kind == "nudge"]
    assert nudges and nudges[0].created_at == at(25, 17, 30)  # the first evening: all three have been quiet for weeks
    assert "You haven't mentioned your sister Rachel" in nudges[0].text  # family first
    assert len({n.ref for n in nudges[:3]}) == 3  # then the others, one a week
    assert "last time you mentioned" in nudges[0].why and "--nudges off" in nudges[0].why
    gaps = [b.created_at - a.created_at for a, b in zip(nudges, nudges[1:], strict=False)]
    assert all(g >= timedelta(days=7) for g in gaps)
    for a in nudges:  # never the same person twice within a month
        assert not [b for b in nudges if b is not a and b.ref == a.ref and abs(b.created_at - a.created_at) < timedelta(days=30)]
    assert len(nudges) <= 5


async def test_no_nudge_for_people_mentioned_lately_or_when_turned_off(companion: Companion, clock: FakeClock) -> None:
    await _people(companion, ("Sam", "brother"))
    await companion.proactive.settings.update("u", at=WED, checkins=False, nudges=False)
    await collect(companion.reply("u", "hello"))
    assert await run_until(companion, clock, at(26, 20)) == []
    await companion.proactive.settings.update("u", at=WED, nudges=True)
    await companion.memory.facts.touch_people("u", [1], clock.now(), contact=True)  # "talked to Sam today"
    await collect(companion.reply("u", "hello again"))
    assert await run_until(companion, clock, at(27, 20)) == []


async def test_answering_a_nudge(companion: Companion, clock: FakeClock, model: ScriptedModel) -> None:
    await _people(companion, ("Sam", "brother"))
    await companion.proactive.settings.update("u", at=WED, checkins=False)
    await collect(companion.reply("u", "hello"))
    [nudge] = await run_until(companion, clock, at(25, 18))
    assert nudge.ref == "person:1"
    await collect(companion.reply("u", "yes, help me write something to him"))
    assert "Help them write a short, natural message" in model.last_prompt[-1].content and "Sam" in model.last_prompt[-1].content
    clock.advance(timedelta(days=1))
    await collect(companion.reply("u", "I called my brother Sam last night, it was lovely"))
    assert "Be glad with them" in model.last_prompt[-1].content
    await collect(companion.reply("u", "please stop suggesting people I should call"))
    assert "turned that off" in model.last_prompt[-1].content
    assert (await companion.proactive.settings.get("u")).nudges is False


async def test_declining_a_nudge_is_fine(companion: Companion, clock: FakeClock, model: ScriptedModel) -> None:
    await _people(companion, ("Sam", "brother"))
    await companion.proactive.settings.update("u", at=WED, checkins=False)
    await collect(companion.reply("u", "hello"))
    await run_until(companion, clock, at(25, 18))
    await collect(companion.reply("u", "no, not now"))
    assert "no pressure and no guilt" in model.last_prompt[-1].content


async def test_daily_limit_and_gap_between_unsolicited_messages(companion: Companion, clock: FakeClock) -> None:
    p = companion.proactive
    await p.settings.update("u", at=WED, checkins=False, max_per_day=1)
    await collect(companion.reply("u", "my exam is tomorrow"))
    await collect(companion.reply("u", "my recital is tomorrow too"))
    got = await run_until(companion, clock, at(28, 12))
    assert [i.kind for i in got] == ["followup", "followup"]
    assert got[0].created_at == at(27, 10)
    assert got[1].created_at == at(28, 10)  # the second waited until the first was a day old
