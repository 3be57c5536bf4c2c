"""The conversation store: every exchange, keyed by user, with full-text search."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from sqlalchemy import Connection, Float, column, func, insert, or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..storage import Database
from ..storage.schema import messages, profiles, users
from ..types import Emotion, Exchange, Profile, UserId

_WORD = re.compile(r"[^\W_]{2,}", re.UNICODE)
# Words too common to say anything about what a message is about.
_STOP = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has", "have", "he", "her", "hers", "him", "his", "how", "i", "i'm", "im", "is", "it", "its", "it's", "just", "me", "my", "myself", "no", "not", "of", "on", "or", "our", "so", "some", "than", "that", "the", "their", "them", "then", "there", "they", "this", "to", "too", "up", "us", "very", "was", "we", "were", "what", "when", "where", "which", "who", "why", "will", "with", "would", "you", "your", "yours", "yes", "yeah", "ok", "okay", "oh", "hi", "hey", "hello", "am", "about", "all", "also", "any", "into", "out", "if"]
)


_COLS = ", ".join(f"m.{c.name}" for c in messages.c)


# How many matches of one term are scored before the term counts as too common (see _search_sqlite).
# 500 rather than 2000: exchange search p95 at 100k GoEmotions messages fell from 13 to 5 ms.
CANDIDATE_CAP = 500


def _utc_naive(when: datetime) -> datetime:
    """Stored form: naive UTC (SQLite has no time zones)."""
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


def _aware(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def search_terms(query: str, *, limit: int = 12) -> list[str]:
    """The content words of `query`, lower-cased and de-duplicated, in order."""
    seen: dict[str, None] = {}
    for w in _WORD.findall(query.lower()):
        if w not in _STOP and w not in seen:
            seen[w] = None
    return list(seen)[:limit]


def ensure_user(conn: Connection, user_id: UserId, at: datetime) -> None:
    """Create the user row if it is missing (every row is keyed by a user)."""
    ins = (sqlite_insert if conn.dialect.name == "sqlite" else pg_insert)(users)
    conn.execute(ins.values(id=user_id, created_at=_utc_naive(at)).on_conflict_do_nothing())


class ConversationStore(Protocol):
    """Where exchanges and the first-meeting profile live."""

    async def add_exchange(
        self, user_id: UserId, role: Literal["user", "assistant"], text: str, *, at: datetime,
        session_id: str | None = None, emotion: Emotion | None = None, importance: float = 0.0,
        notes: str | None = None,
    ) -> Exchange: ...
    async def recent(self, user_id: UserId, limit: int, *, live_only: bool = False) -> list[Exchange]: ...
    async def search(self, user_id: UserId, query: str, *, limit: int, before_id: int | None = None) -> list[tuple[Exchange, float]]: ...
    async def count(self, user_id: UserId, *, live_only: bool = False) -> int: ...
    async def profile(self, user_id: UserId) -> Profile: ...
    async def save_profile(self, profile: Profile, *, at: datetime) -> None: ...


def _row_to_exchange(row: Any) -> Exchange:
    emo = row.emotion
    emotion = Emotion(emo["label"], emo["valence"], emo["arousal"], emo.get("scores", {})) if emo else None
    return Exchange(
        id=row.id, user_id=row.user_id, role=row.role, text=row.text, created_at=_aware(row.created_at),
        session_id=row.session_id, emotion=emotion, importance=row.importance, notes=row.notes,
    )


def _live() -> Any:
    """Messages of the conversation in progress: not imported history (which has an origin), but including
    OS1's proactive messages (origin 'proactive:…'), which the user answers in the next turn."""
    return or_(messages.c.origin.is_(None), messages.c.origin.startswith("proactive:"))


class SqlConversationStore:
    """`ConversationStore` on SQLite (FTS5 BM25) or PostgreSQL (tsvector)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # Writes -------------------------------------------------------------------------------------------
    def _ensure_user(self, conn: Connection, user_id: UserId, at: datetime) -> None:
        ensure_user(conn, user_id, at)

    async def add_exchange(
        self, user_id: UserId, role: Literal["user", "assistant"], text: str, *, at: datetime,
        session_id: str | None = None, emotion: Emotion | None = None, importance: float = 0.0,
        notes: str | None = None, learned: bool = False,
    ) -> Exchange:
        """Store one message. `learned` marks it as needing no background learning."""
        emo = asdict(emotion) if emotion else None
        if emo is not None:
            emo["scores"] = dict(emo["scores"])

        def tx(conn: Connection) -> int:
            self._ensure_user(conn, user_id, at)
            res = conn.execute(
                insert(messages).values(
                    user_id=user_id, role=role, text=text, created_at=_utc_naive(at), session_id=session_id,
                    emotion=emo, importance=importance, notes=notes,
                    extracted_at=_utc_naive(at) if learned else None,
                )
            )
            return int(res.inserted_primary_key[0])  # type: ignore[index]

        new_id = await self.db.write(tx)
        return Exchange(new_id, user_id, role, text, _aware(_utc_naive(at)), session_id, emotion, importance, notes)

    async def save_profile(self, profile: Profile, *, at: datetime) -> None:
        values = dict(
            user_name=profile.user_name, companion_name=profile.companion_name, stage=profile.stage,
            questions_asked=profile.questions_asked, timezone=profile.timezone, updated_at=_utc_naive(at),
        )

        def tx(conn: Connection) -> None:
            self._ensure_user(conn, profile.user_id, at)
            ins = (sqlite_insert if self.db.dialect == "sqlite" else pg_insert)(profiles)
            conn.execute(
                ins.values(user_id=profile.user_id, **values).on_conflict_do_update(
                    index_elements=[profiles.c.user_id], set_=values
                )
            )

        await self.db.write(tx)

    # Reads --------------------------------------------------------------------------------------------
    async def recent(self, user_id: UserId, limit: int, *, live_only: bool = False) -> list[Exchange]:
        """The newest messages, oldest first. `live_only` leaves out imported history (it has an origin),
        which is recalled by search but is not the conversation in progress."""
        q = select(messages).where(messages.c.user_id == user_id)
        if live_only:
            q = q.where(_live())
        q = q.order_by(messages.c.id.desc()).limit(limit)
        rows = await self.db.read(lambda c: c.execute(q).all())
        return [_row_to_exchange(r) for r in reversed(rows)]

    async def count(self, user_id: UserId, *, live_only: bool = False) -> int:
        q = select(func.count()).select_from(messages).where(messages.c.user_id == user_id)
        if live_only:
            q = q.where(_live())
        return int(await self.db.read(lambda c: c.execute(q).scalar_one()))

    async def search(
        self, user_id: UserId, query: str, *, limit: int, before_id: int | None = None
    ) -> list[tuple[Exchange, float]]:
        """Exchanges matching any content word of `query`, best first, with a relevance score > 0."""
        terms = search_terms(query)
        if not terms or limit <= 0:
            return []
        upper = before_id if before_id is not None else 2**62
        if self.db.dialect == "sqlite":
            return await self.db.read(lambda c: self._search_sqlite(c, user_id, terms, limit, upper))
        else:
            sql = text(
                f"SELECT {_COLS}, ts_rank(m.tsv, q) AS score FROM messages m, "
                "to_tsquery('english', :tsq) q WHERE m.tsv @@ q AND m.user_id = :uid AND m.id < :upper "
                "ORDER BY score DESC LIMIT :limit"
            )
            tsq = " | ".join(re.sub(r"[^\w]", "", t) for t in terms if re.sub(r"[^\w]", "", t))
            params = {"tsq": tsq, "uid": user_id, "upper": upper, "limit": limit}
        typed = sql.columns(*messages.c, column("score", Float))
        rows = await self.db.read(lambda c: c.execute(typed, params).all())
        return [(_row_to_exchange(r), float(r.score)) for r in rows]

    def _search_sqlite(self, conn: Connection, user_id: UserId, terms: list[str], limit: int,
                       upper: int) -> list[tuple[Exchange, float]]:
        """BM25 over FTS5, with the work bounded however large the history grows.

        BM25 scores every document that matches, so a common word ("work", "today") in a 100k-message
        history costs ~100 ms. Each term's matches are counted up to CANDIDATE_CAP first; terms rarer than
        that carry the search. If every term is common, only the most recent CANDIDATE_CAP matches are
        ranked.
        """
        def quoted(t: str) -> str:
            return '"' + t.replace('"', "") + '"'

        count_sql = text(
            "SELECT count(*) FROM (SELECT rowid FROM messages_fts WHERE messages_fts MATCH :t AND rowid < :upper "
            "ORDER BY rowid DESC LIMIT :cap)"
        )
        rare = [t for t in terms
                if conn.execute(count_sql, {"t": quoted(t), "upper": upper, "cap": CANDIDATE_CAP}).scalar_one() < CANDIDATE_CAP]
        match = " OR ".join(quoted(t) for t in (rare or terms))
        floor = 0
        if not rare:
            floor = conn.execute(text(
                "SELECT min(rowid) FROM (SELECT rowid FROM messages_fts WHERE messages_fts MATCH :m AND rowid < :upper "
                "ORDER BY rowid DESC LIMIT :cap)"), {"m": match, "upper": upper, "cap": CANDIDATE_CAP}).scalar_one() or 0
        sql = text(
            f"SELECT {_COLS}, s.score AS score FROM (SELECT rowid, -bm25(messages_fts) AS score FROM messages_fts "
            "WHERE messages_fts MATCH :match AND rowid < :upper AND rowid >= :floor AND messages_fts.user_id = :uid "
            "ORDER BY bm25(messages_fts) LIMIT :limit) s JOIN messages m ON m.id = s.rowid ORDER BY s.score DESC"
        ).columns(*messages.c, column("score", Float))
        rows = conn.execute(sql, {"match": match, "upper": upper, "floor": floor, "uid": user_id, "limit": limit}).all()
        return [(_row_to_exchange(r), float(r.score)) for r in rows]

    async def profile(self, user_id: UserId) -> Profile:
        q = select(profiles).where(profiles.c.user_id == user_id)
        row = await self.db.read(lambda c: c.execute(q).first())
        if row is None:
            return Profile(user_id=user_id, user_name=None, companion_name=None, stage="new")
        return Profile(
            user_id=user_id, user_name=row.user_name, companion_name=row.companion_name, stage=row.stage,
            questions_asked=row.questions_asked, timezone=row.timezone,
        )
