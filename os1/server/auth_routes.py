"""Signing in and out, API tokens, and (for admins) the accounts of an install, over HTTP.

`POST /api/v1/auth/login` sets two cookies: `os1_session` (HttpOnly, SameSite=Lax, Secure over https)
and `os1_csrf` (readable by the page, echoed in `X-CSRF-Token`; see auth.py). Sign-in attempts are
limited per client address and per username (OS1_LOGIN_RATE_LIMIT).
"""

from __future__ import annotations

import math
import time
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from pydantic import BaseModel, Field

from ..accounts.removal import remove_user
from ..errors import InputError
from ..runtime import Runtime
from .auth import (
    AUTH_ERRORS,
    CSRF_COOKIE,
    SESSION_COOKIE,
    AdminUser,
    CurrentUser,
    Principal,
    SignInRequired,
    TooManyAttempts,
    check_csrf,
    gate_of,
)
from .limits import client_key, parse_limits
from .schemas import BAD_INPUT, ErrorBody


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=4096)


class MeOut(BaseModel):
    id: str = Field(description="The user id your data is kept under.")
    username: str | None = Field(description="Null in the single-user mode, where nobody signs in.")
    admin: bool
    via: Literal["open", "session", "token"] = Field(description="open: sign-in is off; session: cookie; token: API token.")
    sign_in_required: bool = Field(description="Whether this server asks everyone to sign in.")


class SignedOut(BaseModel):
    signed_out: bool = Field(description="Whether a session was ended (false: there was none).")


class TokenOut(BaseModel):
    id: int
    label: str
    prefix: str = Field(description="The token's first characters, to recognise it.")
    created_at: str
    last_used_at: str | None


class TokenList(BaseModel):
    tokens: list[TokenOut]


class TokenIn(BaseModel):
    label: str = Field(min_length=1, max_length=100, description='What will use it, e.g. "phone".')


class TokenIssued(BaseModel):
    token: str = Field(description="The token itself: shown this once, never again.")
    info: TokenOut


class TokenRevoked(BaseModel):
    revoked: TokenOut


class AccountOut(BaseModel):
    id: str
    username: str
    admin: bool
    has_password: bool = Field(description="False for a token-only account.")
    disabled: bool
    created_at: str | None


class AccountList(BaseModel):
    users: list[AccountOut]


class AccountIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str | None = Field(default=None, min_length=1, max_length=1024, description="None: a token-only account.")
    admin: bool = False
    adopt_local: bool = Field(default=False, description="Give this account the single-user mode's data (user `local`).")


class AccountCreated(BaseModel):
    user: AccountOut


class AccountRemoved(BaseModel):
    removed: AccountOut


LOGIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Wrong username or password."},
    429: {"model": ErrorBody, "description": "Too many sign-in attempts; wait (see Retry-After)."},
}


def auth_router(rt: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["accounts and sign-in"])
    attempts = MovingWindowRateLimiter(MemoryStorage())
    limits = parse_limits(rt.settings.login_rate_limit, "OS1_LOGIN_RATE_LIMIT")

    def throttle(request: Request, username: str) -> None:
        for key in (client_key(request.scope), "user:" + username.strip().lower()):
            for item in limits:
                if not attempts.hit(item, "login", key):
                    reset = attempts.get_window_stats(item, "login", key).reset_time
                    wait = max(1, math.ceil(reset - time.time()))
                    raise TooManyAttempts("Too many sign-in attempts.", retry_after=wait, hint=f"Wait {wait} s and try again.")

    def me_out(p: Principal, required: bool) -> MeOut:
        return MeOut(id=p.id, username=p.username, admin=p.admin, via=p.via, sign_in_required=required)

    @router.post("/auth/login", response_model=MeOut, responses={**BAD_INPUT, **LOGIN_ERRORS})
    async def login(body: LoginIn, request: Request, response: Response) -> MeOut:
        """Sign in with a username and password; sets the session and CSRF cookies."""
        throttle(request, body.username)
        gate = gate_of(request)
        account = await gate.accounts.authenticate(body.username, body.password)
        if account is None:
            raise SignInRequired("Wrong username or password.", hint="Check both; an admin can set a new password.")
        session = await gate.accounts.start_session(account.id)
        secure = gate.cookie_secure(request)
        age = int(gate.accounts.session_ttl.total_seconds())
        response.set_cookie(SESSION_COOKIE, session.token, max_age=age, httponly=True, samesite="lax", secure=secure, path="/")
        response.set_cookie(CSRF_COOKIE, session.csrf, max_age=age, httponly=False, samesite="lax", secure=secure, path="/")
        return MeOut(id=account.id, username=account.username, admin=account.admin, via="session",
                     sign_in_required=await gate.required())

    @router.post("/auth/logout", response_model=SignedOut, responses={403: AUTH_ERRORS[403]})
    async def logout(request: Request, response: Response) -> SignedOut:
        """Sign out: the session ends on the server and its cookies are cleared."""
        gate = gate_of(request)
        token = request.cookies.get(SESSION_COOKIE)
        ended = False
        if token:
            signed = await gate.accounts.by_session(token)
            if signed is not None:
                check_csrf(request, Principal.of(signed.account, "session", signed.csrf_hash))
                await gate.accounts.end_session(token)
                ended = True
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie(CSRF_COOKIE, path="/")
        return SignedOut(signed_out=ended)

    @router.get("/auth/me", response_model=MeOut, responses=AUTH_ERRORS)
    async def me(user: CurrentUser, request: Request) -> MeOut:
        """Who you are signed in as (in the single-user mode: the local user)."""
        return me_out(user, await gate_of(request).required())

    @router.get("/auth/tokens", response_model=TokenList, responses=AUTH_ERRORS)
    async def tokens(user: CurrentUser, request: Request) -> TokenList:
        """Your API tokens (never the tokens themselves)."""
        found = await gate_of(request).accounts.tokens(user.id)
        return TokenList(tokens=[TokenOut(**t.as_dict()) for t in found])

    @router.post("/auth/tokens", response_model=TokenIssued, status_code=201, responses={**BAD_INPUT, **AUTH_ERRORS})
    async def issue(body: TokenIn, user: CurrentUser, request: Request) -> TokenIssued:
        """A new API token for programs (`Authorization: Bearer …`); it is shown in this answer only."""
        accounts = gate_of(request).accounts
        token = await accounts.issue_token(user.id, body.label)
        info = max((t for t in await accounts.tokens(user.id) if token.startswith(t.prefix)), key=lambda t: t.id)
        return TokenIssued(token=token, info=TokenOut(**info.as_dict()))

    @router.delete("/auth/tokens/{token_id}", response_model=TokenRevoked, responses={**BAD_INPUT, **AUTH_ERRORS})
    async def revoke(token_id: int, user: CurrentUser, request: Request) -> TokenRevoked:
        """Revoke one of your API tokens: it stops working at once."""
        gone = await gate_of(request).accounts.revoke_token(user.id, token_id)
        return TokenRevoked(revoked=TokenOut(**gone.as_dict()))

    # Admin --------------------------------------------------------------------------------------------
    @router.get("/admin/users", response_model=AccountList, responses=AUTH_ERRORS, tags=["admin"])
    async def users(_: AdminUser, request: Request) -> AccountList:
        """Every account of this install (admins only)."""
        return AccountList(users=[AccountOut(**a.as_dict()) for a in await gate_of(request).accounts.list()])

    @router.post("/admin/users", response_model=AccountCreated, status_code=201, responses={**BAD_INPUT, **AUTH_ERRORS},
                 tags=["admin"])
    async def add_user(body: AccountIn, _: AdminUser, request: Request) -> AccountCreated:
        """Create an account (admins only). With `adopt_local`, it takes over the single-user mode's data."""
        made = await gate_of(request).accounts.create(body.username, body.password, admin=body.admin,
                                                      user_id=rt.settings.user if body.adopt_local else None)
        return AccountCreated(user=AccountOut(**made.as_dict()))

    @router.delete("/admin/users/{username}", response_model=AccountRemoved, responses={**BAD_INPUT, **AUTH_ERRORS},
                   tags=["admin"])
    async def delete_user(username: str, admin: AdminUser, request: Request) -> AccountRemoved:
        """Remove an account and all of its data (admins only; not your own account)."""
        accounts = gate_of(request).accounts
        found = await accounts.get(username)
        if found is None:
            raise InputError(f"There is no account {username!r}.")
        if found.id == admin.id:
            raise InputError("You can't remove your own account here.", hint="Another admin can, or use `os1 users remove`.")
        async with rt.companion.exclusive(found.id):
            gone = await remove_user(accounts, found.username, home=rt.settings.home, secret_store=rt.settings.secret_store)
        return AccountRemoved(removed=AccountOut(**gone.as_dict()))

    return router
