"""Where account passwords live: the OS keyring, or an encrypted file in the data dir. Never the database,
never a log, never a prompt, never shown back.

    keyring  the system's secret service (GNOME Keyring, KWallet, macOS Keychain, Windows Credential Locker)
             through the `keyring` library
    file     `secrets.enc` in the data dir, Fernet-encrypted (AES-128-CBC + HMAC-SHA256, `cryptography`):
             the key is kept in `secrets.key` (mode 0600) beside it, or derived with scrypt from a passphrase
             when one is given, so a copied database or settings file never carries a password
    auto     the keyring when one is usable (headless Linux servers usually have none), else the file
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets as _random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Protocol

from ..errors import ConfigError

SERVICE = "os1"
Backend = Literal["auto", "keyring", "file"]


class SecretStore(Protocol):
    """Somewhere to keep a secret under a reference string."""

    name: str

    def get(self, ref: str) -> str | None: ...
    def set(self, ref: str, secret: str) -> None: ...
    def delete(self, ref: str) -> None: ...


class KeyringSecrets:
    """The OS keyring (service 'os1', the reference as user name)."""

    name = "keyring"

    def __init__(self, backend: Any | None = None) -> None:
        import keyring

        self._kr = backend or keyring.get_keyring()

    def get(self, ref: str) -> str | None:
        return self._call(lambda: self._kr.get_password(SERVICE, ref))  # type: ignore[no-any-return]

    def set(self, ref: str, secret: str) -> None:
        self._call(lambda: self._kr.set_password(SERVICE, ref, secret))

    def delete(self, ref: str) -> None:
        import keyring.errors

        with contextlib.suppress(keyring.errors.PasswordDeleteError):
            self._call(lambda: self._kr.delete_password(SERVICE, ref))

    def _call(self, fn: Any) -> Any:
        import keyring.errors

        try:
            return fn()
        except keyring.errors.PasswordDeleteError:
            raise
        except keyring.errors.KeyringError as e:
            raise ConfigError(f"The OS keyring failed: {e.__class__.__name__}.",
                              hint="Unlock your keyring, or set OS1_SECRET_STORE=file.") from e


class FileSecrets:
    """An encrypted JSON map in the data dir."""

    name = "file"

    def __init__(self, home: Path, *, passphrase: str | None = None) -> None:
        self.path = home / "secrets.enc"
        self.key_path = home / "secrets.key"
        self.passphrase = passphrase
        self._lock = threading.Lock()

    def _fernet(self, salt: bytes | None) -> Any:
        from cryptography.fernet import Fernet
        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

        if self.passphrase is not None and salt is not None:
            key = Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(self.passphrase.encode("utf-8"))
            return Fernet(base64.urlsafe_b64encode(key))
        if not self.key_path.exists():
            self.key_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(Fernet.generate_key())
        return Fernet(self.key_path.read_bytes().strip())

    def _load(self) -> tuple[dict[str, str], bytes | None]:
        from cryptography.fernet import InvalidToken

        if not self.path.exists():
            return {}, (_random.token_bytes(16) if self.passphrase is not None else None)
        try:
            doc = json.loads(self.path.read_text("utf-8"))
            salt = base64.b64decode(doc["salt"]) if doc.get("salt") else None
            data = self._fernet(salt).decrypt(doc["data"].encode("ascii"))
            return dict(json.loads(data)), salt
        except InvalidToken as e:
            raise ConfigError(f"Cannot decrypt {self.path.name}: wrong passphrase or key.",
                              hint="Set the OS1_PASSPHRASE the secrets were saved with.") from e
        except (OSError, ValueError, KeyError) as e:
            raise ConfigError(f"Cannot read {self.path}: {e.__class__.__name__}.") from e

    def _save(self, items: dict[str, str], salt: bytes | None) -> None:
        token = self._fernet(salt).encrypt(json.dumps(items).encode("utf-8")).decode("ascii")
        doc = {"v": 1, "kdf": "scrypt" if salt else "keyfile", "salt": base64.b64encode(salt).decode() if salt else None,
               "data": token}
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)  # atomic: a crash leaves the old file or the new one

    def get(self, ref: str) -> str | None:
        with self._lock:
            return self._load()[0].get(ref)

    def set(self, ref: str, secret: str) -> None:
        with self._lock:
            items, salt = self._load()
            items[ref] = secret
            self._save(items, salt)

    def delete(self, ref: str) -> None:
        with self._lock:
            items, salt = self._load()
            if items.pop(ref, None) is not None:
                self._save(items, salt)


def keyring_usable() -> bool:
    """Whether the OS keyring has a real backend here (not the 'fail' or 'null' stand-ins)."""
    try:
        import keyring
        from keyring.backends import chainer, fail

        kr = keyring.get_keyring()
        if isinstance(kr, fail.Keyring) or type(kr).__module__.startswith("keyring.backends.null"):
            return False
        return not (isinstance(kr, chainer.ChainerBackend) and not kr.backends)
    except Exception:  # keyring's import-time backend discovery raises assorted errors on odd set-ups
        return False


class MemorySecrets:
    """Secrets kept in this process only: for a companion without a data dir (tests, embedding OS1 in a script)."""

    name = "memory"

    def __init__(self) -> None:
        self._items: dict[str, str] = {}

    def get(self, ref: str) -> str | None:
        return self._items.get(ref)

    def set(self, ref: str, secret: str) -> None:
        self._items[ref] = secret

    def delete(self, ref: str) -> None:
        self._items.pop(ref, None)


def secrets_for(home: Path | None, backend: str = "auto", *, passphrase: str | None = None) -> Callable[[], SecretStore]:
    """A lazy getter for the secret store (opened at first use, so start-up never touches the keyring)."""
    if backend not in ("auto", "keyring", "file"):
        raise ConfigError(f"Unknown secret store {backend!r}.", hint="Use auto, keyring or file (OS1_SECRET_STORE).")
    chosen: list[SecretStore] = []

    def get() -> SecretStore:
        if not chosen:
            chosen.append(MemorySecrets() if home is None else open_secrets(home, backend, passphrase=passphrase))  # type: ignore[arg-type]
        return chosen[0]
    return get


def open_secrets(home: Path, backend: Backend = "auto", *, passphrase: str | None = None) -> SecretStore:
    """The secret store the settings ask for."""
    if backend == "keyring" or (backend == "auto" and keyring_usable()):
        if backend == "keyring" and not keyring_usable():
            raise ConfigError("No OS keyring is available here.", hint="Set OS1_SECRET_STORE=file (or auto).")
        return KeyringSecrets()
    return FileSecrets(home, passphrase=passphrase)
