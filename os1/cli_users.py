"""`os1 users`: accounts for a multi-user OS1 (docs/accounts.md): add, list, remove, passwords, API tokens.

Creating the first account turns sign-in on (OS1_AUTH=auto). `--adopt-local` gives that account the data
of the single-user mode, so the person who used OS1 alone keeps their history when others join.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from .accounts import Accounts
from .accounts.removal import remove_user
from .cli_common import _fail, _settings, err, out
from .config import Settings
from .errors import InputError, OS1Error
from .storage import open_database

T = TypeVar("T")

users_app = typer.Typer(help="Accounts: who may sign in to this OS1 (docs/accounts.md).", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for programs: Authorization: Bearer <token>.", no_args_is_help=True)
users_app.add_typer(token_app, name="token")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
StdinOpt = Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input (scripts).")]
NoPasswordOpt = Annotated[bool, typer.Option("--no-password", help="No password: the account signs in with API tokens only.")]


def _run(fn: Callable[[Accounts, Settings], Awaitable[T]], *, as_json: bool = False) -> T:
    """Open the database (no model, no embedder), run `fn`, close."""
    settings = _settings("echo", as_json=as_json)

    async def go() -> T:
        db = open_database(settings.db_url)
        try:
            return await fn(Accounts(db), settings)
        finally:
            db.close()

    try:
        settings.ensure_home()
        return asyncio.run(go())
    except OS1Error as e:
        _fail(e, as_json=as_json)


def _password(no_password: bool, from_stdin: bool) -> str | None:
    if no_password:
        return None
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            _fail(InputError("No password on standard input.", hint="Or use --no-password for a token-only account."))
        return password
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return str(password)


@users_app.command("add")
def add_user(
    username: Annotated[str, typer.Argument(help="The name to sign in with.")],
    admin: Annotated[bool, typer.Option("--admin", help="May manage accounts and the install's settings.")] = False,
    adopt_local: Annotated[bool, typer.Option("--adopt-local", help="Take over the single-user mode's data (user 'local').")] = False,
    no_password: NoPasswordOpt = False,
    password_stdin: StdinOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Add an account (asks for its password). The first one turns sign-in on."""
    password = _password(no_password, password_stdin)

    async def run(accounts: Accounts, settings: Settings) -> dict[str, Any]:
        first = not await accounts.exists()
        made = await accounts.create(username, password, admin=admin, user_id=settings.user if adopt_local else None)
        return {**made.as_dict(), "first": first}

    made = _run(run, as_json=as_json)
    if as_json:
        print(json.dumps(made))
        return
    out.print(f"Added [bold]{escape(made['username'])}[/]{' (admin)' if made['admin'] else ''}.")
    if made["first"]:
        err.print("[yellow]This is the first account: from now on everyone signs in (OS1_AUTH=auto).[/]")
        if not made["admin"]:
            err.print("[yellow]No admin yet: add one with `os1 users add NAME --admin`.[/]")


@users_app.command("list")
def list_users(as_json: JsonOpt = False) -> None:
    """Every account."""
    found = _run(lambda a, _s: a.list(), as_json=as_json)
    if as_json:
        print(json.dumps([a.as_dict() for a in found]))
        return
    if not found:
        out.print("[dim]No accounts: OS1 runs in the single-user mode, nobody signs in.[/]")
        return
    table = Table("username", "admin", "password", "disabled", "user id", "created")
    for a in found:
        table.add_row(escape(a.username), "yes" if a.admin else "", "yes" if a.has_password else "tokens only",
                      "yes" if a.disabled else "", a.id, a.created_at.date().isoformat() if a.created_at else "")
    out.print(table)


@users_app.command("remove")
def remove(
    username: str,
    keep_data: Annotated[bool, typer.Option("--keep-data", help="Remove only the account; keep the user's data.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Don't ask.")] = False,
) -> None:
    """Remove an account and all of its data (or only the account, with --keep-data)."""
    if not yes and not keep_data:
        typer.confirm(f"Remove {username} and everything OS1 keeps about them? This cannot be undone", abort=True)

    async def run(accounts: Accounts, settings: Settings) -> str:
        gone = await remove_user(accounts, username, home=settings.home, secret_store=settings.secret_store,
                                 keep_data=keep_data)
        return gone.username

    name = _run(run)
    out.print(f"Removed {escape(name)}{' (their data is kept)' if keep_data else ' and their data'}.")


@users_app.command("set-password")
def set_password(username: str, no_password: NoPasswordOpt = False, password_stdin: StdinOpt = False) -> None:
    """Set a new password (every sign-in of the account ends)."""
    password = _password(no_password, password_stdin)
    _run(lambda a, _s: a.set_password(username, password))
    out.print(f"{'Password removed' if password is None else 'New password set'} for {escape(username)}; they are signed out everywhere.")


async def _account_id(accounts: Accounts, username: str) -> str:
    found = await accounts.get(username)
    if found is None:
        raise InputError(f"There is no account {username!r}.", hint="`os1 users list` shows them.")
    return found.id


@token_app.command("issue")
def token_issue(username: str, label: Annotated[str, typer.Option("--label", "-l", help='What will use it, e.g. "phone".')] = "api",
                as_json: JsonOpt = False) -> None:
    """Issue an API token; it is printed this once and never again."""
    async def run(accounts: Accounts, _s: Settings) -> str:
        return await accounts.issue_token(await _account_id(accounts, username), label)

    token = _run(run, as_json=as_json)
    if as_json:
        print(json.dumps({"token": token, "label": label}))
        return
    print(token)
    err.print("[dim]Keep it safe: it is not shown again. Send it as `Authorization: Bearer <token>`.[/]")


@token_app.command("list")
def token_list(username: str, as_json: JsonOpt = False) -> None:
    """An account's API tokens (their first characters, never the tokens)."""
    async def run(accounts: Accounts, _s: Settings) -> list[dict[str, Any]]:
        return [t.as_dict() for t in await accounts.tokens(await _account_id(accounts, username))]

    found = _run(run, as_json=as_json)
    if as_json:
        print(json.dumps(found))
        return
    table = Table("id", "label", "starts with", "created", "last used")
    for t in found:
        table.add_row(str(t["id"]), escape(t["label"]), t["prefix"] + "…", t["created_at"][:16], (t["last_used_at"] or "never")[:16])
    out.print(table)


@token_app.command("revoke")
def token_revoke(username: str, token_id: int) -> None:
    """Revoke a token: it stops working at once."""
    async def run(accounts: Accounts, _s: Settings) -> None:
        await accounts.revoke_token(await _account_id(accounts, username), token_id)

    _run(run)
    out.print(f"Revoked token {token_id}.")
