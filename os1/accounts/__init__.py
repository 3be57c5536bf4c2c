"""Accounts for the multi-user service: argon2id passwords, sign-in sessions and API tokens (docs/accounts.md)."""

from .account import Account
from .credentials import Session, SignedIn, TokenInfo
from .passwords import Passwords
from .store import Accounts

__all__ = ["Account", "Accounts", "Passwords", "Session", "SignedIn", "TokenInfo"]
