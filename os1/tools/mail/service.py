"""A user's mail: find their account, read and sort it, draft and send replies."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, formatdate, getaddresses, make_msgid
from typing import Any

from ...errors import InputError, ToolError
from ...memory.store import search_terms
from ..accounts import Account, Accounts
from .client import MailClient, MailSettings
from .message import MailMessage
from .triage import Triaged, rank, triage

_REF = re.compile(r"^\s*(?:mail\s*#?\s*|#)?(?:(?P<box>[\w./ -]+):)?(?P<uid>\d{1,10})\s*$", re.I)
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


class NoMailAccount(InputError):
    """Mail was asked for before an account was connected: the request can't be met as things are (400)."""

    def __init__(self) -> None:
        super().__init__("No email account is connected.",
                         hint="Connect one with `os1 mail connect` (or POST /api/v1/accounts/mail).")


class Mail:
    """Mail for every user, through their first connected mail account."""

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts

    async def account(self, user_id: str) -> tuple[Account, MailSettings]:
        account = await self.accounts.first(user_id, "mail")
        if account is None:
            raise NoMailAccount()
        return account, MailSettings.from_dict(dict(account.settings))

    async def client(self, user_id: str) -> MailClient:
        account, settings = await self.account(user_id)
        return MailClient(settings, self.accounts.secret(account) or "")

    async def inbox(self, user_id: str, *, since: date | None, limit: int = 40) -> tuple[list[Triaged], str]:
        """The inbox since a day, sorted; and the account's address."""
        c = await self.client(user_id)
        found = await c.run(c.search_sync, since=since, limit=limit)
        known = await self._known(user_id)
        return triage(found, me=c.settings.address, known=known), c.settings.address

    async def find(self, user_id: str, query: str, *, sender: str | None = None, limit: int = 10) -> list[MailMessage]:
        """Messages about `query` ("the landlord, about the lease"), best match first."""
        c = await self.client(user_id)
        terms = search_terms(query)
        found = await c.run(c.search_sync, terms=terms, sender=sender, limit=100)
        if not found and sender:
            found = await c.run(c.search_sync, terms=terms, limit=100)
        return rank(found, terms, sender)[:limit]

    async def get(self, user_id: str, which: str) -> MailMessage:
        """A message by its ref ('12', 'mail 12', 'Archive:7') or, failing that, the best match for the words."""
        m = _REF.match(which)
        c = await self.client(user_id)
        if m:
            msg = await c.run(c.get_sync, int(m["uid"]), (m["box"] or "INBOX").strip())
            if msg is None:
                raise InputError(f"There is no message {which.strip()}.", hint="`os1 mail inbox` shows their numbers.")
            return msg
        found = await self.find(user_id, which, limit=1)
        if not found:
            raise InputError(f"I found no message matching {which!r}.")
        return found[0]

    async def samples(self, user_id: str, limit: int = 3) -> list[str]:
        """A few of the user's own sent messages: how they write (for drafts in their voice)."""
        c = await self.client(user_id)
        try:
            sent = await c.run(c.search_sync, mailbox=c.settings.sent_folder, limit=limit)
        except ToolError:
            return []
        return [_strip_quoted(m.text)[:800] for m in sent if m.text.strip()][:limit]

    async def _known(self, user_id: str) -> list[str]:
        """Names of the people OS1 knows in the user's life (os1/memory people)."""
        from sqlalchemy import select

        from ...storage.schema import people

        q = select(people.c.name).where(people.c.user_id == user_id)
        return [r[0] for r in await self.accounts.db.read(lambda c: c.execute(q).all())]

    # Composing and sending ------------------------------------------------------------------------------
    async def resolve_address(self, user_id: str, who: str) -> str | None:
        """An address for 'sam@x.org', or for a name the user has mail from ('Sam Lee')."""
        found = _EMAIL.search(who)
        if found:
            return found.group(0).lower()
        c = await self.client(user_id)
        for m in await c.run(c.search_sync, sender=who.strip(), limit=5):
            if m.sender_address:
                return m.sender_address
        return None

    async def known_address(self, user_id: str, address: str) -> bool:
        """Whether the user has mail from this address."""
        c = await self.client(user_id)
        return bool(await c.run(c.search_sync, sender=address, limit=1))

    async def send(self, user_id: str, payload: Mapping[str, Any], *, now: datetime) -> str:
        """Send exactly the payload a confirmation was given for; keep a copy in Sent. Returns the Message-ID."""
        c = await self.client(user_id)
        msg = build_message(c.settings, payload, now=now)
        await c.run(c.send_sync, msg)
        with contextlib.suppress(ToolError):  # sent; only the copy is missing: not worth failing (or re-sending) over
            await c.run(c.append_sync, c.settings.sent_folder, msg.as_bytes())
        return str(msg["Message-ID"])

    async def trash(self, user_id: str, payload: Mapping[str, Any]) -> str:
        c = await self.client(user_id)
        return await c.run(c.trash_sync, int(payload["uid"]), str(payload.get("mailbox") or "INBOX"))


def build_message(settings: MailSettings, payload: Mapping[str, Any], *, now: datetime) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((settings.display_name, settings.address)) if settings.display_name else settings.address
    msg["To"] = ", ".join(payload["to"])
    if payload.get("cc"):
        msg["Cc"] = ", ".join(payload["cc"])
    msg["Subject"] = str(payload["subject"])
    msg["Date"] = formatdate(now.timestamp(), localtime=True)
    msg["Message-ID"] = str(payload.get("message_id") or make_msgid(domain=settings.address.rsplit("@", 1)[-1]))
    if payload.get("in_reply_to"):
        msg["In-Reply-To"] = str(payload["in_reply_to"])
        msg["References"] = str(payload.get("references") or payload["in_reply_to"])
    msg.set_content(str(payload["body"]))
    return msg


def reply_subject(subject: str) -> str:
    return subject if re.match(r"^\s*re:", subject, re.I) else f"Re: {subject}".strip()


def reply_targets(original: MailMessage) -> tuple[list[str], list[str]]:
    """To (the Reply-To, else the sender) of a reply."""
    return [original.sender_address] if original.sender_address else [], []


def since_for(period: str, today: date) -> date | None:
    p = period.lower().strip()
    if p in ("today", "this morning", ""):
        return today
    if p in ("yesterday",):
        return today - timedelta(days=1)
    if "week" in p:
        return today - timedelta(days=7)
    if "month" in p:
        return today - timedelta(days=31)
    return None  # everything (unread, all)


def _strip_quoted(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if line.startswith(">") or re.match(r"^On .{5,80} wrote:\s*$", line):
            break
        lines.append(line)
    return "\n".join(lines).strip()


def addresses(text: str) -> list[str]:
    return [a.lower() for _, a in getaddresses([text]) if a and "@" in a]


def mentioned_addresses(text: str) -> set[str]:
    return {a.lower() for a in _EMAIL.findall(text)}


def quote_for_reply(text: str, limit: int = 1500) -> str:
    body = _strip_quoted(text)[:limit]
    return "\n".join(f"> {line}" for line in body.splitlines())


def recipients_line(to: Sequence[str], cc: Sequence[str]) -> str:
    return ", ".join(to) + (f" (cc {', '.join(cc)})" if cc else "")
