"""`os1 memory …` and `os1 people`: see, search, correct and erase what OS1 knows."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from .cli_common import _fail, _settings, err, out
from .errors import InputError, OS1Error
from .memory.book import MemoryBook, MemoryItem
from .runtime import Runtime, open_runtime

memory_app = typer.Typer(help="See, search, correct and erase what OS1 knows about you.", no_args_is_help=True)
T = TypeVar("T")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _with_runtime(fn: Callable[[Runtime], Awaitable[T]], *, as_json: bool = False) -> T:
    settings = _settings("echo", as_json=as_json)  # no model needed to read memory
    try:
        rt = open_runtime(settings)
    except OS1Error as e:
        _fail(e, as_json=as_json)

    async def run() -> T:
        try:
            return await fn(rt)
        finally:
            await rt.aclose()

    try:
        return asyncio.run(run())
    except OS1Error as e:
        _fail(e, as_json=as_json)


def _book(rt: Runtime) -> MemoryBook:
    return MemoryBook(rt.companion.memory, rt.settings.zone())


def _table(items: list[MemoryItem]) -> Table:
    table = Table("id", "kind", "memory", "source", show_lines=False)
    for m in items:
        text = m.text if m.current else f"[dim]{escape(m.text)}[/] [yellow](no longer true)[/]"
        table.add_row(m.ref, m.kind, text if not m.current else escape(m.text), escape(m.source))
    return table


@memory_app.command("list")
def memory_list(
    kind: Annotated[str, typer.Option(help="known (facts and reflections), fact, reflection, exchange, all")] = "known",
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List memories, newest first, each with where it came from."""
    if kind not in ("known", "fact", "reflection", "exchange", "all"):
        _fail(InputError(f"Unknown kind {kind!r}.", hint="Use known, fact, reflection, exchange or all."), as_json=as_json)
    items = _with_runtime(lambda rt: _book(rt).items(rt.settings.user, kind=kind, limit=limit), as_json=as_json)  # type: ignore[arg-type]
    if as_json:
        print(json.dumps([m.as_dict() for m in items], ensure_ascii=False))
    elif not items:
        out.print("[dim]Nothing yet.[/]")
    else:
        out.print(_table(items))


@memory_app.command("search")
def memory_search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
    as_json: JsonOpt = False,
) -> None:
    """Search everything OS1 remembers, the way it recalls during a conversation."""
    async def run(rt: Runtime) -> list[dict[str, Any]]:
        from .wire import memory_dict

        found = await rt.companion.search_memories(rt.settings.user, query, limit=limit)
        return [memory_dict(m) for m in found]

    found = _with_runtime(run, as_json=as_json)
    if as_json:
        print(json.dumps(found, ensure_ascii=False))
        return
    if not found:
        out.print("[dim]Nothing found.[/]")
        return
    table = Table("id", "kind", "memory", "source", "score")
    for m in found:
        table.add_row(m["ref"], m["kind"], escape(m["text"]), escape(m["source"]), f"{m['score']:.2f}")
    out.print(table)


@memory_app.command("show")
def memory_show(ref: Annotated[str, typer.Argument(help="A memory id: e12, f7, r3.")], as_json: JsonOpt = False) -> None:
    """One memory: its source, its history, what was derived from it."""
    item = _with_runtime(lambda rt: _book(rt).show(rt.settings.user, ref), as_json=as_json)
    if as_json:
        print(json.dumps(item.as_dict(), ensure_ascii=False))
        return
    out.print(f"[bold]{item.ref}[/] ({item.kind}{'' if item.current else ', no longer true'})")
    out.print(escape(item.text))
    out.print(f"[dim]{escape(item.source)}; recorded {item.created_at:%Y-%m-%d %H:%M} UTC[/]")
    for k, v in item.details.items():
        if v not in (None, [], ""):
            out.print(f"[dim]{k}:[/] {escape(json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v)}")


@memory_app.command("edit")
def memory_edit(
    ref: Annotated[str, typer.Argument(help="A memory id: e12, f7, r3.")],
    text: Annotated[str, typer.Option("--text", help="The corrected text.")],
    as_json: JsonOpt = False,
) -> None:
    """Correct a memory."""
    item = _with_runtime(lambda rt: _book(rt).edit(rt.settings.user, ref, text, at=rt.clock.now()), as_json=as_json)
    if as_json:
        print(json.dumps(item.as_dict(), ensure_ascii=False))
    else:
        out.print(f"[green]✓[/] {item.ref} now says: {escape(item.text)}")


@memory_app.command("forget")
def memory_forget(
    selector: Annotated[str, typer.Argument(help="A memory id (e12, f7, r3) or what to forget (\"my ex Mark\").")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Don't ask for confirmation (--json never asks).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Forget a memory and everything derived from it (facts, reflections, index entries)."""
    async def preview(rt: Runtime) -> Any:
        forgetter = rt.companion.memory.forgetter
        return await forgetter.expand(rt.settings.user, await forgetter.select(rt.settings.user, selector))

    sel = _with_runtime(preview, as_json=as_json)
    if sel.empty:
        if as_json:
            print(json.dumps({"forgotten": 0, "exchanges": [], "facts": [], "reflections": [], "people": []}))
        else:
            out.print("[dim]Nothing matches that.[/]")
        return
    if not yes and not as_json:
        out.print("This will forget:")
        for p in sel.previews[:20]:
            out.print(f"  • {escape(p[:120])}")
        if len(sel.previews) > 20:
            out.print(f"  … and {len(sel.previews) - 20} more")
        if not typer.confirm("Forget all of this, and everything derived from it?"):
            raise typer.Exit(1)

    async def run(rt: Runtime) -> Any:
        return await rt.companion.forget(rt.settings.user, sel)

    gone = _with_runtime(run, as_json=as_json)
    if as_json:
        print(json.dumps({"forgotten": gone.count, "exchanges": [f"e{i}" for i in gone.exchanges],
                          "facts": [f"f{i}" for i in gone.facts], "reflections": [f"r{i}" for i in gone.reflections],
                          "people": list(gone.people), "notes_scrubbed": gone.notes_scrubbed}))
    else:
        out.print(f"[green]✓[/] Forgotten: {len(gone.exchanges)} messages, {len(gone.facts)} facts, "
                  f"{len(gone.reflections)} reflections, {len(gone.people)} people.")


@memory_app.command("reflect")
def memory_reflect(as_json: JsonOpt = False, model: Annotated[str | None, typer.Option("--model", "-M")] = None) -> None:
    """Reflect now: draw insights from recent conversations (uses the model)."""
    settings = _settings(model, as_json=as_json)

    async def run() -> list[Any]:
        rt = open_runtime(settings)
        try:
            await rt.model.load()
            p = await rt.companion.profile(settings.user)
            return await rt.companion.learner.reflect_now(settings.user, user_name=p.user_name,
                                                         companion_name=p.companion_name)
        finally:
            await rt.aclose()

    try:
        made = asyncio.run(run())
    except OS1Error as e:
        _fail(e, as_json=as_json)
    if as_json:
        print(json.dumps([{"id": f"r{r.id}", "text": r.text, "sources": list(r.sources)} for r in made]))
    elif not made:
        err.print("[dim]No new insight this time.[/]")
    for r in made if not as_json else []:
        out.print(f"r{r.id}: {escape(r.text)} [dim]({', '.join(r.sources)})[/]")


def people_command(as_json: JsonOpt = False) -> None:
    """The people in your life OS1 knows about."""
    found, zone = _with_runtime(lambda rt: _people_and_zone(rt), as_json=as_json)
    if as_json:
        print(json.dumps([{"id": p.id, "name": p.name, "relation": p.relation, "location": p.location,
                           "last_mentioned_at": p.last_mentioned_at.isoformat() if p.last_mentioned_at else None,
                           "last_contact_at": p.last_contact_at.isoformat() if p.last_contact_at else None}
                          for p in found], ensure_ascii=False))
        return
    if not found:
        out.print("[dim]No one yet. Tell me about the people in your life.[/]")
        return
    table = Table("name", "relation", "lives in", "last mentioned", "last in touch")
    for p in found:
        table.add_row(escape(p.name), escape(p.relation or ""), escape(p.location or ""),
                      f"{p.last_mentioned_at.astimezone(zone):%Y-%m-%d}" if p.last_mentioned_at else "",
                      f"{p.last_contact_at.astimezone(zone):%Y-%m-%d}" if p.last_contact_at else "")
    out.print(table)


async def _people_and_zone(rt: Runtime) -> tuple[list[Any], Any]:
    return await rt.companion.memory.facts.people(rt.settings.user), rt.settings.zone()
