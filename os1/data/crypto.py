"""Encryption at rest: the SQLite file encrypted whole with SQLCipher (AES-256, HMAC per page).

SQLCipher (the `sqlcipher3` wheel, which bundles SQLCipher 4 with FTS5) encrypts every page, so the
full-text index, the WAL and free pages are as unreadable as the tables. The key is derived from the
passphrase by SQLCipher (PBKDF2-HMAC-SHA512) and lives only in memory: the passphrase comes from
OS1_PASSPHRASE, the OS keyring, or a prompt, and is never written anywhere by OS1.

Whether a file is encrypted is read from its first bytes: a plain SQLite file starts with
"SQLite format 3"; a SQLCipher file starts with a random salt.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, text

from ..errors import ConfigError, OS1Error, StoreError

if TYPE_CHECKING:
    from ..storage.engine import Auto, Database

SQLITE_HEADER = b"SQLite format 3\x00"
KEYRING_SERVICE = "os1"
PASSPHRASE_ENV = "OS1_PASSPHRASE"
MISSING_HINT = ("Set OS1_PASSPHRASE, keep it in the OS keyring (`os1 encrypt --remember`), "
                "or run OS1 in a terminal to be asked for it.")


def is_encrypted(path: Path) -> bool | None:
    """True for a SQLCipher file, False for plain SQLite, None when there is no database yet."""
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return None
    if not head:
        return None
    if head == SQLITE_HEADER:
        return False
    # SQLCipher begins with a random 16-byte salt: all-printable text there is some other file, which the plain
    # driver then reports as "not a database" (a StoreError), never as a missing passphrase.
    return not all(32 <= b < 127 or b in (9, 10, 13) for b in head)


def sqlcipher() -> Any:
    """The SQLCipher DB-API module, or a ConfigError saying how to install it."""
    try:
        from sqlcipher3 import dbapi2
    except ImportError as e:
        raise ConfigError("Encryption needs SQLCipher, which is not installed.",
                          hint="Install it with `pip install 'os1[encryption]'` (the sqlcipher3 wheel).") from e
    return dbapi2


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def key_connection(conn: Any, passphrase: str) -> None:
    """Give a fresh SQLCipher connection its key (must come before anything else touches the file)."""
    cur = conn.cursor()
    cur.execute("PRAGMA cipher_log_level = NONE")  # a wrong key is reported by OS1, not logged to stderr
    cur.execute(f"PRAGMA key = {_quote(passphrase)}")
    cur.close()


def _connect(module: Any, path: Path, passphrase: str) -> Any:
    conn = module.connect(str(path), check_same_thread=False)
    key_connection(conn, passphrase)
    return conn


def encrypted_engine(path: Path, passphrase: str) -> Engine:
    """A SQLAlchemy engine on an encrypted file. Connections are pooled, so the (deliberately slow) key
    derivation runs once per pooled connection, not per query."""
    module = sqlcipher()
    return create_engine(f"sqlite:///{path}", module=module, creator=partial(_connect, module, path, passphrase))


def keyring_name(path: Path) -> str:
    """The keyring entry for a database: its absolute path."""
    return str(path.expanduser().resolve())


def _keyring_enabled() -> bool:
    return os.environ.get("OS1_KEYRING", "1").strip().lower() not in ("0", "false", "no", "off")


def keyring_get(path: Path) -> str | None:
    """The passphrase kept in the OS keyring for this database, if there is a keyring and an entry."""
    if not _keyring_enabled():
        return None
    try:
        import keyring

        value = keyring.get_password(KEYRING_SERVICE, keyring_name(path))
    except Exception:  # no keyring package, no backend (headless), a locked keyring: not there
        return None
    return value or None


def keyring_set(path: Path, passphrase: str | None) -> None:
    """Keep (or with None, remove) the passphrase in the OS keyring; ConfigError if there is none."""
    try:
        import keyring
        import keyring.errors

        if passphrase is None:
            with contextlib.suppress(keyring.errors.PasswordDeleteError):
                keyring.delete_password(KEYRING_SERVICE, keyring_name(path))
        else:
            keyring.set_password(KEYRING_SERVICE, keyring_name(path), passphrase)
    except ImportError as e:
        raise ConfigError("The keyring package is not installed.", hint="pip install 'os1[encryption]'") from e
    except Exception as e:
        raise ConfigError(f"The OS keyring is not available: {e}",
                          hint="Use OS1_PASSPHRASE instead, or a desktop session with a keyring.") from e


def prompt(message: str) -> str | None:
    """Ask in the terminal without echo; None when there is no terminal to ask in."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return None
    try:
        return getpass.getpass(message) or None
    except (EOFError, KeyboardInterrupt):
        return None


def find_passphrase(path: Path) -> str | None:
    """The passphrase for `path`: OS1_PASSPHRASE, else the OS keyring, else a prompt in a terminal."""
    return os.environ.get(PASSPHRASE_ENV) or keyring_get(path) or prompt(f"Passphrase for {path}: ")


def resolve_passphrase(path: Path, passphrase: str | None | Auto) -> str | None:
    """The key to open `path` with (None: plain SQLite), or a ConfigError that says what is missing."""
    if isinstance(passphrase, str):
        if not passphrase:
            raise ConfigError("The passphrase is empty.", hint="Choose a passphrase of at least one character.")
        return passphrase
    if passphrase is None:
        return None
    state = is_encrypted(path)
    env = os.environ.get(PASSPHRASE_ENV) or None
    if state is None:
        return env  # a new database is created encrypted when a passphrase is set
    if state is False:
        if env:
            raise ConfigError(f"OS1_PASSPHRASE is set, but the database at {path} is not encrypted.",
                              hint="Run `os1 encrypt` to encrypt it with that passphrase, or unset OS1_PASSPHRASE.")
        return None
    found = find_passphrase(path)
    if found is None:
        raise ConfigError(f"The database at {path} is encrypted and no passphrase was given.", hint=MISSING_HINT)
    return found


def check_key(db: Database) -> None:
    """Read the schema once: the wrong passphrase (or a file that is no database) fails here, clearly."""
    try:
        db.read_sync(lambda c: c.execute(text("SELECT count(*) FROM sqlite_master")).scalar_one())
    except StoreError as e:
        if "not a database" not in e.message and "encrypted" not in e.message:
            raise
        where = str(db.engine.url.database)
        if db.encrypted:
            raise ConfigError(f"The passphrase for the encrypted database at {where} is wrong.",
                              hint="Check OS1_PASSPHRASE (or the passphrase kept in your keyring).") from None
        if is_encrypted(Path(where)):
            raise ConfigError(f"The database at {where} is encrypted.", hint=MISSING_HINT) from None
        raise StoreError(f"{where} is not a SQLite database (or it is damaged).",
                         hint="Point OS1_DATABASE_URL or OS1_HOME at OS1's database.") from None


def passphrase_error(e: Exception) -> OS1Error:
    """A clear error for a SQLCipher failure while converting."""
    return ConfigError(f"Cannot read the database with that passphrase ({e}).",
                       hint="Check the passphrase you gave for the current database.")


def in_use(path: Path, passphrase: str | None) -> bool:
    """Whether another connection (in any process) has the SQLite database at `path` open right now."""
    if is_encrypted(path) is None:
        return False
    if passphrase is not None:
        conn = sqlcipher().connect(str(path), isolation_level=None, timeout=0.2)
        key_connection(conn, passphrase)
    else:
        import sqlite3

        conn = sqlite3.connect(str(path), isolation_level=None, timeout=0.2)
    try:
        # In WAL mode every open connection holds a shared lock, so an exclusive one is refused.
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("ROLLBACK")
        return False
    except Exception as e:
        return "locked" in str(e) or "busy" in str(e)
    finally:
        conn.close()
