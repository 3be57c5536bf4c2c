"""Recall: which memories matter for this turn.

Hybrid retrieval. Several ranked candidate lists are gathered at once,

- lexical: exchanges (FTS5 BM25 / tsvector), facts, reflections;
- dense: the nearest memories by embedding (`VectorIndex`), when there is an index;
- time: when the question names a time ('yesterday', 'in March'), the exchanges of that span (ranked
  by embedding, or by importance without an index) and the facts whose event falls in it;
- people: when the question names someone known (by name or relation), their current facts, and for a
  question about the past ('before', 'used to', 'did ... live') their superseded facts as well;

then fused by weighted reciprocal-rank fusion (Cormack et al., 2009), which needs no calibration
between BM25 and cosine scales, and finally weighed by recency, importance, the time span and whether
a fact still holds. The weights are tuned on the dev half of bench/retrieval_bench.py's questions
and reported on the other half.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Float, column, func, select, text

from ..storage.schema import facts as facts_table
from ..storage.schema import messages, reflections
from ..types import Exchange, Fact, MemoryKind, Person, RecalledMemory, Reflection, UserId
from .facts import FactStore, _fact, key
from .store import ConversationStore, SqlConversationStore, _aware, _row_to_exchange, _utc_naive, search_terms
from .timeparse import Range, find_time, in_range
from .vectors import Filter, Hit, VectorIndex


@dataclass(frozen=True, slots=True)
class Weights:
    """Fusion constants. Defaults tuned on the retrieval bench's dev questions (see its section in RESULTS.md)."""

    rrf_k: float = 5.0
    """Rank offset. Cormack et al. use 60 for long lists; ours are short (<= 30) and the first ranks must
    count. On the dev questions 5 scored best (10, 20 and 60 within 0.01-0.03 of R@10 + NDCG@10)."""
    lexical: float = 1.0
    dense: float = 1.0
    reflections: float = 0.7
    time_window: float = 0.8
    """A list of what was said in the named span, ranked by similarity: 'what did I do yesterday?'."""
    people: float = 1.0
    """Flat bonus (as if ranked first in a list) for each fact about a person the question names."""
    recency: float = 0.3
    """At most +30% for something said just now, halving every `half_life_days`. The bench has little
    signal for it (evidence spread over ten months): on dev, 0.1, 0.2 and 0.3 score the same and 0 one
    question better. In conversation the latest of two similar mentions is usually the one meant."""
    half_life_days: float = 30.0
    importance: float = 0.2
    in_span: float = 2.0
    """Multiplier for an item inside the span the question names ..."""
    out_of_span: float = 0.25
    """... and for one outside it (a soft filter: the time words may be misread). 0.25 tuned above 0.5."""
    superseded: float = 0.5
    """A fact that no longer holds, for a question about now ..."""
    superseded_past: float = 1.5
    """... and for a question about the past ('before', 'used to')."""
    own_words: float = 0.5
    """Multiplier for what OS1 itself said: the user's own words are the evidence about their life, and
    a reply like "I hear you." would otherwise tie with the message it answered."""
    candidates: int = 30
    """How many candidates each list contributes."""
    dense_floor: float | None = None
    """Cosine below which a dense hit is dropped; None: the embedder's `relevance_floor`."""


DEFAULT_WEIGHTS = Weights()
DENSE_QUERY_CHARS = 400
log = logging.getLogger("os1.memory")

_PAST = re.compile(
    r"\b(?:before|used to|previously|formerly|originally|back then|at first|earlier|former|anymore|any more|"
    r"no longer|still|had been|old (?:job|place|address|apartment|flat|house|home|school|company|boss|team|city|town)|"
    r"did\b.{0,40}\b(?:live|work|stay|study|date|go)|was\b.{0,40}\b(?:living|working|studying))\b"
)
# 'still' asks whether something holds now, but the answer needs the history too.


def is_past_question(query: str) -> bool:
    """Whether the question asks about how things were, so earlier (superseded) facts matter."""
    return _PAST.search(query.lower()) is not None


@dataclass
class _Cand:
    kind: MemoryKind
    id: int
    rrf: float = 0.0
    item: Exchange | Fact | Reflection | None = None


Key = tuple[MemoryKind, int]


class Recaller:
    """Brings back the memories relevant to a message: exchanges, facts and reflections, hybrid-ranked."""

    def __init__(self, conversations: SqlConversationStore, facts: FactStore, index: VectorIndex | None,
                 *, weights: Weights | None = None) -> None:
        self.conversations = conversations
        self.facts = facts
        self.index = index
        self.db = conversations.db
        self.weights = weights or DEFAULT_WEIGHTS

    async def recall(self, user_id: UserId, query: str, *, now: datetime, limit: int,
                     before_id: int | None) -> list[RecalledMemory]:
        """Memories relevant to `query`, best first; exchanges only older than `before_id` (the recent
        window is already in the prompt)."""
        if limit <= 0 or not query.strip():
            return []
        w = self.weights
        k = max(w.candidates, limit * 3)
        found = find_time(query, now)
        span = found[0] if found else None
        # The time words themselves ('last week') say nothing about what is being asked.
        lexical_query = query.lower().replace(found[1], " ") if found else query
        past = is_past_question(query)

        # People linking: 'Rachel' is also 'my sister', and the other way round, so the searches look for both.
        named = _named_people(query, await self.facts.people(user_id))[:3]
        aliases = _aliases(query, named)
        # A long message costs the embedding model time in proportion; its start and end carry the gist.
        dense_query = query if len(query) <= DENSE_QUERY_CHARS else \
            f"{query[:DENSE_QUERY_CHARS // 2]} … {query[-DENSE_QUERY_CHARS // 2:]}"
        dense_query = f"{dense_query} ({', '.join(aliases)})" if aliases else dense_query
        if aliases:
            lexical_query += " " + " ".join(aliases)

        window_task = asyncio.ensure_future(self._exchange_window(user_id, span, before_id))
        lex_ex, lex_facts, lex_refl, people, span_facts, (dense, window_list) = await asyncio.gather(
            self.conversations.search(user_id, lexical_query, limit=k, before_id=before_id),
            self.facts.search(user_id, lexical_query, limit=k),
            self._search_reflections(user_id, lexical_query, k),
            self._people_facts(user_id, named, past),
            self._facts_in_span(user_id, span, k),
            self._dense(user_id, dense_query, k, before_id, window_task),
        )

        cands: dict[Key, _Cand] = {}

        def add_list(keys: Sequence[Key], weight: float, items: Sequence[Any] | None = None) -> None:
            for rank, kk in enumerate(keys):
                c = cands.get(kk) or cands.setdefault(kk, _Cand(kk[0], kk[1]))
                c.rrf += weight / (w.rrf_k + rank + 1)
                if items is not None and c.item is None:
                    c.item = items[rank]

        add_list([("exchange", e.id) for e, _ in lex_ex], w.lexical, [e for e, _ in lex_ex])
        add_list([("fact", f.id) for f, _ in lex_facts], w.lexical, [f for f, _ in lex_facts])
        add_list([("reflection", r.id) for r, _ in lex_refl], w.reflections, [r for r, _ in lex_refl])
        add_list([(kind, i) for kind, i, _ in dense], w.dense)
        add_list(window_list, w.time_window)
        add_list([("fact", f.id) for f in span_facts], w.time_window, span_facts)
        for f in people:
            c = cands.get(("fact", f.id)) or cands.setdefault(("fact", f.id), _Cand("fact", f.id))
            c.rrf += w.people / (w.rrf_k + 1)
            c.item = c.item or f

        await self._fetch_missing(user_id, cands)
        scored = [(self._final(c, now, span, past), c) for c in cands.values()
                  if c.item is not None and says_something(c.item)]
        scored.sort(key=lambda sc: (-sc[0], sc[1].kind, -sc[1].id))
        return await self._present(user_id, scored, limit, now)

    # Candidate lists --------------------------------------------------------------------------------
    async def _dense(self, user_id: UserId, query: str, k: int, before_id: int | None,
                     window_task: asyncio.Future[tuple[int, int] | None]) -> tuple[list[Hit], list[Key]]:
        """Nearest memories above the relevance floor, and the exchanges of the named span by similarity
        (or, without an index, by importance)."""
        if self.index is None:
            window = await window_task
            ids = await self._window_by_importance(user_id, window, k) if window is not None else []
            return [], [("exchange", i) for i in ids]
        try:
            qvec = await self.index.embed_query(query)
        except Exception:  # an embedding model that cannot run must not cost the turn: recall lexically
            log.exception("query embedding failed; recalling without it")
            window = await window_task
            ids = await self._window_by_importance(user_id, window, k) if window is not None else []
            return [], [("exchange", i) for i in ids]
        window = await window_task
        only_exchanges: tuple[MemoryKind, ...] = ("exchange",)
        filters = [Filter(k, before_id=before_id)]
        if window is not None:
            filters.append(Filter(k, only_exchanges, before_id, window))
        results = await self.index.search_many(user_id, qvec, filters)
        floor = self.weights.dense_floor if self.weights.dense_floor is not None else self.index.embedder.relevance_floor
        dense = [h for h in results[0] if h[2] >= floor]
        # Inside a named span similarity only orders; the span itself says they are relevant.
        window_list: list[Key] = [(kind, i) for kind, i, _ in results[1]] if window is not None else []
        return dense, window_list

    async def _search_reflections(self, user_id: UserId, query: str, limit: int) -> list[tuple[Reflection, float]]:
        terms = search_terms(query)
        if not terms:
            return []
        if self.db.dialect == "sqlite":
            match = " OR ".join('"' + t.replace('"', "") + '"' for t in terms)
            sql = text(
                "SELECT r.id, r.user_id, r.text, r.created_at, -bm25(reflections_fts) AS score FROM reflections_fts "
                "JOIN reflections r ON r.id = reflections_fts.rowid WHERE reflections_fts MATCH :q "
                "AND reflections_fts.user_id = :uid ORDER BY bm25(reflections_fts) LIMIT :limit")
            params: dict[str, Any] = {"q": match, "uid": user_id, "limit": limit}
        else:
            tsq = " | ".join(x for x in (re.sub(r"[^\w]", "", t) for t in terms) if x)
            sql = text(
                "SELECT r.id, r.user_id, r.text, r.created_at, ts_rank(r.tsv, q) AS score FROM reflections r, "
                "to_tsquery('english', :q) q WHERE r.tsv @@ q AND r.user_id = :uid ORDER BY score DESC LIMIT :limit")
            params = {"q": tsq, "uid": user_id, "limit": limit}
        typed = sql.columns(*reflections.c, column("score", Float))
        rows = await self.db.read(lambda c: c.execute(typed, params).all())
        return [(_reflection(r), float(r.score)) for r in rows]

    async def _people_facts(self, user_id: UserId, named: Sequence[Person], past: bool) -> list[Fact]:
        out: list[Fact] = []
        for p in named:
            out += await self.facts.list_facts(user_id, include_history=past, person_id=p.id, limit=20)
        return out

    async def _exchange_window(self, user_id: UserId, span: Range | None, before_id: int | None) -> tuple[int, int] | None:
        """The ids of the exchanges said within `span` (ids grow with time), or None."""
        if span is None:
            return None
        q = select(func.min(messages.c.id), func.max(messages.c.id)).where(
            messages.c.user_id == user_id, messages.c.created_at >= _utc_naive(span[0]),
            messages.c.created_at < _utc_naive(span[1]))
        if before_id is not None:
            q = q.where(messages.c.id < before_id)
        lo, hi = (await self.db.read(lambda c: c.execute(q).one()))
        return (int(lo), int(hi)) if lo is not None else None

    async def _window_by_importance(self, user_id: UserId, window: tuple[int, int], limit: int) -> list[int]:
        q = (select(messages.c.id).where(messages.c.user_id == user_id, messages.c.id >= window[0],
                                         messages.c.id <= window[1], messages.c.role == "user")
             .order_by(messages.c.importance.desc(), messages.c.id.desc()).limit(limit))
        return [int(r[0]) for r in await self.db.read(lambda c: c.execute(q).all())]

    async def _facts_in_span(self, user_id: UserId, span: Range | None, limit: int) -> list[Fact]:
        if span is None:
            return []
        q = (select(facts_table).where(facts_table.c.user_id == user_id,
                                       facts_table.c.event_at >= _utc_naive(span[0]),
                                       facts_table.c.event_at < _utc_naive(span[1]))
             .order_by(facts_table.c.event_at.desc()).limit(limit))
        return [_fact(r) for r in await self.db.read(lambda c: c.execute(q).all())]

    async def _fetch_missing(self, user_id: UserId, cands: dict[Key, _Cand]) -> None:
        """Load the items that only the dense or time lists named; forget index entries whose item is gone."""
        want: dict[MemoryKind, list[int]] = {"exchange": [], "fact": [], "reflection": []}
        for c in cands.values():
            if c.item is None:
                want[c.kind].append(c.id)
        if not any(want.values()):
            return

        def q(conn: Connection) -> dict[Key, Exchange | Fact | Reflection]:
            got: dict[Key, Exchange | Fact | Reflection] = {}
            if want["exchange"]:
                for r in conn.execute(select(messages).where(messages.c.user_id == user_id,
                                                             messages.c.id.in_(want["exchange"]))):
                    got[("exchange", r.id)] = _row_to_exchange(r)
            if want["fact"]:
                for r in conn.execute(select(facts_table).where(facts_table.c.user_id == user_id,
                                                                facts_table.c.id.in_(want["fact"]))):
                    got[("fact", r.id)] = _fact(r)
            if want["reflection"]:
                for r in conn.execute(select(reflections).where(reflections.c.user_id == user_id,
                                                                reflections.c.id.in_(want["reflection"]))):
                    got[("reflection", r.id)] = _reflection(r)
            return got

        got = await self.db.read(q)
        for kk, c in cands.items():
            if c.item is None:
                c.item = got.get(kk)
                if c.item is None and self.index is not None:
                    self.index.forget_items(c.kind, [c.id])

    # Scoring and presentation -----------------------------------------------------------------------
    def _final(self, c: _Cand, now: datetime, span: Range | None, past: bool) -> float:
        w = self.weights
        item = c.item
        importance = 0.0
        if isinstance(item, Exchange):
            when, importance = item.created_at, item.importance
        elif isinstance(item, Fact):
            when, importance = item.event_at or item.valid_from, item.importance
        else:
            assert item is not None
            when = item.created_at
        score = c.rrf
        # With a named span or a question about the past, how recent something is says nothing.
        recency_w = 0.0 if (span is not None or past) else w.recency
        age_days = max(0.0, (now - when).total_seconds() / 86400)
        score *= 1 + recency_w * math.exp(-math.log(2) * age_days / w.half_life_days) + w.importance * importance
        if span is not None:
            score *= w.in_span if in_range(when, span) or (isinstance(item, Fact) and in_range(item.created_at, span)) \
                else w.out_of_span
        if isinstance(item, Fact) and not item.current:
            score *= w.superseded_past if past else w.superseded
        if isinstance(item, Exchange) and item.role == "assistant":
            score *= w.own_words
        return score

    async def _present(self, user_id: UserId, scored: list[tuple[float, _Cand]], limit: int,
                       now: datetime) -> list[RecalledMemory]:
        # A fact says plainly what its exchange said: keep one of the two, in the better place, as the fact.
        chosen: list[tuple[float, _Cand]] = []
        for s, c in scored:
            if len(chosen) == limit:
                break
            item = c.item
            if isinstance(item, Exchange) and any(isinstance(o.item, Fact) and o.item.source_exchange_id == item.id
                                                  for _, o in chosen):
                continue
            if isinstance(item, Fact) and item.source_exchange_id is not None:
                at = next((n for n, (_, o) in enumerate(chosen)
                           if o.kind == "exchange" and o.id == item.source_exchange_id), None)
                if at is not None:
                    chosen[at] = (chosen[at][0], c)
                    continue
            chosen.append((s, c))
        said = await self._source_times(user_id, [c.item.source_exchange_id for _, c in chosen
                                                  if isinstance(c.item, Fact) and c.item.source_exchange_id])
        return [_memory(c, s, now, said) for s, c in chosen]

    async def _source_times(self, user_id: UserId, ids: list[int | None]) -> dict[int, datetime]:
        wanted = [i for i in ids if i is not None]
        if not wanted:
            return {}
        q = select(messages.c.id, messages.c.created_at).where(messages.c.user_id == user_id, messages.c.id.in_(wanted))
        return {int(r.id): _aware(r.created_at) for r in await self.db.read(lambda c: c.execute(q).all())}


def _reflection(row: Any) -> Reflection:
    return Reflection(id=row.id, user_id=row.user_id, text=row.text, created_at=_aware(row.created_at), sources=())


_WORDS = re.compile(r"[^\W_]+")
# Words for the same relation: a question says 'my mother', the extractor stored 'mom'.
_RELATION_GROUPS = [
    {"mom", "mother", "mum", "mama", "mommy"}, {"dad", "father", "papa", "daddy"},
    {"boss", "manager", "supervisor"}, {"partner", "boyfriend", "girlfriend", "husband", "wife", "spouse", "fiance", "fiancee"},
    {"sister", "sis"}, {"brother", "bro"}, {"grandma", "grandmother", "granny", "nana"},
    {"grandpa", "grandfather", "grandad"}, {"son", "boy"}, {"daughter", "girl"},
]


def _relation_words(relation: str) -> set[str]:
    for group in _RELATION_GROUPS:
        if relation in group:
            return group
    return {relation}


def _named_people(query: str, people: Sequence[Person]) -> list[Person]:
    """The people a question names, by full name, first name or relation ('my sister')."""
    words = set(_WORDS.findall(query.lower()))
    text_key = " " + " ".join(_WORDS.findall(query.lower())) + " "
    out = []
    for p in people:
        name = key(p.name)
        first = name.split(" ")[0] if name else ""
        if (name and f" {name} " in text_key) or (len(first) >= 3 and first in words) or \
                (p.relation and (f" {p.relation} " in text_key or _relation_words(p.relation) & words)):
            out.append(p)
    return out


def _aliases(query: str, people: Sequence[Person]) -> list[str]:
    """The other names of the people a question names: 'Rachel' for 'my sister', 'sister' for 'Rachel'."""
    words = " " + " ".join(_WORDS.findall(query.lower())) + " "
    out: list[str] = []
    for p in people:
        for alias in (p.name, f"my {p.relation}" if p.relation else None):
            if alias and f" {key(alias)} " not in words and alias not in out:
                out.append(alias)
    return out


def _memory(c: _Cand, score: float, now: datetime, said: dict[int, datetime]) -> RecalledMemory:
    item = c.item
    tz = now.tzinfo

    def fmt(when: datetime) -> str:
        return f"{when.astimezone(tz):%Y-%m-%d %H:%M}"

    if isinstance(item, Exchange):
        who = "you said" if item.role == "user" else "I said"
        return RecalledMemory(item.id, "exchange", item.text, f"{who} on {fmt(item.created_at)}", item.created_at,
                              round(score, 4))
    if isinstance(item, Fact):
        origin = said.get(item.source_exchange_id) if item.source_exchange_id else None
        source = f"fact from what you said on {fmt(origin)}" if origin else f"fact noted on {fmt(item.valid_from)}"
        if item.valid_to is not None:
            source += f", true until {item.valid_to.astimezone(tz):%Y-%m-%d}"
        return RecalledMemory(item.id, "fact", item.text, source, item.valid_from, round(score, 4),
                              current=item.current)
    assert isinstance(item, Reflection)
    return RecalledMemory(item.id, "reflection", item.text, f"my reflection on {fmt(item.created_at)}",
                          item.created_at, round(score, 4))


MIN_MEMORY_WORDS = 3
"""An exchange with fewer words than this is no memory: "Oh, hi! …" (a reply cut off at its first words), "ok",
"Amy". It matched something (short texts sit close to everything in an embedding space) but tells nothing, and
it costs every turn it is recalled into some 25 tokens of notes."""


_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORDISH = re.compile(f"[{_CJK}]|[^\\W\\d_{_CJK}]+")
"""A word, or one Chinese or Japanese character (written without spaces, each carries about a word)."""


def says_something(item: Exchange | Fact | Reflection) -> bool:
    if not isinstance(item, Exchange):
        return True
    return len(_WORDISH.findall(item.text)) >= MIN_MEMORY_WORDS


async def recall(store: ConversationStore, user_id: UserId, query: str, *, now: datetime, limit: int,
                 before_id: int | None) -> list[RecalledMemory]:
    """Compatibility shim for callers not yet holding a `Recaller`: hybrid recall without embeddings."""
    if not isinstance(store, SqlConversationStore):
        raise TypeError("recall() needs a SqlConversationStore; build a Recaller instead")
    return await Recaller(store, FactStore(store.db), None).recall(user_id, query, now=now, limit=limit,
                                                                   before_id=before_id)
