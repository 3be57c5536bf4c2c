"""Facts about the user's world, with history, and the people in it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Float, and_, column, delete, insert, or_, select, text, update

from ..storage import Database
from ..storage.schema import facts, people
from ..types import Fact, Person, UserId
from .store import _aware, _utc_naive, ensure_user, search_terms

# Attributes that hold one value at a time: a new value supersedes the old one (kept as history).
SINGLE_VALUED = frozenset({
    "lives_in", "works_at", "job", "relation", "name", "partner", "age", "birthday", "studies_at",
    "status", "species", "breed",
})
_KIND_BY_ATTRIBUTE = {"likes": "preference", "dislikes": "dislike", "event": "event", "plan": "plan", "job": "work",
                      "works_at": "work", "studies_at": "work", "lives_in": "place", "boundary": "boundary",
                      "has_pet": "pet"}
KINDS = ("person", "place", "pet", "work", "plan", "event", "preference", "dislike", "boundary", "other")


def key(name: str) -> str:
    """A comparable form of a name: lower case, no punctuation or articles."""
    k = re.sub(r"[^\w\s]", "", name.lower()).strip()
    k = re.sub(r"^(my|the|a|an|our)\s+", "", k)
    return re.sub(r"\s+", " ", k)


@dataclass(frozen=True, slots=True)
class FactCandidate:
    """A fact as the extractor proposes it, before it meets what is already known."""

    kind: str
    subject: str
    attribute: str
    value: str
    text: str
    relation: str | None = None
    """For people: how they relate to the user (sister, boss)."""
    event_at: datetime | None = None
    replaces: str | None = None
    """An old value this corrects ("moved from Ohio")."""


def _fact(row: Any) -> Fact:
    return Fact(
        id=row.id, user_id=row.user_id, kind=row.kind, subject=row.subject, attribute=row.attribute, value=row.value,
        text=row.text, slot=row.slot, person_id=row.person_id,
        event_at=_aware(row.event_at) if row.event_at else None, valid_from=_aware(row.valid_from),
        valid_to=_aware(row.valid_to) if row.valid_to else None, superseded_by=row.superseded_by,
        source_exchange_id=row.source_exchange_id, importance=row.importance, created_at=_aware(row.created_at),
    )


def _person(row: Any) -> Person:
    return Person(
        id=row.id, user_id=row.user_id, name=row.name, relation=row.relation, location=row.location,
        last_mentioned_at=_aware(row.last_mentioned_at) if row.last_mentioned_at else None,
        last_contact_at=_aware(row.last_contact_at) if row.last_contact_at else None,
    )


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying one candidate did."""

    fact: Fact | None
    """The new fact, or None when it was already known."""
    superseded: tuple[Fact, ...] = ()


class FactStore:
    """Facts and people on SQLite or PostgreSQL. Every call is scoped to one user."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # People -----------------------------------------------------------------------------------------
    def _find_person(self, conn: Connection, user_id: UserId, name_or_relation: str) -> Any:
        k = key(name_or_relation)
        if not k:
            return None
        row = conn.execute(select(people).where(people.c.user_id == user_id, people.c.name_key == k)).first()
        if row is None:
            row = conn.execute(
                select(people).where(people.c.user_id == user_id, people.c.relation == k).order_by(people.c.id)
            ).first()
        return row

    def _upsert_person(self, conn: Connection, user_id: UserId, name: str, relation: str | None, at: datetime) -> Any:
        row = self._find_person(conn, user_id, name)
        if row is None and relation:
            row = self._find_person(conn, user_id, relation)
            # "my sister" became "my sister Rachel": the person gets their name.
            if row is not None and row.name_key == key(relation) and key(name) != key(relation):
                conn.execute(update(people).where(people.c.id == row.id).values(
                    name=name, name_key=key(name), updated_at=_utc_naive(at)))
                return conn.execute(select(people).where(people.c.id == row.id)).first()
        if row is None:
            res = conn.execute(insert(people).values(
                user_id=user_id, name=name.strip(), name_key=key(name), relation=key(relation) if relation else None,
                last_mentioned_at=_utc_naive(at), created_at=_utc_naive(at), updated_at=_utc_naive(at)))
            return conn.execute(select(people).where(people.c.id == res.inserted_primary_key[0])).first()  # type: ignore[index]
        if relation and not row.relation:
            conn.execute(update(people).where(people.c.id == row.id).values(relation=key(relation), updated_at=_utc_naive(at)))
        return row

    async def people(self, user_id: UserId) -> list[Person]:
        q = select(people).where(people.c.user_id == user_id).order_by(people.c.name)
        return [_person(r) for r in await self.db.read(lambda c: c.execute(q).all())]

    async def person(self, user_id: UserId, name_or_relation: str) -> Person | None:
        row = await self.db.read(lambda c: self._find_person(c, user_id, name_or_relation))
        return _person(row) if row is not None else None

    async def touch_people(self, user_id: UserId, person_ids: Sequence[int], at: datetime, *, contact: bool) -> None:
        """Record that these people were mentioned (and, with `contact`, that the user was in touch)."""
        if not person_ids:
            return
        values: dict[str, Any] = {"last_mentioned_at": _utc_naive(at)}
        if contact:
            values["last_contact_at"] = _utc_naive(at)

        def tx(conn: Connection) -> None:
            conn.execute(update(people).where(people.c.user_id == user_id, people.c.id.in_(list(person_ids))).values(**values))

        await self.db.write(tx)

    # Facts ------------------------------------------------------------------------------------------
    async def apply(self, user_id: UserId, cand: FactCandidate, *, source_exchange_id: int | None,
                    at: datetime) -> Applied:
        """Add a candidate: skip it if known, supersede what it corrects, link people. One transaction."""
        return await self.db.write(lambda conn: self._apply(conn, user_id, cand, source_exchange_id, at))

    def _apply(self, conn: Connection, user_id: UserId, cand: FactCandidate, source_exchange_id: int | None,
               at: datetime) -> Applied:
        ensure_user(conn, user_id, at)
        kind = cand.kind if cand.kind in KINDS else "other"
        attribute = re.sub(r"[^a-z_]", "", cand.attribute.lower().replace(" ", "_"))[:64] or "about"
        subject = cand.subject.strip() or "user"
        person_id = None
        if key(subject) not in ("user", "me", "i", "myself"):
            if kind == "person" or cand.relation or self._find_person(conn, user_id, subject) is not None:
                prow = self._upsert_person(conn, user_id, subject, cand.relation, at)
                person_id, subject = prow.id, prow.name
        else:
            subject = "user"
            if kind == "person":  # a small model's slip: a fact about the user is not a person
                kind = _KIND_BY_ATTRIBUTE.get(attribute, "other")
        subject_key = key(subject)
        slot = f"{subject_key}:{attribute}" if attribute in SINGLE_VALUED else None
        value_key = key(cand.value)

        current = select(facts).where(facts.c.user_id == user_id, facts.c.valid_to.is_(None))
        same = conn.execute(current.where(
            facts.c.attribute == attribute,
            or_(facts.c.slot == slot, and_(facts.c.slot.is_(None), facts.c.subject == subject)) if slot
            else facts.c.subject == subject,
        )).all()
        if any(key(r.value) == value_key for r in same):
            return Applied(None)
        to_supersede = [r for r in same if slot is not None]
        if cand.replaces:
            old = key(cand.replaces)
            to_supersede += [r for r in same if key(r.value) == old and r not in to_supersede]

        now = _utc_naive(at)
        res = conn.execute(insert(facts).values(
            user_id=user_id, kind=kind, subject=subject, attribute=attribute, value=cand.value.strip(),
            text=cand.text.strip() or f"{subject} {attribute.replace('_', ' ')} {cand.value}", slot=slot,
            person_id=person_id, event_at=_utc_naive(cand.event_at) if cand.event_at else None, valid_from=now,
            source_exchange_id=source_exchange_id, importance=0.6 if kind in ("person", "event", "plan") else 0.5,
            created_at=now, updated_at=now,
        ))
        new_id = res.inserted_primary_key[0]  # type: ignore[index]
        superseded = []
        for r in to_supersede:
            conn.execute(update(facts).where(facts.c.id == r.id).values(valid_to=now, superseded_by=new_id, updated_at=now))
            superseded.append(_fact(conn.execute(select(facts).where(facts.c.id == r.id)).one()))
        if person_id is not None and attribute == "lives_in":
            conn.execute(update(people).where(people.c.id == person_id).values(location=cand.value.strip(), updated_at=now))
        return Applied(_fact(conn.execute(select(facts).where(facts.c.id == new_id)).one()), tuple(superseded))

    async def get(self, user_id: UserId, fact_id: int) -> Fact | None:
        q = select(facts).where(facts.c.user_id == user_id, facts.c.id == fact_id)
        row = await self.db.read(lambda c: c.execute(q).first())
        return _fact(row) if row is not None else None

    async def list_facts(self, user_id: UserId, *, include_history: bool = True, person_id: int | None = None,
                   limit: int = 1000) -> list[Fact]:
        q = select(facts).where(facts.c.user_id == user_id)
        if not include_history:
            q = q.where(facts.c.valid_to.is_(None))
        if person_id is not None:
            q = q.where(facts.c.person_id == person_id)
        q = q.order_by(facts.c.id.desc()).limit(limit)
        return [_fact(r) for r in await self.db.read(lambda c: c.execute(q).all())]

    async def history(self, user_id: UserId, fact: Fact) -> list[Fact]:
        """Earlier values of the same slot (or that this fact replaced), newest first."""
        q = select(facts).where(facts.c.user_id == user_id, facts.c.superseded_by == fact.id)
        rows = await self.db.read(lambda c: c.execute(q).all())
        out = [_fact(r) for r in rows]
        for f in list(out):
            out += await self.history(user_id, f)
        return out

    async def edit(self, user_id: UserId, fact_id: int, *, text_value: str, at: datetime) -> Fact | None:
        """Replace a fact's sentence (the user's correction wins)."""
        def tx(conn: Connection) -> Any:
            conn.execute(update(facts).where(facts.c.user_id == user_id, facts.c.id == fact_id).values(
                text=text_value, updated_at=_utc_naive(at)))
            return conn.execute(select(facts).where(facts.c.user_id == user_id, facts.c.id == fact_id)).first()

        row = await self.db.write(tx)
        return _fact(row) if row is not None else None

    async def search(self, user_id: UserId, query: str, *, limit: int) -> list[tuple[Fact, float]]:
        """Facts matching any content word of `query`, best first (BM25 / ts_rank)."""
        terms = search_terms(query)
        if not terms or limit <= 0:
            return []
        cols = ", ".join(f"f.{c.name}" for c in facts.c)
        if self.db.dialect == "sqlite":
            match = " OR ".join('"' + t.replace('"', "") + '"' for t in terms)
            sql = text(
                f"SELECT {cols}, -bm25(facts_fts) AS score FROM facts_fts JOIN facts f ON f.id = facts_fts.rowid "
                "WHERE facts_fts MATCH :q AND facts_fts.user_id = :uid ORDER BY bm25(facts_fts) LIMIT :limit"
            )
            params: dict[str, Any] = {"q": match, "uid": user_id, "limit": limit}
        else:
            tsq = " | ".join(w for w in (re.sub(r"[^\w]", "", t) for t in terms) if w)
            sql = text(
                f"SELECT {cols}, ts_rank(f.tsv, q) AS score FROM facts f, to_tsquery('english', :q) q "
                "WHERE f.tsv @@ q AND f.user_id = :uid ORDER BY score DESC LIMIT :limit"
            )
            params = {"q": tsq, "uid": user_id, "limit": limit}
        typed = sql.columns(*facts.c, column("score", Float))
        rows = await self.db.read(lambda c: c.execute(typed, params).all())
        return [(_fact(r), float(r.score)) for r in rows]

    async def delete(self, user_id: UserId, fact_ids: Sequence[int]) -> int:
        def tx(conn: Connection) -> int:
            ids = list(fact_ids)
            # Facts this one had superseded become current again only if the user deletes the newer one
            # as a mistake; forgetting removes the whole chain, so clear the links first.
            conn.execute(update(facts).where(facts.c.user_id == user_id, facts.c.superseded_by.in_(ids))
                         .values(superseded_by=None))
            return int(conn.execute(delete(facts).where(facts.c.user_id == user_id, facts.c.id.in_(ids))).rowcount)

        return await self.db.write(tx)
