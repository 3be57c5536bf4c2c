"""Who is asking: the `current_user` dependency, CSRF protection, and WebSocket admission (docs/accounts.md).

A request is signed in by a session cookie (the web app) or `Authorization: Bearer os1_…` (programs, the
OpenAI-compatible endpoint). While sign-in is not needed (OS1_AUTH=off, or auto with no account yet) every
request is the single local user, exactly as before accounts existed, and credentials are ignored (OpenAI
clients always send some key).

CSRF: a cookie rides along with any request the browser makes, so a cookie-signed POST/PUT/PATCH/DELETE
must also carry the session's CSRF token in `X-CSRF-Token` (double submit: the page reads it from the
`os1_csrf` cookie, which another site cannot read). The token is bound to the session by its hash, so a
cookie planted by a sibling site does not pass either. Bearer requests need none: a browser never adds
that header by itself.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, Request, Security, WebSocket
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyCookie, HTTPBearer
from starlette.requests import HTTPConnection

from ..accounts import Account, Accounts
from ..accounts.credentials import digest
from ..config import Settings
from ..errors import OS1Error
from ..types import UserId
from .schemas import ErrorBody

SESSION_COOKIE = "os1_session"
CSRF_COOKIE = "os1_csrf"
CSRF_HEADER = "x-csrf-token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
POLICY_VIOLATION = 1008
"""WebSocket close code for a connection that did not sign in (RFC 6455, 7.4.1)."""


class AuthFailure(OS1Error):
    """Base of the sign-in errors; each carries its HTTP status."""

    status = 401


class SignInRequired(AuthFailure):
    status = 401


class CsrfRejected(AuthFailure):
    status = 403


class NotAllowed(AuthFailure):
    status = 403


class TooManyAttempts(AuthFailure):
    status = 429

    def __init__(self, message: str, *, retry_after: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Not signed in: no session cookie or API token, or one that is not valid."},
    403: {"model": ErrorBody, "description": "Signed in, but the CSRF token is missing or wrong, or this is for admins."},
}
"""The errors every signed-in route documents."""


@dataclass(frozen=True, slots=True)
class Principal:
    """The user a request acts as."""

    id: UserId
    username: str | None
    admin: bool
    via: Literal["open", "session", "token"]
    """open: no sign-in needed (laptop mode); session: the web app's cookie; token: an API token."""
    csrf_hash: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.via != "open"

    @classmethod
    def of(cls, account: Account, via: Literal["session", "token"], csrf_hash: str | None = None) -> Principal:
        return cls(account.id, account.username, account.admin, via, csrf_hash)


class Gate:
    """Turns a request's credentials into a `Principal` under the configured sign-in mode."""

    def __init__(self, settings: Settings, accounts: Accounts) -> None:
        self.settings = settings
        self.accounts = accounts
        self.local = Principal(settings.user, None, True, "open")

    async def required(self) -> bool:
        """Whether requests must sign in now."""
        mode = self.settings.auth
        return mode == "required" or (mode == "auto" and await self.accounts.exists())

    async def principal(self, conn: HTTPConnection) -> Principal | None:
        """Who `conn` is, None when it brings no credentials; SignInRequired for credentials that are wrong."""
        if not await self.required():
            return self.local
        scheme, _, token = conn.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            account = await self.accounts.by_token(token.strip())
            if account is None:
                raise SignInRequired("That API token is not valid.", hint="It may have been revoked; issue a new one.")
            return Principal.of(account, "token")
        cookie = conn.cookies.get(SESSION_COOKIE)
        if cookie:
            signed = await self.accounts.by_session(cookie)
            if signed is not None:
                return Principal.of(signed.account, "session", signed.csrf_hash)
        return None

    def cookie_secure(self, conn: HTTPConnection) -> bool:
        if self.settings.secure_cookies is not None:
            return self.settings.secure_cookies
        return conn.url.scheme in ("https", "wss")


def gate_of(conn: HTTPConnection) -> Gate:
    gate: Gate = conn.app.state.auth
    return gate


def check_csrf(request: Request, principal: Principal) -> None:
    """CsrfRejected unless an unsafe cookie-signed request echoes its session's CSRF token."""
    if principal.via != "session" or request.method not in UNSAFE:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not sent or not hmac.compare_digest(sent, cookie) or not hmac.compare_digest(digest(sent), principal.csrf_hash or ""):
        raise CsrfRejected("This request is missing its CSRF token.",
                           hint="Send the os1_csrf cookie's value in an X-CSRF-Token header, or reload the page.")


_bearer = HTTPBearer(auto_error=False, description="An API token: `os1 users token issue` or POST /api/v1/auth/tokens.")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="The web app's sign-in session.")


async def current_user(request: Request, _bearer: Annotated[Any, Security(_bearer)] = None,
                       _cookie: Annotated[Any, Security(_cookie)] = None) -> Principal:
    """The signed-in user (or the local user when sign-in is off); 401 when not signed in, 403 on CSRF failure."""
    principal = await gate_of(request).principal(request)
    if principal is None:
        raise SignInRequired("Sign in first.", hint="Sign in at /login, or send Authorization: Bearer <API token>.")
    check_csrf(request, principal)
    return principal


async def current_user_id(principal: Annotated[Principal, Depends(current_user)]) -> UserId:
    return principal.id


async def current_admin(principal: Annotated[Principal, Depends(current_user)]) -> Principal:
    if not principal.admin:
        raise NotAllowed("Only an admin can do that.", hint="Ask whoever runs this OS1 to do it for you.")
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]
UserIdDep = Annotated[UserId, Depends(current_user_id)]
"""The id of the user a request acts as: every route that touches data takes this."""
AdminUser = Annotated[Principal, Depends(current_admin)]


def _same_origin(conn: HTTPConnection) -> bool:
    origin = conn.headers.get("origin")
    if not origin:
        return True  # not a browser: a browser always sends Origin on a WebSocket handshake
    return urlsplit(origin).netloc.lower() == conn.headers.get("host", "").lower()


async def admit(socket: WebSocket) -> Principal | None:
    """The WebSocket's user from its cookie or Authorization header; otherwise accept-and-close with 1008.

    A cookie-signed handshake from another site's page is refused too (cross-site WebSocket hijacking:
    browsers attach cookies to WebSocket handshakes, and there is no CSRF header to check)."""
    gate = gate_of(socket)
    try:
        principal = await gate.principal(socket)
    except SignInRequired:
        principal = None
    if principal is not None and principal.via == "session" and not _same_origin(socket):
        principal = None
    if principal is None:
        await socket.accept()
        await socket.close(code=POLICY_VIOLATION, reason="Sign in first.")
    return principal


def error_response(exc: AuthFailure, path: str) -> JSONResponse:
    body: dict[str, Any] = {"type": type(exc).__name__, "message": exc.message, "hint": exc.hint}
    if path.startswith("/v1/"):  # OpenAI clients read error.message and error.code
        body.update(param=None, code="invalid_api_key" if exc.status == 401 else None)
    headers = {"WWW-Authenticate": 'Bearer realm="os1"'} if exc.status == 401 else {}
    if isinstance(exc, TooManyAttempts):
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse({"error": body}, status_code=exc.status, headers=headers)


def install(app: FastAPI, gate: Gate) -> None:
    """Put the gate where `current_user` finds it, and answer sign-in errors with their status."""
    app.state.auth = gate

    @app.exception_handler(AuthFailure)
    async def auth_failure(request: Request, exc: AuthFailure) -> JSONResponse:
        return error_response(exc, request.url.path)
