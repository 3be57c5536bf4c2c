"""`os1 safety`: the safety events OS1 recorded, and the crisis lines it shows where you live."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from .cli_common import _fail, _settings, out
from .errors import OS1Error
from .runtime import open_runtime
from .safety import USER_FILE_NAME, resources_for

safety_app = typer.Typer(help="Safety: each time OS1 found risk and what it did (docs/safety.md), and your crisis lines.",
                         invoke_without_command=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@safety_app.callback()
def safety_events(ctx: typer.Context, limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many, newest first.")] = 50,
                  as_json: JsonOpt = False) -> None:
    """List the safety events, newest first: when, what the screen found, what was shown, how OS1 answered."""
    if ctx.invoked_subcommand:
        return
    settings = _settings("echo", as_json=as_json)

    async def run() -> list[Any]:
        rt = open_runtime(settings)
        try:
            return await rt.companion.safety_events.list(settings.user, limit=limit)
        finally:
            await rt.companion.pause_learning()
            await rt.aclose()

    try:
        events = asyncio.run(run())
    except OS1Error as e:
        _fail(e, as_json=as_json)
    if as_json:
        print(json.dumps([ev.as_dict() for ev in events], ensure_ascii=False))
        return
    if not events:
        out.print("[dim]No safety events. (OS1 records one each time its risk screen finds risk; see docs/safety.md.)[/]")
        return
    table = Table("id", "when", "kind", "found", "answer", "message")
    for ev in events:
        answer = ev.response + (f" ({', '.join(ev.problems)})" if ev.problems else "")
        text = (ev.message or "(forgotten)").replace("\n", " ")
        table.add_row(str(ev.id), f"{ev.created_at.astimezone(settings.zone()):%Y-%m-%d %H:%M}", ev.kind,
                      escape(", ".join(ev.categories) or "-"), escape(answer), escape(text[:60] + ("…" if len(text) > 60 else "")))
    out.print(table)


@safety_app.command("resources")
def safety_resources(as_json: JsonOpt = False) -> None:
    """The crisis lines OS1 shows for your country (OS1_LOCALE), and where to change them."""
    settings = _settings(as_json=as_json)
    try:
        found = resources_for(settings.locale, settings.home / USER_FILE_NAME)
    except OS1Error as e:
        _fail(e, as_json=as_json)
    if as_json:
        print(json.dumps({"country": found.country, "name": found.name, "lines": list(found.lines),
                          "emergency": found.emergency, "shown": list(found.shown)}, ensure_ascii=False))
        return
    out.print(f"[bold]Crisis lines for {escape(found.name)}[/] ({found.country}):")
    for line in found.shown:
        out.print(f"  • {escape(line)}")
    out.print(f"[dim]Set OS1_LOCALE to your country; add or correct lines in {escape(str(settings.home / USER_FILE_NAME))}.[/]")
