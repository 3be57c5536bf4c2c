"""Settings: one object, built in `main()` or the app factory and passed down, never at import time."""

from __future__ import annotations

import contextlib
import os
import tomllib
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ConfigError


def _default_home() -> Path:
    return Path(platformdirs.user_data_dir("os1", appauthor=False))


def _default_threads() -> int:
    # Measured on a 2-core machine: with 2 generation threads, tokens/s collapsed below 1 whenever the
    # other core was busy; with 1 it held steady. Leave one core free for everything else.
    return max(1, (os.cpu_count() or 2) - 1)


class Settings(BaseSettings):
    """Every knob OS1 has. Environment variables are the field names with an `OS1_` prefix."""

    model_config = SettingsConfigDict(env_prefix="OS1_", extra="ignore", populate_by_name=True)

    home: Path = Field(default_factory=_default_home)
    """Data directory (OS1_HOME). Default: the XDG data dir, e.g. ~/.local/share/os1."""
    now: datetime | None = None
    """Fixed clock for demos and tests (OS1_NOW, ISO-8601)."""
    tz: str | None = None
    """IANA time zone of the user (OS1_TZ). Default: the machine's."""
    model: str = "default"
    """Chat model by name: default, tiny, echo, openai:NAME[@BASE_URL], gguf:/path/to/file.gguf."""
    user: str = "local"
    """User id for the single-user laptop mode (OS1_USER)."""
    database_url: str | None = None
    """SQLAlchemy URL; default: SQLite file os1.db in the data dir."""

    models_dir_override: Path | None = Field(default=None, validation_alias="OS1_MODELS_DIR")
    """Where assembled model weights live (OS1_MODELS_DIR); default: `models` in the data dir."""

    threads: int = Field(default_factory=_default_threads, ge=1, le=256)
    """llama.cpp threads for generation (OS1_THREADS)."""
    batch_threads: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=256)
    """llama.cpp threads for prompt processing (OS1_BATCH_THREADS); default: all cores. Prompt
    processing is short and compute-bound: 2 threads doubled its speed on 2 cores (155 -> 295 tok/s)."""
    n_ctx: int = Field(default=4096, ge=512, le=131072)
    """Context window in tokens for embedded models."""
    extra_bufts: bool = False
    """llama.cpp extra CPU buffer types: AMX and repacked weights (OS1_EXTRA_BUFTS). Off by default:
    with llama-cpp-python 0.3.36 built by GCC <= 12 they segfault at the first decode on AMX CPUs
    (miscompiled AMX tile config), and on our 2-core AMD test machine repacking made prompt
    processing slower (185 vs 295 tok/s with 2 threads, Qwen 1.5B Q4_K_M; bench/RESULTS.md)."""

    openai_base_url: str = "http://127.0.0.1:11434/v1"
    """Base URL of an OpenAI-compatible server (OS1_OPENAI_BASE_URL); Ollama's by default."""
    openai_api_key: SecretStr | None = None
    """API key (OS1_OPENAI_API_KEY, else OPENAI_API_KEY, else keys.toml in the data dir)."""
    openai_timeout: float = 120.0

    max_message_chars: int = Field(default=20_000, ge=100)
    """Longest user message accepted; longer ones get a clear error and nothing is stored."""
    history_turns: int = Field(default=16, ge=2)
    """How many recent messages the prompt carries."""
    recall_limit: int = Field(default=5, ge=0)
    """How many memories are recalled for each turn."""
    embeddings: bool = True
    """Dense recall with the bundled multilingual-e5-small embedder (OS1_EMBEDDINGS=0: lexical only)."""

    host: str = "127.0.0.1"
    port: int = 8000

    @field_validator("now", mode="before")
    @classmethod
    def _parse_now(cls, v: object) -> object:
        if isinstance(v, str) and v.strip() == "":
            return None
        return v

    # Derived paths ---------------------------------------------------------------------------------
    @property
    def models_dir(self) -> Path:
        return self.models_dir_override or self.home / "models"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'os1.db'}"

    @property
    def keys_file(self) -> Path:
        return self.home / "keys.toml"

    def zone(self) -> tzinfo:
        """The user's time zone."""
        if self.tz:
            try:
                return ZoneInfo(self.tz)
            except Exception as e:  # zoneinfo raises several types for bad keys
                raise ConfigError(f"Unknown time zone {self.tz!r}", hint="Use an IANA name such as Europe/Paris.") from e
        if self.now is not None and self.now.tzinfo is not None:
            return self.now.tzinfo
        local = datetime.now().astimezone().tzinfo
        return local or UTC

    def api_key(self) -> str | None:
        """The OpenAI-compatible API key: environment first, then the keys file. Never logged."""
        if self.openai_api_key is not None:
            return self.openai_api_key.get_secret_value()
        env = os.environ.get("OPENAI_API_KEY")
        if env:
            return env
        if self.keys_file.exists():
            try:
                data = tomllib.loads(self.keys_file.read_text("utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as e:
                raise ConfigError(f"Cannot read {self.keys_file}: {e}") from e
            key = data.get("openai_api_key")
            return str(key) if key else None
        return None

    def ensure_home(self) -> Path:
        """Create the data directory (private to the user) and return it."""
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ConfigError(f"Cannot use {self.home} as the data directory: {e.strerror or e}.",
                              hint="Set OS1_HOME to a writable directory.") from e
        with contextlib.suppress(OSError):  # e.g. a home on a filesystem without permissions
            self.home.chmod(0o700)
        return self.home


def cpu_has_amx(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the CPU advertises Intel AMX tiles (Linux only; False where unknown)."""
    try:
        text = cpuinfo.read_text("utf-8", "replace")
    except OSError:
        return False
    return any(flag.startswith("amx") for line in text.splitlines() if line.startswith("flags")
               for flag in line.split(":", 1)[1].split())
