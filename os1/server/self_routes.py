"""Mood, journal and OS1's self over HTTP (for the web app's chart, journal page and settings)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from ..affect.mood import daily_moods
from ..runtime import Runtime
from .auth import UserIdDep
from .schemas import BAD_INPUT, ERRORS, ChangeOut, JournalList, JournalWritten, Moods, SelfOut


def self_router(rt: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["feelings and growth"])

    @router.get("/mood", response_model=Moods)
    async def mood(user: UserIdDep, days: int = Query(default=30, ge=1, le=3650)) -> dict[str, Any]:
        """How the user has seemed, one entry per day with messages: mean valence and arousal, top emotions."""
        found = await daily_moods(rt.db, user, days=days, now=rt.clock.now(), zone=rt.settings.zone())
        return {"days": [d.as_dict() for d in found]}

    @router.get("/journal", response_model=JournalList)
    async def journal(user: UserIdDep, limit: int = Query(default=20, ge=1, le=1000)) -> dict[str, Any]:
        """OS1's journal entries, newest first, with the changes each brought."""
        return {"entries": [e.as_dict() for e in await rt.companion.journal.entries(user, limit=limit)]}

    @router.post("/journal", response_model=JournalWritten, responses=ERRORS)
    async def write_journal(user: UserIdDep) -> dict[str, Any]:
        """Write a journal entry now (uses the model)."""
        await rt.model.load()
        p = await rt.companion.profile(user)
        entry = await rt.companion.journal.write(rt.model, user, now=rt.clock.now(), user_name=p.user_name,
                                                 companion_name=p.companion_name)
        return {"entry": entry.as_dict() if entry else None}

    @router.get("/self", response_model=SelfOut)
    async def self_model(user: UserIdDep) -> dict[str, Any]:
        """OS1's traits, core values, mood, interests and opinions, and every change with its reason."""
        me = await rt.companion.self_store.get(user, at=rt.clock.now())
        return {**me.as_dict(), "changes": [c.as_dict() for c in await rt.companion.self_store.changes(user)]}

    @router.post("/self/changes/{change_id}/revert", response_model=ChangeOut, responses=BAD_INPUT)
    async def revert(user: UserIdDep, change_id: int) -> dict[str, Any]:
        """Undo one change to OS1's opinions or interests."""
        return (await rt.companion.self_store.revert(user, change_id, at=rt.clock.now())).as_dict()

    return router
