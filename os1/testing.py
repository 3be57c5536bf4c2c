"""Fakes shipped for tests and plugin authors: a scripted model, and a fake OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from .models.echo import EchoModel
from .models.scripted import ScriptedModel

__all__ = ["EchoModel", "FakeOpenAIServer", "RoutingModel", "ScriptedModel", "free_port", "serve_app"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_app(app: Any, port: int | None = None) -> Iterator[str]:
    """Run an ASGI app with uvicorn on loopback in a thread; yields its base URL."""
    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("fake server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class FakeOpenAIServer:
    """An OpenAI-compatible chat server that streams scripted replies and records every request."""

    replies: list[str] = field(default_factory=list)
    default: str = "Hello from the fake server."
    token_delay: float = 0.0
    api_key: str | None = None
    models: tuple[str, ...] = ("fake-model",)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    tool_calls: list[list[dict[str, Any]]] = field(default_factory=list)
    """Answers to requests that offer `tools`, in order: each a list of calls `{"name", "arguments"}`
    (arguments a dict, or a string sent as is); an empty list answers with text and no call."""

    def app(self) -> Any:
        app = FastAPI()

        def authorized(request: Request) -> bool:
            self.headers.append(dict(request.headers))
            return self.api_key is None or request.headers.get("authorization") == f"Bearer {self.api_key}"

        @app.get("/v1/models")
        async def models(request: Request) -> Any:
            if not authorized(request):
                return JSONResponse({"error": {"message": "bad key"}}, status_code=401)
            return {"object": "list", "data": [{"id": m, "object": "model"} for m in self.models]}

        @app.post("/v1/chat/completions")
        async def completions(request: Request) -> Any:
            if not authorized(request):
                return JSONResponse({"error": {"message": "bad key"}}, status_code=401)
            body = await request.json()
            self.requests.append(body)
            if body.get("tools") and self.tool_calls:
                return self._tool_reply(body, self.tool_calls.pop(0))
            reply = self.replies.pop(0) if self.replies else self.default
            if not body.get("stream"):
                return {"id": "x", "object": "chat.completion", "model": body["model"],
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                                     "finish_reason": "stop"}]}

            async def events() -> AsyncIterator[str]:
                for word in reply.split(" "):
                    if self.token_delay:
                        await asyncio.sleep(self.token_delay)
                    chunk = {"id": "x", "object": "chat.completion.chunk", "model": body["model"],
                             "choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}]}
                    yield f"data: {json.dumps(chunk)}\n\n"
                yield "data: [DONE]\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")

        return app

    def _tool_reply(self, body: dict[str, Any], calls: list[dict[str, Any]]) -> dict[str, Any]:
        """A chat completion whose message carries `tool_calls` (OpenAI's function-calling shape)."""
        made = [{"id": f"call_{i}", "type": "function",
                 "function": {"name": c["name"], "arguments": c["arguments"] if isinstance(c["arguments"], str)
                              else json.dumps(c["arguments"])}} for i, c in enumerate(calls)]
        message: dict[str, Any] = {"role": "assistant", "content": None if made else "No tool needed."}
        if made:
            message["tool_calls"] = made
        return {"id": "x", "object": "chat.completion", "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if made else "stop"}]}


class RoutingModel:
    """Chat requests go to one model, structured (JSON-schema) requests to another.

    With `RoutingModel(EchoModel(), ScriptedModel())` a test sees the exact chat prompt (echo) while
    scripted JSON plays the model's part in fact extraction and reflection.
    """

    def __init__(self, chat: Any, structured: Any) -> None:
        self.chat = chat
        self.structured = structured
        self.model_id = f"routing({chat.model_id},{structured.model_id})"
        self.capabilities = chat.capabilities

    async def load(self) -> None:
        await self.chat.load()
        await self.structured.load()

    async def close(self) -> None:
        await self.chat.close()
        await self.structured.close()

    def stream(self, messages: Any, *, options: Any) -> Any:
        target = self.structured if options.json_schema is not None else self.chat
        return target.stream(messages, options=options)
