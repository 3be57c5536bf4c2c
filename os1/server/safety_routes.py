"""Safety over HTTP: the events OS1 recorded, and the crisis lines it shows (docs/safety.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from ..runtime import Runtime
from .auth import UserIdDep


def safety_router(rt: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api/v1/safety", tags=["safety"])

    @router.get("/events")
    async def events(user: UserIdDep, limit: int = Query(default=50, ge=1, le=10_000)) -> dict[str, Any]:
        """Each time the risk screen found risk (or the reply check caught a reply), newest first."""
        found = await rt.companion.safety_events.list(user, limit=limit)
        return {"events": [e.as_dict() for e in found]}

    @router.get("/resources")
    async def resources() -> dict[str, Any]:
        """The crisis lines shown for the configured country (OS1_LOCALE). Open to all: never behind a sign-in."""
        r = rt.companion.config.crisis_resources
        return {"country": r.country, "name": r.name, "lines": list(r.lines), "emergency": r.emergency,
                "shown": list(r.shown)}

    return router
