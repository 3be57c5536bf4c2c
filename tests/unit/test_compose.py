from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest

from os1.affect import guidance
from os1.compose import (
    BRIEF_MEMORIES,
    HISTORY_STEP,
    TurnContext,
    anchored_window,
    brief_source,
    compose,
    fit_history,
    notes_block,
    prompt_prefix,
)
from os1.types import Emotion, Exchange, Message, Profile, RecalledMemory

NOW = datetime(2026, 11, 25, 20, 15, tzinfo=UTC)


def _ex(i: int) -> Exchange:
    return Exchange(i, "u", "user" if i % 2 else "assistant", f"message {i}", NOW - timedelta(minutes=100 - i))


def _profile() -> Profile:
    return Profile("u", "Theo", "Samantha", "met")


def test_anchored_window_moves_in_blocks() -> None:
    size = 8
    starts = []
    for total in range(8, 30):
        recent = [_ex(i) for i in range(max(1, total - size - size // 2 + 1), total + 1)]
        window = anchored_window(recent, total, size)
        assert size <= len(window) < size + size // 2
        assert window[-1].id == total
        starts.append(window[0].id)
    # The first message of the window changes only every size/2 turns, so the prompt prefix is reused.
    changes = sum(1 for a, b in zip(starts, starts[1:], strict=False) if a != b)
    assert changes <= len(starts) // (size // 2) + 1


def test_anchored_window_with_short_history() -> None:
    recent = [_ex(i) for i in range(1, 4)]
    assert anchored_window(recent, 3, 8) == recent


def test_prompt_order_keeps_stable_parts_first() -> None:
    mem = RecalledMemory(7, "exchange", "my sister Rachel lives in Ohio", "you said on 2026-10-01 10:00", NOW, 0.9)
    ctx = TurnContext(NOW, _profile(), Emotion("sadness", -0.7, 0.3, {}), [mem], [_ex(1), _ex(2)], ("BE KIND",))
    messages, cut = compose(ctx, "How is Rachel doing?", notes=notes_block(ctx), budget_chars=10_000)
    assert not cut
    assert messages[0].role == "system"
    assert "Samantha" in messages[0].content and "Theo" in messages[0].content
    assert "Wednesday 25 November 2026" in messages[0].content
    # Volatile parts ride in the last message only.
    last = messages[-1]
    assert last.role == "user" and last.content.endswith("How is Rachel doing?")
    for volatile in ("Rachel lives in Ohio", "sadness", "BE KIND", "20:15"):
        assert volatile in last.content
        assert all(volatile not in m.content for m in messages[:-1])
    assert [m.content for m in messages[1:-1]] == ["message 1", "message 2"]
    # Within the notes, the parts most likely to change between the words heard so far and the final words come
    # last: how they seem, after the memories and the instructions.
    c = last.content
    assert c.index("20:15") < c.index("Rachel lives in Ohio") < c.index("BE KIND") < c.index("sadness")


def test_next_prompt_starts_with_the_whole_previous_prompt() -> None:
    history = [_ex(i) for i in range(1, 5)]
    ctx1 = TurnContext(NOW, _profile(), Emotion("joy", 0.8, 0.6, {}), [], history)
    notes1 = notes_block(ctx1)
    first, _ = compose(ctx1, "message 5", notes=notes1, budget_chars=10_000)
    # Turn 5 is stored with its notes, then OS1's reply 6; turn 7 arrives three minutes later.
    stored5 = Exchange(5, "u", "user", "message 5", NOW, notes=notes1)
    ctx2 = TurnContext(NOW + timedelta(minutes=3), _profile(), None, [], [*history, stored5, _ex(6)])
    second, _ = compose(ctx2, "message 7", notes=notes_block(ctx2), budget_chars=10_000)
    assert second[: len(first)] == first
    assert second[len(first)].content == "message 6"


def test_budget_trims_oldest_history_and_elides_huge_input() -> None:
    history = [Exchange(i, "u", "user" if i % 2 else "assistant", f"{i} " + "y" * 1500, NOW) for i in range(1, 21)]
    ctx = TurnContext(NOW, _profile(), None, [], history)
    messages, cut = compose(ctx, "z" * 50_000, notes=notes_block(ctx), budget_chars=8000)
    assert cut
    assert sum(len(m.content) for m in messages) <= 8000 + 2000
    assert messages[-2].content.startswith("20 ")  # the newest history survives


def test_unknown_user_is_not_named() -> None:
    p = Profile("u", None, "Iris", "new")
    ctx = TurnContext(NOW, p, None, [], [])
    messages, _ = compose(ctx, "hello", notes=notes_block(ctx), budget_chars=10_000)
    assert "don't know their name" in messages[0].content


def _long_ex(i: int) -> Exchange:
    role: Literal["user", "assistant"] = "user" if i % 2 else "assistant"
    return Exchange(i, "u", role, f"{i} " + "w" * 300, NOW, notes="[Notes] " + "n" * 200 if role == "user" else None)


def test_prefix_is_known_before_the_next_message() -> None:
    history = [_long_ex(i) for i in range(1, 13)]
    ctx = TurnContext(NOW, _profile(), None, [], history)
    prefix = prompt_prefix(ctx, budget_chars=6000)
    for text in ("hi", "a much longer message about my day " * 20):
        for emotion in (None, Emotion("sadness", -0.7, 0.3, {})):
            turn = TurnContext(NOW, _profile(), emotion, [], history)
            messages, _ = compose(turn, text, notes=notes_block(turn), budget_chars=6000)
            assert messages[:-1] == prefix


def test_history_start_moves_in_steps_when_the_budget_binds() -> None:
    starts = []
    for total in range(4, 40, 2):
        ctx = TurnContext(NOW, _profile(), None, [], [_long_ex(i) for i in range(1, total + 1)])
        messages, _ = compose(ctx, "next", notes=notes_block(ctx), budget_chars=7000)
        assert sum(len(m.content) for m in messages) <= 7000
        starts.append(messages[1].content.split("\n\n")[-1].split(" ")[0])
    moves = sum(1 for a, b in zip(starts, starts[1:], strict=False) if a != b)
    # The budget binds from about the 8th message on; dropping one message a turn would move it every turn.
    assert 0 < moves <= len(starts) // 2
    assert {int(s) % HISTORY_STEP for s in starts} == {1}


def test_fit_history_drops_whole_steps_from_the_oldest_end() -> None:
    history = [_long_ex(i) for i in range(1, 11)]
    def number(m: Message) -> int:
        return int(m.content.split("\n\n")[-1].split(" ")[0])

    kept = fit_history(history, room=2500)
    assert [number(m) for m in kept] == [5, 6, 7, 8, 9, 10]
    assert number(fit_history(history, room=10**6)[0]) == 1
    assert [number(m) for m in fit_history(history, room=1100)] == [9, 10]  # the newest step, message by message


def test_brief_notes_carry_fewer_shorter_memories_and_keep_the_rest() -> None:
    mems = [RecalledMemory(i, "exchange", f"memory {i} " + "m" * 500, "you said", NOW, 0.9) for i in range(5)]
    full = TurnContext(NOW, _profile(), Emotion("sadness", -0.7, 0.3, {}), mems, [], ("SAFETY: be careful",))
    brief = TurnContext(NOW, _profile(), Emotion("sadness", -0.7, 0.3, {}), mems, [], ("SAFETY: be careful",),
                        brief=True)
    long_notes, short_notes = notes_block(full), notes_block(brief)
    assert long_notes.count("- (") == 5 and short_notes.count("- (") == BRIEF_MEMORIES
    assert len(short_notes) < len(long_notes) / 3
    for kept in ("They seem sad.", "SAFETY: be careful", "20:15"):
        assert kept in short_notes
    assert "valence" in long_notes and "valence" not in short_notes
    # How they seem is said once in a spoken turn: the guidance already opens with it.
    assert "How they seem: sadness" in long_notes and "How they seem" not in short_notes
    assert short_notes.splitlines()[-2] == guidance(brief.emotion)  # type: ignore[arg-type]


@pytest.mark.parametrize(("source", "said"), [
    ("you said on 2026-11-25 08:02", "you said today"),
    ("I said on 2026-11-24 23:59", "I said yesterday"),
    ("fact from what you said on 2026-11-20 10:00, true until 2026-12-01", "fact from what you said 5 days ago, "
     "true until 2026-12-01"),
    ("my reflection on 2026-10-01 10:00", "my reflection on 1 Oct"),
    ("you said on 2025-10-01 10:00", "you said on 1 Oct 2025"),
])
def test_brief_notes_say_when_the_short_way(source: str, said: str) -> None:
    assert brief_source(source, NOW) == said
    mem = RecalledMemory(1, "exchange", "my sister Rachel lives in Ohio", source, NOW, 0.9)
    ctx = TurnContext(NOW, _profile(), None, [mem], [], brief=True)
    assert f"- ({said}) my sister" in notes_block(ctx)
    assert f"- ({source}) my sister" in notes_block(replace(ctx, brief=False))
