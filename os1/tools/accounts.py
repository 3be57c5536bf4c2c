"""Connected accounts (mail, CalDAV, .ics files): settings in the database, the password in the secret store."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from ..errors import InputError, StoreError
from ..memory.store import _aware, _utc_naive, ensure_user
from ..storage import Database
from .credentials import SecretStore
from .tables import tool_accounts

Kind = Literal["mail", "caldav", "ics"]
_SECRETISH = re.compile(r"pass|secret|token|key", re.I)


@dataclass(frozen=True, slots=True)
class Account:
    """One connected account. `settings` never holds a secret."""

    id: int
    user_id: str
    kind: str
    name: str
    settings: Mapping[str, Any]
    secret_ref: str | None
    created_at: datetime

    def __repr__(self) -> str:
        return f"Account(id={self.id}, kind={self.kind!r}, name={self.name!r})"

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "name": self.name, "settings": dict(self.settings),
                "has_password": self.secret_ref is not None, "created_at": self.created_at.isoformat()}


def _account(row: Any) -> Account:
    return Account(row.id, row.user_id, row.kind, row.name, dict(row.settings or {}), row.secret_ref, _aware(row.created_at))


class Accounts:
    """Every user's connected accounts."""

    def __init__(self, db: Database, secrets: Callable[[], SecretStore]) -> None:
        self.db = db
        self._secrets = secrets

    async def add(self, user_id: str, kind: Kind, name: str, settings: Mapping[str, Any], *, secret: str | None,
                  now: datetime) -> Account:
        name = name.strip()
        if not name or len(name) > 100:
            raise InputError("An account needs a name of 1 to 100 characters.")
        bad = [k for k in settings if _SECRETISH.search(k)]
        if bad:  # a programming error upstream, refused rather than stored in plain text
            raise InputError(f"Account settings may not hold secrets ({', '.join(bad)}).")
        ref = f"{user_id}/{kind}/{uuid.uuid4().hex}" if secret else None
        if ref is not None and secret is not None:
            self._secrets().set(ref, secret)

        def tx(conn: Connection) -> Account:
            ensure_user(conn, user_id, now)
            aid = conn.execute(insert(tool_accounts).values(
                user_id=user_id, kind=kind, name=name, settings=dict(settings), secret_ref=ref,
                created_at=_utc_naive(now), updated_at=_utc_naive(now))).inserted_primary_key[0]  # type: ignore[index]
            return _account(conn.execute(select(tool_accounts).where(tool_accounts.c.id == aid)).one())

        try:
            return await self.db.write(tx)
        except StoreError as e:
            if ref is not None:
                self._secrets().delete(ref)
            if isinstance(e.__cause__, IntegrityError):
                raise InputError(f"You already have an account called {name!r}.",
                                 hint="Pick another --name, or disconnect that one first.") from e
            raise

    async def list(self, user_id: str, kind: str | None = None) -> list[Account]:
        q = select(tool_accounts).where(tool_accounts.c.user_id == user_id)
        if kind:
            q = q.where(tool_accounts.c.kind == kind)
        return [_account(r) for r in await self.db.read(lambda c: c.execute(q.order_by(tool_accounts.c.id)).all())]

    async def get(self, user_id: str, name: str) -> Account:
        for a in await self.list(user_id):
            if a.name == name or str(a.id) == name:
                return a
        raise InputError(f"No connected account called {name!r}.", hint="`os1 mail accounts` / `os1 calendar accounts` list them.")

    async def first(self, user_id: str, *kinds: str) -> Account | None:
        return next((a for a in await self.list(user_id) if a.kind in kinds), None)

    async def remove(self, user_id: str, name: str) -> Account:
        account = await self.get(user_id, name)
        await self.db.write(lambda c: c.execute(delete(tool_accounts).where(tool_accounts.c.id == account.id)))
        if account.secret_ref:
            self._secrets().delete(account.secret_ref)
        return account

    def secret(self, account: Account) -> str | None:
        """The account's password, for the protocol client only."""
        return self._secrets().get(account.secret_ref) if account.secret_ref else None
