"""Daily-life tools over HTTP: pending actions (confirm / decline), accounts, mail, calendar and letters.

The same Toolbox as the conversation and the CLI. Reading and local writes happen at once; sending,
deleting mail or events only ever creates a pending action (`/actions`), carried out by its confirm.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ..errors import InputError
from ..runtime import Runtime
from ..tools import Action, Toolbox
from ..tools.base import ToolOutput
from ..tools.letters.export import book_markdown, book_pdf, to_markdown, to_pdf
from ..tools.mail.client import MailClient, MailSettings
from .auth import UserIdDep
from .schemas import BAD_INPUT, ErrorBody

TOOL_ERRORS: dict[int | str, dict[str, Any]] = {
    **BAD_INPUT,
    502: {"model": ErrorBody, "description": "A mail or calendar server failed or refused the login; nothing was changed."},
}


class MailAccountIn(BaseModel):
    name: str = Field(default="mail", min_length=1, max_length=100)
    address: str = Field(min_length=3, max_length=300)
    username: str | None = Field(default=None, max_length=300, description="Login name (default: the address).")
    password: str = Field(min_length=1, max_length=1000, description="Kept in the OS keyring or the encrypted secrets file; never returned.")
    imap_host: str = Field(min_length=1, max_length=300)
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_security: Literal["ssl", "starttls", "none"] = "ssl"
    smtp_host: str = Field(min_length=1, max_length=300)
    smtp_port: int = Field(default=465, ge=1, le=65535)
    smtp_security: Literal["ssl", "starttls", "none"] = "ssl"
    display_name: str = Field(default="", max_length=200)
    check: bool = Field(default=True, description="Log in once to check the settings before saving them.")


class CalendarAccountIn(BaseModel):
    name: str = Field(default="calendar", min_length=1, max_length=100)
    url: str | None = Field(default=None, max_length=1000, description="CalDAV URL (or give `ics_path`).")
    username: str | None = Field(default=None, max_length=300)
    password: str | None = Field(default=None, max_length=1000, description="Kept in the OS keyring or the encrypted secrets file.")
    calendar: str | None = Field(default=None, max_length=300, description="Which calendar of the account (default: the first).")
    ics_path: str | None = Field(default=None, max_length=2000, description="An iCalendar file on this machine.")


class ReplyIn(BaseModel):
    message: str = Field(min_length=1, max_length=500, description="The message to answer: its ref or words.")
    say: str = Field(min_length=1, max_length=5000, description="What you want to say; drafted in your voice.")


class SendIn(BaseModel):
    to: str = Field(min_length=1, max_length=300)
    subject: str = Field(min_length=1, max_length=500)
    say: str = Field(min_length=1, max_length=5000)


class EventIn(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    when: str = Field(min_length=1, max_length=200, description='"Friday at 1pm" or ISO-8601.')
    minutes: int = Field(default=60, ge=5, le=60 * 24 * 14)
    location: str | None = Field(default=None, max_length=300)


class EventMove(BaseModel):
    when: str = Field(min_length=1, max_length=200, description="The new start.")


class LetterIn(BaseModel):
    """Your own text (`body`), or `ask` for a first draft in your voice."""

    title: str | None = Field(default=None, max_length=300)
    recipient: str | None = Field(default=None, max_length=300)
    body: str | None = Field(default=None, max_length=100_000)
    ask: str | None = Field(default=None, max_length=5000, description="What the letter should say; OS1 drafts it.")


class LetterPatch(BaseModel):
    title: str | None = Field(default=None, max_length=300)
    recipient: str | None = Field(default=None, max_length=300)
    body: str | None = Field(default=None, max_length=100_000)
    status: Literal["draft", "final"] | None = None


def _output(r: ToolOutput | Action) -> dict[str, Any]:
    if isinstance(r, Action):
        return {"pending": r.as_dict()}
    return {"summary": r.summary, "warnings": list(r.warnings), **dict(r.data)}


def tools_router(rt: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api/v1", responses=TOOL_ERRORS)

    def tb() -> Toolbox:
        return rt.companion.tools

    def now(user: str) -> datetime:
        return rt.clock.now().astimezone(rt.companion.proactive.zone_for(user))

    # Pending actions --------------------------------------------------------------------------------------
    @router.get("/actions", tags=["actions"])
    async def actions(user: UserIdDep, status: Literal["pending", "all"] = "pending") -> dict[str, Any]:
        """Actions that wait for your yes (or all of them), each with exactly what it will do."""
        items = await tb().actions.list(user, now=now(user), status=None if status == "all" else "pending")
        return {"actions": [a.as_dict() for a in items]}

    @router.post("/actions/{action_id}/confirm", tags=["actions"])
    async def confirm(user: UserIdDep, action_id: int) -> dict[str, Any]:
        """Carry out a pending action exactly as shown (once, however often confirmed)."""
        r = await tb().confirm(user, action_id, now(user))
        return {"action_id": r.action_id, "tool": r.tool, "ok": r.ok, "status": r.status, "summary": r.summary}

    @router.post("/actions/{action_id}/decline", tags=["actions"])
    async def decline(user: UserIdDep, action_id: int) -> dict[str, Any]:
        """Nothing is done."""
        r = await tb().decline(user, action_id, now(user))
        return {"action_id": r.action_id, "tool": r.tool, "status": r.status, "summary": r.summary}

    # Accounts ---------------------------------------------------------------------------------------------
    @router.get("/accounts", tags=["accounts"])
    async def accounts(user: UserIdDep) -> dict[str, Any]:
        """Connected mail and calendar accounts (never their passwords)."""
        return {"accounts": [a.as_dict() for a in await tb().accounts.list(user)]}

    @router.post("/accounts/mail", tags=["accounts"], status_code=201)
    async def add_mail(user: UserIdDep, body: MailAccountIn) -> dict[str, Any]:
        """Connect a mail account (IMAP + SMTP)."""
        settings = MailSettings(address=body.address, username=body.username or body.address, imap_host=body.imap_host,
                                imap_port=body.imap_port, imap_security=body.imap_security, smtp_host=body.smtp_host,
                                smtp_port=body.smtp_port, smtp_security=body.smtp_security, display_name=body.display_name)
        if body.check:
            client = MailClient(settings, body.password)
            await client.run(client.check_sync)
        account = await tb().accounts.add(user, "mail", body.name, asdict(settings), secret=body.password, now=now(user))
        return {"account": account.as_dict()}

    @router.post("/accounts/calendar", tags=["accounts"], status_code=201)
    async def add_calendar(user: UserIdDep, body: CalendarAccountIn) -> dict[str, Any]:
        """Connect a CalDAV account (`url`, `username`, `password`) or an .ics file (`ics_path`)."""
        if (body.url is None) == (body.ics_path is None):
            raise InputError("Give either url (CalDAV) or ics_path (a file).")
        if body.ics_path is not None:
            account = await tb().accounts.add(user, "ics", body.name, {"path": body.ics_path}, secret=None, now=now(user))
        else:
            account = await tb().accounts.add(user, "caldav", body.name, {"url": body.url, "username": body.username or "",
                                                                          "calendar": body.calendar},
                                              secret=body.password, now=now(user))
            try:
                await tb().calendar.between(user, now(user), now(user))
            except Exception:
                await tb().accounts.remove(user, body.name)
                raise
        return {"account": account.as_dict()}

    @router.delete("/accounts/{name}", tags=["accounts"])
    async def remove_account(user: UserIdDep, name: str) -> dict[str, Any]:
        """Disconnect an account and forget its password."""
        return {"removed": (await tb().accounts.remove(user, name)).as_dict()}

    # Mail -------------------------------------------------------------------------------------------------
    @router.get("/mail/inbox", tags=["mail"])
    async def inbox(user: UserIdDep, period: str = Query("today", max_length=40, description="today, yesterday, this week, this month, unread")) -> dict[str, Any]:
        """The inbox sorted into important, other, suspicious and newsletters, each with why."""
        return _output(await tb().use(user, "mail_triage", {"period": period}, now(user)))

    @router.get("/mail/search", tags=["mail"])
    async def search(user: UserIdDep, q: str = Query(min_length=1, max_length=500), sender: str | None = Query(None, max_length=300)) -> dict[str, Any]:
        """Find mail about something or from someone."""
        return _output(await tb().use(user, "mail_search", {"query": q, "sender": sender}, now(user)))

    @router.get("/mail/messages/{ref}", tags=["mail"])
    async def message(user: UserIdDep, ref: str) -> dict[str, Any]:
        """One message in full (it is not marked read)."""
        return _output(await tb().use(user, "mail_read", {"message": ref}, now(user)))

    @router.post("/mail/reply", tags=["mail"], status_code=202)
    async def reply(user: UserIdDep, body: ReplyIn) -> dict[str, Any]:
        """Draft a reply in your voice: returns the pending action to confirm."""
        return _output(await tb().use(user, "mail_reply", {"message": body.message, "points": body.say}, now(user), request=body.say))

    @router.post("/mail/send", tags=["mail"], status_code=202)
    async def send(user: UserIdDep, body: SendIn) -> dict[str, Any]:
        """Draft a new email in your voice: returns the pending action to confirm."""
        args = {"to": body.to, "subject": body.subject, "points": body.say}
        return _output(await tb().use(user, "mail_compose", args, now(user), request=f"email {body.to}: {body.say}"))

    @router.delete("/mail/messages/{ref}", tags=["mail"], status_code=202)
    async def delete_mail(user: UserIdDep, ref: str) -> dict[str, Any]:
        """Move a message to the trash: returns the pending action to confirm."""
        return _output(await tb().use(user, "mail_delete", {"message": ref}, now(user)))

    # Calendar ---------------------------------------------------------------------------------------------
    @router.get("/calendar/events", tags=["calendar"])
    async def events(user: UserIdDep, range: str = Query("this week", max_length=100, description="today, tomorrow, this week, next week, a day")) -> dict[str, Any]:
        """What your day or week looks like."""
        return _output(await tb().use(user, "calendar_agenda", {"range": range}, now(user)))

    @router.post("/calendar/events", tags=["calendar"], status_code=201)
    async def add_event(user: UserIdDep, body: EventIn) -> dict[str, Any]:
        """Add an event, with a reminder 30 minutes before."""
        return _output(await tb().use(user, "calendar_add", body.model_dump(), now(user)))

    @router.patch("/calendar/events/{event}", tags=["calendar"])
    async def move_event(user: UserIdDep, event: str, body: EventMove) -> dict[str, Any]:
        """Move an event (by id or words from its title); its reminder moves with it."""
        return _output(await tb().use(user, "calendar_move", {"event": event, "when": body.when}, now(user)))

    @router.delete("/calendar/events/{event}", tags=["calendar"], status_code=202)
    async def delete_event(user: UserIdDep, event: str) -> dict[str, Any]:
        """Delete an event: returns the pending action to confirm."""
        return _output(await tb().use(user, "calendar_delete", {"event": event}, now(user)))

    # Letters ----------------------------------------------------------------------------------------------
    @router.get("/letters", tags=["letters"])
    async def letters(user: UserIdDep) -> dict[str, Any]:
        """Your letters, newest first."""
        return {"letters": [x.as_dict() for x in await tb().letters.list(user)]}

    @router.post("/letters", tags=["letters"], status_code=201)
    async def create_letter(user: UserIdDep, body: LetterIn) -> dict[str, Any]:
        """Start a letter from your text, or ask for a first draft in your voice."""
        if body.ask:
            letter = await tb().desk.write(user, to=body.recipient or "", about=body.ask, request=body.ask, now=now(user))
        elif body.body is not None:
            letter = await tb().letters.create(user, title=body.title or (f"To {body.recipient}" if body.recipient else "Untitled"),
                                               body=body.body, recipient=body.recipient, now=now(user))
        else:
            raise InputError("Give `body` (your text) or `ask` (what the letter should say).")
        return {"letter": letter.as_dict()}

    @router.get("/letters/book", tags=["letters"], response_class=Response,
                responses={200: {"content": {"application/pdf": {}, "text/markdown": {}}}})
    async def book(user: UserIdDep, format: Literal["pdf", "md"] = "pdf", title: str = Query("Letters", max_length=200)) -> Response:
        """All your letters gathered into one book (oldest first)."""
        items = list(reversed(await tb().letters.list(user)))
        if not items:
            raise InputError("You have no letters yet.")
        if format == "pdf":
            return Response(book_pdf(items, title), media_type="application/pdf")
        return Response(book_markdown(items, title), media_type="text/markdown; charset=utf-8")

    @router.get("/letters/{letter_id}", tags=["letters"])
    async def letter(user: UserIdDep, letter_id: int) -> dict[str, Any]:
        """One letter with its open suggestions."""
        found = await tb().letters.get(user, letter_id)
        return {"letter": found.as_dict(), "suggestions": [s.as_dict() for s in await tb().letters.suggestions(user, letter_id)]}

    @router.patch("/letters/{letter_id}", tags=["letters"])
    async def edit_letter(user: UserIdDep, letter_id: int, body: LetterPatch) -> dict[str, Any]:
        """Change the title, recipient, text or status (changing the text makes open suggestions stale)."""
        found = await tb().letters.update(user, letter_id, now=now(user), title=body.title, recipient=body.recipient,
                                          body=body.body, status=body.status)
        return {"letter": found.as_dict()}

    @router.delete("/letters/{letter_id}", tags=["letters"])
    async def delete_letter(user: UserIdDep, letter_id: int) -> dict[str, Any]:
        await tb().letters.delete(user, letter_id)
        return {"deleted": letter_id}

    @router.post("/letters/{letter_id}/proofread", tags=["letters"])
    async def proofread(user: UserIdDep, letter_id: int) -> dict[str, Any]:
        """Suggested edits, each a span (`start`, `end` in characters), the `original`, a `replacement` and a `reason`."""
        return {"suggestions": [s.as_dict() for s in await tb().desk.proofread(user, letter_id, now=now(user))]}

    @router.get("/letters/{letter_id}/suggestions", tags=["letters"])
    async def suggestions(user: UserIdDep, letter_id: int, status: Literal["open", "accepted", "rejected", "stale", "all"] = "open") -> dict[str, Any]:
        items = await tb().letters.suggestions(user, letter_id, status=None if status == "all" else status)
        return {"suggestions": [s.as_dict() for s in items]}

    @router.post("/letters/{letter_id}/suggestions/{suggestion_id}/{decision}", tags=["letters"])
    async def decide(user: UserIdDep, letter_id: int, suggestion_id: int, decision: Literal["accept", "reject"]) -> dict[str, Any]:
        """Accept (apply it to the text) or reject a suggestion."""
        found, s = await tb().letters.decide(user, letter_id, suggestion_id, accept=decision == "accept", now=now(user))
        return {"letter": found.as_dict(), "suggestion": s.as_dict()}

    @router.get("/letters/{letter_id}/export", tags=["letters"], response_class=Response,
                responses={200: {"content": {"application/pdf": {}, "text/markdown": {}}}})
    async def export(user: UserIdDep, letter_id: int, format: Literal["pdf", "md"] = "pdf") -> Response:
        """The letter as a PDF or Markdown file."""
        found = await tb().letters.get(user, letter_id)
        name = f"letter-{letter_id}.{format}"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        if format == "pdf":
            return Response(to_pdf(found), media_type="application/pdf", headers=headers)
        return Response(to_markdown(found), media_type="text/markdown; charset=utf-8", headers=headers)

    return router
