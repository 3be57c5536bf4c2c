"""Sign-in sessions (for the browser's cookie) and API tokens (for programs), stored only as sha256 hashes.

Both are 256-bit random strings from `secrets`: hashing them with sha256 is enough (no salt or slow
hash needed, unlike passwords, because they cannot be guessed), and a stolen database holds nothing
that signs anyone in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, select, update

from ..clock import Clock
from ..errors import InputError
from ..storage import Database
from ..types import UserId
from .account import Account, account_from
from .tables import accounts, api_tokens, sessions

TOKEN_PREFIX = "os1_"
TOUCH_EVERY = timedelta(minutes=1)
"""A token's `last_used_at` is written at most this often: not one database write per request."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _iso(when: datetime | None) -> str | None:
    return when.replace(tzinfo=UTC).isoformat() if when else None


@dataclass(frozen=True, slots=True)
class Session:
    """A new sign-in: the token for the session cookie and the CSRF token for the page (both shown once)."""

    token: str
    csrf: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who a session cookie belongs to, and the hash of the CSRF token bound to that session."""

    account: Account
    csrf_hash: str


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """An API token as listed: never the token itself."""

    id: int
    label: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "prefix": self.prefix, "created_at": _iso(self.created_at),
                "last_used_at": _iso(self.last_used_at)}


def _token_info(r: Any) -> TokenInfo:
    return TokenInfo(id=r.id, label=r.label, prefix=r.prefix, created_at=r.created_at, last_used_at=r.last_used_at)


class Credentials:
    """Sessions and tokens; `Accounts` adds the accounts themselves."""

    def __init__(self, db: Database, clock: Clock, session_ttl: timedelta) -> None:
        self.db = db
        self.clock = clock
        self.session_ttl = session_ttl

    def _now(self) -> datetime:
        return self.clock.now().astimezone(UTC).replace(tzinfo=None)

    # Sessions ----------------------------------------------------------------------------------------
    async def start_session(self, user_id: UserId) -> Session:
        """A new sign-in session for `user_id` (expired ones of that user are cleared on the way)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self._now()
        expires = now + self.session_ttl

        def add(c: Connection) -> None:
            c.execute(delete(sessions).where(sessions.c.user_id == user_id, sessions.c.expires_at <= now))
            c.execute(sessions.insert().values(token_hash=digest(token), user_id=user_id, csrf_hash=digest(csrf),
                                               created_at=now, expires_at=expires))

        await self.db.write(add)
        return Session(token, csrf, expires.replace(tzinfo=UTC))

    async def by_session(self, token: str) -> SignedIn | None:
        """The enabled account a live session token belongs to, or None."""
        now = self._now()
        q = (select(accounts, sessions.c.csrf_hash).join(sessions, sessions.c.user_id == accounts.c.user_id)
             .where(sessions.c.token_hash == digest(token), sessions.c.expires_at > now, accounts.c.disabled.is_(False)))
        row = await self.db.read(lambda c: c.execute(q).first())
        return SignedIn(account_from(row), row.csrf_hash) if row is not None else None

    async def end_session(self, token: str) -> None:
        """Sign out: the session token stops working at once."""
        await self.db.write(lambda c: c.execute(delete(sessions).where(sessions.c.token_hash == digest(token))))

    @staticmethod
    def _end_all(c: Connection, user_id: UserId) -> None:
        c.execute(delete(sessions).where(sessions.c.user_id == user_id))

    @staticmethod
    def _forget_credentials(c: Connection, user_id: UserId) -> None:
        c.execute(delete(sessions).where(sessions.c.user_id == user_id))
        c.execute(delete(api_tokens).where(api_tokens.c.user_id == user_id))

    # API tokens --------------------------------------------------------------------------------------
    async def issue_token(self, user_id: UserId, label: str) -> str:
        """A new API token for the account of `user_id`; the plain token is returned once and never stored."""
        label = label.strip()
        if not 1 <= len(label) <= 100:
            raise InputError("A token needs a label of 1-100 characters.", hint='Say what will use it, e.g. "phone".')
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self._now()

        def add(c: Connection) -> None:
            if c.execute(select(accounts.c.user_id).where(accounts.c.user_id == user_id)).first() is None:
                raise InputError(f"There is no account for user {user_id!r}.", hint="Create the account first.")
            c.execute(api_tokens.insert().values(user_id=user_id, label=label, token_hash=digest(token),
                                                 prefix=token[:10], created_at=now))

        await self.db.write(add)
        return token

    async def tokens(self, user_id: UserId) -> list[TokenInfo]:
        q = select(api_tokens).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.id)
        return [_token_info(r) for r in await self.db.read(lambda c: c.execute(q).all())]

    async def revoke_token(self, user_id: UserId, token_id: int) -> TokenInfo:
        """Revoke one of `user_id`'s tokens (another user's token id is simply not found)."""
        def drop(c: Connection) -> Any:
            row = c.execute(select(api_tokens).where(api_tokens.c.id == token_id, api_tokens.c.user_id == user_id)).first()
            if row is None:
                raise InputError(f"There is no token {token_id}.", hint="List your tokens to see their ids.")
            c.execute(delete(api_tokens).where(api_tokens.c.id == token_id))
            return row

        return _token_info(await self.db.write(drop))

    async def by_token(self, token: str) -> Account | None:
        """The enabled account an API token belongs to, or None. Records when it was last used."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        q = (select(accounts, api_tokens.c.id.label("token_id"), api_tokens.c.last_used_at)
             .join(api_tokens, api_tokens.c.user_id == accounts.c.user_id)
             .where(api_tokens.c.token_hash == digest(token), accounts.c.disabled.is_(False)))
        row = await self.db.read(lambda c: c.execute(q).first())
        if row is None:
            return None
        now = self._now()
        if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
            await self.db.write(lambda c: c.execute(update(api_tokens).where(api_tokens.c.id == row.token_id)
                                                    .values(last_used_at=now)))
        return account_from(row)
