"""A fake OpenAI-compatible model server for the load bench: streams words at a steady, realistic pace.

    python bench/fake_openai.py --port 9100 --first-token 0.2 --tokens-per-second 40 --tokens 24

Every streamed reply waits `--first-token` seconds, then sends `--tokens` words `1/--tokens-per-second`
apart, so the model's own share of a turn is known exactly and the bench can subtract it. Requests for
JSON (fact extraction, reflection, the journal) get a short valid answer at the same pace; tool-call
requests get no calls. It counts what it served at GET /stats.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

STATS = {"streams": 0, "json": 0, "tools": 0, "in_flight": 0, "max_in_flight": 0}


def chunk(text: str) -> str:
    return f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'content': text}}]})}\n\n"


def make_app(first_token: float, tokens_per_second: float, tokens: int) -> Starlette:
    gap = 1.0 / tokens_per_second

    async def words(pieces: list[str]) -> AsyncIterator[str]:
        STATS["in_flight"] += 1
        STATS["max_in_flight"] = max(STATS["max_in_flight"], STATS["in_flight"])
        try:
            await asyncio.sleep(first_token)
            for i, piece in enumerate(pieces):
                if i:
                    await asyncio.sleep(gap)
                yield chunk(piece)
            yield "data: [DONE]\n\n"
        finally:
            STATS["in_flight"] -= 1

    async def completions(request: Request) -> Response:
        body: dict[str, Any] = await request.json()
        if not body.get("stream"):
            STATS["tools"] += 1
            return JSONResponse({"choices": [{"index": 0, "message": {"role": "assistant", "content": "", "tool_calls": []}}]})
        if body.get("response_format"):
            STATS["json"] += 1
            pieces = ['{"facts": [], ', '"entries": [], ', '"text": ""}']
        else:
            STATS["streams"] += 1
            pieces = [("Sure" if i == 0 else " word") for i in range(tokens - 1)] + ["."]
        return StreamingResponse(words(pieces), media_type="text/event-stream")

    async def models(_: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "fake", "object": "model"}]})

    async def stats(_: Request) -> Response:
        return JSONResponse(STATS)

    return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"]),
                             Route("/v1/models", models), Route("/stats", stats)])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--first-token", type=float, default=0.2, help="seconds before the first word")
    p.add_argument("--tokens-per-second", type=float, default=40.0)
    p.add_argument("--tokens", type=int, default=24, help="words in a reply")
    a = p.parse_args()
    uvicorn.run(make_app(a.first_token, a.tokens_per_second, a.tokens), host="127.0.0.1", port=a.port,
                log_level="warning", backlog=4096)


if __name__ == "__main__":
    main()
