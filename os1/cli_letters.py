"""`os1 letter`: letters in your own voice: new (yours or a first draft), proofread, accept or reject edits, export, book."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from .cli_common import ModelOpt, _fail, out
from .cli_tools import JsonOpt, _print_json, _run
from .errors import InputError
from .runtime import Runtime
from .tools import Toolbox
from .tools.letters.export import book_markdown, book_pdf, to_markdown, to_pdf

letter_app = typer.Typer(help="Letters in your own voice: new, list, show, edit, proofread, accept, reject, export, book.",
                         no_args_is_help=True)


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
