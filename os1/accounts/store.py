"""Accounts: who may sign in, with which password (argon2id), and whether they administer the install.

A user id (`users.id`) is what every row of data keys on; an account gives that id a username, a
password and an admin flag. A new account gets a fresh random id, or adopts an existing one (the
laptop's `local` user) so its data carries over. Sign-in sessions and API tokens live in
`credentials.py`; both are stored only as sha256 hashes.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from ..clock import Clock, SystemClock
from ..errors import InputError
from ..memory.store import ensure_user
from ..storage import Database
from ..types import UserId
from .account import Account, account_from
from .credentials import Credentials
from .passwords import Passwords, check_new_password
from .tables import accounts, users

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
SESSION_TTL = timedelta(days=30)
"""How long a sign-in lasts: a month, as most web apps that remember you do."""


def check_username(username: str) -> str:
    name = username.strip()
    if not USERNAME.match(name):
        raise InputError(f"{username!r} can't be a username.",
                         hint="Use 1-64 letters, digits, dots, dashes, underscores or @, starting with a letter or digit.")
    return name


class Accounts(Credentials):
    """Accounts, their sessions and API tokens, on the shared database."""

    def __init__(self, db: Database, *, clock: Clock | None = None, passwords: Passwords | None = None,
                 session_ttl: timedelta = SESSION_TTL) -> None:
        super().__init__(db, clock or SystemClock(UTC), session_ttl)
        self.passwords = passwords or Passwords()
        self._seen_any = False

    # Who there is ------------------------------------------------------------------------------------
    async def exists(self) -> bool:
        """Whether any account exists (once true, remembered: sign-in never switches itself off)."""
        if not self._seen_any:
            n = await self.db.read(lambda c: c.execute(select(func.count()).select_from(accounts)).scalar_one())
            self._seen_any = n > 0
        return self._seen_any

    async def list(self) -> list[Account]:
        rows = await self.db.read(lambda c: c.execute(select(accounts).order_by(accounts.c.username_key)).all())
        return [account_from(r) for r in rows]

    async def get(self, username: str) -> Account | None:
        row = await self.db.read(lambda c: self._row(c, username))
        return account_from(row) if row is not None else None

    async def by_id(self, user_id: UserId) -> Account | None:
        row = await self.db.read(lambda c: c.execute(select(accounts).where(accounts.c.user_id == user_id)).first())
        return account_from(row) if row is not None else None

    @staticmethod
    def _row(c: Connection, username: str) -> Any:
        return c.execute(select(accounts).where(accounts.c.username_key == username.strip().lower())).first()

    # Changes -----------------------------------------------------------------------------------------
    async def create(self, username: str, password: str | None = None, *, admin: bool = False,
                     user_id: UserId | None = None) -> Account:
        """A new account; `password=None` makes a token-only one. `user_id` adopts an existing user's data."""
        name = check_username(username)
        if password is not None:
            check_new_password(password)
        hashed = await asyncio.to_thread(self.passwords.hash, password) if password is not None else None
        uid = user_id or f"u-{uuid.uuid4().hex}"
        now = self._now()

        def add(c: Connection) -> None:
            if self._row(c, name) is not None:
                raise InputError(f"The username {name!r} is taken.", hint="Choose another one.")
            if c.execute(select(accounts.c.username).where(accounts.c.user_id == uid)).first() is not None:
                raise InputError(f"The user {uid!r} already has an account.")
            ensure_user(c, uid, now)
            c.execute(accounts.insert().values(user_id=uid, username=name, username_key=name.lower(), password_hash=hashed,
                                               admin=admin, disabled=False, created_at=now, updated_at=now))

        await self.db.write(add)
        self._seen_any = True
        return Account(id=uid, username=name, admin=admin, has_password=hashed is not None, created_at=now)

    async def remove(self, username: str, *, keep_data: bool = False) -> Account:
        """Remove an account and, unless `keep_data`, every row of its user's data (they cascade)."""
        found = await self._need(username)

        def drop(c: Connection) -> None:
            if keep_data:
                c.execute(delete(accounts).where(accounts.c.user_id == found.id))
                self._forget_credentials(c, found.id)
            else:
                c.execute(delete(users).where(users.c.id == found.id))

        await self.db.write(drop)
        return found

    async def set_password(self, username: str, password: str | None) -> Account:
        """A new password (None: token-only from now on). Every sign-in session of the account ends."""
        found = await self._need(username)
        if password is not None:
            check_new_password(password)
        hashed = await asyncio.to_thread(self.passwords.hash, password) if password is not None else None

        def change(c: Connection) -> None:
            self._update(c, found.id, password_hash=hashed)
            self._end_all(c, found.id)

        await self.db.write(change)
        return await self._need(username)

    async def set_flags(self, username: str, *, admin: bool | None = None, disabled: bool | None = None) -> Account:
        """Make an account admin or not, disabled or not (disabling ends its sessions)."""
        found = await self._need(username)
        changes = {k: v for k, v in (("admin", admin), ("disabled", disabled)) if v is not None}

        def change(c: Connection) -> None:
            self._update(c, found.id, **changes)
            if disabled:
                self._end_all(c, found.id)

        await self.db.write(change)
        return await self._need(username)

    def _update(self, c: Connection, user_id: UserId, **values: Any) -> None:
        c.execute(update(accounts).where(accounts.c.user_id == user_id).values(updated_at=self._now(), **values))

    async def _need(self, username: str) -> Account:
        found = await self.get(username)
        if found is None:
            raise InputError(f"There is no account {username!r}.", hint="`os1 users list` shows them.")
        return found

    # Signing in --------------------------------------------------------------------------------------
    async def authenticate(self, username: str, password: str) -> Account | None:
        """The account when the password is right (and it is enabled); else None, in about the same time."""
        row = await self.db.read(lambda c: self._row(c, username)) if USERNAME.match(username.strip()) else None
        stored = row.password_hash if row is not None else None
        ok, stale = await asyncio.to_thread(self.passwords.verify, stored, password[:1024 * 4])
        if not ok or row is None or row.disabled:
            return None
        if stale:  # hashed under older parameters: store it again with today's
            hashed = await asyncio.to_thread(self.passwords.hash, password)
            await self.db.write(lambda c: self._update(c, row.user_id, password_hash=hashed))
        return account_from(row)
