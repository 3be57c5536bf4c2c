"""Removing a user for good: the account and, unless kept, every trace of their data (os1.data.delete)."""

from __future__ import annotations

from pathlib import Path

from .account import Account
from .store import Accounts


async def remove_user(accounts: Accounts, username: str, *, home: Path | None, secret_store: str = "auto",
                      keep_data: bool = False) -> Account:
    """Remove `username`'s account; without `keep_data` their data goes too, mail and calendar passwords included.

    The install's own files (settings, keys) are never touched: they are not this user's."""
    if keep_data:
        return await accounts.remove(username, keep_data=True)
    found = await accounts.get(username)
    if found is None:
        return await accounts.remove(username)  # raises the usual "no such account"
    from ..data import delete_everything

    await delete_everything(accounts.db, found.id, home=home, files=False, secret_store=secret_store)
    return found
