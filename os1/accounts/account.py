"""The account record shared by the store, the credentials and the server."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..types import UserId


@dataclass(frozen=True, slots=True)
class Account:
    """One person (or program) who can sign in."""

    id: UserId
    """The user id every row of their data keys on."""
    username: str
    admin: bool = False
    has_password: bool = True
    """False for a token-only account (a program, a service user)."""
    disabled: bool = False
    created_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "admin": self.admin, "has_password": self.has_password,
                "disabled": self.disabled,
                "created_at": self.created_at.replace(tzinfo=UTC).isoformat() if self.created_at else None}


def account_from(row: Any) -> Account:
    return Account(id=row.user_id, username=row.username, admin=bool(row.admin), has_password=row.password_hash is not None,
                   disabled=bool(row.disabled), created_at=row.created_at)
