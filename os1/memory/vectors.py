"""Dense recall: one embedding per memory in the `embeddings` table, searched in memory with numpy.

Why numpy brute force: at 100k memories a float32 matrix-vector product plus a partial sort takes ~3-4 ms
on 2 cores (bench/retrieval_bench.py measures it next to sqlite-vec and float16), it runs the same on
SQLite and PostgreSQL, and it needs no SQLite extension (this Python's sqlite3 cannot load one). The
matrix (1.5 KB per memory) is loaded per user on first search and kept in step by `add`/`remove`.

Rows can vanish behind the cache's back: deleting a message, fact or reflection deletes its embedding
through a trigger. Callers that delete call `forget_items`; search results are ids only, and the
recaller fetches the items themselves, so a stale id finds nothing and is forgotten then.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..storage import Database
from ..storage.schema import embeddings, facts, messages, reflections
from ..types import MemoryKind, UserId
from .embed import Embedder, Vectors

KINDS: tuple[MemoryKind, ...] = ("exchange", "fact", "reflection")
_CODE: dict[str, int] = {k: i for i, k in enumerate(KINDS)}
_DEAD = -1

Hit = tuple[MemoryKind, int, float]
"""(kind, item id, cosine similarity)."""


@dataclass(frozen=True, slots=True)
class Filter:
    """Which memories one search may return: `limit` best of `kinds`; exchanges older than `before_id`
    and within `exchange_window` (lo <= id <= hi); never the items in `exclude`."""

    limit: int
    kinds: Collection[MemoryKind] | None = None
    before_id: int | None = None
    exchange_window: tuple[int, int] | None = None
    exclude: Collection[tuple[MemoryKind, int]] = ()


def to_blob(vec: npt.NDArray[np.float32]) -> bytes:
    return np.asarray(vec, dtype="<f4").tobytes()


def from_blob(blob: bytes, dim: int) -> npt.NDArray[np.float32]:
    """A stored vector: little-endian float32, or float16 (half the size) if a later version writes that."""
    if len(blob) == dim * 2:
        return np.frombuffer(blob, dtype="<f2").astype(np.float32)
    return np.frombuffer(blob, dtype="<f4").astype(np.float32, copy=False)


@dataclass
class _Matrix:
    """One user's vectors: rows [0, n) are in use; a removed row keeps its place with kind -1 until compaction."""

    dim: int
    vecs: Vectors
    ids: npt.NDArray[np.int64]
    kinds: npt.NDArray[np.int8]
    n: int = 0
    dead: int = 0
    pos: dict[tuple[int, int], int] = field(default_factory=dict)

    @classmethod
    def empty(cls, dim: int, capacity: int = 64) -> _Matrix:
        return cls(dim, np.zeros((capacity, dim), np.float32), np.zeros(capacity, np.int64), np.full(capacity, _DEAD, np.int8))

    @classmethod
    def of(cls, dim: int, codes: Sequence[int], ids: Sequence[int], vecs: Vectors) -> _Matrix:
        """A matrix holding these rows (later rows replace earlier ones for the same item), room to grow."""
        m = cls.empty(dim, max(64, len(ids) + len(ids) // 4))
        n = len(ids)
        m.vecs[:n], m.ids[:n], m.kinds[:n] = vecs, ids, codes
        m.n = n
        for r, key in enumerate(zip(codes, ids, strict=True)):
            old = m.pos.get(key)
            if old is not None:
                m.kinds[old] = _DEAD
                m.dead += 1
            m.pos[key] = r
        return m

    def live_rows(self) -> npt.NDArray[np.intp]:
        return np.flatnonzero(self.kinds[: self.n] != _DEAD)

    def put(self, code: int, item_id: int, vec: npt.NDArray[np.float32]) -> None:
        row = self.pos.get((code, item_id))
        if row is None:
            if self.n == len(self.ids):
                self._grow()
            row = self.n
            self.ids[row] = item_id
            self.kinds[row] = code
            self.pos[(code, item_id)] = row
            self.n += 1
        self.vecs[row] = vec

    def _grow(self) -> None:
        # Into new arrays: a search running in another thread keeps the old ones.
        cap = max(64, 2 * self.n)
        vecs = np.zeros((cap, self.dim), np.float32)
        vecs[: self.n] = self.vecs[: self.n]
        ids = np.zeros(cap, np.int64)
        ids[: self.n] = self.ids[: self.n]
        kinds = np.full(cap, _DEAD, np.int8)
        kinds[: self.n] = self.kinds[: self.n]
        self.vecs, self.ids, self.kinds = vecs, ids, kinds

    def drop(self, code: int, item_ids: Iterable[int]) -> None:
        for item_id in item_ids:
            row = self.pos.pop((code, item_id), None)
            if row is not None:
                self.kinds[row] = _DEAD
                self.dead += 1
        if self.dead > 64 and self.dead * 4 > self.n:
            self._compact()

    def _compact(self) -> None:
        keep = self.live_rows()
        self.vecs, self.ids, self.kinds = self.vecs[keep].copy(), self.ids[keep].copy(), self.kinds[keep].copy()
        self.n, self.dead = len(keep), 0
        self.pos = {(int(c), int(i)): r for r, (c, i) in enumerate(zip(self.kinds, self.ids, strict=True))}


class VectorIndex:
    """Embeddings of a user's memories (exchanges, facts, reflections) and nearest-neighbour search over them."""

    def __init__(self, db: Database, embedder: Embedder, *, cached_users: int = 8) -> None:
        self.db = db
        self.embedder = embedder
        self.cached_users = cached_users
        self._cache: OrderedDict[UserId, _Matrix] = OrderedDict()
        # Changes made while a user's matrix is being loaded, replayed once it is in place.
        self._pending: dict[UserId, list[tuple[str, int, Sequence[int], Vectors | None]]] = {}

    @property
    def model_id(self) -> str:
        return self.embedder.model_id

    # Embedding --------------------------------------------------------------------------------------
    async def embed_query(self, query: str) -> npt.NDArray[np.float32]:
        vecs = await asyncio.to_thread(self.embedder.embed, [query], kind="query")
        return np.asarray(vecs[0], dtype=np.float32)

    async def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return await asyncio.to_thread(self.embedder.embed, list(texts), kind="passage")

    # Writes -----------------------------------------------------------------------------------------
    async def add(self, user_id: UserId, kind: MemoryKind, item_id: int, text: str) -> None:
        """Embed one memory and store its vector (replacing an earlier one for the same item)."""
        await self.add_many(user_id, [(kind, item_id, text)])

    async def add_many(self, user_id: UserId, items: Sequence[tuple[MemoryKind, int, str]], *, batch: int = 32) -> int:
        """Embed and store many memories, `batch` texts per model call. Returns how many were stored."""
        done = 0
        for k in range(0, len(items), batch):
            chunk = items[k:k + batch]
            vecs = await self.embed_passages([t for _, _, t in chunk])
            await self.store_vectors(user_id, [(kind, item_id) for kind, item_id, _ in chunk], vecs)
            done += len(chunk)
        return done

    async def store_vectors(self, user_id: UserId, keys: Sequence[tuple[MemoryKind, int]], vecs: Vectors) -> None:
        """Store vectors already computed (by this index's embedder) for these items."""
        if not keys:
            return
        for kind, _ in keys:
            if kind not in _CODE:
                raise ValueError(f"unknown memory kind {kind!r}")
        model = self.model_id
        rows = [{"user_id": user_id, "item_kind": kind, "item_id": int(item_id), "model": model, "vector": to_blob(v)}
                for (kind, item_id), v in zip(keys, vecs, strict=True)]
        ins = (sqlite_insert if self.db.dialect == "sqlite" else pg_insert)(embeddings)
        stmt = ins.on_conflict_do_update(index_elements=["item_kind", "item_id", "model"],
                                         set_={"vector": ins.excluded.vector, "user_id": ins.excluded.user_id})

        def tx(conn: Connection) -> None:
            conn.execute(stmt, rows)

        await self.db.write(tx)
        for (kind, item_id), v in zip(keys, vecs, strict=True):
            self._apply(user_id, ("put", _CODE[kind], [int(item_id)], v))

    async def remove(self, kind: MemoryKind, ids: Collection[int]) -> None:
        """Delete these items' vectors (every model) and forget them."""
        if not ids:
            return
        id_list = [int(i) for i in ids]

        def tx(conn: Connection) -> None:
            conn.execute(delete(embeddings).where(embeddings.c.item_kind == kind, embeddings.c.item_id.in_(id_list)))

        await self.db.write(tx)
        self.forget_items(kind, id_list)

    def forget_items(self, kind: MemoryKind, ids: Collection[int]) -> None:
        """Drop items from the in-memory matrices only: for rows a delete trigger already removed."""
        if ids:
            for user_id in list(self._cache) + list(self._pending):
                self._apply(user_id, ("drop", _CODE[kind], [int(i) for i in ids], None))

    def invalidate(self, user_id: UserId | None = None) -> None:
        """Forget the cached matrix of one user (or all); the next search reloads it from the table."""
        if user_id is None:
            self._cache.clear()
        else:
            self._cache.pop(user_id, None)

    def _apply(self, user_id: UserId, op: tuple[str, int, Sequence[int], Vectors | None]) -> None:
        m = self._cache.get(user_id)
        if m is not None:
            _replay(m, op)
        elif user_id in self._pending:
            self._pending[user_id].append(op)

    # Reads ------------------------------------------------------------------------------------------
    async def _matrix(self, user_id: UserId) -> _Matrix:
        m = self._cache.get(user_id)
        if m is not None:
            self._cache.move_to_end(user_id)
            return m
        self._pending.setdefault(user_id, [])
        try:
            model, dim = self.model_id, self.embedder.dim
            q = select(embeddings.c.item_kind, embeddings.c.item_id, embeddings.c.vector).where(
                embeddings.c.user_id == user_id, embeddings.c.model == model)
            rows = await self.db.read(lambda c: c.execute(q).all())
            m = self._cache.get(user_id)
            if m is not None:  # another search loaded it meanwhile
                return m
            kept = [r for r in rows if r.item_kind in _CODE]
            if kept and all(len(r.vector) == dim * 4 for r in kept):
                vecs = np.frombuffer(b"".join(r.vector for r in kept), dtype="<f4").reshape(len(kept), dim)
            else:
                vecs = np.stack([from_blob(r.vector, dim) for r in kept]) if kept else np.zeros((0, dim), np.float32)
            m = _Matrix.of(dim, [_CODE[r.item_kind] for r in kept], [int(r.item_id) for r in kept], vecs)
            for op in self._pending.get(user_id, []):
                _replay(m, op)
            self._cache[user_id] = m
            while len(self._cache) > self.cached_users:
                self._cache.popitem(last=False)
            return m
        finally:
            self._pending.pop(user_id, None)

    async def count(self, user_id: UserId) -> int:
        m = await self._matrix(user_id)
        return m.n - m.dead

    async def search(
        self, user_id: UserId, query: str, *, limit: int, kinds: Collection[MemoryKind] | None = None,
        before_id: int | None = None, exchange_window: tuple[int, int] | None = None,
        exclude: Collection[tuple[MemoryKind, int]] = (),
    ) -> list[Hit]:
        """The `limit` memories closest to `query`, best first.

        `before_id` keeps exchanges older than that id (the newer ones are in the prompt already);
        `exchange_window` keeps only exchanges with lo <= id <= hi (a time range, as ids); `exclude`
        drops particular items.
        """
        if limit <= 0 or not query.strip():
            return []
        vec = await self.embed_query(query)
        return await self.search_vector(user_id, vec, limit=limit, kinds=kinds, before_id=before_id,
                                        exchange_window=exchange_window, exclude=exclude)

    async def search_vector(
        self, user_id: UserId, vec: npt.NDArray[np.float32], *, limit: int, kinds: Collection[MemoryKind] | None = None,
        before_id: int | None = None, exchange_window: tuple[int, int] | None = None,
        exclude: Collection[tuple[MemoryKind, int]] = (),
    ) -> list[Hit]:
        """`search` with a query vector already embedded (by this index's embedder)."""
        return (await self.search_many(user_id, vec, [Filter(limit, kinds, before_id, exchange_window, exclude)]))[0]

    async def search_many(self, user_id: UserId, vec: npt.NDArray[np.float32], filters: Sequence[Filter]) -> list[list[Hit]]:
        """Several searches for one query vector, scoring every memory once (the scan is the cost)."""
        m = await self._matrix(user_id)
        if m.n == 0 or not filters:
            return [[] for _ in filters]
        # Take the arrays as they are now; appends and growth after this do not disturb the search.
        snap = (m.vecs, m.ids, m.kinds, m.n)
        prepared = [(f, [m.pos[(_CODE[k], i)] for k, i in f.exclude if (_CODE.get(k, -9), i) in m.pos]) for f in filters]
        if m.n < 20_000:  # below ~2 ms: not worth a thread hop
            return _top_many(snap, vec, prepared)
        return await asyncio.to_thread(_top_many, snap, vec, prepared)

    # Maintenance ------------------------------------------------------------------------------------
    async def missing(self, user_id: UserId, *, limit: int = 1000) -> list[tuple[MemoryKind, int, str]]:
        """Memories of this user with no vector from this index's model yet (exchanges, then facts, reflections)."""
        model = self.model_id

        def q(conn: Connection) -> list[tuple[MemoryKind, int, str]]:
            out: list[tuple[MemoryKind, int, str]] = []
            for table, kind in ((messages, "exchange"), (facts, "fact"), (reflections, "reflection")):
                have = select(embeddings.c.item_id).where(
                    embeddings.c.item_kind == kind, embeddings.c.model == model, embeddings.c.item_id == table.c.id)
                rows = conn.execute(select(table.c.id, table.c.text).where(table.c.user_id == user_id, ~have.exists())
                                    .order_by(table.c.id).limit(limit - len(out))).all()
                out += [(kind, int(r.id), str(r.text)) for r in rows]  # type: ignore[misc]
                if len(out) >= limit:
                    break
            return out

        return await self.db.read(q)

    async def backfill(self, user_id: UserId, *, batch: int = 32) -> int:
        """Embed every memory of this user that has no vector yet (after an import, or a model change)."""
        total = 0
        while True:
            todo = await self.missing(user_id, limit=batch * 8)
            if not todo:
                return total
            total += await self.add_many(user_id, todo, batch=batch)

    async def stored(self, user_id: UserId) -> int:
        """How many vectors of this model the table holds for the user."""
        q = select(func.count()).select_from(embeddings).where(embeddings.c.user_id == user_id,
                                                               embeddings.c.model == self.model_id)
        return int(await self.db.read(lambda c: c.execute(q).scalar_one()))


def _replay(m: _Matrix, op: tuple[str, int, Sequence[int], Vectors | None]) -> None:
    action, code, ids, vec = op
    if action == "put" and vec is not None:
        m.put(code, ids[0], vec)
    else:
        m.drop(code, ids)


def _top_many(snap: tuple[Vectors, npt.NDArray[np.int64], npt.NDArray[np.int8], int], q: npt.NDArray[np.float32],
              prepared: Sequence[tuple[Filter, list[int]]]) -> list[list[Hit]]:
    vecs, ids, codes, n = snap
    all_scores = vecs[:n] @ q.astype(np.float32, copy=False)
    c, i = codes[:n], ids[:n]
    dead = c == _DEAD
    is_ex = c == _CODE["exchange"]
    out: list[list[Hit]] = []
    for f, excluded_rows in prepared:
        if f.limit <= 0:
            out.append([])
            continue
        bad = dead.copy()
        if f.kinds is not None:
            bad |= ~np.isin(c, [_CODE[k] for k in f.kinds])
        if f.before_id is not None:
            bad |= is_ex & (i >= f.before_id)
        if f.exchange_window is not None:
            lo, hi = f.exchange_window
            bad |= is_ex & ((i < lo) | (i > hi))
        scores = np.where(bad, -np.inf, all_scores)
        if excluded_rows:
            scores[excluded_rows] = -np.inf
        k = min(f.limit, n)
        top = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
        top = top[np.argsort(-scores[top], kind="stable")]
        out.append([(KINDS[int(c[r])], int(i[r]), float(scores[r])) for r in top if np.isfinite(scores[r])])
    return out
