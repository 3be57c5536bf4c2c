"""What every `os1` command shares: the consoles, settings from the environment, and error exits."""

from __future__ import annotations

import json
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from .config import Settings
from .errors import ConfigError, InputError, ModelError, OS1Error, StoreError

# No emoji codes or highlighting: what is shown is exactly what was said and stored.
out = Console(highlight=False, emoji=False)
err = Console(stderr=True, highlight=False, emoji=False)

EXIT_CODES: dict[type[OS1Error], int] = {InputError: 2, ConfigError: 2, ModelError: 3, StoreError: 4}

ModelOpt = Annotated[str | None, typer.Option("--model", "-M", help="default, tiny, echo, openai:NAME[@URL], gguf:PATH (env OS1_MODEL)")]


def _settings(model: str | None = None, *, as_json: bool = False) -> Settings:
    try:
        settings = Settings()
    except ValidationError as e:
        problems = "; ".join(f"OS1_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in e.errors())
        _fail(ConfigError(f"Bad setting: {problems}", hint="Fix or unset that environment variable."), as_json=as_json)
    if model:
        settings = settings.model_copy(update={"model": model})
    return settings


def _fail(e: OS1Error, *, as_json: bool = False) -> NoReturn:
    code = next((c for t, c in EXIT_CODES.items() if isinstance(e, t)), 1)
    if as_json:
        print(json.dumps({"error": {"type": type(e).__name__, "message": e.message, "hint": e.hint}}))
    else:
        err.print(f"[bold red]Error:[/] {escape(e.message)}")
        if e.hint:
            err.print(f"  [dim]→ {escape(e.hint)}[/]")
    raise typer.Exit(code)
