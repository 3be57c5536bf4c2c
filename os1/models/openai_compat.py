"""Any OpenAI-compatible chat server (Ollama, vLLM, llama.cpp server, LM Studio, OpenAI) by base URL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence

import httpx

from ..errors import ModelError, ModelUnavailable
from ..types import GenOptions, Message
from .base import Capabilities, ToolCall


class OpenAICompatModel:
    """Streams from `POST {base_url}/chat/completions` with server-sent events."""

    def __init__(self, model: str, base_url: str, *, api_key: str | None = None, timeout: float = 120.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.model_id = f"openai:{model}@{base_url}"
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.capabilities = Capabilities(streaming=True, json_schema=True, tool_calls=True, local=_is_local(base_url))
        self._ready = False
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # The key lives only in this client's headers: never in model_id, repr, logs or errors.
        self._client = httpx.AsyncClient(
            base_url=self.base_url, headers=headers, transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
        )

    def __repr__(self) -> str:
        return f"OpenAICompatModel(model={self.model!r}, base_url={self.base_url!r})"

    async def load(self) -> None:
        """Check the server answers and knows the model (once; a later failure shows in `stream`)."""
        if self._ready:
            return
        try:
            r = await self._client.get("/models")
        except httpx.HTTPError as e:
            raise ModelUnavailable(
                f"Cannot reach the model server at {self.base_url}: {e.__class__.__name__}.",
                hint="Start the server (e.g. `ollama serve`) or set OS1_OPENAI_BASE_URL.",
            ) from e
        if r.status_code in (401, 403):
            raise ModelUnavailable(
                f"The model server at {self.base_url} refused the API key ({r.status_code}).",
                hint="Set OS1_OPENAI_API_KEY or put openai_api_key in keys.toml in the data dir.",
            )
        if r.status_code == 200:
            try:
                ids = {m.get("id") for m in r.json().get("data", [])}
            except ValueError:
                ids = set()
            if ids and self.model not in ids:
                raise ModelUnavailable(
                    f"The server at {self.base_url} has no model {self.model!r}.",
                    hint="Available: " + ", ".join(sorted(str(i) for i in ids)[:10]),
                )
        self._ready = True

    async def close(self) -> None:
        await self._client.aclose()

    async def stream(self, messages: Sequence[Message], *, options: GenOptions) -> AsyncIterator[str]:
        body: dict[str, object] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": True,
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
            "top_p": options.top_p,
        }
        if options.stop:
            body["stop"] = list(options.stop)
        if options.json_schema is not None:
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "os1", "schema": dict(options.json_schema)}}
        try:
            async with self._client.stream("POST", "/chat/completions", json=body) as r:
                if r.status_code != 200:
                    detail = (await r.aread()).decode("utf-8", "replace")[:300]
                    err = ModelUnavailable if r.status_code in (401, 403, 404, 502, 503) else ModelError
                    raise err(f"The model server answered {r.status_code}: {detail}")
                async for line in r.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    try:
                        chunk = json.loads(data)
                    except ValueError:
                        continue
                    if chunk.get("error"):
                        raise ModelError(f"The model server reported: {chunk['error']}")
                    for choice in chunk.get("choices", []):
                        piece = (choice.get("delta") or {}).get("content")
                        if piece:
                            yield piece
        except httpx.HTTPError as e:
            raise ModelUnavailable(
                f"Lost the model server at {self.base_url}: {e.__class__.__name__}.",
                hint="Check that it is running and reachable.",
            ) from e


    async def call_tools(self, messages: Sequence[Message], *, tools: Sequence[Mapping[str, object]],
                         options: GenOptions) -> list[ToolCall]:
        """One non-streamed request with OpenAI `tools`; the calls the model made ([] for none)."""
        body: dict[str, object] = {
            "model": self.model, "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": False, "max_tokens": options.max_tokens, "temperature": options.temperature,
            "tools": [dict(t) for t in tools], "tool_choice": "auto",
        }
        try:
            r = await self._client.post("/chat/completions", json=body)
        except httpx.HTTPError as e:
            raise ModelUnavailable(f"Lost the model server at {self.base_url}: {e.__class__.__name__}.",
                                   hint="Check that it is running and reachable.") from e
        if r.status_code != 200:
            err = ModelUnavailable if r.status_code in (401, 403, 404, 502, 503) else ModelError
            raise err(f"The model server answered {r.status_code}: {r.text[:300]}")
        try:
            choices = r.json().get("choices") or []
            message = choices[0].get("message") or {} if choices else {}
        except (ValueError, AttributeError, IndexError) as e:
            raise ModelError("The model server sent a reply that is not chat-completion JSON.") from e
        calls: list[ToolCall] = []
        for call in message.get("tool_calls") or []:
            fn = call.get("function") or {} if isinstance(call, dict) else {}
            name, raw = fn.get("name"), fn.get("arguments")
            if not isinstance(name, str):
                continue
            try:  # arguments arrive as a JSON string (OpenAI) or, from some servers, as an object
                args = json.loads(raw) if isinstance(raw, str) else (raw or {})
            except ValueError:
                args = None
            if isinstance(args, dict):
                calls.append(ToolCall(name, args))
        return calls


def _is_local(url: str) -> bool:
    host = httpx.URL(url).host
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")
