"""Limits at the HTTP edge: request-body size, request rate per client, and what a malformed request gets.

Starlette has no body limit of its own; `BodyLimit` counts bytes as they arrive (chunked bodies too).
`RateLimit` counts requests per client with the `limits` library (moving window; in memory, or in Redis
with OS1_RATE_LIMIT_STORAGE=redis://… so app servers behind a load balancer share the counts): slowapi
wraps the same library but limits per decorated route, while one middleware covers every route,
including those other modules add, and WebSocket connections.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Mapping
from typing import Any

from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from ..errors import ConfigError

Scope = dict[str, Any]
Message = dict[str, Any]


class BodyLimit:
    """Answers 413 once a request body passes `max_bytes`, whether declared or streamed."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0
        started = refused = False

        async def counted_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message: Message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Answer now and tell the app the client left, so it stops reading.
                    refused = True
                    if not started:
                        await self._refuse(send)
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has been sent; drop whatever the app answers
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counted_receive, tracked_send)

    async def _refuse(self, send: Any) -> None:
        body = json.dumps({"error": {"type": "InputError", "message": f"Request body over {self.max_bytes:,} bytes.",
                                     "hint": "Send shorter messages."}}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def parse_limits(spec: str, setting: str) -> list[RateLimitItem]:
    """`limits` notation ("120/minute;10/second"); empty: no limit. ConfigError names the setting."""
    if not spec.strip():
        return []
    try:
        return list(parse_many(spec))
    except ValueError as e:
        raise ConfigError(f"{setting}: cannot read {spec!r} as a rate limit.",
                          hint='Use e.g. "120/minute" or "600/minute;20/second", or leave it empty for none.') from e


def rate_storage(uri: str) -> Any:
    """The `limits` async storage for a URI: memory:// (this process) or redis://HOST:PORT (shared, via redis-py)."""
    scheme = uri.split("://", 1)[0]
    if scheme.startswith("redis") or scheme.startswith("rediss"):
        return storage_from_string(f"async+{uri}", implementation="redispy")
    return storage_from_string(uri if scheme.startswith("async+") else f"async+{uri}")


def client_key(scope: Mapping[str, Any]) -> str:
    """Who is asking: the bearer token's fingerprint when there is one (a user), else the client address."""
    auth = dict(scope.get("headers") or []).get(b"authorization")
    if auth:
        return "token:" + hashlib.sha256(auth).hexdigest()[:16]
    client = scope.get("client")
    return "addr:" + (str(client[0]) if client else "unknown")


class RateLimit:
    """Answers 429 (with Retry-After) once a client passes its limits; `turn_paths` have a stricter one."""

    def __init__(self, app: Any, *, general: list[RateLimitItem], turns: list[RateLimitItem],
                 turn_paths: tuple[str, ...], prefixes: tuple[str, ...] = ("/api/", "/v1/"),
                 storage: str = "memory://") -> None:
        self.app = app
        self.general, self.turns, self.turn_paths, self.prefixes = general, turns, turn_paths, prefixes
        try:
            backend = rate_storage(storage)
        except Exception as e:  # limits raises ConfigurationError or ImportError (no redis client) here
            raise ConfigError(f"OS1_RATE_LIMIT_STORAGE: cannot use {storage!r}: {e}",
                              hint="Use memory:// or redis://HOST:6379 (pip install redis).") from e
        self.limiter = MovingWindowRateLimiter(backend)

    async def _refused(self, scope: Scope) -> tuple[RateLimitItem, str] | None:
        path = scope.get("path", "")
        if not path.startswith(self.prefixes):
            return None
        key = client_key(scope)
        checks = [(item, "requests") for item in self.general]
        if path in self.turn_paths and scope.get("method", "GET") == "POST":
            checks += [(item, "turns") for item in self.turns]
        for item, kind in checks:
            if not await self.limiter.hit(item, kind, key):
                return item, kind
        return None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refused = await self._refused(scope)
        if refused is None:
            await self.app(scope, receive, send)
            return
        item, kind = refused
        reset = (await self.limiter.get_window_stats(item, kind, client_key(scope))).reset_time
        wait = max(1, math.ceil(reset - time.time()))
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013, "reason": f"Too many requests; retry in {wait} s."})
            return
        per = f"{item.amount} {kind} per {item.multiples if item.multiples > 1 else ''} {item.GRANULARITY.name}".replace("  ", " ")
        body = json.dumps({"error": {"type": "RateLimited", "message": f"Too many requests: the limit is {per}.",
                                     "hint": f"Wait {wait} s and try again."}}).encode()
        await send({"type": "http.response.start", "status": 429,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"retry-after", str(wait).encode())]})
        await send({"type": "http.response.body", "body": body})


def invalid_body(exc: Any) -> dict[str, Any]:
    """A 422 body for a request that does not match its schema: what and where, without echoing the input."""
    detail = [{"type": e.get("type"), "loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
              for e in exc.errors()]
    first = detail[0] if detail else {"loc": [], "msg": "invalid request"}
    where = ".".join(p for p in first["loc"] if p != "body") or "the request"
    return {"error": {"type": "InputError", "message": f"{where}: {first['msg']}",
                      "hint": "See the request schema at /docs."}, "detail": detail}
