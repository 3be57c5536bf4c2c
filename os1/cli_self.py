"""`os1 mood`, `os1 journal` and `os1 self`: how you've been, and who OS1 is becoming."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from .affect.mood import daily_moods, sparkline
from .cli_common import ModelOpt, _fail, _settings, out
from .errors import OS1Error
from .runtime import Runtime, open_runtime

self_app = typer.Typer(help="Who OS1 is: its mood, interests and opinions, and how they have changed.",
                       invoke_without_command=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _run(fn: Any, *, as_json: bool, model: str | None = "echo") -> Any:
    settings = _settings(model, as_json=as_json)

    async def go() -> Any:
        rt = open_runtime(settings)
        try:
            return await fn(rt)
        finally:
            await rt.companion.pause_learning()
            await rt.aclose()

    try:
        return asyncio.run(go())
    except OS1Error as e:
        _fail(e, as_json=as_json)


def mood_command(days: Annotated[int, typer.Option(min=1, max=3650, help="How many days back.")] = 14,
                 as_json: JsonOpt = False) -> None:
    """How you've seemed, day by day (from the emotion reading of each message)."""
    async def run(rt: Runtime) -> list[Any]:
        return await daily_moods(rt.db, rt.settings.user, days=days, now=rt.clock.now(), zone=rt.settings.zone())

    found = _run(run, as_json=as_json)
    if as_json:
        print(json.dumps([d.as_dict() for d in found]))
        return
    if not found:
        out.print("[dim]No days to show yet.[/]")
        return
    out.print(f"mood  {sparkline([d.valence for d in found])}  (low ▁ … █ bright)")
    table = Table("day", "messages", "valence", "", "mostly")
    for d in found:
        table.add_row(f"{d.day:%a %d %b}", str(d.messages), f"{d.valence:+.2f}", sparkline([d.valence]), ", ".join(d.top))
    out.print(table)


def journal_command(write: Annotated[bool, typer.Option("--write", help="Write an entry now (uses the model).")] = False,
                    limit: Annotated[int, typer.Option(min=1, max=1000)] = 10, as_json: JsonOpt = False,
                    model: ModelOpt = None) -> None:
    """OS1's journal: what it learned about you, about itself, and how it is changing."""
    async def run(rt: Runtime) -> list[Any]:
        if write:
            await rt.model.load()
            p = await rt.companion.profile(rt.settings.user)
            await rt.companion.journal.write(rt.model, rt.settings.user, now=rt.clock.now(), user_name=p.user_name,
                                             companion_name=p.companion_name)
        return await rt.companion.journal.entries(rt.settings.user, limit=limit)

    entries = _run(run, as_json=as_json, model=model if write else "echo")
    if as_json:
        print(json.dumps([e.as_dict() for e in entries], ensure_ascii=False))
        return
    if not entries:
        out.print("[dim]The journal is empty so far.[/]")
    for e in entries:
        out.print(f"[bold]{e.created_at:%Y-%m-%d %H:%M}[/]  {escape(e.text)}")
        if e.about_user:
            out.print(f"  [dim]about you:[/] {escape(e.about_user)}")
        if e.about_self:
            out.print(f"  [dim]about me:[/] {escape(e.about_self)}")
        for c in e.changes:
            out.print(f"  [dim]change #{c.id}:[/] {escape(c.topic)}: {escape(c.new_stance or f'{c.old_weight} → {c.new_weight}')}"
                      f" [dim]({escape(c.reason)})[/]")
        out.print()


@self_app.callback()
def self_show(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Show OS1's self and the changes it has gone through."""
    if ctx.invoked_subcommand:
        return

    async def run(rt: Runtime) -> tuple[Any, Any]:
        me = await rt.companion.self_store.get(rt.settings.user, at=rt.clock.now())
        return me, await rt.companion.self_store.changes(rt.settings.user)

    me, changes = _run(run, as_json=as_json)
    if as_json:
        print(json.dumps({**me.as_dict(), "changes": [c.as_dict() for c in changes]}, ensure_ascii=False))
        return
    out.print(f"[bold]Mood:[/] {escape(me.mood)}   [bold]Curious about:[/] {escape(me.curious_about)}")
    out.print(f"[bold]Nature:[/] {escape(', '.join(me.traits))}")
    out.print(f"[bold]Core values (never change):[/] {escape('; '.join(me.values))}")
    out.print("[bold]Interests:[/] " + escape(", ".join(f"{b.topic} ({b.weight:.1f})" for b in me.interests)))
    for b in me.opinions:
        out.print(f"  • {escape(b.topic)}: {escape(b.stance)}")
    if changes:
        table = Table("#", "when", "what", "reason", "undone")
        for c in changes:
            what = f"{c.topic}: {c.old_stance or c.old_weight} → {c.new_stance or c.new_weight}"
            table.add_row(str(c.id), f"{c.created_at:%Y-%m-%d}", escape(what), escape(c.reason), "yes" if c.reverted else "")
        out.print(table)


@self_app.command("revert")
def self_revert(change_id: Annotated[int, typer.Argument(help="The change number from `os1 self`.")],
                as_json: JsonOpt = False) -> None:
    """Undo one change to OS1's opinions or interests."""
    change = _run(lambda rt: rt.companion.self_store.revert(rt.settings.user, change_id, at=rt.clock.now()),
                  as_json=as_json)
    if as_json:
        print(json.dumps(change.as_dict(), ensure_ascii=False))
    else:
        out.print(f"[green]✓[/] Undone: {escape(change.topic)} is back to what it was.")
