"""FastAPI app factory: REST + server-sent events + WebSocket, and the static chat page."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from ..accounts import Accounts
from ..affect import read_emotion
from ..config import Settings
from ..errors import InputError, ModelError, ModelUnavailable, OS1Error, StoreError, ToolError
from ..models import ChatModel
from ..runtime import Runtime, open_runtime
from ..safety import assess
from ..types import ReplyEvent
from ..wire import TurnResult, event_dict
from .auth import AUTH_ERRORS, Gate, UserIdDep, admit, install
from .auth_routes import auth_router
from .claims import ClusterClaims
from .data_routes import data_router
from .gate import TurnGate, TurnRefused, install_turn_gate, refused_body, released_after
from .hub import Hub
from .limits import BodyLimit, RateLimit, invalid_body, parse_limits
from .memory_routes import memory_router
from .openai_routes import openai_router
from .proactive_routes import proactive_router
from .safety_routes import safety_router
from .schemas import BAD_INPUT, ERRORS, SSE_DOC, ChatResult, Health, History, ProfileOut
from .self_routes import self_router
from .settings_routes import settings_router
from .tools_routes import tools_router
from .voice_routes import voice_router

log = logging.getLogger("os1.server")

STATIC = Path(__file__).parent / "static"
MAX_BODY_BYTES = 2 * 1024 * 1024
# Requests that run the model: they get the stricter per-client turn limit (Settings.turn_rate_limit).
TURN_PATHS = ("/api/v1/chat", "/api/v1/chat/stream", "/api/v1/greet", "/v1/chat/completions")


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
    if isinstance(e, ToolError):
        return 502  # a mail or calendar server failed or refused: the gateway's failure, not the request's
    return 400


def error_body(e: OS1Error) -> dict[str, Any]:
    return {"error": {"type": type(e).__name__, "message": e.message, "hint": e.hint}}


def create_app(settings: Settings | None = None, *, model: ChatModel | None = None) -> FastAPI:
    """Build the app. The database opens now; the model loads in the background after start-up."""
    settings = settings or Settings()
    general = parse_limits(settings.rate_limit, "OS1_RATE_LIMIT")
    turns = parse_limits(settings.turn_rate_limit, "OS1_TURN_RATE_LIMIT")
    rt: Runtime = open_runtime(settings, model=model)
    state: dict[str, Any] = {"model": "loading", "model_error": None}

    async def load_model() -> None:
        model = rt.model
        try:
            await model.load()
            if rt.model is model:
                state["model"], state["model_error"] = "ready", None
        except OS1Error as e:
            if rt.model is model:
                state["model"], state["model_error"] = "unavailable", error_body(e)["error"]

    loading: set[asyncio.Task[None]] = set()

    async def use_model(new: ChatModel) -> None:
        """Swap in another chat model (the settings changed); it loads in the background.

        The old one is not closed here: a reply or background learning may still be using it, and it is
        freed when the last of them lets go.
        """
        rt.model = rt.companion.model = rt.companion.learner.model = new
        state["model"], state["model_error"] = "loading", None
        task = asyncio.create_task(load_model())
        loading.add(task)
        task.add_done_callback(loading.discard)

    # Proactive messages: the job runner delivers them, the hub pushes them to open WebSockets.
    hub = Hub(rt.companion.proactive, poll=settings.job_poll_seconds)
    rt.companion.proactive.runner.listeners.append(hub.wake)

    async def warm_readers() -> None:
        """Load the e5 model and the emotion and risk heads now (about a second), not in someone's first turn."""
        try:
            await asyncio.to_thread(read_emotion, "Hello.")
            await asyncio.to_thread(assess, "Hello.")
        except Exception as e:  # a reader that cannot load falls back on its own at the first turn
            log.warning("warming the readers failed: %s", e)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(load_model())
        warm = asyncio.create_task(warm_readers() if settings.embeddings else asyncio.sleep(0))
        stop = asyncio.Event()
        background = [asyncio.create_task(hub.watch(stop))]
        if settings.run_jobs:
            background.append(asyncio.create_task(
                rt.companion.proactive.runner.run_forever(stop, poll=settings.job_poll_seconds)))
        yield
        stop.set()
        _finished, unfinished = await asyncio.wait(background, timeout=10)
        for t in unfinished:  # a job cut short keeps its lease and runs again later: nothing is lost
            t.cancel()
        task.cancel()
        warm.cancel()
        await rt.companion.pause_learning()
        if claims is not None:
            claims.close()
        await rt.aclose()

    app = FastAPI(title="OS1", version="0.1.0", lifespan=lifespan,
                  description="A local-first personal AI companion. Replies stream over SSE or WebSocket.")
    app.state.runtime = rt
    app.state.proactive_hub = hub
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(RateLimit, general=general, turns=turns, turn_paths=TURN_PATHS, storage=settings.rate_limit_storage)
    # Who is asking: every route below takes the signed-in user (docs/accounts.md).
    install(app, Gate(settings, Accounts(rt.db, clock=rt.clock, session_ttl=timedelta(days=settings.session_days))))

    # Replies in progress: one at a time per user, a bounded wait for the rest (gate.py).
    # On PostgreSQL (several app servers) a user's turn is also claimed cluster-wide (claims.py).
    claims = ClusterClaims(rt.db.engine) if rt.db.dialect == "postgresql" else None
    turn_gate = TurnGate(max_turns=settings.max_turns, per_user=settings.turns_per_user, wait=settings.turn_wait_seconds,
                         claims=claims)
    install_turn_gate(app, turn_gate)

    @app.exception_handler(OS1Error)
    async def os1_error(_: Request, exc: OS1Error) -> JSONResponse:
        return JSONResponse(error_body(exc), status_code=_status(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own 422 echoes the input back, and crashed (500) on a body of `Infinity` (found by fuzzing).
        return JSONResponse(invalid_body(exc), status_code=422)

    async def prepare(message: str) -> None:
        """Refuse before anything is stored: bad input (400) or a model that cannot answer (503)."""
        try:
            await rt.companion.prepare(message)
        except ModelError as e:
            state["model"], state["model_error"] = "unavailable", error_body(e)["error"]
            raise
        if state["model"] != "ready" and rt.model.capabilities.local:
            state["model"], state["model_error"] = "ready", None

    @app.get("/api/v1/health", response_model=Health, tags=["conversation"])
    async def health() -> dict[str, Any]:
        """Whether the server, database and model are ready."""
        return {"status": "ok", "model": rt.model.model_id, "model_state": state["model"],
                "model_error": state["model_error"]}

    @app.get("/api/v1/profile", response_model=ProfileOut, responses=AUTH_ERRORS, tags=["conversation"])
    async def profile(user: UserIdDep) -> dict[str, Any]:
        """OS1's name, the user's name, and how far the first meeting has got."""
        p = await rt.companion.profile(user)
        return {"companion_name": p.companion_name, "user_name": p.user_name, "stage": p.stage}

    @app.post("/api/v1/profile/rename", response_model=ProfileOut, responses={**BAD_INPUT, **AUTH_ERRORS},
              tags=["conversation"])
    async def rename(body: RenameIn, user: UserIdDep) -> dict[str, Any]:
        """Give OS1 a new name."""
        p = await rt.companion.rename(user, body.name)
        return {"companion_name": p.companion_name, "user_name": p.user_name, "stage": p.stage}

    @app.get("/api/v1/history", response_model=History, responses=AUTH_ERRORS, tags=["conversation"])
    async def history(user: UserIdDep, limit: int = 50) -> dict[str, Any]:
        """The most recent messages, oldest first."""
        limit = max(1, min(limit, 500))
        items = await rt.store.recent(user, limit)
        return {"messages": [{"id": e.id, "role": e.role, "text": e.text, "created_at": e.created_at.isoformat()}
                             for e in items]}

    @app.post("/api/v1/chat", response_model=ChatResult, responses={**ERRORS, **AUTH_ERRORS}, tags=["conversation"])
    async def chat(body: ChatIn, user: UserIdDep) -> dict[str, Any]:
        """One turn; the whole reply with recalled memories, emotion reading and any safety notice."""
        async with turn_gate.turn(user):
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

    @app.post("/api/v1/chat/stream", response_class=StreamingResponse, responses={**SSE_DOC, **ERRORS, **AUTH_ERRORS},
              tags=["conversation"])
    async def chat_stream(body: ChatIn, user: UserIdDep) -> StreamingResponse:
        """One turn streamed as server-sent events: perceived, recalled, safety?, delta…, done (or error)."""
        slot = await turn_gate.enter(user)
        try:
            await prepare(body.message)
        except BaseException:
            slot.release()
            raise
        return sse(released_after(slot, rt.companion.reply(user, body.message)))

    @app.post("/api/v1/greet", response_class=StreamingResponse, responses={**SSE_DOC, **ERRORS, **AUTH_ERRORS},
              tags=["conversation"])
    async def greet(user: UserIdDep) -> StreamingResponse:
        """On the very first meeting, OS1 speaks first (streamed). Empty stream once you have met."""
        await rt.model.load()
        return sse(rt.companion.greet(user))

    @app.websocket("/api/v1/ws")
    async def ws(socket: WebSocket) -> None:
        """Send {"type": "message", "text": "…"}; receive the same events as the SSE stream.

        Signed in by the session cookie or an Authorization header at the handshake; otherwise closed with 1008."""
        principal = await admit(socket)
        if principal is None:
            return
        user = principal.id
        await socket.accept()
        lock = hub.add(socket, user)  # proactive messages are pushed here too, as {"type": "proactive", …}

        async def send(obj: dict[str, Any]) -> None:
            async with lock:
                await socket.send_json(obj)

        try:
            while True:
                try:
                    data = json.loads(await socket.receive_text())
                    text = data.get("text") if isinstance(data, dict) and data.get("type") == "message" else None
                    if not isinstance(text, str):
                        raise InputError('Send {"type": "message", "text": "…"}.')
                    async with turn_gate.turn(user):
                        await prepare(text)
                        async for event in rt.companion.reply(user, text):
                            await send(event_dict(event))
                except TurnRefused as e:
                    await send({"type": "error", **refused_body(e)})
                except ValueError:
                    await send({"type": "error", **error_body(InputError('Send {"type": "message", "text": "…"} as JSON.'))})
                except OS1Error as e:
                    await send({"type": "error", **error_body(e)})
        except WebSocketDisconnect:
            return
        finally:
            hub.remove(socket)

    app.include_router(auth_router(rt))
    for router in (memory_router(rt), self_router(rt), safety_router(rt), data_router(rt), settings_router(rt, use_model),
                   voice_router(rt), openai_router(rt, prepare), proactive_router(rt), tools_router(rt)):
        app.include_router(router, responses=AUTH_ERRORS)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/login", include_in_schema=False)
    async def login_page() -> FileResponse:
        return FileResponse(STATIC / "login.html")

    return app
