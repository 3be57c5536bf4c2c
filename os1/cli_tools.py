"""`os1 pending`, `os1 confirm` and `os1 decline`, and what the tool commands share: a runtime per command,
JSON output, pending actions shown exactly as they will happen. The tools themselves are `cli_mail.py`
(`os1 mail`), `cli_calendar.py` (`os1 calendar`) and `cli_letters.py` (`os1 letter`), all over the same
Toolbox the conversation and the API use."""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import typer
from rich.markup import escape

from .cli_common import _fail, _settings, err, out
from .errors import InputError, OS1Error
from .runtime import Runtime, open_runtime
from .tools import Action, Toolbox
from .tools.base import ToolOutput
from .types import ToolProposed, ToolRefused, ToolResult

T = TypeVar("T")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _run(fn: Callable[[Runtime, Toolbox, datetime], Awaitable[T]], *, as_json: bool = False, model: str | None = "echo") -> T:
    settings = _settings(model, as_json=as_json)
    try:
        rt = open_runtime(settings)
    except OS1Error as e:
        _fail(e, as_json=as_json)

    async def go() -> T:
        try:
            user = rt.settings.user
            now = rt.clock.now().astimezone(rt.companion.proactive.zone_for(user))
            return await fn(rt, rt.companion.tools, now)
        finally:
            await rt.aclose()

    try:
        return asyncio.run(go())
    except OS1Error as e:
        _fail(e, as_json=as_json)


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, default=str))


def _password(from_stdin: bool, what: str) -> str:
    if from_stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        secret = getpass.getpass(f"{what} password (not shown): ")
    else:
        raise InputError("No password given.", hint="Pipe it in with --password-stdin.")
    if not secret:
        raise InputError("The password is empty.")
    return secret


def show_action(a: Action, *, as_json: bool) -> None:
    if as_json:
        _print_json({"action": a.as_dict()})
        return
    out.print(f"[bold]Action {a.id}[/] ({a.risk}, waits for your yes):")
    out.print(escape(a.summary))
    for w in a.warnings:
        err.print(f"[yellow]⚠ {escape(w)}[/]")
    out.print(f"[dim]Confirm: os1 confirm {a.id}    Decline: os1 decline {a.id}[/]")


def show_result(r: ToolOutput | Action, *, as_json: bool, lines: Callable[[ToolOutput], None] | None = None) -> None:
    if isinstance(r, Action):
        show_action(r, as_json=as_json)
        return
    if as_json:
        _print_json({"summary": r.summary, "warnings": list(r.warnings), **dict(r.data)})
        return
    if lines is not None:
        lines(r)
    else:
        out.print(escape(r.summary))
    for w in r.warnings:
        err.print(f"[yellow]⚠ {escape(w)}[/]")


def show_tool_event(event: ToolProposed | ToolResult | ToolRefused) -> None:
    """A turn's tool event in the chat, verbatim: a pending action shows exactly what a yes would do."""
    if isinstance(event, ToolProposed):
        err.print(f"[bold yellow]Waiting for your yes (action {event.action_id}, {event.risk}):[/]\n{escape(event.summary)}")
        for w in event.warnings:
            err.print(f"[yellow]⚠ {escape(w)}[/]")
        err.print(f'[dim]Say "yes, send it" or "no" (or: os1 confirm {event.action_id} / os1 decline {event.action_id}).[/]')
    elif isinstance(event, ToolRefused):
        err.print(f"[yellow]Refused {escape(event.tool)}: {escape(event.reason)}.[/]")
    else:
        err.print(f"[dim]{escape(event.tool)}: {escape(event.summary)}[/]")


# pending / confirm / decline -----------------------------------------------------------------------------
def pending_command(all_: Annotated[bool, typer.Option("--all", help="Also what was done, declined or expired.")] = False,
                    as_json: JsonOpt = False) -> None:
    """What waits for your yes: each action with exactly what it will do."""
    items = _run(lambda rt, tb, now: tb.actions.list(rt.settings.user, now=now, status=None if all_ else "pending"),
                 as_json=as_json)
    if as_json:
        _print_json({"actions": [a.as_dict() for a in items]})
        return
    if not items:
        out.print("Nothing waits for your yes.")
    for a in items:
        out.print(f"[bold]{a.id}[/] {a.status} · {a.tool} ({a.risk}) · {a.created_at:%Y-%m-%d %H:%M}")
        out.print("  " + escape(a.summary).replace("\n", "\n  "))


def confirm_command(action_id: Annotated[int, typer.Argument(help="The action's id (see `os1 pending`).")],
                    as_json: JsonOpt = False) -> None:
    """Say yes: carry out the action exactly as it was shown."""
    r = _run(lambda rt, tb, now: tb.confirm(rt.settings.user, action_id, now), as_json=as_json)
    if as_json:
        _print_json({"result": {"action_id": r.action_id, "tool": r.tool, "ok": r.ok, "status": r.status, "summary": r.summary}})
    else:
        (out if r.ok else err).print(escape(r.summary))
    if not r.ok:
        raise typer.Exit(1)


def decline_command(action_id: Annotated[int, typer.Argument(help="The action's id.")], as_json: JsonOpt = False) -> None:
    """Say no: nothing is done."""
    r = _run(lambda rt, tb, now: tb.decline(rt.settings.user, action_id, now), as_json=as_json)
    _print_json({"result": {"action_id": r.action_id, "status": r.status}}) if as_json else out.print(escape(r.summary))

