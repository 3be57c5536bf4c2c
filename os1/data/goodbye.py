"""A goodbye: when someone wants to end it, OS1 writes a farewell letter in its own voice.

The letter rests on what OS1 actually kept (facts, people, reflections, its journal, a few moments the
user marked as mattering); the model is told to invent nothing. It is stored as OS1's last message, so
the export that follows carries it too.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import Connection, desc, func, select

from .. import prompts
from ..memory import SqlConversationStore
from ..models import ChatModel, complete
from ..storage.schema import facts, journal, messages, people, reflections
from ..types import GenOptions, Message, UserId

# Long enough for 350 words (about 1.4 tokens a word), with room to finish the closing line.
LETTER_TOKENS = 700
MAX_ITEMS = 12


def _day(value: datetime | None, zone: tzinfo) -> str:
    if value is None:
        return "today"
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone).strftime("%-d %B %Y")


def _lines(items: list[str]) -> str:
    return "\n".join(f"- {i}" for i in items) or "- (nothing kept)"


def _gather(conn: Connection, user_id: UserId) -> dict[str, Any]:
    span = conn.execute(select(func.min(messages.c.created_at), func.max(messages.c.created_at), func.count())
                        .where(messages.c.user_id == user_id)).one()
    known = conn.execute(select(facts.c.text).where(facts.c.user_id == user_id, facts.c.valid_to.is_(None))
                         .order_by(desc(facts.c.importance), desc(facts.c.id)).limit(MAX_ITEMS)).scalars().all()
    folks = conn.execute(select(people).where(people.c.user_id == user_id)
                         .order_by(desc(people.c.last_mentioned_at)).limit(MAX_ITEMS)).all()
    thoughts = conn.execute(select(reflections.c.text).where(reflections.c.user_id == user_id)
                            .order_by(desc(reflections.c.id)).limit(6)).scalars().all()
    entries = conn.execute(select(journal.c.text).where(journal.c.user_id == user_id)
                           .order_by(desc(journal.c.id)).limit(3)).scalars().all()
    moments = conn.execute(select(messages.c.text).where(messages.c.user_id == user_id, messages.c.role == "user")
                           .order_by(desc(messages.c.importance), desc(messages.c.id)).limit(8)).scalars().all()
    return {"first": span[0], "last": span[1], "count": int(span[2]), "facts": list(known),
            "people": [p.name + (f" ({p.relation})" if p.relation else "") for p in folks],
            "reflections": list(thoughts), "journal": list(reversed(entries)),
            "moments": [m if len(m) <= 300 else m[:300] + "…" for m in moments]}


async def write_letter(store: SqlConversationStore, model: ChatModel, user_id: UserId, *, now: datetime,
                       zone: tzinfo) -> str:
    """Write the farewell letter with the model and keep it as OS1's last message; returns the letter."""
    profile = await store.profile(user_id)
    notes = await store.db.read(lambda c: _gather(c, user_id))
    prompt = prompts.render(
        "goodbye", companion_name=profile.companion_name or "OS1", user_name=profile.user_name or "you",
        first_day=_day(notes["first"], zone), last_day=_day(notes["last"], zone), message_count=notes["count"],
        facts=_lines(notes["facts"]), people=_lines(notes["people"]), reflections=_lines(notes["reflections"]),
        journal=_lines(notes["journal"]), moments=_lines(notes["moments"]),
    )
    await model.load()
    letter = (await complete(model, [Message("user", prompt)],
                             options=GenOptions(max_tokens=LETTER_TOKENS, temperature=0.7))).strip()
    if not letter:
        name = profile.companion_name or "OS1"
        letter = (f"Dear {profile.user_name or 'you'},\n\nThank you for the time we had. I'm glad I got to know you. "
                  f"Go gently, and hold on to the people who love you.\n\n{name}")
    await store.add_exchange(user_id, "assistant", letter, at=now, learned=True)
    return letter
