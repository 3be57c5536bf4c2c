"""Password hashing with argon2id (argon2-cffi): hash, verify, and rehash when the parameters change.

argon2-cffi's defaults follow RFC 9106's low-memory profile (argon2id, 64 MiB, 3 passes, 4 lanes). A hash
stored under older parameters still verifies, and `verify` says when it should be replaced.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..errors import InputError

MIN_LENGTH = 8
"""NIST SP 800-63B: at least 8 characters for a password the user chose; no composition rules."""
MAX_LENGTH = 1024
"""Long passphrases are welcome; a megabyte-long one is an attack on the hasher."""


def check_new_password(password: str) -> None:
    """InputError for a password that cannot be used."""
    if len(password) < MIN_LENGTH:
        raise InputError(f"That password is too short: use at least {MIN_LENGTH} characters.",
                         hint="A few unrelated words make a long password that is easy to remember.")
    if len(password) > MAX_LENGTH:
        raise InputError(f"That password is too long: at most {MAX_LENGTH} characters.")


@dataclass
class Passwords:
    """argon2id hashing; pass a `PasswordHasher` to change the parameters (old hashes then get rehashed)."""

    hasher: PasswordHasher = field(default_factory=PasswordHasher)

    def __post_init__(self) -> None:
        # Verified when a name is unknown, so a wrong name takes as long as a wrong password.
        self._dummy = self.hasher.hash("os1 timing equaliser")

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> tuple[bool, bool]:
        """(whether `password` matches `stored`, whether `stored` should be rehashed with today's parameters)."""
        if stored is None:
            self._burn(password)
            return False, False
        try:
            self.hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False, False
        return True, self.hasher.check_needs_rehash(stored)

    def _burn(self, password: str) -> None:
        with contextlib.suppress(VerificationError):
            self.hasher.verify(self._dummy, password)
