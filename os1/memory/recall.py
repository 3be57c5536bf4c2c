"""Recall: which past exchanges matter for this turn (lexical for now; hybrid comes with memory)."""

from __future__ import annotations

import math
from datetime import datetime

from ..types import RecalledMemory, UserId
from .store import ConversationStore

# Fusion weights. Lexical relevance dominates; recency and importance break ties between similar
# matches. Chosen by hand for the foundation; the memory issue's benchmark will tune them.
W_LEXICAL = 1.0
W_RECENCY = 0.3
W_IMPORTANCE = 0.2
RECENCY_HALF_LIFE_DAYS = 30.0


async def recall(
    store: ConversationStore, user_id: UserId, query: str, *, now: datetime, limit: int, before_id: int | None
) -> list[RecalledMemory]:
    """Past exchanges relevant to `query`, older than `before_id` (the recent window is already in the prompt)."""
    if limit <= 0:
        return []
    hits = await store.search(user_id, query, limit=limit * 3, before_id=before_id)
    if not hits:
        return []
    top = max(score for _, score in hits) or 1.0
    scored = []
    for ex, lexical in hits:
        age_days = max(0.0, (now - ex.created_at).total_seconds() / 86400)
        recency = math.exp(-math.log(2) * age_days / RECENCY_HALF_LIFE_DAYS)
        score = W_LEXICAL * (lexical / top) + W_RECENCY * recency + W_IMPORTANCE * ex.importance
        who = "you said" if ex.role == "user" else "I said"
        local = ex.created_at.astimezone(now.tzinfo)
        scored.append(
            RecalledMemory(
                id=ex.id, kind="exchange", text=ex.text, source=f"{who} on {local:%Y-%m-%d %H:%M}",
                created_at=ex.created_at, score=round(score, 4),
            )
        )
    scored.sort(key=lambda m: m.score, reverse=True)
    return scored[:limit]
