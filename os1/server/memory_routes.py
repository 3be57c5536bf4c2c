"""Memory over HTTP: browse, search, show, edit and forget what OS1 knows; the people it knows."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from ..memory.book import MemoryBook
from ..runtime import Runtime
from ..wire import memory_dict
from .auth import UserIdDep
from .schemas import BAD_INPUT, ForgetPreview, Forgotten, MemoryItemOut, MemoryList, People, SearchResult


class EditIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000, description="The corrected text.")


class ForgetIn(BaseModel):
    query: str = Field(min_length=1, max_length=500, description="A memory id (e12, f7, r3) or what to forget.")
    dry_run: bool = Field(default=False, description="Only say what would be forgotten.")


def memory_router(rt: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["memory"])
    async def book_for(user: str) -> MemoryBook:
        """The memory book in this person's time zone (dates and "last Tuesday" read in it)."""
        return MemoryBook(rt.companion.memory, await rt.companion.proactive.zone(user))

    @router.get("/memory", response_model=MemoryList, responses=BAD_INPUT)
    async def list_memories(user: UserIdDep, kind: Literal["known", "fact", "reflection", "exchange", "all"] = "known",
                            limit: int = Query(default=100, ge=1, le=1000)) -> dict[str, Any]:
        """What OS1 knows, newest first, each with its source."""
        return {"memories": [m.as_dict() for m in await (await book_for(user)).items(user, kind=kind, limit=limit)]}

    @router.get("/memory/search", response_model=SearchResult)
    async def search_memories(user: UserIdDep, q: str = Query(min_length=1, max_length=2000),
                              limit: int = Query(default=10, ge=1, le=100)) -> dict[str, Any]:
        """Search memories the way OS1 recalls them in conversation."""
        found = await rt.companion.search_memories(user, q, limit=limit)
        return {"memories": [memory_dict(m) for m in found]}

    @router.get("/memory/{ref}", response_model=MemoryItemOut, responses=BAD_INPUT)
    async def show_memory(user: UserIdDep, ref: str) -> dict[str, Any]:
        """One memory with its source, history and what was derived from it."""
        return (await (await book_for(user)).show(user, ref)).as_dict()

    @router.patch("/memory/{ref}", response_model=MemoryItemOut, responses=BAD_INPUT)
    async def edit_memory(user: UserIdDep, ref: str, body: EditIn) -> dict[str, Any]:
        """Correct a memory's text."""
        return (await (await book_for(user)).edit(user, ref, body.text, at=rt.clock.now())).as_dict()

    @router.delete("/memory/{ref}", response_model=Forgotten, responses=BAD_INPUT)
    async def delete_memory(user: UserIdDep, ref: str) -> dict[str, Any]:
        """Forget one memory and everything derived from it."""
        await (await book_for(user)).show(user, ref)  # 400 with a clear message if there is no such memory
        return await _forget(user, ref, dry_run=False)

    @router.post("/memory/forget", response_model=ForgetPreview | Forgotten, responses=BAD_INPUT)
    async def forget(user: UserIdDep, body: ForgetIn) -> dict[str, Any]:
        """Forget everything matching a description (or preview it with dry_run)."""
        return await _forget(user, body.query, dry_run=body.dry_run)

    async def _forget(user: str, selector: str, *, dry_run: bool) -> dict[str, Any]:
        sel = await rt.companion.memory.forgetter.select(user, selector)
        if dry_run:
            sel = await rt.companion.memory.forgetter.expand(user, sel)
            return {"would_forget": {"exchanges": [f"e{i}" for i in sel.exchanges], "facts": [f"f{i}" for i in sel.facts],
                                     "reflections": [f"r{i}" for i in sel.reflections], "people": list(sel.people),
                                     "previews": list(sel.previews[:50])}}
        gone = await rt.companion.forget(user, sel)
        return {"forgotten": gone.count, "exchanges": [f"e{i}" for i in gone.exchanges],
                "facts": [f"f{i}" for i in gone.facts], "reflections": [f"r{i}" for i in gone.reflections],
                "people": list(gone.people)}

    @router.get("/people", response_model=People)
    async def people(user: UserIdDep) -> dict[str, Any]:
        """The people in the user's life OS1 knows about."""
        found = await rt.companion.memory.facts.people(user)
        return {"people": [{"id": p.id, "name": p.name, "relation": p.relation, "location": p.location,
                            "last_mentioned_at": p.last_mentioned_at.isoformat() if p.last_mentioned_at else None,
                            "last_contact_at": p.last_contact_at.isoformat() if p.last_contact_at else None}
                           for p in found]}

    return router
