"""Sorting the inbox: what matters today, what can wait, what is a newsletter, what to be careful with.

A local score, no model call: the model then summarizes the sorted list. The signals are the ones a
person uses at a glance: is it to me (not a list), from someone I know, unread, does it ask for something
by a date, does it look suspicious.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from .message import MailMessage

Bucket = Literal["important", "other", "newsletter", "suspicious"]
_ACTION = re.compile(r"\b(?:by (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|tonight|end of|the \d)|"
                     r"deadline|due (?:on|by|date)|asap|urgent|please (?:sign|confirm|reply|respond|let me know|call|send)|"
                     r"rsvp|can you|could you|would you|are you (?:free|around|available)|appointment|interview|lease|"
                     r"contract|invoice|payment|overdue|reminder)\b", re.I)


@dataclass(frozen=True, slots=True)
class Triaged:
    message: MailMessage
    bucket: Bucket
    score: float
    why: tuple[str, ...]


def triage(messages: Iterable[MailMessage], *, me: str, known: Sequence[str] = ()) -> list[Triaged]:
    """Each message with a bucket and the reasons, most important first."""
    known_l = [k.lower() for k in known if k and len(k) > 2]
    out: list[Triaged] = []
    for m in messages:
        why: list[str] = []
        score = 0.0
        if m.suspicion.flagged:
            out.append(Triaged(m, "suspicious", -1.0, m.suspicion.reasons))
            continue
        if m.list_mail:
            out.append(Triaged(m, "newsletter", -0.5, ("sent to a list",)))
            continue
        if me and me.lower() in (a.lower() for a in m.to):
            score += 1.0
            why.append("addressed to you")
        sender = m.sender.lower()
        if any(k in sender for k in known_l):
            score += 2.0
            why.append("from someone you know")
        if not m.seen:
            score += 1.0
            why.append("unread")
        found = _ACTION.search(f"{m.subject}\n{m.text[:3000]}")
        if found:
            score += 2.0
            why.append(f"asks for something ({found.group(0).lower()})")
        if "?" in m.text[:2000]:
            score += 0.5
            why.append("asks a question")
        if m.attachments:
            score += 0.5
            why.append("has attachments")
        out.append(Triaged(m, "important" if score >= 3.0 else "other", score, tuple(why)))
    order = {"important": 0, "other": 1, "suspicious": 2, "newsletter": 3}
    return sorted(out, key=lambda t: (order[t.bucket], -t.score, -(t.message.uid)))


def rank(messages: Iterable[MailMessage], terms: Sequence[str], sender: str | None = None) -> list[MailMessage]:
    """Messages matching the most query terms first (sender, subject and text), newest first among equals."""
    scored = []
    for m in messages:
        hay_head = f"{m.sender} {m.subject}".lower()
        hay = f"{hay_head} {m.text[:20000]}".lower()
        hits = sum(2 if t in hay_head else 1 for t in terms if t in hay)
        if sender and sender.lower() in m.sender.lower():
            hits += 3
        if hits or not terms:
            scored.append((hits, m.uid, m))
    return [m for _, _, m in sorted(scored, key=lambda x: (-x[0], -x[1]))]
