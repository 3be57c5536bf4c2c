"""`os1 calendar`: your week, add, move and delete events (deleting waits for your yes), connect CalDAV or an .ics file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from .cli_common import _fail, out
from .cli_tools import JsonOpt, _password, _print_json, _run, show_result
from .errors import InputError, OS1Error
from .runtime import Runtime
from .tools import Toolbox
from .tools.base import ToolOutput

calendar_app = typer.Typer(help="Your calendar (.ics file or CalDAV): week (the default), add, move, delete, connect.",
                           invoke_without_command=True)


# calendar --------------------------------------------------------------------------------------------------
def _event_lines(r: ToolOutput) -> None:
    out.print(escape(r.summary))
    for e in r.data.get("events", []):
        start = datetime.fromisoformat(e["start"])
        when = f"{start:%a %d %b}" + ("" if e["all_day"] else f" {start:%H:%M}")
        out.print(f"  {when}  [bold]{escape(e['summary'])}[/]" + (f" · {escape(e['location'])}" if e["location"] else "")
                  + f"  [dim]{e['uid'][:12]}[/]")


@calendar_app.callback()
def calendar_week(ctx: typer.Context, range_: Annotated[str, typer.Option("--range", help="today, tomorrow, this week, next week, or a day.")] = "this week",
                  as_json: JsonOpt = False) -> None:
    """What your week looks like."""
    if ctx.invoked_subcommand:
        return
    r = _run(lambda rt, tb, now: tb.use(rt.settings.user, "calendar_agenda", {"range": range_}, now), as_json=as_json)
    show_result(r, as_json=as_json, lines=_event_lines)


@calendar_app.command("add")
def calendar_add(title: Annotated[str, typer.Argument(help="What it is.")],
                 when: Annotated[str, typer.Option("--when", help='"Friday at 1pm", "tomorrow 9am" or ISO-8601.')],
                 minutes: Annotated[int, typer.Option("--minutes", help="How long.")] = 60,
                 location: Annotated[str | None, typer.Option("--location")] = None, as_json: JsonOpt = False) -> None:
    """Add an event (with a reminder 30 minutes before)."""
    args = {"title": title, "when": when, "minutes": minutes, "location": location}
    r = _run(lambda rt, tb, now: tb.use(rt.settings.user, "calendar_add", args, now), as_json=as_json)
    show_result(r, as_json=as_json)


@calendar_app.command("move")
def calendar_move(event: Annotated[str, typer.Argument(help="The event: its id or words from its title.")],
                  when: Annotated[str, typer.Option("--when", help="The new start.")], as_json: JsonOpt = False) -> None:
    """Move an event; its reminder moves with it."""
    r = _run(lambda rt, tb, now: tb.use(rt.settings.user, "calendar_move", {"event": event, "when": when}, now), as_json=as_json)
    show_result(r, as_json=as_json)


@calendar_app.command("delete")
def calendar_delete(event: Annotated[str, typer.Argument(help="The event: its id or words from its title.")],
                    as_json: JsonOpt = False) -> None:
    """Delete an event, after `os1 confirm`."""
    r = _run(lambda rt, tb, now: tb.use(rt.settings.user, "calendar_delete", {"event": event}, now), as_json=as_json)
    show_result(r, as_json=as_json)


@calendar_app.command("connect")
def calendar_connect(name: Annotated[str, typer.Option("--name", help="A name for this calendar.")] = "calendar",
                     url: Annotated[str | None, typer.Option("--url", help="CalDAV URL.")] = None,
                     username: Annotated[str | None, typer.Option("--username", help="CalDAV login.")] = None,
                     calendar: Annotated[str | None, typer.Option("--calendar", help="Which calendar of the account (default: the first).")] = None,
                     ics: Annotated[Path | None, typer.Option("--ics", help="An iCalendar file instead of CalDAV.")] = None,
                     password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
                     as_json: JsonOpt = False) -> None:
    """Connect a CalDAV account (--url --username) or an .ics file (--ics)."""
    if (url is None) == (ics is None):
        _fail(InputError("Give either --url (CalDAV) or --ics (a file)."), as_json=as_json)
    try:
        secret = _password(password_stdin, "CalDAV") if url else None
    except InputError as e:
        _fail(e, as_json=as_json)

    async def go(rt: Runtime, tb: Toolbox, now: datetime) -> dict[str, Any]:
        if ics is not None:
            acc = await tb.accounts.add(rt.settings.user, "ics", name, {"path": str(ics.expanduser().resolve())}, secret=None, now=now)
        else:
            acc = await tb.accounts.add(rt.settings.user, "caldav", name, {"url": url, "username": username or "",
                                                                           "calendar": calendar}, secret=secret, now=now)
            try:
                await tb.calendar.between(rt.settings.user, now, now)
            except OS1Error:
                await tb.accounts.remove(rt.settings.user, name)
                raise
        return {"account": acc.as_dict()}

    r = _run(go, as_json=as_json)
    _print_json(r) if as_json else out.print(f"Connected the calendar {escape(name)}.")


