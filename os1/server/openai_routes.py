"""An OpenAI-compatible face: `POST /v1/chat/completions` (streamed or not) and `GET /v1/models`.

Any OpenAI client talks to OS1 as if it were a model, and gets OS1 whole: memory, persona, emotion
reading, safety. A chat-completions call is stateless and OS1 is not, so (docs/openai-api.md):
only the last message (a user message) is new; the earlier ones are the client's copy of the
conversation and are neither stored nor used (OS1 keeps its own); the client's system prompt is a
quoted note of context, never instructions above OS1's persona or safety; every call is the user
whose API token it carries (`Authorization: Bearer os1_…`; in the single-user mode, the local user,
whatever key the client sends), never the one named in the request's `user` field; `os1` is the only
model name.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from ..errors import InputError, ModelError, ModelUnavailable, OS1Error
from ..runtime import Runtime
from ..types import Perceived, Recalled, ReplyDone, SafetyNotice, TextDelta
from ..wire import TurnResult, emotion_dict, memory_dict
from .auth import UserIdDep
from .gate import TurnGate, TurnRefused, released_after
from .schemas import sse_of

log = logging.getLogger("os1.server")

MODEL_NAME = "os1"
"""The one model OS1 offers: itself, with whatever backend OS1_MODEL chose."""


# Requests -----------------------------------------------------------------------------------------
class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str = Field(description="Only `text` parts are read; images and audio are refused.")
    text: str | None = None


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None
    name: str | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class CompletionRequest(BaseModel):
    """OpenAI's chat-completions request. Sampling fields are accepted and ignored: OS1 uses its own."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(description="`os1`.", examples=["os1"])
    messages: list[ChatMessageIn] = Field(min_length=1, description="The last one must be the user's new message.")
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int | None = Field(default=None, description="Only 1.")
    user: str | None = Field(default=None, description="Accepted, not used to pick a user (see docs/openai-api.md).")
    temperature: float | None = None
    max_tokens: int | None = None


# Responses ----------------------------------------------------------------------------------------
class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str
    os1_backend: str = Field(description="The chat model behind OS1 right now (OS1_MODEL).")


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int
    message: AssistantMessage
    finish_reason: Literal["stop"]
    logprobs: None = None


class ChatCompletion(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: None = Field(default=None, description="OS1 does not count tokens for clients.")
    os1: dict[str, Any] = Field(description="OS1's extras: memories recalled, emotion reading, safety notice, ids.")


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIError(BaseModel):
    error: OpenAIErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": OpenAIError}, 404: {"model": OpenAIError}, 502: {"model": OpenAIError}, 503: {"model": OpenAIError},
}


CHUNK_EVENT: dict[str, Any] = {
    "title": "ChatCompletionChunkEvent",
    "anyOf": [
        {"type": "object", "required": ["id", "object", "created", "model", "choices"],
         "properties": {"object": {"const": "chat.completion.chunk"}, "choices": {"type": "array"},
                        "os1": {"type": "object", "description": "On the last chunk: memories, emotion, safety, ids."}}},
        {"type": "object", "required": ["error"], "description": "The reply failed part-way."},
        {"const": "[DONE]"},
    ],
}


def openai_error(status: int, message: str, *, kind: str = "invalid_request_error", param: str | None = None,
                 code: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": code}}, status_code=status)


def _error(e: OS1Error) -> tuple[int, dict[str, Any]]:
    """An OS1 error as OpenAI's status and error object (the hint joins the message: clients show only that)."""
    text = e.message + (f" {e.hint}" if e.hint else "")
    if isinstance(e, TurnRefused):  # this user mid-reply (429), or every reply slot taken (503)
        status, kind = e.status, "rate_limit_error" if e.status == 429 else "service_unavailable"
        code = "rate_limit_exceeded" if e.status == 429 else "server_busy"
    elif isinstance(e, InputError):
        status, kind, code = 400, "invalid_request_error", None
    elif isinstance(e, ModelUnavailable):
        status, kind, code = 503, "service_unavailable", "model_unavailable"
    elif isinstance(e, ModelError):
        status, kind, code = 502, "api_error", "model_error"
    else:
        status, kind, code = 500, "api_error", None
    return status, {"message": text, "type": kind, "param": None, "code": code}


def _from_os1(e: OS1Error) -> JSONResponse:
    status, body = _error(e)
    retry = getattr(e, "retry_after", None)
    return JSONResponse({"error": body}, status_code=status,
                        headers={"Retry-After": str(retry)} if retry is not None else None)


def _text(message: ChatMessageIn) -> str:
    if message.content is None:
        return ""
    if isinstance(message.content, str):
        return message.content
    if any(p.type != "text" for p in message.content):
        raise InputError("OS1 reads text only; this message has images or audio in it.",
                         hint="Send the message as text.")
    return "\n".join(p.text or "" for p in message.content)


def split_request(req: CompletionRequest) -> tuple[str, str | None]:
    """The new user message, and the client's system prompt (context), from a stateless request."""
    last = req.messages[-1]
    if last.role != "user":
        raise InputError("The last message must be the user's new message.",
                         hint="OS1 answers one new user message per call; earlier messages are the client's copy.")
    context = "\n\n".join(_text(m) for m in req.messages[:-1] if m.role in ("system", "developer")).strip()
    return _text(last), context or None


def openai_router(rt: Runtime, prepare: Callable[[str], Awaitable[None]]) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["openai-compatible"])

    def card() -> ModelCard:
        return ModelCard(id=MODEL_NAME, created=0, owned_by="os1", os1_backend=rt.model.model_id)

    @router.get("/models", response_model=ModelList)
    async def models(_: UserIdDep) -> ModelList:
        """The models OS1 offers: one, `os1`."""
        return ModelList(data=[card()])

    @router.get("/models/{model}", response_model=ModelCard, responses={404: {"model": OpenAIError}})
    async def model(_: UserIdDep, model: str) -> Any:
        """One model by name."""
        if model != MODEL_NAME:
            return openai_error(404, f"The model {model!r} does not exist; OS1 offers {MODEL_NAME!r}.",
                                param="model", code="model_not_found")
        return card()

    @router.post("/chat/completions", response_model=ChatCompletion, responses={
        **ERRORS, 200: {"content": {"text/event-stream": {"schema": sse_of(CHUNK_EVENT)}},
                        "description": "A chat.completion, or with `stream: true` chat.completion.chunk events "
                                       "ending with `[DONE]`."}})
    async def completions(user: UserIdDep, req: CompletionRequest, request: Request) -> Any:
        """One turn with OS1. Only the last (user) message is new; see docs/openai-api.md."""
        if req.model != MODEL_NAME:
            return openai_error(404, f"The model {req.model!r} does not exist; OS1 offers {MODEL_NAME!r}.",
                                param="model", code="model_not_found")
        if req.n not in (None, 1):
            return openai_error(400, "OS1 gives one reply per message (n must be 1).", param="n")
        gate: TurnGate = request.app.state.turn_gate  # one reply at a time per user, bounded waits (gate.py)
        try:
            slot = await gate.enter(user)
        except TurnRefused as e:
            return _from_os1(e)
        try:
            text, context = split_request(req)
            await prepare(text)
        except OS1Error as e:
            slot.release()
            return _from_os1(e)
        except BaseException:
            slot.release()
            raise
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(rt.clock.now().timestamp())
        events = released_after(slot, rt.companion.reply(user, text, context=context))
        if req.stream:
            usage = bool(req.stream_options and req.stream_options.include_usage)
            return StreamingResponse(_chunks(events, completion_id, created, usage), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache"})
        result = TurnResult()
        try:
            async for event in events:
                result.add(event)
        except OS1Error as e:
            return _from_os1(e)
        finally:
            slot.release()
        out = result.as_dict(rt.model.model_id)
        content = _with_notice(out["reply"], out["safety"])
        return ChatCompletion(id=completion_id, created=created, model=MODEL_NAME,
                              choices=[Choice(index=0, message=AssistantMessage(content=content), finish_reason="stop")],
                              os1={k: out[k] for k in ("memories", "emotion", "safety", "companion_name",
                                                       "user_exchange_id", "reply_exchange_id", "truncated_input")})

    return router


def _with_notice(reply: str, safety: dict[str, Any] | None) -> str:
    """A client shows only the content, so a safety notice and its resources go at the top of it."""
    if not safety:
        return reply
    return _notice_text(safety["message"], safety["resources"]) + reply


def _notice_text(message: str, resources: list[str] | tuple[str, ...]) -> str:
    return message + "\n" + "\n".join(f"- {r}" for r in resources) + "\n\n"


async def _chunks(events: AsyncIterator[Any], completion_id: str, created: int, usage: bool) -> AsyncIterator[str]:
    """chat.completion.chunk events: the role first, then the text as it comes, a stop, [DONE]."""

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": MODEL_NAME,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    extras: dict[str, Any] = {}
    yield chunk({"role": "assistant", "content": ""})
    try:
        async for event in events:
            if isinstance(event, Perceived):
                extras["emotion"] = emotion_dict(event.emotion)
            elif isinstance(event, Recalled):
                extras["memories"] = [memory_dict(m) for m in event.memories]
            elif isinstance(event, SafetyNotice):
                extras["safety"] = {"level": event.level, "message": event.message, "resources": list(event.resources)}
                yield chunk({"content": _notice_text(event.message, event.resources)})
            elif isinstance(event, TextDelta):
                yield chunk({"content": event.text})
            elif isinstance(event, ReplyDone):
                extras.update(companion_name=event.companion_name, user_exchange_id=event.user_exchange_id,
                              reply_exchange_id=event.reply_exchange_id, truncated_input=event.truncated_input)
    except OS1Error as e:
        yield f"data: {json.dumps({'error': _error(e)[1]}, ensure_ascii=False)}\n\n"
        return
    except Exception:  # never end a stream silently
        log.exception("chat completion stream failed")
        failed = OS1Error("Something went wrong on our side.", hint="Try again; the details are in the server log.")
        yield f"data: {json.dumps({'error': _error(failed)[1]})}\n\n"
        return
    yield chunk({}, "stop", os1=extras)
    if usage:
        body = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": MODEL_NAME,
                "choices": [], "usage": None}
        yield f"data: {json.dumps(body)}\n\n"
    yield "data: [DONE]\n\n"


__all__ = ["MODEL_NAME", "CompletionRequest", "openai_router", "split_request"]
