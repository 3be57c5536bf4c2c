"""The errors OS1 raises, mapped from foreign errors at each backend's edge.

    OS1Error
    ├── InputError        the user's input cannot be accepted (empty, too long, not text)
    ├── ConfigError       a setting is wrong or missing
    ├── ModelError        the chat model failed
    │   ├── ModelUnavailable   not installed, not assembled, or the server is unreachable
    │   └── ModelIntegrityError  the weights on disk are not the pinned weights
    ├── StoreError        the database failed
    ├── VoiceError        audio that cannot be used, or a speech component that is missing or failing
    └── ToolError         a daily-life tool failed (mail or calendar server unreachable, login refused, bad file)

The CLI and the web turn these into sentences a person can act on: each carries a `hint`.
"""

from __future__ import annotations


class OS1Error(Exception):
    """Base of every error OS1 raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  → {self.hint}"


class InputError(OS1Error):
    """The user's input cannot be accepted as it is."""


class ConfigError(OS1Error):
    """A setting is wrong or missing."""


class ModelError(OS1Error):
    """The chat model failed."""


class ModelUnavailable(ModelError):
    """The chat model cannot be used right now (not installed, not assembled, unreachable)."""


class ModelIntegrityError(ModelError):
    """Model weights on disk do not match the pinned size or sha256."""


class StoreError(OS1Error):
    """The database failed."""


class VoiceError(OS1Error):
    """Audio cannot be used (empty, corrupt, too long, no speech), or a speech component is missing or failing."""


class ToolError(OS1Error):
    """A daily-life tool failed: a mail or calendar server unreachable or refusing the login, a bad file."""
