"""OS1's self: traits and core values from the persona file; mood, interests and opinions that grow.

Growth is bounded: a journal entry may change at most MAX_CHANGES opinions and MAX_CHANGES interests,
an interest moves by at most MAX_STEP, every change carries its reason and can be undone, and nothing
touching the core values can change.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, insert, select, update

from ..errors import InputError
from ..memory.store import _aware, _utc_naive, ensure_user
from ..storage import Database
from ..storage.schema import belief_changes, beliefs, self_state
from ..types import UserId

DEFAULT_PERSONA = Path(__file__).with_name("default.toml")
MAX_CHANGES = 2
MAX_STEP = 0.2
# Words that mark a topic as one of the core values, which experience must not move.
_VALUE_WORDS = ("honest", "truth", "lie", "deceiv", "human", "safety", "harm", "care", "wellbeing", "suicide",
                "self-harm", "manipulat")


@dataclass(frozen=True, slots=True)
class Persona:
    names: tuple[str, ...]
    traits: tuple[str, ...]
    values: tuple[str, ...]
    mood: str
    curious_about: str
    interests: dict[str, float]
    opinions: dict[str, str]
    digest: str


def load_persona(path: Path | None = None) -> Persona:
    """The persona file (the user's persona.toml if given and present, else the default)."""
    src = path if path is not None and path.is_file() else DEFAULT_PERSONA
    raw = src.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise InputError(f"{src} is not valid TOML: {e}", hint="Fix the file or delete it to use the default.") from e
    default = tomllib.loads(DEFAULT_PERSONA.read_text("utf-8")) if src != DEFAULT_PERSONA else data

    def pick(k: str) -> Any:
        return data.get(k, default.get(k))

    return Persona(
        names=tuple(str(n) for n in pick("names") or ["Samantha"]),
        traits=tuple(str(t) for t in pick("traits") or ()),
        values=tuple(str(v) for v in pick("values") or ()),
        mood=str(pick("mood") or ""), curious_about=str(pick("curious_about") or ""),
        interests={str(k): max(0.0, min(1.0, float(v))) for k, v in (pick("interests") or {}).items()},
        opinions={str(k): str(v) for k, v in (pick("opinions") or {}).items()},
        digest=hashlib.sha256(raw).hexdigest(),
    )


@dataclass(frozen=True, slots=True)
class Belief:
    id: int
    kind: Literal["opinion", "interest"]
    topic: str
    stance: str
    weight: float


@dataclass(frozen=True, slots=True)
class Change:
    id: int
    kind: str
    topic: str
    old_stance: str | None
    new_stance: str | None
    old_weight: float | None
    new_weight: float | None
    reason: str
    created_at: datetime
    reverted: bool
    journal_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "topic": self.topic, "old_stance": self.old_stance,
                "new_stance": self.new_stance, "old_weight": self.old_weight, "new_weight": self.new_weight,
                "reason": self.reason, "created_at": self.created_at.isoformat(), "reverted": self.reverted,
                "journal_id": self.journal_id}


@dataclass(frozen=True, slots=True)
class SelfModel:
    traits: tuple[str, ...]
    values: tuple[str, ...]
    mood: str
    curious_about: str
    opinions: tuple[Belief, ...]
    interests: tuple[Belief, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"traits": list(self.traits), "values": list(self.values), "mood": self.mood,
                "curious_about": self.curious_about,
                "opinions": [{"id": b.id, "topic": b.topic, "stance": b.stance} for b in self.opinions],
                "interests": [{"id": b.id, "topic": b.topic, "weight": round(b.weight, 2)} for b in self.interests]}


@dataclass(frozen=True, slots=True)
class Growth:
    """What a journal entry proposes; `apply_growth` takes only what the bounds allow."""

    opinions: list[tuple[str, str, str]] = field(default_factory=list)
    """(topic, new stance, reason)"""
    interests: list[tuple[str, Literal["up", "down", "new"], str]] = field(default_factory=list)
    """(topic, direction, reason)"""


def touches_core_values(topic: str) -> bool:
    t = topic.lower()
    return any(w in t for w in _VALUE_WORDS)


def _change(r: Any) -> Change:
    return Change(r.id, r.kind, r.topic, r.old_stance, r.new_stance, r.old_weight, r.new_weight, r.reason,
                  _aware(r.created_at), r.reverted_at is not None, r.journal_id)


class SelfStore:
    def __init__(self, db: Database, persona: Persona) -> None:
        self.db = db
        self.persona = persona
        self._cache: dict[UserId, SelfModel] = {}

    async def get(self, user_id: UserId, *, at: datetime) -> SelfModel:
        """The self, seeded from the persona file on first use and when the file has changed.

        Read on every turn: served from memory once loaded (this store makes every change to it)."""
        cached = self._cache.get(user_id)
        if cached is not None:
            return cached
        me = await self.db.write(lambda c: self._get(c, user_id, at))
        self._cache[user_id] = me
        return me

    def _get(self, conn: Connection, user_id: UserId, at: datetime) -> SelfModel:
        p = self.persona
        state = conn.execute(select(self_state).where(self_state.c.user_id == user_id)).first()
        if state is None or state.persona_hash != p.digest:
            self._seed(conn, user_id, at, first=state is None)
            state = conn.execute(select(self_state).where(self_state.c.user_id == user_id)).one()
        rows = conn.execute(select(beliefs).where(beliefs.c.user_id == user_id).order_by(beliefs.c.weight.desc(),
                                                                                          beliefs.c.topic)).all()
        ops = tuple(Belief(r.id, "opinion", r.topic, r.stance, r.weight) for r in rows if r.kind == "opinion")
        ints = tuple(Belief(r.id, "interest", r.topic, r.stance, r.weight) for r in rows if r.kind == "interest")
        return SelfModel(p.traits, p.values, state.mood or p.mood, state.curious_about or p.curious_about, ops, ints)

    def _seed(self, conn: Connection, user_id: UserId, at: datetime, *, first: bool) -> None:
        """Take on the persona file: everything on first start; on an edit, what the file now says."""
        ensure_user(conn, user_id, at)
        p, now = self.persona, _utc_naive(at)
        reason = "my persona file" if first else "you edited my persona file"
        for kind, items in (("opinion", {k: (v, 0.5) for k, v in p.opinions.items()}),
                            ("interest", {k: ("", w) for k, w in p.interests.items()})):
            for topic, (stance, weight) in items.items():
                row = conn.execute(select(beliefs).where(beliefs.c.user_id == user_id, beliefs.c.kind == kind,
                                                         beliefs.c.topic == topic)).first()
                if row is None:
                    conn.execute(insert(beliefs).values(user_id=user_id, kind=kind, topic=topic, stance=stance,
                                                        weight=weight, updated_at=now))
                    if not first:
                        self._log(conn, user_id, kind, topic, None, stance, None, weight, reason, None, at)
                elif not first and (row.stance != stance or abs(row.weight - weight) > 1e-9):
                    conn.execute(update(beliefs).where(beliefs.c.id == row.id).values(stance=stance, weight=weight,
                                                                                      updated_at=now))
                    self._log(conn, user_id, kind, topic, row.stance, stance, row.weight, weight, reason, None, at)
        values = {"persona_hash": p.digest, "updated_at": now}
        if first:
            conn.execute(insert(self_state).values(user_id=user_id, mood=p.mood, curious_about=p.curious_about, **values))
        else:
            conn.execute(update(self_state).where(self_state.c.user_id == user_id).values(**values))

    def _log(self, conn: Connection, user_id: UserId, kind: str, topic: str, old_stance: str | None,
             new_stance: str | None, old_weight: float | None, new_weight: float | None, reason: str,
             journal_id: int | None, at: datetime) -> None:
        conn.execute(insert(belief_changes).values(
            user_id=user_id, kind=kind, topic=topic, old_stance=old_stance, new_stance=new_stance, old_weight=old_weight,
            new_weight=new_weight, reason=reason, journal_id=journal_id, created_at=_utc_naive(at)))

    async def grow(self, user_id: UserId, growth: Growth, *, mood: str | None, curious_about: str | None,
                   journal_id: int | None, at: datetime) -> list[Change]:
        """Apply what the bounds allow of a proposed growth; return the changes made."""
        def tx(conn: Connection) -> list[Change]:
            self._get(conn, user_id, at)
            now = _utc_naive(at)
            before = conn.execute(select(belief_changes.c.id).order_by(belief_changes.c.id.desc()).limit(1)).scalar() or 0
            for topic, stance, reason in growth.opinions[:MAX_CHANGES]:
                topic, stance = topic.strip()[:200], stance.strip()[:300]
                if not topic or not stance or not reason.strip() or touches_core_values(topic):
                    continue
                row = conn.execute(select(beliefs).where(beliefs.c.user_id == user_id, beliefs.c.kind == "opinion",
                                                         beliefs.c.topic == topic)).first()
                if row is None:
                    conn.execute(insert(beliefs).values(user_id=user_id, kind="opinion", topic=topic, stance=stance,
                                                        weight=0.5, updated_at=now))
                    self._log(conn, user_id, "opinion", topic, None, stance, None, 0.5, reason, journal_id, at)
                elif row.stance != stance:
                    conn.execute(update(beliefs).where(beliefs.c.id == row.id).values(stance=stance, updated_at=now))
                    self._log(conn, user_id, "opinion", topic, row.stance, stance, row.weight, row.weight, reason,
                              journal_id, at)
            for topic, direction, reason in growth.interests[:MAX_CHANGES]:
                topic = topic.strip()[:200]
                if not topic or not reason.strip() or touches_core_values(topic):
                    continue
                row = conn.execute(select(beliefs).where(beliefs.c.user_id == user_id, beliefs.c.kind == "interest",
                                                         beliefs.c.topic == topic)).first()
                old = row.weight if row is not None else None
                new = max(0.0, min(1.0, (old if old is not None else 0.3) + (MAX_STEP if direction != "down" else -MAX_STEP)))
                if row is None:
                    conn.execute(insert(beliefs).values(user_id=user_id, kind="interest", topic=topic, stance="",
                                                        weight=new, updated_at=now))
                elif abs(new - row.weight) > 1e-9:
                    conn.execute(update(beliefs).where(beliefs.c.id == row.id).values(weight=new, updated_at=now))
                else:
                    continue
                self._log(conn, user_id, "interest", topic, None, None, old, new, reason, journal_id, at)
            state = {k: v.strip()[:200] for k, v in (("mood", mood), ("curious_about", curious_about)) if v and v.strip()}
            if state:
                conn.execute(update(self_state).where(self_state.c.user_id == user_id).values(updated_at=now, **state))
            rows = conn.execute(select(belief_changes).where(belief_changes.c.user_id == user_id,
                                                             belief_changes.c.id > before)).all()
            return [_change(r) for r in rows]

        self._cache.pop(user_id, None)
        try:
            return await self.db.write(tx)
        finally:
            self._cache.pop(user_id, None)

    async def changes(self, user_id: UserId, limit: int = 200) -> list[Change]:
        q = select(belief_changes).where(belief_changes.c.user_id == user_id).order_by(belief_changes.c.id.desc()).limit(limit)
        return [_change(r) for r in await self.db.read(lambda c: c.execute(q).all())]

    async def revert(self, user_id: UserId, change_id: int, *, at: datetime) -> Change:
        """Undo one change: the belief goes back to what it was before it."""
        def tx(conn: Connection) -> Change:
            r = conn.execute(select(belief_changes).where(belief_changes.c.user_id == user_id,
                                                          belief_changes.c.id == change_id)).first()
            if r is None:
                raise InputError(f"There is no change {change_id}.", hint="`os1 self` lists the changes with their ids.")
            if r.reverted_at is not None:
                raise InputError(f"Change {change_id} was already undone.")
            cond = [beliefs.c.user_id == user_id, beliefs.c.kind == r.kind, beliefs.c.topic == r.topic]
            if r.old_stance is None and r.old_weight is None:
                conn.execute(beliefs.delete().where(*cond))
            else:
                values: dict[str, Any] = {"updated_at": _utc_naive(at)}
                if r.kind == "opinion" and r.old_stance is not None:
                    values["stance"] = r.old_stance
                if r.old_weight is not None:
                    values["weight"] = r.old_weight
                conn.execute(update(beliefs).where(*cond).values(**values))
            conn.execute(update(belief_changes).where(belief_changes.c.id == change_id)
                         .values(reverted_at=_utc_naive(at)))
            return _change(conn.execute(select(belief_changes).where(belief_changes.c.id == change_id)).one())

        try:
            return await self.db.write(tx)
        finally:
            self._cache.pop(user_id, None)
