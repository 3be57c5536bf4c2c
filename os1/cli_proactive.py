"""`os1 reminders`, `os1 inbox`, `os1 checkins` and `os1 worker`: OS1 reaching out, from the terminal."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from .cli_common import ModelOpt, _fail, _settings, err, out
from .errors import InputError, OS1Error
from .proactive import InboxItem
from .runtime import Runtime, open_runtime
from .server.proactive_routes import checkin_changes

reminders_app = typer.Typer(help="Your reminders: list (the default), add, edit, cancel.", invoke_without_command=True)
T = TypeVar("T")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _run(fn: Callable[[Runtime], Awaitable[T]], *, as_json: bool = False, model: str | None = "echo") -> T:
    settings = _settings(model, as_json=as_json)
    try:
        rt = open_runtime(settings)
    except OS1Error as e:
        _fail(e, as_json=as_json)

    async def go() -> T:
        try:
            return await fn(rt)
        finally:
            await rt.aclose()

    try:
        return asyncio.run(go())
    except OS1Error as e:
        _fail(e, as_json=as_json)


def _now(rt: Runtime) -> Any:
    return rt.clock.now().astimezone(rt.companion.proactive.zone_for(rt.settings.user))


def _print_reminder(r: dict[str, Any], verb: str) -> None:
    when = f"{r['repeat']}, next {r['when']}" if r["repeat"] else r["when"]
    out.print(f"{verb} reminder {r['id']}: {escape(r['text'])} — {escape(when or 'no time')}.")


# reminders ---------------------------------------------------------------------------------------------
@reminders_app.callback()
def reminders_list(ctx: typer.Context, all_: Annotated[bool, typer.Option("--all", help="Include done and cancelled.")] = False,
                   as_json: JsonOpt = False) -> None:
    """List your reminders, soonest first."""
    if ctx.invoked_subcommand:
        return

    async def go(rt: Runtime) -> list[dict[str, Any]]:
        now = _now(rt)
        return [r.as_dict(now) for r in await rt.companion.proactive.reminders.list(rt.settings.user, include_done=all_)]

    items = _run(go, as_json=as_json)
    if as_json:
        print(json.dumps({"reminders": items}, ensure_ascii=False))
        return
    if not items:
        out.print('No reminders. Add one: os1 reminders add "call mom Sunday at 6"')
        return
    table = Table("id", "what", "when", "repeats", "status")
    for r in items:
        table.add_row(str(r["id"]), escape(r["text"]), escape(r["when"] or ""), escape(r["repeat"] or ""), r["status"])
    out.print(table)


@reminders_app.command("add")
def reminders_add(words: Annotated[list[str], typer.Argument(help='What and when: "call mom Sunday at 6".')],
                  as_json: JsonOpt = False) -> None:
    """Add a reminder in your own words ("every Tuesday water the plants", "in 20 minutes stretch")."""
    text = " ".join(words)

    async def go(rt: Runtime) -> dict[str, Any]:
        return (await rt.companion.proactive.reminders.add(rt.settings.user, text, now=_now(rt))).as_dict(_now(rt))

    r = _run(go, as_json=as_json)
    print(json.dumps({"reminder": r}, ensure_ascii=False)) if as_json else _print_reminder(r, "Set")


@reminders_app.command("edit")
def reminders_edit(rid: Annotated[int, typer.Argument(help="The reminder's id (see `os1 reminders`).")],
                   text: Annotated[str | None, typer.Option("--text", help="New words for what to do.")] = None,
                   when: Annotated[str | None, typer.Option("--when", help='New time: "tomorrow at 9".')] = None,
                   as_json: JsonOpt = False) -> None:
    """Change what a reminder says or when it is due."""
    if text is None and when is None:
        _fail(InputError("Nothing to change.", hint='Give --text "…" and/or --when "…".'), as_json=as_json)

    async def go(rt: Runtime) -> dict[str, Any]:
        return (await rt.companion.proactive.reminders.edit(rt.settings.user, rid, now=_now(rt), text=text,
                                                            when=when)).as_dict(_now(rt))

    r = _run(go, as_json=as_json)
    print(json.dumps({"reminder": r}, ensure_ascii=False)) if as_json else _print_reminder(r, "Changed")


@reminders_app.command("cancel")
def reminders_cancel(rid: Annotated[int, typer.Argument(help="The reminder's id.")], as_json: JsonOpt = False) -> None:
    """Cancel a reminder."""
    async def go(rt: Runtime) -> dict[str, Any]:
        return (await rt.companion.proactive.reminders.cancel(rt.settings.user, rid, now=_now(rt))).as_dict(_now(rt))

    r = _run(go, as_json=as_json)
    print(json.dumps({"reminder": r}, ensure_ascii=False)) if as_json else _print_reminder(r, "Cancelled")


# inbox --------------------------------------------------------------------------------------------------
def show_items(items: list[InboxItem], name: str) -> None:
    for item in reversed(items):  # oldest first, like a conversation
        out.print(f"[bold magenta]{escape(name)}[/] [dim]({item.kind}, {item.created_at.astimezone():%a %d %b %H:%M})[/]: "
                  f"{escape(item.text)}")
        out.print(f"  [dim]why: {escape(item.why)}[/]")


async def deliver_due(rt: Runtime) -> None:
    """Run what is due (unless `os1 worker` processes do it: OS1_RUN_JOBS=0)."""
    if rt.settings.run_jobs:
        await rt.companion.proactive.run_due()


async def unread_for_chat(rt: Runtime) -> tuple[list[InboxItem], str]:
    """At the start of `os1 chat`: deliver what is due, and return the unread messages (marked read)."""
    await deliver_due(rt)
    p, user = rt.companion.proactive, rt.settings.user
    items = await p.inbox.items(user, unread_only=True, limit=20)
    await p.inbox.mark_read(user, [i.id for i in items], at=rt.clock.now())
    return items, (await rt.companion.profile(user)).companion_name or "OS1"


def inbox_command(
    all_: Annotated[bool, typer.Option("--all", help="Show read messages too.")] = False,
    keep: Annotated[bool, typer.Option("--keep-unread", help="Don't mark them as read.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
    as_json: JsonOpt = False,
    model: ModelOpt = None,
) -> None:
    """What OS1 sent you unprompted (reminders, check-ins, follow-ups, nudges), each with why. Delivers what is due."""
    async def go(rt: Runtime) -> tuple[list[InboxItem], str]:
        await deliver_due(rt)
        p, user = rt.companion.proactive, rt.settings.user
        items = await p.inbox.items(user, unread_only=not all_, limit=limit)
        if not keep:
            await p.inbox.mark_read(user, [i.id for i in items if i.read_at is None], at=rt.clock.now())
        return items, (await rt.companion.profile(user)).companion_name or "OS1"

    items, name = _run(go, as_json=as_json, model=model)
    if as_json:
        print(json.dumps({"items": [i.as_dict() for i in items]}, ensure_ascii=False))
    elif not items:
        out.print("Nothing new." if not all_ else "Nothing yet.")
    else:
        show_items(items, name)


# checkins ------------------------------------------------------------------------------------------------
def checkins_command(
    on: Annotated[bool | None, typer.Option("--on/--off", help="Morning and evening check-ins on or off.")] = None,
    morning: Annotated[str | None, typer.Option(help='Morning check-in time (HH:MM) or "off".')] = None,
    evening: Annotated[str | None, typer.Option(help='Evening check-in time (HH:MM) or "off".')] = None,
    quiet: Annotated[str | None, typer.Option(help='Quiet hours, "22:00-08:00": nothing unsolicited then.')] = None,
    nudges: Annotated[str | None, typer.Option(help='Suggestions to get in touch with people: "on" or "off".')] = None,
    snooze: Annotated[str | None, typer.Option(help='"2 hours", "until tomorrow", "3 days", or "off".')] = None,
    max_per_day: Annotated[int | None, typer.Option(min=0, max=24, help="Unsolicited messages a day, at most.")] = None,
    mute: Annotated[str | None, typer.Option(help="Never suggest getting in touch with this person.")] = None,
    unmute: Annotated[str | None, typer.Option(help="Undo --mute.")] = None,
    tz: Annotated[str | None, typer.Option("--tz", help='Your IANA time zone (Asia/Tokyo), or "default" for this '
                                           "installation's. Check-ins, quiet hours and reminders follow it.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check-ins, quiet hours, snooze, nudges and your time zone: show them, or change what you give."""
    given: dict[str, Any] = {"enabled": on, "morning": morning, "evening": evening, "max_per_day": max_per_day}
    if quiet is not None:
        start, sep, end = quiet.partition("-")
        if not sep:
            _fail(InputError(f"{quiet!r} is not a range of hours.", hint='Use --quiet "22:00-08:00".'), as_json=as_json)
        given["quiet_hours"] = {"start": start, "end": end}
    if nudges is not None:
        if nudges.lower() not in ("on", "off"):
            _fail(InputError("--nudges takes on or off."), as_json=as_json)
        given["nudges"] = nudges.lower() == "on"
    if snooze is not None:
        given["snooze"] = snooze if snooze.lower() != "off" else None
        if snooze.lower() == "off":
            given["snooze_until"] = None

    async def go(rt: Runtime) -> dict[str, Any]:
        p, user = rt.companion.proactive, rt.settings.user
        if tz is not None:
            await p.set_zone(user, None if tz.strip().lower() == "default" else tz)
        now = rt.clock.now().astimezone(await p.zone(user))
        changes = checkin_changes({k: v for k, v in given.items() if v is not None or k == "snooze_until"}, now)
        if mute or unmute:
            from .memory.facts import key

            muted = set((await p.settings.get(user)).muted_people)
            muted = (muted | {key(mute)}) if mute else muted - {key(unmute or "")}
            changes["muted_people"] = tuple(sorted(m for m in muted if m))
        s = await p.settings.update(user, at=now, **changes) if changes else await p.settings.get(user)
        return {**s.as_dict(), "time_zone": str(now.tzinfo), "time_zone_chosen": await p.zone_choice(user) is not None}

    s = _run(go, as_json=as_json)
    if as_json:
        print(json.dumps(s, ensure_ascii=False))
        return
    out.print(f"Check-ins: {'on' if s['checkins'] else 'off'} (morning {s['morning'] or 'off'}, evening {s['evening'] or 'off'}); "
              f"quiet hours {s['quiet_hours']['start']}–{s['quiet_hours']['end']}; nudges {'on' if s['nudges'] else 'off'}; "
              f"at most {s['max_per_day']} a day" + (f"; snoozed until {s['snooze_until']}" if s["snooze_until"] else "")
              + (f"; never about: {', '.join(s['muted_people'])}" if s["muted_people"] else "")
              + f"; time zone {s['time_zone']}" + ("" if s["time_zone_chosen"] else " (this installation's)") + ".",
              soft_wrap=True)


# worker ---------------------------------------------------------------------------------------------------
def worker_command(
    once: Annotated[bool, typer.Option("--once", help="Run what is due now, then exit.")] = False,
    status: Annotated[bool, typer.Option("--status", help="Show how many jobs are in each state, and failures.")] = False,
    model: ModelOpt = None,
) -> None:
    """Run reminders, follow-ups, check-ins and nudges as they come due, and (with OS1_BACKGROUND=worker) learn
    from conversations. Start several on PostgreSQL (with OS1_RUN_JOBS=0 for `os1 serve`): each job is
    claimed by exactly one worker, each user's learning by one at a time."""
    async def go(rt: Runtime) -> None:
        runner = rt.companion.proactive.runner
        if status:
            counts = await rt.companion.proactive.queue.counts()
            out.print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "No jobs yet.")
            for job, error in await rt.companion.proactive.queue.failed():
                err.print(f"[red]failed[/] job {job.id} ({job.kind}, due {job.run_at:%Y-%m-%d %H:%M} UTC): {escape(error)}")
            return

        async def report(item: InboxItem) -> None:
            out.print(f"delivered {item.kind} to {escape(item.user_id)}: {escape(item.text[:80])}")

        runner.listeners.append(report)
        if once:
            items = await runner.run_due()
            out.print(f"Delivered {len(items)}.")
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        learns = rt.settings.background == "worker"
        if rt.settings.worker_nice:
            os.nice(rt.settings.worker_nice)  # background work yields the CPU to replies (OS1_WORKER_NICE)
        out.print(f"Worker {escape(rt.companion.proactive.queue.worker_id)} running jobs"
                  f"{' and learning from conversations' if learns else ''} (Ctrl-C stops).")
        tasks = [runner.run_forever(stop, poll=rt.settings.job_poll_seconds)]
        if learns:
            tasks.append(learn_forever(rt, stop))
        await asyncio.gather(*tasks)

    _run(go, model=model)


async def learn_forever(rt: Runtime, stop: asyncio.Event) -> None:
    """Learn from conversations (facts, reflections, journals) until `stop`; each user is claimed first, so
    several workers on one PostgreSQL never learn from the same message twice (os1/memory/claims.py)."""
    while not stop.is_set():
        try:
            await rt.companion.learn_in_background()
        except Exception:  # one bad pass must not end the worker; the message stays pending
            logging.getLogger("os1.worker").exception("learning pass failed; trying again shortly")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), rt.settings.job_poll_seconds)


def start_in_chat(runner: asyncio.Runner, rt: Runtime, name: str) -> None:
    """Interactive `os1 chat`: show what arrived while you were away, then keep delivering as things come due."""
    try:
        items, name = runner.run(unread_for_chat(rt))
    except OS1Error as e:
        err.print(f"[yellow]Couldn't check for reminders and messages:[/] {escape(e.message)}")
        return
    if items:
        out.print("[dim]While you were away:[/]")
        show_items(items, name)
    if not rt.settings.run_jobs:
        return
    p, user = rt.companion.proactive, rt.settings.user

    async def arrived(item: InboxItem) -> None:
        if item.user_id == user:
            out.print()
            show_items([item], name)
            await p.inbox.mark_read(user, [item.id], at=rt.clock.now())

    p.runner.listeners.append(arrived)

    async def start() -> None:
        # Runs whenever the loop does (while waiting for input); cancelled when the session ends, and a
        # job cut short keeps its lease and runs again later.
        task = asyncio.get_running_loop().create_task(p.runner.run_forever(asyncio.Event(), poll=rt.settings.job_poll_seconds))
        _background.add(task)
        task.add_done_callback(_background.discard)

    runner.run(start())


_background: set[asyncio.Task[None]] = set()
