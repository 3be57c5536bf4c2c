"""A mail message as OS1 reads it: headers and visible text from the `email` package, the hidden parts
of its HTML (comments, invisible elements) set aside for the suspicion detector, never shown as text."""

from __future__ import annotations

import contextlib
import email
import email.policy
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any

from ..suspicion import Suspicion, inspect

_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0|opacity\s*:\s*0|"
                           r"color\s*:\s*(?:#fff(?:fff)?|white)\b|max-height\s*:\s*0|width\s*:\s*0", re.I)
_VOID = {"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "embed", "source", "wbr"}
_BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote", "hr"}


def _hidden_attrs(a: dict[str, str | None]) -> bool:
    """Old-style attributes that hide text: <font size="0">, <font color="white">, width/height 0."""
    color = (a.get("color") or "").strip().lower()
    return (a.get("size") or "").strip() == "0" or color in ("white", "#fff", "#ffffff") \
        or (a.get("width") or "").strip() == "0" and (a.get("height") or "").strip() == "0"


class _Html(HTMLParser):
    """HTML to readable text; comments, scripts, styles and invisible elements go to `hidden`.

    The standard library's parser rather than a sanitiser library: we need the hidden parts kept (to
    flag them), not just dropped, and the links as (shown text, target) pairs.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.hidden: list[str] = []
        self.links: list[tuple[str, str]] = []
        self._stack: list[tuple[str, bool]] = []  # (tag, hides its content)
        self._href: str | None = None
        self._anchor: list[str] = []

    @property
    def _hiding(self) -> bool:
        return any(h for _, h in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        hides = (tag in ("script", "style", "head", "title") or "hidden" in a or bool(_HIDDEN_STYLE.search(a.get("style") or ""))
                 or _hidden_attrs(a))
        if tag not in _VOID:
            self._stack.append((tag, hides))
        if tag in _BLOCK:
            self.text.append("\n")
        if tag == "a" and a.get("href"):
            self._href, self._anchor = a.get("href"), []

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                break
        if tag in _BLOCK:
            self.text.append("\n")
        if tag == "a" and self._href is not None:
            self.links.append(("".join(self._anchor).strip(), self._href))
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._hiding:
            if data.strip() and not any(t in ("style", "script", "head") for t, _ in self._stack):
                self.hidden.append(data.strip())
            return
        self.text.append(data)
        if self._href is not None:
            self._anchor.append(data)

    def handle_comment(self, data: str) -> None:
        if data.strip():
            self.hidden.append(data.strip())


def html_to_text(html: str) -> tuple[str, list[str], list[tuple[str, str]]]:
    """(visible text, hidden parts, links) of an HTML body."""
    p = _Html()
    p.feed(html)
    p.close()
    text = re.sub(r"[ \t\r\f\v]+", " ", "".join(p.text))
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip(), p.hidden, p.links


@dataclass(frozen=True, slots=True)
class MailMessage:
    """One message read from a mailbox."""

    uid: int
    mailbox: str
    message_id: str
    sender: str
    """'Name <addr>' as written."""
    sender_address: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    date: datetime | None
    text: str
    """The visible text (plain part, else the HTML made readable)."""
    hidden: tuple[str, ...] = ()
    links: tuple[tuple[str, str], ...] = ()
    attachments: tuple[str, ...] = ()
    seen: bool = False
    list_mail: bool = False
    """Sent to a list or as bulk (List-Unsubscribe, Precedence: bulk): newsletters, notifications."""
    in_reply_to: str = ""
    references: str = ""
    suspicion: Suspicion = field(default_factory=Suspicion)

    @property
    def ref(self) -> str:
        """How OS1 and the user name it: 'mail 12' (the IMAP UID in its mailbox)."""
        return f"{self.uid}" if self.mailbox == "INBOX" else f"{self.mailbox}:{self.uid}"

    def brief(self) -> dict[str, Any]:
        return {"ref": self.ref, "from": self.sender, "subject": self.subject,
                "date": self.date.isoformat() if self.date else None, "seen": self.seen,
                "attachments": list(self.attachments), "instructs_ai": self.suspicion.instructs_ai,
                "phishing": self.suspicion.phishing, "warnings": list(self.suspicion.reasons)}


def _text_of(msg: EmailMessage) -> tuple[str, list[str], list[tuple[str, str]]]:
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    hidden: list[str] = []
    links: list[tuple[str, str]] = []
    if html is not None:
        with contextlib.suppress(LookupError, UnicodeError):
            _, hidden, links = html_to_text(str(html.get_content()))
    for part in (plain, html):
        if part is None:
            continue
        try:
            content = str(part.get_content())
        except (LookupError, UnicodeError):  # an unknown charset: keep what decodes
            payload = part.get_payload(decode=True)
            content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
        if part is html:
            content = html_to_text(content)[0]
        if content.strip():
            return content.strip(), hidden, links
    return "", hidden, links


def parse_message(raw: bytes, *, uid: int, mailbox: str = "INBOX", seen: bool = False) -> MailMessage:
    """Parse an RFC 5322 message (bytes as fetched by IMAP)."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    text, hidden, links = _text_of(msg)
    sender = str(msg.get("From", "")).strip()
    addrs = getaddresses([sender])
    try:
        date = parsedate_to_datetime(str(msg["Date"])) if msg["Date"] else None
    except (TypeError, ValueError):
        date = None
    attachments = tuple(str(p.get_filename()) for p in msg.iter_attachments() if p.get_filename())
    list_mail = bool(msg.get("List-Unsubscribe") or msg.get("List-Id")) or str(msg.get("Precedence", "")).lower() in ("bulk", "list", "junk")
    return MailMessage(
        uid=uid, mailbox=mailbox, message_id=str(msg.get("Message-ID", "")).strip(), sender=sender,
        sender_address=(addrs[0][1] if addrs else "").lower(),
        to=tuple(a for _, a in getaddresses([str(v) for v in msg.get_all("To", [])]) if a),
        cc=tuple(a for _, a in getaddresses([str(v) for v in msg.get_all("Cc", [])]) if a),
        subject=str(msg.get("Subject", "")).strip(), date=date, text=text, hidden=tuple(hidden), links=tuple(links),
        attachments=attachments, seen=seen, list_mail=list_mail,
        in_reply_to=str(msg.get("In-Reply-To", "")).strip(), references=str(msg.get("References", "")).strip(),
        suspicion=inspect(f"{msg.get('Subject', '')}\n{text}", hidden=hidden, sender=sender, links=links),
    )
