"""A lived-in data dir for the browser tests: two weeks of conversation with feelings, facts, people, a reflection.

Written through OS1's own stores, as its background learning would have, so the screens show real data.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from os1.memory import SqlConversationStore
from os1.memory.facts import FactCandidate, FactStore
from os1.memory.reflect import ReflectionStore
from os1.storage import open_database
from os1.types import Emotion, Profile

USER = "local"
ZONE = ZoneInfo("America/New_York")

# (days ago, what they said, what OS1 said, emotion label, valence, arousal)
DAYS = [
    (13, "First day at the new studio. Nervous but good.", "New rooms take a while to feel like yours. What's the light like?", "nervousness", 0.1, 0.6),
    (12, "The light is beautiful in the mornings.", "Then mornings are yours. Do you sketch there first thing?", "joy", 0.6, 0.5),
    (10, "My sister Maya moved to Denver last week.", "That's a big move. How is she finding it?", "neutral", 0.0, 0.3),
    (9, "I miss her already, honestly.", "Of course you do. You two sound close.", "sadness", -0.5, 0.4),
    (7, "Couldn't sleep. The deadline is crushing me.", "That sounds exhausting. What's the part that weighs most?", "fear", -0.6, 0.8),
    (6, "Still stressed, but I finished the first draft.", "A finished draft is a real thing. Be proud of that.", "relief", 0.2, 0.5),
    (4, "Maya called! She loves Denver.", "That's lovely to hear. You sound lighter.", "joy", 0.7, 0.6),
    (3, "Went hiking with Sam from work.", "How was it? Where did you go?", "excitement", 0.6, 0.7),
    (1, "Quiet day. Read in the park.", "That sounds restful. What were you reading?", "neutral", 0.3, 0.2),
    (0, "I think I'm finally settling in.", "I can hear it. It's good to see.", "joy", 0.6, 0.4),
]


@dataclass
class Seeded:
    maya_fact: str
    studio_fact: str
    reflection: str
    days: int


def seed(home: Path, now: datetime) -> Seeded:
    """Fill HOME/os1.db; `now` is the clock the server will run with (OS1_NOW)."""
    db = open_database(f"sqlite:///{home / 'os1.db'}")
    store, facts, reflections = SqlConversationStore(db), FactStore(db), ReflectionStore(db)

    async def run() -> Seeded:
        said: dict[int, int] = {}
        for ago, text, reply, label, valence, arousal in DAYS:
            when = min((now - timedelta(days=ago)).replace(hour=9, minute=15), now - timedelta(seconds=90))
            u = await store.add_exchange(USER, "user", text, at=when, learned=True,
                                         emotion=Emotion(label, valence, arousal, {label: 0.8}))
            await store.add_exchange(USER, "assistant", reply, at=when + timedelta(minutes=1))
            said[ago] = u.id
        maya = await facts.apply(USER, FactCandidate("person", "Maya", "lives_in", "Denver",
                                                     "Your sister Maya lives in Denver.", relation="sister"),
                                 source_exchange_id=said[10], at=now - timedelta(days=10))
        studio = await facts.apply(USER, FactCandidate("work", "user", "works_at", "a new design studio",
                                                       "You just started at a new design studio."),
                                   source_exchange_id=said[13], at=now - timedelta(days=13))
        await facts.apply(USER, FactCandidate("person", "Sam", "relation", "coworker", "Sam is a friend from work.",
                                              relation="coworker"), source_exchange_id=said[3], at=now - timedelta(days=3))
        await facts.apply(USER, FactCandidate("like", "user", "likes", "hiking", "You like hiking."),
                          source_exchange_id=said[3], at=now - timedelta(days=3))
        assert maya.fact is not None and studio.fact is not None
        refl = await reflections.add(USER, "Family matters a lot to you: Maya's move hit hard, and her call lifted you.",
                                     [f"e{said[9]}", f"e{said[4]}", f"f{maya.fact.id}"], at=now - timedelta(days=2))
        await store.save_profile(Profile(USER, "Ada", "Wren", "met", 2), at=now - timedelta(days=13))
        return Seeded(f"f{maya.fact.id}", f"f{studio.fact.id}", f"r{refl.id}", len(DAYS))

    try:
        # Playwright's sync API keeps an event loop running in this thread: seed from another one.
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(lambda: asyncio.run(run())).result()
    finally:
        db.close()
