"""`os1 mail`: connect an account, triage the inbox, search, read, reply, send, delete (a pending action)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from .cli_common import ModelOpt, _fail, out
from .cli_tools import JsonOpt, _password, _print_json, _run, show_result
from .errors import InputError
from .runtime import Runtime
from .tools import Toolbox
from .tools.base import ToolOutput

mail_app = typer.Typer(help="Your email (IMAP/SMTP): connect, inbox, search, show, reply, send, delete.", no_args_is_help=True)



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


