"""Settings a person changes from the app: the model backend, its server and key, time zone, voice.

Saved in `$OS1_HOME/settings.json` (the key in `keys.toml`, next to it, and never sent back); read by
`Settings` at every start, below OS1_* variables. A new model takes effect at once: it is built and
checked before anything is saved, then swapped in and loaded in the background.

With accounts (docs/accounts.md) the model, its server and key, and the voice belong to the whole install:
only an admin changes them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import tomlkit
from fastapi import APIRouter
from pydantic import BaseModel, Field, SecretStr

from ..config import USER_SETTABLE, USER_SETTINGS_FILE, read_user_settings
from ..errors import ConfigError, InputError, ModelError
from ..models import ChatModel
from ..models.registry import resolve, statuses
from ..runtime import Runtime
from .auth import CurrentUser, NotAllowed, UserIdDep
from .schemas import BAD_INPUT


class ModelOption(BaseModel):
    name: str
    description: str
    ready: bool
    detail: str


class SettingsOut(BaseModel):
    model: str = Field(description="default, tiny, echo, openai:NAME[@BASE_URL] or gguf:/path/file.gguf.")
    openai_base_url: str = Field(description="The OpenAI-compatible server used by openai:NAME without @URL.")
    openai_api_key_set: bool = Field(description="Whether a key is configured. The key itself is never sent back.")
    tz: str | None = Field(description="Your IANA time zone; null: the machine's.")
    voice: str | None = Field(description="The voice OS1 speaks with; null: the default voice.")
    from_environment: list[str] = Field(description="Settings fixed by OS1_* variables: those win at the next start.")
    restart_required: list[str] = Field(description="Saved changes that take effect when OS1 restarts.")
    models: list[ModelOption] = Field(description="The built-in models and whether each is ready.")


INSTALL_WIDE = ("model", "openai_base_url", "openai_api_key", "voice")
"""Settings shared by every user of an install: with accounts, only an admin changes them."""


class SettingsIn(BaseModel):
    """Only the fields given change. An empty string clears tz, voice or the API key."""

    model: str | None = Field(default=None, min_length=1, max_length=1000)
    openai_base_url: str | None = Field(default=None, max_length=1000)
    openai_api_key: str | None = Field(default=None, max_length=1000, description="Write-only.")
    tz: str | None = Field(default=None, max_length=100)
    voice: str | None = Field(default=None, max_length=200)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, "utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def save_api_key(keys_file: Path, key: str | None) -> None:
    """Set (or remove) openai_api_key in keys.toml, keeping whatever else the file holds."""
    try:
        doc = tomlkit.parse(keys_file.read_text("utf-8")) if keys_file.exists() else tomlkit.document()
    except (OSError, tomlkit.exceptions.TOMLKitError) as e:
        raise ConfigError(f"Cannot read {keys_file}: {e}", hint="Fix or remove that file, then try again.") from e
    if key:
        doc["openai_api_key"] = key
    elif "openai_api_key" in doc:
        del doc["openai_api_key"]
    _write_atomic(keys_file, tomlkit.dumps(doc))


def settings_router(rt: Runtime, use_model: Callable[[ChatModel], Awaitable[None]]) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["settings"])
    settings = rt.settings

    async def current(user_id: str) -> SettingsOut:
        try:
            has_key = settings.api_key() is not None
        except ConfigError:
            has_key = False
        return SettingsOut(
            model=settings.model, openai_base_url=settings.openai_base_url, openai_api_key_set=has_key,
            tz=await rt.companion.proactive.zone_choice(user_id) or settings.tz, voice=settings.voice,
            from_environment=[k for k in USER_SETTABLE if f"OS1_{k.upper()}" in os.environ],
            restart_required=[],  # every change applies at once today; kept for clients that read it
            models=[ModelOption(name=s.name, description=s.description, ready=s.ready, detail=s.detail)
                    for s in statuses(settings)])

    @router.get("/settings", response_model=SettingsOut)
    async def get_settings(user_id: UserIdDep) -> SettingsOut:
        """What can be changed from the app, and how it is set now (API keys are never shown)."""
        return await current(user_id)

    @router.put("/settings", response_model=SettingsOut, responses=BAD_INPUT)
    async def put_settings(me: CurrentUser, body: SettingsIn) -> SettingsOut:
        """Change settings. A new model is checked, then used at once; a time zone is yours alone and applies at once."""
        if me.signed_in and not me.admin and any(getattr(body, k) is not None for k in INSTALL_WIDE):
            raise NotAllowed("Only an admin can change the model, its server or key, or the voice.",
                             hint="These settings are shared by everyone on this OS1.")
        changes: dict[str, Any] = {}
        if body.model is not None:
            changes["model"] = body.model.strip()
        if body.openai_base_url is not None:
            url = body.openai_base_url.strip().rstrip("/")
            if not url.startswith(("http://", "https://")):
                raise InputError("The server address must start with http:// or https://.",
                                 hint="For Ollama on this machine: http://127.0.0.1:11434/v1")
            changes["openai_base_url"] = url
        if body.tz is not None:
            # Each person's own zone (reminders, check-ins, mood days, the prompt's clock), checked and stored
            # before anything else is saved; empty goes back to the installation's zone.
            await rt.companion.proactive.set_zone(me.id, body.tz.strip() or None)
        if body.voice is not None:
            changes["voice"] = body.voice.strip() or None

        new_model: ChatModel | None = None
        backend_changed = body.openai_api_key is not None or any(
            k in changes and changes[k] != getattr(settings, k) for k in ("model", "openai_base_url"))
        if backend_changed:
            trial = settings.model_copy(update=changes)
            try:
                new_model = resolve(trial.model, trial)
            except (ConfigError, ModelError) as e:
                raise InputError(f"That model can't be used: {e.message}",
                                 hint=e.hint or "Choose one of the listed models, or check the name or path.") from e

        saved = read_user_settings(settings.home)
        saved.update(changes)
        settings.ensure_home()
        _write_atomic(settings.home / USER_SETTINGS_FILE, json.dumps(saved, indent=2, ensure_ascii=False) + "\n")
        if body.openai_api_key is not None:
            key = body.openai_api_key.strip() or None
            save_api_key(settings.keys_file, key)
            settings.openai_api_key = SecretStr(key) if key else None
        for key, value in changes.items():
            setattr(settings, key, value)
        if new_model is not None:
            if body.openai_api_key is not None:
                # The key came with this request: build again so the model carries the key now saved.
                new_model = resolve(settings.model, settings)
            await use_model(new_model)
        return await current(me.id)

    return router
