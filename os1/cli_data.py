"""Your data on the command line: `os1 export`, `os1 delete`, `os1 encrypt`, `os1 goodbye`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from .cli_common import ModelOpt, _fail, _settings, err, out
from .config import Settings
from .data import CONFIRMATION, Deleted, delete_everything, export_to_dir
from .data.crypto import find_passphrase, in_use, keyring_set, prompt, resolve_passphrase
from .errors import ConfigError, InputError, OS1Error, StoreError
from .storage import Database, open_database
from .storage.engine import AUTO, Auto, sqlite_path

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _open(settings: Settings, *, as_json: bool = False) -> Database:
    try:
        settings.ensure_home()
        return open_database(settings.db_url)
    except OS1Error as e:
        _fail(e, as_json=as_json)


def _now(settings: Settings) -> datetime:
    from .runtime import make_clock

    return make_clock(settings).now()


def export_command(
    directory: Annotated[Path, typer.Argument(help="A new folder to write the export into.", show_default=False)],
    as_json: JsonOpt = False,
) -> None:
    """Export everything OS1 keeps about you: JSON for every table, and a readable memory book."""
    settings = _settings(as_json=as_json)
    db = _open(settings, as_json=as_json)
    try:
        report = export_to_dir(db, settings.user, directory, zone=settings.zone(), now=_now(settings), home=settings.home)
    except OS1Error as e:
        _fail(e, as_json=as_json)
    finally:
        db.close()
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    total = sum(report.tables.values())
    out.print(f"Exported {total:,} records from {len(report.tables)} tables to {escape(str(directory))}:")
    out.print(f"  {escape(str(directory / 'memory-book.md'))}  (read this one)")
    out.print(f"  {escape(str(directory / 'tables'))}/*.json and manifest.json  (everything, machine-readable)")


def _confirm(question: str) -> bool:
    """Ask for the confirmation phrase in a terminal; False when there is none."""
    if not sys.stdin.isatty():
        return False
    err.print(f"{question}\nType [bold]{CONFIRMATION}[/] to confirm (anything else keeps it): ", end="")
    try:
        return input().strip().lower() == CONFIRMATION
    except (EOFError, KeyboardInterrupt):
        return False


def _delete(settings: Settings) -> Deleted:
    """Delete everything of the settings' user; refuses while another OS1 process has the database open."""
    path = sqlite_path(settings.db_url)
    key: str | None | Auto = AUTO
    if path is not None:
        key = resolve_passphrase(path, AUTO)
        if in_use(path, key):
            raise StoreError("The database is in use by another OS1 process (os1 serve or os1 chat).",
                             hint="Stop it first, or delete from the running server: POST /api/v1/delete.")
    db = open_database(settings.db_url, passphrase=key)
    try:
        return asyncio.run(delete_everything(db, settings.user, home=settings.home,
                                             secret_store=settings.secret_store))
    finally:
        db.close()


def _print_deleted(gone: Deleted, as_json: bool) -> None:
    if as_json:
        print(json.dumps(gone.as_dict(), ensure_ascii=False))
        return
    rows = sum(gone.rows.values())
    out.print(f"Deleted {rows:,} records from {sum(1 for n in gone.rows.values() if n)} tables"
              + (f" and {', '.join(gone.files)}" if gone.files else "") + ".")
    out.print(f"Full-text indexes rebuilt ({', '.join(gone.indexes_rebuilt) or 'none'}); {gone.compacted}.")
    if gone.verified:
        out.print("[green]Verified:[/] nothing of yours is left in any table.")
    else:
        left = {t: n for t, n in gone.remaining.items() if n}
        err.print(f"[bold red]Not everything is gone:[/] {left}")
        raise typer.Exit(4)


def delete_command(
    everything: Annotated[bool, typer.Option("--everything", help="Delete all of it: conversations, memories, "
                                             "people, journal, moods, settings files, indexes.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation (for scripts).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete everything OS1 keeps about you, verifiably: rows, search indexes, embeddings, free pages, files."""
    if not everything:
        _fail(InputError("Say what to delete: `os1 delete --everything`.",
                         hint="To forget single memories use `os1 memory forget`; export first with `os1 export DIR`."),
              as_json=as_json)
    settings = _settings(as_json=as_json)
    if not yes and not _confirm("This deletes every conversation, memory and note OS1 has about you. It cannot be undone."):
        _fail(InputError("Nothing was deleted: not confirmed.",
                         hint=f"Run it in a terminal and type '{CONFIRMATION}', or pass --yes."), as_json=as_json)
    try:
        gone = _delete(settings)
    except OS1Error as e:
        _fail(e, as_json=as_json)
    _print_deleted(gone, as_json)


def _new_passphrase(env: str) -> str:
    value = os.environ.get(env)
    if value:
        return value
    first = prompt("New passphrase: ")
    if first is None:
        raise ConfigError("No passphrase given.", hint=f"Set {env}, or run this in a terminal to be asked.")
    if prompt("The same again: ") != first:
        raise InputError("The two passphrases differ; nothing was changed.")
    return first


def encrypt_command(
    decrypt: Annotated[bool, typer.Option("--decrypt", help="Turn encryption off (write a plain database).")] = False,
    change: Annotated[bool, typer.Option("--change", help="Change the passphrase (new one from OS1_NEW_PASSPHRASE or a prompt).")] = False,
    remember: Annotated[bool, typer.Option("--remember", help="Keep the passphrase in the OS keyring.")] = False,
) -> None:
    """Encrypt the database with a passphrase (SQLCipher); the passphrase is never stored by OS1."""
    from .data.convert import convert

    settings = _settings()
    path = sqlite_path(settings.db_url)
    try:
        if path is None:
            raise ConfigError("Encryption at rest is for OS1's SQLite database.",
                              hint="For PostgreSQL, use the server's own disk or tablespace encryption.")
        if decrypt or change:
            old = find_passphrase(path)
            if old is None:
                raise ConfigError("No passphrase for the encrypted database.", hint="Set OS1_PASSPHRASE or run in a terminal.")
        else:
            old = None
        new = None if decrypt else _new_passphrase("OS1_NEW_PASSPHRASE" if change else "OS1_PASSPHRASE")
        done = convert(path, old=old, new=new)
        if remember and new is not None:
            keyring_set(path, new)
        elif decrypt:
            with contextlib.suppress(OS1Error):  # nothing to protect any more
                keyring_set(path, None)
    except OS1Error as e:
        _fail(e)
    state = "encrypted" if done.encrypted else "decrypted (plain SQLite)"
    out.print(f"[green]✓[/] {escape(str(path))} {state}: {done.tables} tables, {done.rows:,} rows verified.")
    if done.encrypted:
        out.print("Keep the passphrase safe: without it nothing can be recovered. OS1 asks for it in a terminal, "
                  "or reads OS1_PASSPHRASE" + (", or the OS keyring (saved there now)." if remember else "."))


def goodbye_command(
    directory: Annotated[Path | None, typer.Option("--dir", help="Where to write the letter and the export (a new folder).")] = None,
    delete: Annotated[bool | None, typer.Option("--delete/--keep", help="After the export, delete everything (asks to confirm unless --yes) or keep it.")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="With --delete: do not ask for confirmation.")] = False,
    model: ModelOpt = None,
) -> None:
    """Say goodbye: OS1 writes you a farewell letter, exports your time together, and offers to delete it all."""
    from .data.goodbye import write_letter
    from .runtime import open_runtime

    settings = _settings(model)
    when = _now(settings)
    directory = directory or Path.cwd() / f"os1-goodbye-{when.astimezone(settings.zone()).date().isoformat()}"
    try:
        rt = open_runtime(settings)
    except OS1Error as e:
        _fail(e)
    try:
        with err.status("[dim]Writing you a letter…[/]", spinner="dots"):
            letter = asyncio.run(write_letter(rt.store, rt.model, settings.user, now=when, zone=settings.zone()))
        report = export_to_dir(rt.db, settings.user, directory, zone=settings.zone(), now=when, home=settings.home)
        (directory / "farewell-letter.md").write_text(letter + "\n", "utf-8")
    except OS1Error as e:
        _fail(e)
    finally:
        asyncio.run(rt.aclose())
    out.print(f"\n{escape(letter)}\n")
    out.print(f"The letter and everything we shared are in {escape(str(directory))} "
              f"(farewell-letter.md, memory-book.md, {sum(report.tables.values()):,} records as JSON).")
    if delete is None:
        delete = _confirm("Do you want me to delete everything now?")
        yes = delete
    if not delete:
        out.print("Nothing was deleted. Whenever you want: `os1 delete --everything`.")
        return
    if not yes and not _confirm("This deletes every conversation, memory and note. It cannot be undone."):
        out.print("Nothing was deleted.")
        return
    try:
        gone = _delete(settings)
    except OS1Error as e:
        _fail(e)
    _print_deleted(gone, False)
    out.print("Goodbye.")
