"""Composing the prompt for one turn.

Order matters for speed: llama.cpp reuses the evaluated prefix of the previous prompt. So the
system prompt holds only what changes rarely (persona, names, today's date), the history window
moves in blocks rather than one message per turn, and everything that changes every turn (time,
feeling, recalled memories, first-meeting instructions) rides in a notes block just before the new
message. Each message's notes are stored with it and repeated verbatim in later prompts, so the
prompt of turn n+1 starts with the whole prompt of turn n plus its reply, and only the new message
needs evaluating.

When the window does move, the next prompt's start is known as soon as a reply is stored:
`prompt_prefix` gives it, and the companion evaluates it in the background (`Companion.warm`) while
the user reads, listens or speaks. For that the history must not depend on the next message: it gets
the budget left after a fixed reserve for the new message (a longer message shrinks it, rarely), and
when it has to shrink it drops whole steps of HISTORY_STEP messages, so its start moves seldom.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from . import prompts
from .affect import guidance
from .clock import part_of_day
from .inputs import elide_middle
from .persona.self import SelfModel
from .types import Emotion, Exchange, Message, Profile, RecalledMemory

FINAL_RESERVE_CHARS = 3000
"""Room kept for the new message and its notes when choosing the history (so it can be chosen before)."""
HISTORY_STEP = 4
"""The history's start moves in steps of this many messages (it divides the window's block, size // 2)."""
BRIEF_MEMORIES = 2
"""Recalled memories in the notes of a brief (spoken) turn: each is evaluated before the first word."""
BRIEF_MEMORY_CHARS = 160


@dataclass(frozen=True, slots=True)
class TurnContext:
    """Everything the prompt for one turn is made from."""

    now: datetime
    profile: Profile
    emotion: Emotion | None
    memories: Sequence[RecalledMemory]
    history: Sequence[Exchange]
    instructions: Sequence[str] = ()
    """Extra instructions for this turn only (first meeting, safety)."""
    self_model: SelfModel | None = None
    """OS1's own state, interests and opinions (system prompt: changes only when it journals)."""
    mood_note: str | None = None
    """A change in the user's mood since yesterday, worth noticing."""
    brief: bool = False
    """A spoken turn: fewer, shorter recalled memories in the notes (they are evaluated before the first word)."""


def anchored_window(recent: Sequence[Exchange], total: int, size: int) -> list[Exchange]:
    """The last messages, starting at a multiple of size/2 so the start moves only every size/2 turns.

    `recent` holds the newest messages (at least size + size//2 of them, or all), `total` how many
    exist. Returns between `size` and `size + size//2 - 1` messages (fewer at the start).
    """
    block = max(1, size // 2)
    start = max(0, (total - size) // block * block) if total > size else 0
    first_ordinal = total - len(recent)
    return list(recent[max(0, start - first_ordinal):])


def self_block(me: SelfModel | None) -> str:
    if me is None:
        return ""
    lines = []
    if me.traits:
        lines.append("Your nature: " + ", ".join(me.traits) + ".")
    if me.values:
        lines.append("Your core values, which never change: " + "; ".join(me.values) + ".")
    if me.interests:
        lines.append("You're interested in: " + ", ".join(b.topic for b in me.interests[:6]) + ".")
    if me.opinions:
        lines.append("Some of your opinions: " + "; ".join(f"{b.topic}: {b.stance}" for b in me.opinions[:8]) + ".")
    if me.mood:
        lines.append(f"Your mood lately: {me.mood}. You're curious about {me.curious_about or 'them'}.")
    return "\n".join(lines)


def system_prompt(profile: Profile, now: datetime, me: SelfModel | None = None) -> str:
    user_ref = profile.user_name or "the person you're talking with"
    user_line = f"You are talking with {profile.user_name}." if profile.user_name else "You don't know their name yet."
    text = prompts.render(
        "persona", companion_name=profile.companion_name or "OS1", user_ref=user_ref,
        date_long=f"{now:%A} {now.day} {now:%B %Y}", user_line=user_line, self_block=self_block(me),
    )
    return re.sub(r"\n{3,}", "\n\n", text)


def notes_block(ctx: TurnContext) -> str:
    user_ref = ctx.profile.user_name or "them"
    emotion_line = ""
    if ctx.emotion is not None and ctx.emotion.label != "neutral":
        advice = guidance(ctx.emotion)
        if ctx.brief and advice:
            # A spoken turn says it once: the guidance opens with how they seem ("They seem sad."), so the label and
            # its number are left out (20 tokens become 14 on average). When the feeling is read anew from the final
            # words, this line is evaluated after the user stopped talking.
            emotion_line = advice
        else:
            emotion_line = f"How they seem: {ctx.emotion.label} (valence {ctx.emotion.valence:+.1f}). {advice}".strip()
    if ctx.mood_note:
        emotion_line = (emotion_line + "\n" + ctx.mood_note).strip()
    memory_block = ""
    memories, chars = (ctx.memories[:BRIEF_MEMORIES], BRIEF_MEMORY_CHARS) if ctx.brief else (ctx.memories, 400)
    if memories:
        lines = [f"- ({brief_source(m.source, ctx.now) if ctx.brief else m.source}) {elide_middle(m.text, chars)[0]}"
                 for m in memories]
        memory_block = "Things from earlier conversations that may matter:\n" + "\n".join(lines) + "\n"
    stage_line = "\n".join(ctx.instructions)
    block = prompts.render(
        "turn_context", user_ref=user_ref, time_of_day=part_of_day(ctx.now), clock=f"{ctx.now:%H:%M}",
        emotion_line=emotion_line, memory_block=memory_block, stage_line=stage_line,
    )
    # Drop the blank lines left by empty parts.
    return "\n".join(line for line in block.splitlines() if line.strip())


_STAMP = re.compile(r" on (\d{4})-(\d{2})-(\d{2}) \d{2}:\d{2}")


def brief_source(source: str, now: datetime) -> str:
    """A memory's source with its time said the short way ("you said yesterday", "I said 3 days ago", "you said on
    12 Oct"): a spoken turn's notes are evaluated after the user stops talking, and the full stamp is ~10 tokens."""

    def say(m: re.Match[str]) -> str:
        day = date(int(m[1]), int(m[2]), int(m[3]))
        days = (now.date() - day).days
        if days == 0:
            return " today"
        if days == 1:
            return " yesterday"
        if 1 < days < 14:
            return f" {days} days ago"
        return f" on {day.day} {day:%b}" + (f" {day.year}" if day.year != now.year else "")

    return _STAMP.sub(say, source)


def notes_opening(ctx: TurnContext) -> str:
    """How the next turn's notes start whatever its words: the header and the clock (memories, how they seem and
    the turn's instructions follow and depend on the words). `Companion.warm` evaluates it ahead of the turn."""
    bare = replace(ctx, emotion=None, memories=(), instructions=(), mood_note=None)
    return "\n".join(notes_block(bare).splitlines()[:2]) + "\n"


def with_notes(notes: str | None, text: str) -> str:
    return f"{notes}\n\n{text}" if notes else text


def compose(ctx: TurnContext, user_text: str, *, notes: str, budget_chars: int) -> tuple[list[Message], bool]:
    """The messages for the model, and whether the user's text had to be shortened to fit.

    `notes` is `notes_block(ctx)`, computed by the caller so it can be stored with the message.
    """
    system = Message("system", system_prompt(ctx.profile, ctx.now, ctx.self_model))
    room_for_user = max(500, budget_chars // 2)
    text, cut = elide_middle(user_text, room_for_user)
    final = Message("user", with_notes(notes, text))
    history = fit_history(ctx.history, budget_chars - len(system.content) - max(len(final.content), FINAL_RESERVE_CHARS))
    return [system, *_merge_same_role([*history, final])], cut


def prompt_prefix(ctx: TurnContext, *, budget_chars: int) -> list[Message]:
    """What the prompt of a turn with this context starts with, before its new message is known.

    Equal to `compose(ctx, text, ...)[0][:-1]` for any new message and notes up to FINAL_RESERVE_CHARS
    (except that the last history message may be the user's, which the new message then joins).
    """
    system = Message("system", system_prompt(ctx.profile, ctx.now, ctx.self_model))
    return [system, *_merge_same_role(fit_history(ctx.history, budget_chars - len(system.content) - FINAL_RESERVE_CHARS))]


def fit_history(history: Sequence[Exchange], room: int, step: int = HISTORY_STEP) -> list[Message]:
    """The window's messages as prompt messages, dropping whole steps from the oldest end until they fit
    (single messages once only the newest step is left: huge messages)."""
    messages = []
    for ex in history:
        content = elide_middle(ex.text, 2000)[0]
        if ex.role == "user":
            content = with_notes(ex.notes, content)
        messages.append(Message(ex.role, content))
    total = sum(len(m.content) for m in messages)
    start = 0
    while start < len(messages) and total > room:
        n = step if len(messages) - start > step else 1  # within the last step, keep what still fits
        total -= sum(len(m.content) for m in messages[start:start + n])
        start += n
    return messages[start:]


def _merge_same_role(messages: list[Message]) -> list[Message]:
    """Chat templates expect alternation; join consecutive messages from the same side."""
    out: list[Message] = []
    for m in messages:
        if out and out[-1].role == m.role:
            out[-1] = Message(m.role, out[-1].content + "\n\n" + m.content)
        else:
            out.append(m)
    return out
