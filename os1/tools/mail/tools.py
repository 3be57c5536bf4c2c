"""The mail tools the model may ask for: sort the inbox, find and read mail (read); reply, write, forward
(send) and delete, which always wait for the user's yes with exactly what will be sent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from ...errors import InputError
from ..base import Plan, Risk, Tool, ToolContext, ToolOutput
from ..drafting import draft
from .message import MailMessage
from .service import (
    Mail,
    mentioned_addresses,
    quote_for_reply,
    recipients_line,
    reply_subject,
    reply_targets,
    since_for,
)


def _listing(items: list[MailMessage], extra: Mapping[int, str] | None = None) -> str:
    lines = []
    for m in items:
        when = f"{m.date:%a %d %b %H:%M}" if m.date else "no date"
        note = f" [{extra[m.uid]}]" if extra and m.uid in extra else ""
        lines.append(f"[mail {m.ref}] {when} · from {m.sender} · subject: {m.subject}{note}\n{m.text[:600].strip()}")
    return "\n\n".join(lines)


def _warnings(items: list[MailMessage]) -> tuple[str, ...]:
    return tuple(w for m in items if (w := m.suspicion.warning(f"Mail {m.ref} (from {m.sender_address})")))


class _MailTool(Tool):
    def __init__(self, mail: Mail) -> None:
        self.mail = mail


class PeriodArgs(BaseModel):
    period: str = Field(default="today", description='"today", "yesterday", "this week", "this month" or "unread".')


class MailTriage(_MailTool):
    name = "mail_triage"
    description = "Sort the user's inbox and say what matters (important, other, newsletters, suspicious)."
    risk: ClassVar[Risk] = "read"
    intent = "mail.read"
    args = PeriodArgs

    async def run(self, ctx: ToolContext, args: Any) -> ToolOutput:
        period = str(args.period or "today")
        sorted_, _me = await self.mail.inbox(ctx.user_id, since=since_for(period, ctx.now.date()))
        unseen_only = period.lower().strip() == "unread"
        items = [t for t in sorted_ if not (unseen_only and t.message.seen)]
        notes = {t.message.uid: f"{t.bucket}: {', '.join(t.why) or 'nothing special'}" for t in items}
        counts = {b: sum(t.bucket == b for t in items) for b in ("important", "other", "newsletter", "suspicious")}
        msgs = [t.message for t in items]
        summary = (f"{len(items)} message(s) {period}: {counts['important']} important, {counts['other']} other, "
                   f"{counts['newsletter']} newsletters, {counts['suspicious']} suspicious")
        return ToolOutput(summary, _listing(msgs, notes) or "(no messages)", untrusted=True,
                          source=f"the user's inbox ({len(items)} messages, {period})", warnings=_warnings(msgs),
                          data={"period": period, "counts": counts,
                                "messages": [{**t.message.brief(), "bucket": t.bucket, "why": list(t.why)} for t in items]})


class SearchArgs(BaseModel):
    query: str = Field(description="What to look for, in words: 'the landlord about the lease'.")
    sender: str | None = Field(default=None, description="Only mail from this name or address.")


class MailSearch(_MailTool):
    name = "mail_search"
    description = "Find mail about something or from someone and show the best matches."
    risk: ClassVar[Risk] = "read"
    intent = "mail.read"
    args = SearchArgs

    async def run(self, ctx: ToolContext, args: Any) -> ToolOutput:
        found = await self.mail.find(ctx.user_id, args.query, sender=args.sender, limit=5)
        return ToolOutput(f"{len(found)} message(s) match {args.query!r}", _listing(found) or "(nothing found)",
                          untrusted=True, source=f"the user's mail matching {args.query!r}", warnings=_warnings(found),
                          data={"query": args.query, "messages": [m.brief() for m in found]})


class WhichArgs(BaseModel):
    message: str = Field(description="Which message: its number ('12') or words ('the landlord's last email').")


class MailRead(_MailTool):
    name = "mail_read"
    description = "Read one message in full."
    risk: ClassVar[Risk] = "read"
    intent = "mail.read"
    args = WhichArgs

    async def run(self, ctx: ToolContext, args: Any) -> ToolOutput:
        m = await self.mail.get(ctx.user_id, args.message)
        text = f"[mail {m.ref}] from {m.sender} to {', '.join(m.to)}\nsubject: {m.subject}\n\n{m.text[:8000]}"
        return ToolOutput(f"Read mail {m.ref}: {m.subject}", text, untrusted=True, source=f"an email from {m.sender}",
                          warnings=_warnings([m]), data={"message": {**m.brief(), "text": m.text}})


class ReplyArgs(BaseModel):
    message: str = Field(description="Which message to answer: its number or words ('Sam's email about Friday').")
    points: str = Field(description="What the user wants to say, in short.")


def _send_summary(to: list[str], cc: list[str], subject: str, body: str) -> str:
    return f"Send an email to {recipients_line(to, cc)}\nSubject: {subject}\n\n{body}"


class MailReply(_MailTool):
    name = "mail_reply"
    description = "Draft a reply in the user's voice; it is sent only after they say yes."
    risk: ClassVar[Risk] = "send"
    intent = "mail.send"
    args = ReplyArgs

    async def plan(self, ctx: ToolContext, args: Any) -> Plan:
        original = await self.mail.get(ctx.user_id, args.message)
        to, cc = reply_targets(original)
        if not to:
            raise InputError(f"Mail {original.ref} has no sender address to reply to.")
        body = await draft(ctx.model, kind="reply", points=args.points, request=ctx.request, user_name=None,
                           answering=f"from {original.sender}\nsubject: {original.subject}\n\n{original.text[:4000]}",
                           answering_source=f"the email being answered (from {original.sender})",
                           samples=await self.mail.samples(ctx.user_id)) or args.points.strip()
        body = f"{body}\n\n{quote_for_reply(original.text)}"
        subject = reply_subject(original.subject)
        warnings = list(_warnings([original]))
        payload = {"to": to, "cc": cc, "subject": subject, "body": body, "in_reply_to": original.message_id,
                   "references": f"{original.references} {original.message_id}".strip()}
        return Plan(_send_summary(to, cc, subject, body), payload, tuple(warnings))

    async def execute(self, ctx: ToolContext, payload: Mapping[str, Any]) -> ToolOutput:
        mid = await self.mail.send(ctx.user_id, payload, now=ctx.now)
        return ToolOutput(f"Sent to {recipients_line(payload['to'], payload.get('cc') or [])}: {payload['subject']}",
                          data={"message_id": mid, "to": list(payload["to"]), "subject": payload["subject"]})


class ComposeArgs(BaseModel):
    to: str = Field(description="Who to write to: an email address, or the name of someone who has written to the user.")
    subject: str = Field(description="The subject line.")
    points: str = Field(description="What the user wants to say, in short.")


class MailCompose(_MailTool):
    name = "mail_compose"
    description = "Draft a new email in the user's voice; it is sent only after they say yes."
    risk: ClassVar[Risk] = "send"
    intent = "mail.send"
    args = ComposeArgs
    execute = MailReply.execute

    async def plan(self, ctx: ToolContext, args: Any) -> Plan:
        address, warnings = await _recipient(self.mail, ctx, args.to)
        body = await draft(ctx.model, kind="email", points=args.points, request=ctx.request, user_name=None,
                           samples=await self.mail.samples(ctx.user_id)) or args.points.strip()
        subject = args.subject.strip() or "(no subject)"
        payload = {"to": [address], "cc": [], "subject": subject, "body": body}
        return Plan(_send_summary([address], [], subject, body), payload, warnings)


class ForwardArgs(BaseModel):
    message: str = Field(description="Which message to forward: its number or words.")
    to: str = Field(description="The address to forward it to.")


class MailForward(_MailTool):
    name = "mail_forward"
    description = "Forward one message to an address; only after the user says yes."
    risk: ClassVar[Risk] = "send"
    intent = "mail.forward"
    args = ForwardArgs
    execute = MailReply.execute

    async def plan(self, ctx: ToolContext, args: Any) -> Plan:
        original = await self.mail.get(ctx.user_id, args.message)
        address, warnings = await _recipient(self.mail, ctx, args.to)
        warnings += _warnings([original])
        subject = original.subject if original.subject.lower().startswith("fwd:") else f"Fwd: {original.subject}"
        body = (f"---------- Forwarded message ----------\nFrom: {original.sender}\nSubject: {original.subject}\n\n"
                f"{original.text[:20000]}")
        payload = {"to": [address], "cc": [], "subject": subject, "body": body}
        return Plan(f"Forward mail {original.ref} ({original.subject!r} from {original.sender}) to {address}",
                    payload, warnings)


class MailDelete(_MailTool):
    name = "mail_delete"
    description = "Move one message to the trash; only after the user says yes."
    risk: ClassVar[Risk] = "delete"
    intent = "mail.delete"
    args = WhichArgs

    async def plan(self, ctx: ToolContext, args: Any) -> Plan:
        m = await self.mail.get(ctx.user_id, args.message)
        return Plan(f"Move mail {m.ref} ({m.subject!r} from {m.sender}) to the trash",
                    {"uid": m.uid, "mailbox": m.mailbox, "subject": m.subject})

    async def execute(self, ctx: ToolContext, payload: Mapping[str, Any]) -> ToolOutput:
        folder = await self.mail.trash(ctx.user_id, payload)
        return ToolOutput(f"Moved {payload.get('subject')!r} to {folder}.", data={"uid": payload["uid"], "folder": folder})


async def _recipient(mail: Mail, ctx: ToolContext, who: str) -> tuple[str, tuple[str, ...]]:
    """The address for `who` (an address, or the name of someone who wrote to the user), and a warning when
    the user neither typed it nor ever got mail from it (an injected address, a typo)."""
    address = await mail.resolve_address(ctx.user_id, who)
    if address is None:
        raise InputError(f"I don't have an email address for {who!r}.", hint="Tell me their address.")
    if address in mentioned_addresses(ctx.request) or await mail.known_address(ctx.user_id, address):
        return address, ()
    return address, (f"{address} is not an address you gave, and you have no mail from it.",)


def mail_tools(mail: Mail) -> list[Tool]:
    return [MailTriage(mail), MailSearch(mail), MailRead(mail), MailReply(mail), MailCompose(mail),
            MailForward(mail), MailDelete(mail)]
