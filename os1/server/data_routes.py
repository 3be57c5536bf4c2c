"""Your data over HTTP: what leaves this machine, a full export (zip), and deleting everything."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import IO, Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from ..data import CONFIRMATION, delete_everything, export_zip
from ..data.delete import clear_caches
from ..doctor import Destination, privacy
from ..errors import InputError
from ..runtime import Runtime
from .auth import CurrentUser, UserIdDep

CHUNK = 64 * 1024


class DeleteIn(BaseModel):
    confirm: str = Field(max_length=100, description=f'Must be "{CONFIRMATION}": deleting cannot be undone.')


def _chunks(buffer: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := buffer.read(CHUNK):
            yield chunk
    finally:
        buffer.close()


def data_router(rt: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["your data"])

    @router.get("/privacy")
    async def privacy_report(_: UserIdDep) -> dict[str, Any]:
        """What leaves this machine and to where (model server, database server, accounts); encryption at rest."""
        report = await asyncio.to_thread(privacy, rt.settings, rt.db)
        model = rt.model
        if not model.capabilities.local and not any(d.what.startswith("conversation") for d in report.destinations):
            where = str(getattr(model, "base_url", "") or "a remote model server")
            report = report.with_destination(Destination("conversation text (every prompt)", where))
        return report.as_dict()

    @router.get("/export", response_class=StreamingResponse,
                responses={200: {"content": {"application/zip": {}}, "description": "A zip: manifest.json, "
                                 "tables/*.json (every table) and memory-book.md."}})
    async def export(me: CurrentUser) -> StreamingResponse:
        """Everything OS1 keeps about you, as a zip download (with accounts: without the install's own files)."""
        now = rt.clock.now()
        buffer, _ = await asyncio.to_thread(export_zip, rt.db, me.id, zone=rt.settings.zone(), now=now,
                                            home=None if me.signed_in else rt.settings.home)
        name = f"os1-export-{now.astimezone(await rt.companion.proactive.zone(me.id)).date().isoformat()}.zip"
        return StreamingResponse(_chunks(buffer), media_type="application/zip",
                                 headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @router.post("/delete")
    async def delete(me: CurrentUser, body: DeleteIn) -> dict[str, Any]:
        """Delete everything OS1 keeps about you, verifiably (send {"confirm": "delete everything"}).

        With accounts, your account goes too; the install's own files (settings, keys) stay: they are not yours."""
        user = me.id
        if body.confirm.strip().lower() != CONFIRMATION:
            raise InputError("Nothing was deleted: the confirmation is missing.",
                             hint=f'Send {{"confirm": "{CONFIRMATION}"}} to delete everything; it cannot be undone.')
        async with rt.companion.exclusive(user):
            gone = await delete_everything(rt.db, user, home=rt.settings.home, files=not me.signed_in,
                                           secret_store=rt.settings.secret_store)
            clear_caches(rt.companion)
        return gone.as_dict()

    return router
