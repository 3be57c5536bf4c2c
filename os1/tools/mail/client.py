"""IMAP and SMTP with the standard library's `imaplib` and `smtplib`, run in threads; foreign errors mapped
to ToolError here. Passwords go only to the server, over TLS unless the server is on this machine."""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from typing import Any, Literal, TypeVar

from ...errors import InputError, ToolError
from .message import MailMessage, parse_message

T = TypeVar("T")
Security = Literal["ssl", "starttls", "none"]
_LOOPBACK = re.compile(r"^(?:127\.\d+\.\d+\.\d+|localhost|::1)$")
MAX_FETCH = 200


@dataclass(frozen=True, slots=True)
class MailSettings:
    """How to reach one mail account (no password: that is in the secret store)."""

    address: str
    username: str
    imap_host: str
    imap_port: int = 993
    imap_security: Security = "ssl"
    smtp_host: str = ""
    smtp_port: int = 465
    smtp_security: Security = "ssl"
    display_name: str = ""
    sent_folder: str = "Sent"
    trash_folder: str = "Trash"
    timeout: float = 30.0

    def __post_init__(self) -> None:
        for host, sec in ((self.imap_host, self.imap_security), (self.smtp_host or self.imap_host, self.smtp_security)):
            if sec == "none" and not _LOOPBACK.match(host):
                raise InputError(f"Refusing to send a password unencrypted to {host}.",
                                 hint="Use --imap-security/--smtp-security ssl or starttls (plain only on this machine).")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MailSettings:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def _hint(settings: MailSettings) -> str:
    return f"Check the server ({settings.imap_host}:{settings.imap_port}), your user name and password (`os1 mail connect`)."


class MailClient:
    """One account's IMAP and SMTP, opened per call (mail is read seldom; no idle connections to keep)."""

    def __init__(self, settings: MailSettings, password: str) -> None:
        self.settings = settings
        self._password = password

    def __repr__(self) -> str:
        return f"MailClient({self.settings.username!r}@{self.settings.imap_host})"

    # IMAP ----------------------------------------------------------------------------------------------
    def _imap(self) -> imaplib.IMAP4:
        s = self.settings
        try:
            if s.imap_security == "ssl":
                conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(s.imap_host, s.imap_port, ssl_context=ssl.create_default_context(),
                                                        timeout=s.timeout)
            else:
                conn = imaplib.IMAP4(s.imap_host, s.imap_port, timeout=s.timeout)
                if s.imap_security == "starttls":
                    conn.starttls(ssl.create_default_context())
            conn.login(s.username, self._password)
            return conn
        except imaplib.IMAP4.error as e:
            raise ToolError(f"The mail server refused the login for {s.username}.", hint=_hint(s)) from e
        except (OSError, ssl.SSLError) as e:
            raise ToolError(f"Cannot reach the mail server {s.imap_host}:{s.imap_port} ({e.__class__.__name__}).",
                            hint=_hint(s)) from e

    def _with_imap(self, fn: Callable[[imaplib.IMAP4], T]) -> T:
        conn = self._imap()
        try:
            return fn(conn)
        except imaplib.IMAP4.error as e:
            raise ToolError(f"The mail server said no: {str(e)[:200]}", hint=_hint(self.settings)) from e
        except OSError as e:
            raise ToolError(f"Lost the mail server ({e.__class__.__name__}).", hint=_hint(self.settings)) from e
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                conn.logout()

    def check_sync(self) -> int:
        """Log in and count the inbox (connect-time check)."""
        def go(c: imaplib.IMAP4) -> int:
            typ, data = c.select("INBOX", readonly=True)
            return int(data[0] or 0) if typ == "OK" else 0
        return self._with_imap(go)

    @staticmethod
    def _fetch(c: imaplib.IMAP4, uids: Sequence[int], mailbox: str) -> list[MailMessage]:
        out: list[MailMessage] = []
        if not uids:
            return out
        # BODY.PEEK: reading for a summary must not mark mail as read.
        typ, data = c.uid("FETCH", ",".join(str(u) for u in uids), "(UID FLAGS BODY.PEEK[])")
        if typ != "OK":
            return out
        for item in data:
            if not isinstance(item, tuple):
                continue
            head = item[0].decode("ascii", "replace")
            m = re.search(r"UID (\d+)", head)
            if m:
                out.append(parse_message(item[1], uid=int(m.group(1)), mailbox=mailbox, seen="\\Seen" in head))
        return sorted(out, key=lambda x: x.uid, reverse=True)

    def search_sync(self, *, mailbox: str = "INBOX", since: date | None = None, terms: Sequence[str] = (),
                    sender: str | None = None, unseen: bool = False, limit: int = 50) -> list[MailMessage]:
        """Newest first. IMAP SEARCH on the server (SINCE, FROM, UNSEEN, and TEXT for any of `terms`), then
        fetch the newest `limit`. Non-ASCII terms are left to the caller's ranking (plain SEARCH is ASCII)."""
        def go(c: imaplib.IMAP4) -> list[MailMessage]:
            typ, _ = c.select(_quote(mailbox), readonly=True)
            if typ != "OK":
                raise ToolError(f"There is no mailbox {mailbox!r}.")
            criteria: list[str] = []
            if since:
                criteria += ["SINCE", since.strftime("%d-%b-%Y")]
            if sender and sender.isascii():
                criteria += ["FROM", _quote(sender)]
            if unseen:
                criteria.append("UNSEEN")
            words = [t for t in terms if t.isascii() and t.strip()][:8]
            if words:  # OR TEXT a OR TEXT b TEXT c
                ors = ["OR"] * (len(words) - 1)
                criteria += ors + [x for w in words for x in ("TEXT", _quote(w))]
            typ, data = c.uid("SEARCH", *(criteria or ["ALL"]))
            uids = [int(u) for u in (data[0] or b"").split()] if typ == "OK" else []
            return self._fetch(c, sorted(uids)[-min(limit, MAX_FETCH):], mailbox)
        return self._with_imap(go)

    def get_sync(self, uid: int, mailbox: str = "INBOX") -> MailMessage | None:
        def go(c: imaplib.IMAP4) -> MailMessage | None:
            c.select(_quote(mailbox), readonly=True)
            found = self._fetch(c, [uid], mailbox)
            return found[0] if found else None
        return self._with_imap(go)

    def trash_sync(self, uid: int, mailbox: str = "INBOX") -> str:
        """Move to the trash folder (created if missing); expunge only that message."""
        trash = self.settings.trash_folder

        def go(c: imaplib.IMAP4) -> str:
            c.create(_quote(trash))  # NO when it exists: fine
            typ, _ = c.select(_quote(mailbox))
            if typ != "OK":
                raise ToolError(f"There is no mailbox {mailbox!r}.")
            typ, _ = c.uid("COPY", str(uid), _quote(trash))
            if typ != "OK":
                raise ToolError(f"Could not move message {uid} to {trash}.")
            c.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)")
            if "UIDPLUS" in c.capabilities:
                c.uid("EXPUNGE", str(uid))
            else:
                c.expunge()
            return trash
        return self._with_imap(go)

    def append_sync(self, mailbox: str, raw: bytes, *, seen: bool = True) -> None:
        def go(c: imaplib.IMAP4) -> None:
            c.create(_quote(mailbox))
            c.append(_quote(mailbox), r"(\Seen)" if seen else "", imaplib.Time2Internaldate(time.time()), raw)
        self._with_imap(go)

    # SMTP ----------------------------------------------------------------------------------------------
    def send_sync(self, msg: EmailMessage) -> None:
        s = self.settings
        host = s.smtp_host or s.imap_host
        try:
            if s.smtp_security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, s.smtp_port, timeout=s.timeout, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(host, s.smtp_port, timeout=s.timeout)
            with smtp:
                smtp.ehlo()
                if s.smtp_security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if smtp.has_extn("auth"):
                    smtp.login(s.username, self._password)
                smtp.send_message(msg)
        except smtplib.SMTPAuthenticationError as e:
            raise ToolError(f"The outgoing mail server refused the login for {s.username}.", hint=_hint(s)) from e
        except smtplib.SMTPRecipientsRefused as e:
            raise ToolError(f"The server refused the recipient(s): {', '.join(e.recipients)}.") from e
        except (smtplib.SMTPException, OSError) as e:
            raise ToolError(f"Sending failed at {host}:{s.smtp_port} ({e.__class__.__name__}).",
                            hint="Nothing was sent. Check the outgoing server settings and try again.") from e

    # Async ---------------------------------------------------------------------------------------------
    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.to_thread(fn, *args, **kwargs)


def _quote(s: str) -> str:
    """An IMAP quoted string (imaplib sends arguments as they are)."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
