"""Forgetting: removing a memory and everything derived from it, verifiably.

Derived means: facts extracted from a forgotten message (database cascade), OS1's reply to it,
reflections that cite any forgotten item, embeddings and full-text entries (database triggers), the
notes later prompts repeat (scrubbed), and a person whose every fact is gone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, delete, func, select, update

from ..storage import Database
from ..storage.schema import facts, messages, people, reflection_sources, reflections
from ..types import UserId
from .facts import key
from .store import search_terms

_REF = re.compile(r"^\s*([efr])(\d+)\s*$", re.I)
# Words that say how something was said, not what it was about ("forget that my ex is called Mark").
_NOT_ANCHORS = frozenset({"called", "named", "name", "said", "told", "thing", "things", "stuff", "everything",
                          "anything", "all"})


@dataclass(frozen=True, slots=True)
class Selection:
    """What a forget request would remove (before the cascade)."""

    exchanges: tuple[int, ...] = ()
    facts: tuple[int, ...] = ()
    reflections: tuple[int, ...] = ()
    people: tuple[int, ...] = ()
    previews: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.exchanges or self.facts or self.reflections or self.people)


@dataclass(frozen=True, slots=True)
class Forgotten:
    exchanges: tuple[int, ...]
    facts: tuple[int, ...]
    reflections: tuple[int, ...]
    people: tuple[int, ...]
    notes_scrubbed: int
    texts: tuple[str, ...] = field(default=())

    @property
    def count(self) -> int:
        return len(self.exchanges) + len(self.facts) + len(self.reflections) + len(self.people)


def anchors(query: str) -> list[str]:
    """The words every forgotten item must contain: names if the query has any, else its content words."""
    words = [w for w in search_terms(query) if w not in _NOT_ANCHORS]
    names = [w.lower() for w in re.findall(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-z]+)\b", query.strip())]
    names = [n for n in names if n in words]
    return names or words


class Forgetter:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def select(self, user_id: UserId, selector: str, *, exclude_exchange: int | None = None) -> Selection:
        """A ref (e12, f7, r3) or a description ("my ex Mark"): every matching memory of this user."""
        m = _REF.match(selector)
        if m:
            kind, item_id = m.group(1).lower(), int(m.group(2))
            table = {"e": messages, "f": facts, "r": reflections}[kind]
            row = await self.db.read(lambda c: c.execute(
                select(table.c.id, table.c.text).where(table.c.user_id == user_id, table.c.id == item_id)).first())
            if row is None:
                return Selection()
            return Selection(**{{"e": "exchanges", "f": "facts", "r": "reflections"}[kind]: (item_id,)},
                             previews=(row.text,))
        words = anchors(selector)
        if not words:
            return Selection()

        whole = {w: re.compile(rf"\b{re.escape(w)}\b", re.I) for w in words}

        def q(conn: Connection) -> Selection:
            def matching(table: object) -> list[tuple[int, str]]:
                t = table  # sqlalchemy Table
                cond = [t.c.user_id == user_id]  # type: ignore[attr-defined]
                for w in words:
                    cond.append(func.lower(t.c.text).contains(w))  # type: ignore[attr-defined]
                rows = conn.execute(select(t.c.id, t.c.text).where(*cond)).all()  # type: ignore[attr-defined]
                # The SQL filter matches inside words ("Mark" in "market"); keep whole words only.
                return [(r.id, r.text) for r in rows if all(whole[w].search(r.text) for w in words)]

            ex = [(i, t) for i, t in matching(messages) if i != exclude_exchange]
            fa = matching(facts)
            re_ = matching(reflections)
            ppl = [r.id for r in conn.execute(select(people.c.id, people.c.name_key).where(people.c.user_id == user_id)).all()
                   if r.name_key in words or key(r.name_key) in words]
            return Selection(tuple(i for i, _ in ex), tuple(i for i, _ in fa), tuple(i for i, _ in re_), tuple(ppl),
                             tuple(t for _, t in (ex + fa + re_)))

        return await self.db.read(q)

    def _expand(self, conn: Connection, user_id: UserId, sel: Selection) -> Selection:
        """The whole cascade a selection brings with it (read only): replies, derived facts, citing reflections."""
        ex_ids = set(sel.exchanges)
        # OS1's reply to a forgotten message goes with it.
        for i in sel.exchanges:
            nxt = conn.execute(select(messages.c.id, messages.c.role).where(
                messages.c.user_id == user_id, messages.c.id > i).order_by(messages.c.id).limit(1)).first()
            role = conn.execute(select(messages.c.role).where(messages.c.id == i)).scalar()
            if role == "user" and nxt is not None and nxt.role == "assistant":
                ex_ids.add(nxt.id)
        fact_ids = set(sel.facts)
        if ex_ids:
            fact_ids |= {r[0] for r in conn.execute(select(facts.c.id).where(
                facts.c.user_id == user_id, facts.c.source_exchange_id.in_(ex_ids))).all()}
        person_ids = set(sel.people)
        if person_ids:
            fact_ids |= {r[0] for r in conn.execute(select(facts.c.id).where(
                facts.c.user_id == user_id, facts.c.person_id.in_(person_ids))).all()}
        refl_ids = set(sel.reflections)
        for kind, ids in (("exchange", ex_ids), ("fact", fact_ids)):
            if ids:
                refl_ids |= {r[0] for r in conn.execute(
                    select(reflection_sources.c.reflection_id).join(
                        reflections, reflections.c.id == reflection_sources.c.reflection_id).where(
                        reflections.c.user_id == user_id, reflection_sources.c.item_kind == kind,
                        reflection_sources.c.item_id.in_(ids))).all()}
        texts = [r[0] for r in conn.execute(select(messages.c.text).where(messages.c.id.in_(ex_ids))).all()]
        texts += [r[0] for r in conn.execute(select(facts.c.text).where(facts.c.id.in_(fact_ids))).all()]
        texts += [r[0] for r in conn.execute(select(reflections.c.text).where(reflections.c.id.in_(refl_ids))).all()]
        return Selection(tuple(sorted(ex_ids)), tuple(sorted(fact_ids)), tuple(sorted(refl_ids)),
                         tuple(sorted(person_ids)), tuple(texts))

    async def expand(self, user_id: UserId, sel: Selection) -> Selection:
        """Everything `forget(sel)` would remove, without removing it (for previews)."""
        return await self.db.read(lambda c: self._expand(c, user_id, sel))

    async def forget(self, user_id: UserId, sel: Selection) -> Forgotten:
        """Remove the selection and everything derived from it, in one transaction."""
        def tx(conn: Connection) -> Forgotten:
            full = self._expand(conn, user_id, sel)
            ex_ids, fact_ids, refl_ids, person_ids = full.exchanges, full.facts, full.reflections, full.people

            # Later prompts repeat the notes stored with each message; drop notes that quote what goes.
            scrubbed = 0
            probes = [t[:60] for t in full.previews if t.strip()]
            if probes:
                rows = conn.execute(select(messages.c.id, messages.c.notes).where(
                    messages.c.user_id == user_id, messages.c.notes.is_not(None))).all()
                hit = [r.id for r in rows if any(p in (r.notes or "") for p in probes)]
                if hit:
                    conn.execute(update(messages).where(messages.c.id.in_(hit)).values(notes=None))
                    scrubbed = len(hit)

            # People whose current 'lives_in' goes lose that location (or fall back to one that remains).
            moved = {r.person_id for r in conn.execute(select(facts.c.person_id).where(
                facts.c.id.in_(fact_ids), facts.c.attribute == "lives_in", facts.c.person_id.is_not(None))).all()}
            if refl_ids:
                conn.execute(delete(reflections).where(reflections.c.user_id == user_id, reflections.c.id.in_(refl_ids)))
            if fact_ids:
                conn.execute(update(facts).where(facts.c.superseded_by.in_(fact_ids)).values(superseded_by=None))
                conn.execute(delete(facts).where(facts.c.user_id == user_id, facts.c.id.in_(fact_ids)))
            if ex_ids:
                conn.execute(delete(messages).where(messages.c.user_id == user_id, messages.c.id.in_(ex_ids)))
            if person_ids:
                conn.execute(delete(people).where(people.c.user_id == user_id, people.c.id.in_(person_ids)))
            for pid in moved - set(person_ids):
                still = conn.execute(select(facts.c.value).where(
                    facts.c.person_id == pid, facts.c.attribute == "lives_in", facts.c.valid_to.is_(None))
                    .order_by(facts.c.id.desc()).limit(1)).scalar()
                conn.execute(update(people).where(people.c.id == pid).values(location=still))
            return Forgotten(ex_ids, fact_ids, refl_ids, person_ids, scrubbed, full.previews)

        return await self.db.write(tx)


_FORGET = re.compile(
    r"^(?:(?:can you|could you|would you|please|i want you to|i'd like you to|i need you to)\s+)*forget\s+"
    r"(?:about\s+|that\s+|what i (?:said|told you) about\s+|everything (?:i said )?about\s+)?(.+)$",
    re.I | re.S,
)


def forget_request(message: str) -> str | None:
    """What the user asks OS1 to forget ("please forget that my ex is called Mark"), or None.

    Only a message that starts with the request counts: "don't forget mom's birthday" does not.
    """
    m = _FORGET.match(message.strip())
    if not m:
        return None
    target = m.group(1).strip().rstrip(".!?").strip()
    if target.lower() in ("", "it", "that", "this", "me"):
        return None
    return target


def ids_of(sel: Selection) -> Sequence[str]:
    return ([f"e{i}" for i in sel.exchanges] + [f"f{i}" for i in sel.facts] + [f"r{i}" for i in sel.reflections])
