"""FastAPI app factory: REST + server-sent events + WebSocket, and the static chat page."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from ..config import Settings
from ..errors import InputError, ModelError, ModelUnavailable, OS1Error, StoreError
from ..models import ChatModel
from ..runtime import Runtime, open_runtime
from ..types import ReplyEvent
from ..wire import TurnResult, event_dict
from .limits import BodyLimit
from .memory_routes import memory_router
from .self_routes import self_router

log = logging.getLogger("os1.server")

STATIC = Path(__file__).parent / "static"
MAX_BODY_BYTES = 2 * 1024 * 1024


class ChatIn(BaseModel):
    message: str = Field(description="What the user says.")


class RenameIn(BaseModel):
    name: str = Field(min_length=1, max_length=60)


def _status(e: OS1Error) -> int:
    if isinstance(e, InputError):
        return 400
    if isinstance(e, ModelUnavailable):
        return 503
    if isinstance(e, ModelError):
        return 502
    if isinstance(e, StoreError):
        return 500
    return 400


def error_body(e: OS1Error) -> dict[str, Any]:
    return {"error": {"type": type(e).__name__, "message": e.message, "hint": e.hint}}


def create_app(settings: Settings | None = None, *, model: ChatModel | None = None) -> FastAPI:
    """Build the app. The database opens now; the model loads in the background after start-up."""
    settings = settings or Settings()
    rt: Runtime = open_runtime(settings, model=model)
    state: dict[str, Any] = {"model": "loading", "model_error": None}

    async def load_model() -> None:
        try:
            await rt.model.load()
            state["model"] = "ready"
        except OS1Error as e:
            state["model"], state["model_error"] = "unavailable", error_body(e)["error"]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(load_model())
        yield
        task.cancel()
        await rt.companion.pause_learning()
        await rt.aclose()

    app = FastAPI(title="OS1", version="0.1.0", lifespan=lifespan,
                  description="A local-first personal AI companion. Replies stream over SSE or WebSocket.")
    app.state.runtime = rt
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)

    @app.exception_handler(OS1Error)
    async def os1_error(_: Request, exc: OS1Error) -> JSONResponse:
        return JSONResponse(error_body(exc), status_code=_status(exc))

    user = settings.user

    async def prepare(message: str) -> None:
        """Refuse before anything is stored: bad input (400) or a model that cannot answer (503)."""
        try:
            await rt.companion.prepare(message)
        except ModelError as e:
            state["model"], state["model_error"] = "unavailable", error_body(e)["error"]
            raise
        if state["model"] != "ready" and rt.model.capabilities.local:
            state["model"], state["model_error"] = "ready", None

    @app.get("/api/v1/health")
    async def health() -> dict[str, Any]:
        """Whether the server, database and model are ready."""
        return {"status": "ok", "model": rt.model.model_id, "model_state": state["model"],
                "model_error": state["model_error"]}

    @app.get("/api/v1/profile")
    async def profile() -> dict[str, Any]:
        """OS1's name, the user's name, and how far the first meeting has got."""
        p = await rt.companion.profile(user)
        return {"companion_name": p.companion_name, "user_name": p.user_name, "stage": p.stage}

    @app.post("/api/v1/profile/rename")
    async def rename(body: RenameIn) -> dict[str, Any]:
        """Give OS1 a new name."""
        p = await rt.companion.rename(user, body.name)
        return {"companion_name": p.companion_name, "user_name": p.user_name, "stage": p.stage}

    @app.get("/api/v1/history")
    async def history(limit: int = 50) -> dict[str, Any]:
        """The most recent messages, oldest first."""
        limit = max(1, min(limit, 500))
        items = await rt.store.recent(user, limit)
        return {"messages": [{"id": e.id, "role": e.role, "text": e.text, "created_at": e.created_at.isoformat()}
                             for e in items]}

    @app.post("/api/v1/chat")
    async def chat(body: ChatIn) -> dict[str, Any]:
        """One turn; the whole reply with recalled memories, emotion reading and any safety notice."""
        await prepare(body.message)
        result = TurnResult()
        async for event in rt.companion.reply(user, body.message):
            result.add(event)
        return result.as_dict(rt.model.model_id)

    def sse(events: AsyncIterator[ReplyEvent]) -> StreamingResponse:
        async def gen() -> AsyncIterator[str]:
            try:
                async for event in events:
                    yield f"data: {json.dumps(event_dict(event), ensure_ascii=False)}\n\n"
            except OS1Error as e:
                yield f"data: {json.dumps({'type': 'error', **error_body(e)})}\n\n"
            except Exception:  # never end a stream silently
                log.exception("reply stream failed")
                yield f"data: {json.dumps({'type': 'error', **error_body(OS1Error('Something went wrong on our side.', hint='Try again; the details are in the server log.'))})}\n\n"
        return StreamingResponse(gen(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @app.post("/api/v1/chat/stream")
    async def chat_stream(body: ChatIn) -> StreamingResponse:
        """One turn streamed as server-sent events: perceived, recalled, safety?, delta…, done (or error)."""
        await prepare(body.message)
        return sse(rt.companion.reply(user, body.message))

    @app.post("/api/v1/greet")
    async def greet() -> StreamingResponse:
        """On the very first meeting, OS1 speaks first (streamed). Empty stream once you have met."""
        await rt.model.load()
        return sse(rt.companion.greet(user))

    @app.websocket("/api/v1/ws")
    async def ws(socket: WebSocket) -> None:
        """Send {"type": "message", "text": "…"}; receive the same events as the SSE stream."""
        await socket.accept()
        try:
            while True:
                try:
                    data = json.loads(await socket.receive_text())
                    text = data.get("text") if isinstance(data, dict) and data.get("type") == "message" else None
                    if not isinstance(text, str):
                        raise InputError('Send {"type": "message", "text": "…"}.')
                    await prepare(text)
                    async for event in rt.companion.reply(user, text):
                        await socket.send_json(event_dict(event))
                except ValueError:
                    await socket.send_json({"type": "error", **error_body(InputError('Send {"type": "message", "text": "…"} as JSON.'))})
                except OS1Error as e:
                    await socket.send_json({"type": "error", **error_body(e)})
        except WebSocketDisconnect:
            return

    app.include_router(memory_router(rt))
    app.include_router(self_router(rt))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    return app
