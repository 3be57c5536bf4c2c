"""`os1 mail`, `os1 calendar`, `os1 letter`, `os1 pending`, `os1 confirm` and `os1 decline`: the daily-life
tools from the terminal, over the same Toolbox the conversation and the API use."""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from .cli_common import ModelOpt, _fail, _settings, err, out
from .errors import InputError, OS1Error
from .runtime import Runtime, open_runtime
from .tools import Action, Toolbox
from .tools.base import ToolOutput
from .tools.letters.export import book_markdown, book_pdf, to_markdown, to_pdf
from .types import ToolProposed, ToolRefused, ToolResult

T = TypeVar("T")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
mail_app = typer.Typer(help="Your email (IMAP/SMTP): connect, inbox, search, show, reply, send, delete.", no_args_is_help=True)
calendar_app = typer.Typer(help="Your calendar (.ics file or CalDAV): week (the default), add, move, delete, connect.",
                           invoke_without_command=True)
letter_app = typer.Typer(help="Letters in your own voice: new, list, show, edit, proofread, accept, reject, export, book.",
                         no_args_is_help=True)


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


# mail ------------------------------------------------------------------------------------------------------
@mail_app.command("connect")
def mail_connect(
    address: Annotated[str, typer.Option("--address", help="Your email address.")],
    imap_host: Annotated[str, typer.Option("--imap-host", help="Incoming (IMAP) server.")],
    smtp_host: Annotated[str, typer.Option("--smtp-host", help="Outgoing (SMTP) server.")],
    username: Annotated[str | None, typer.Option("--username", help="Login name (default: the address).")] = None,
    name: Annotated[str, typer.Option("--name", help="A name for this account.")] = "mail",
    imap_port: Annotated[int, typer.Option("--imap-port")] = 993,
    imap_security: Annotated[str, typer.Option("--imap-security", help="ssl, starttls, or none (this machine only).")] = "ssl",
    smtp_port: Annotated[int, typer.Option("--smtp-port")] = 465,
    smtp_security: Annotated[str, typer.Option("--smtp-security", help="ssl, starttls, or none (this machine only).")] = "ssl",
    display_name: Annotated[str, typer.Option("--display-name", help="Your name on mail you send.")] = "",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    check: Annotated[bool, typer.Option("--check/--no-check", help="Log in once to check the settings.")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Connect a mail account. The password goes to the OS keyring (or the encrypted secrets file), never the database."""
    from .tools.mail.client import MailClient, MailSettings

    if imap_security not in ("ssl", "starttls", "none") or smtp_security not in ("ssl", "starttls", "none"):
        _fail(InputError("Security is ssl, starttls or none."), as_json=as_json)
    try:
        settings = MailSettings(address=address, username=username or address, imap_host=imap_host, imap_port=imap_port,
                                imap_security=imap_security, smtp_host=smtp_host, smtp_port=smtp_port,  # type: ignore[arg-type]
                                smtp_security=smtp_security, display_name=display_name)  # type: ignore[arg-type]
        secret = _password(password_stdin, address)
    except InputError as e:
        _fail(e, as_json=as_json)

    async def go(rt: Runtime, tb: Toolbox, now: datetime) -> dict[str, Any]:
        count = None
        if check:
            client = MailClient(settings, secret)
            count = await client.run(client.check_sync)
        account = await tb.accounts.add(rt.settings.user, "mail", name, asdict(settings), secret=secret, now=now)
        return {"account": account.as_dict(), "inbox_messages": count}

    r = _run(go, as_json=as_json)
    if as_json:
        _print_json(r)
    else:
        out.print(f"Connected {escape(address)} as {escape(name)}" +
                  (f" ({r['inbox_messages']} messages in the inbox)." if r["inbox_messages"] is not None else "."))


@mail_app.command("accounts")
def mail_accounts(as_json: JsonOpt = False) -> None:
    """Connected accounts (mail and calendar); passwords are never shown."""
    items = _run(lambda rt, tb, now: tb.accounts.list(rt.settings.user), as_json=as_json)
    if as_json:
        _print_json({"accounts": [a.as_dict() for a in items]})
        return
    table = Table("name", "kind", "settings")
    for a in items:
        s = a.settings
        table.add_row(escape(a.name), a.kind, escape(str(s.get("address") or s.get("url") or s.get("path") or "")))
    out.print(table if items else "No accounts connected. `os1 mail connect --help`, `os1 calendar connect --help`.")


@mail_app.command("disconnect")
def mail_disconnect(name: Annotated[str, typer.Argument(help="The account's name.")], as_json: JsonOpt = False) -> None:
    """Forget an account and its stored password."""
    a = _run(lambda rt, tb, now: tb.accounts.remove(rt.settings.user, name), as_json=as_json)
    _print_json({"removed": a.as_dict()}) if as_json else out.print(f"Disconnected {escape(a.name)}.")


def _mail_lines(r: ToolOutput) -> None:
    out.print(escape(r.summary))
    for m in r.data.get("messages", []):
        flag = " [red]⚠[/]" if m.get("instructs_ai") or m.get("phishing") else ""
        bucket = f"[{m['bucket']}] " if m.get("bucket") else ""
        out.print(f"  [bold]{m['ref']}[/] {bucket}{escape(m['from'])} · {escape(m['subject'])}{flag}")


@mail_app.command("inbox")
def mail_inbox(period: Annotated[str, typer.Option("--period", help="today, yesterday, this week, this month, unread.")] = "today",
               as_json: JsonOpt = False) -> None:
    """Your inbox, sorted: important, other, suspicious, newsletters."""
    r = _run(lambda rt, tb, now: tb.use(rt.settings.user, "mail_triage", {"period": period}, now), as_json=as_json)
    show_result(r, as_json=as_json, lines=_mail_lines)


@mail_app.command("search")
def mail_search(query: Annotated[list[str], typer.Argument(help="What to look for.")],
                sender: Annotated[str | None, typer.Option("--from", help="Only mail from this name or address.")] = None,
                as_json: JsonOpt = False) -> None:
    """Find mail ("landlord lease")."""
    args = {"query": " ".join(query), "sender": sender}
    r = _run(lambda rt, tb, now: tb.use(rt.settings.user, "mail_search", args, now), as_json=as_json)
    show_result(r, as_json=as_json, lines=_mail_lines)


@mail_app.command("show")
def mail_show(ref: Annotated[str, typer.Argument(help="The message's number (see `os1 mail inbox`).")],
              as_json: JsonOpt = False) -> None:
    """One message in full (without marking it read)."""
    r = _run(lambda rt, tb, now: tb.use(rt.settings.user, "mail_read", {"message": ref}, now), as_json=as_json)

    def lines(o: ToolOutput) -> None:
        m = o.data["message"]
        out.print(f"[bold]{escape(m['subject'])}[/]\nfrom {escape(m['from'])} · {m['date']}\n")
        out.print(escape(m["text"]))
    show_result(r, as_json=as_json, lines=lines)


@mail_app.command("reply")
def mail_reply(ref: Annotated[str, typer.Argument(help="The message to answer.")],
               say: Annotated[str, typer.Option("--say", help="What you want to say; OS1 drafts it in your voice.")],
               model: ModelOpt = None, as_json: JsonOpt = False) -> None:
    """Draft a reply in your voice; it is sent only after `os1 confirm`."""
    args = {"message": ref, "points": say}
    r = _run(lambda rt, tb, now: tb.use(rt.settings.user, "mail_reply", args, now, request=say), as_json=as_json, model=model)
    show_result(r, as_json=as_json)


@mail_app.command("send")
def mail_send(to: Annotated[str, typer.Option("--to", help="An address, or the name of someone who wrote to you.")],
              subject: Annotated[str, typer.Option("--subject")],
              say: Annotated[str, typer.Option("--say", help="What you want to say; OS1 drafts it in your voice.")],
              model: ModelOpt = None, as_json: JsonOpt = False) -> None:
    """Draft a new email; it is sent only after `os1 confirm`."""
    args = {"to": to, "subject": subject, "points": say}
    r = _run(lambda rt, tb, now: tb.use(rt.settings.user, "mail_compose", args, now, request=f"email {to}: {say}"),
             as_json=as_json, model=model)
    show_result(r, as_json=as_json)


@mail_app.command("delete")
def mail_delete(ref: Annotated[str, typer.Argument(help="The message to move to the trash.")], as_json: JsonOpt = False) -> None:
    """Move a message to the trash, after `os1 confirm`."""
    r = _run(lambda rt, tb, now: tb.use(rt.settings.user, "mail_delete", {"message": ref}, now), as_json=as_json)
    show_result(r, as_json=as_json)


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


# letters ---------------------------------------------------------------------------------------------------
def _body(text: str | None, file: Path | None) -> str | None:
    if file is not None:
        try:
            return (sys.stdin.read() if str(file) == "-" else file.read_text("utf-8"))
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"Cannot read {file}: {e}") from e
    return text


@letter_app.command("new")
def letter_new(title: Annotated[str | None, typer.Option("--title")] = None,
               to: Annotated[str | None, typer.Option("--to", help="Who it is for.")] = None,
               body: Annotated[str | None, typer.Option("--body", help="The text.")] = None,
               file: Annotated[Path | None, typer.Option("--file", help="Read the text from a file ('-': stdin).")] = None,
               ask: Annotated[str | None, typer.Option("--ask", help="Let OS1 draft it in your voice: what it should say.")] = None,
               model: ModelOpt = None, as_json: JsonOpt = False) -> None:
    """Start a letter: your own text (--body/--file), or a first draft in your voice (--ask)."""
    async def go(rt: Runtime, tb: Toolbox, now: datetime) -> dict[str, Any]:
        text = _body(body, file)
        if ask:
            letter = await tb.desk.write(rt.settings.user, to=to or "", about=ask, request=ask, now=now)
        else:
            if text is None:
                raise InputError("Give the text with --body or --file, or ask OS1 to draft it with --ask.")
            letter = await tb.letters.create(rt.settings.user, title=title or (f"To {to}" if to else "Untitled"),
                                             body=text, recipient=to, now=now)
        return letter.as_dict()

    r = _run(go, as_json=as_json, model=model if ask else "echo")
    _print_json({"letter": r}) if as_json else out.print(f"Letter {r['id']}: {escape(r['title'])}\n\n{escape(r['body'])}")


@letter_app.command("list")
def letter_list(as_json: JsonOpt = False) -> None:
    """Your letters, newest first."""
    items = _run(lambda rt, tb, now: tb.letters.list(rt.settings.user), as_json=as_json)
    if as_json:
        _print_json({"letters": [x.as_dict() for x in items]})
        return
    table = Table("id", "title", "to", "status", "updated")
    for x in items:
        table.add_row(str(x.id), escape(x.title), escape(x.recipient or ""), x.status, f"{x.updated_at:%Y-%m-%d}")
    out.print(table if items else 'No letters yet: os1 letter new --to "Mum" --ask "thank her for the birthday parcel"')


@letter_app.command("show")
def letter_show(letter_id: int, as_json: JsonOpt = False) -> None:
    """One letter and its open suggestions."""
    async def go(rt: Runtime, tb: Toolbox, now: datetime) -> dict[str, Any]:
        letter = await tb.letters.get(rt.settings.user, letter_id)
        return {"letter": letter.as_dict(), "suggestions": [s.as_dict() for s in await tb.letters.suggestions(rt.settings.user, letter_id)]}
    r = _run(go, as_json=as_json)
    if as_json:
        _print_json(r)
        return
    out.print(f"[bold]{escape(r['letter']['title'])}[/]\n\n{escape(r['letter']['body'])}")
    _print_suggestions(r["suggestions"])


def _print_suggestions(items: list[dict[str, Any]]) -> None:
    for s in items:
        out.print(f"  [bold]{s['id']}[/] {escape(repr(s['original']))} → {escape(repr(s['replacement']))}: {escape(s['reason'])}")


@letter_app.command("edit")
def letter_edit(letter_id: int, title: Annotated[str | None, typer.Option("--title")] = None,
                to: Annotated[str | None, typer.Option("--to")] = None,
                body: Annotated[str | None, typer.Option("--body")] = None,
                file: Annotated[Path | None, typer.Option("--file", help="New text from a file ('-': stdin).")] = None,
                final: Annotated[bool | None, typer.Option("--final/--draft", help="Mark it finished (or a draft again).")] = None,
                as_json: JsonOpt = False) -> None:
    """Change a letter's title, recipient, text or status."""
    async def go(rt: Runtime, tb: Toolbox, now: datetime) -> dict[str, Any]:
        status = None if final is None else ("final" if final else "draft")
        return (await tb.letters.update(rt.settings.user, letter_id, now=now, title=title, recipient=to,
                                        body=_body(body, file), status=status)).as_dict()
    r = _run(go, as_json=as_json)
    _print_json({"letter": r}) if as_json else out.print(f"Saved letter {r['id']}.")


@letter_app.command("delete")
def letter_delete(letter_id: int, as_json: JsonOpt = False) -> None:
    """Delete a letter (it is yours: no confirmation needed)."""
    _run(lambda rt, tb, now: tb.letters.delete(rt.settings.user, letter_id), as_json=as_json)
    _print_json({"deleted": letter_id}) if as_json else out.print(f"Deleted letter {letter_id}.")


@letter_app.command("proofread")
def letter_proofread(letter_id: int, model: ModelOpt = None, as_json: JsonOpt = False) -> None:
    """Suggest edits (spelling, grammar, clarity, tone) you can accept or reject."""
    items = _run(lambda rt, tb, now: tb.desk.proofread(rt.settings.user, letter_id, now=now), as_json=as_json, model=model)
    if as_json:
        _print_json({"suggestions": [s.as_dict() for s in items]})
        return
    out.print(f"{len(items)} suggestion(s)." if items else "No suggestions: it reads well.")
    _print_suggestions([s.as_dict() for s in items])
    if items:
        out.print(f"[dim]os1 letter accept {letter_id} ID / os1 letter reject {letter_id} ID[/]")


def _decide(letter_id: int, suggestion_id: int, accept: bool, as_json: bool) -> None:
    letter, s = _run(lambda rt, tb, now: tb.letters.decide(rt.settings.user, letter_id, suggestion_id, accept=accept, now=now),
                     as_json=as_json)
    if as_json:
        _print_json({"letter": letter.as_dict(), "suggestion": s.as_dict()})
    else:
        out.print(f"{'Accepted' if accept else 'Rejected'} suggestion {s.id}.")


@letter_app.command("accept")
def letter_accept(letter_id: int, suggestion_id: int, as_json: JsonOpt = False) -> None:
    """Apply a suggestion to the letter."""
    _decide(letter_id, suggestion_id, True, as_json)


@letter_app.command("reject")
def letter_reject(letter_id: int, suggestion_id: int, as_json: JsonOpt = False) -> None:
    """Keep the text as it is."""
    _decide(letter_id, suggestion_id, False, as_json)


@letter_app.command("export")
def letter_export(letter_id: int, out_path: Annotated[Path, typer.Option("--out", help="Where to write it.")],
                  fmt: Annotated[str, typer.Option("--format", help="md or pdf.")] = "pdf") -> None:
    """Write one letter to a Markdown or PDF file."""
    if fmt not in ("md", "pdf"):
        _fail(InputError("The format is md or pdf."))
    letter = _run(lambda rt, tb, now: tb.letters.get(rt.settings.user, letter_id))
    _write(out_path, to_pdf(letter) if fmt == "pdf" else to_markdown(letter).encode("utf-8"))


@letter_app.command("book")
def letter_book(out_path: Annotated[Path, typer.Option("--out", help="Where to write it.")],
                fmt: Annotated[str, typer.Option("--format", help="md or pdf.")] = "pdf",
                title: Annotated[str, typer.Option("--title")] = "Letters") -> None:
    """Gather all your letters into one book, oldest first."""
    if fmt not in ("md", "pdf"):
        _fail(InputError("The format is md or pdf."))
    letters = list(reversed(_run(lambda rt, tb, now: tb.letters.list(rt.settings.user))))
    if not letters:
        _fail(InputError("You have no letters yet."))
    _write(out_path, book_pdf(letters, title) if fmt == "pdf" else book_markdown(letters, title).encode("utf-8"))


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as e:
        _fail(InputError(f"Cannot write {path}: {e.strerror or e}"))
    out.print(f"Wrote {escape(str(path))} ({len(data):,} bytes).")
