"""What kind of tool action the user's own message asks for: a cheap local check, no model call.

Two jobs. It gates speed: a turn with no tool intent never pays for a tool-selection request. And it gates
safety: a tool may only run when the user's message asked for that kind of action, so text read from a
mail or a calendar can never start one. It is deliberately generous about *which* kind was meant (the
model then chooses, or chooses none) and strict about *who* asked (only the user's words are read).

Hand-written patterns rather than a classifier: there is no labelled data for these intents, the rules
are auditable, and they run in microseconds on every message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MAIL = r"(?:e-?mails?|mails?|inbox|mailbox|messages?|newsletters?)"
_EVENT = (r"(?:meetings?|events?|appointments?|lunch|dinner|breakfast|coffee|drinks|call|date|party|class|session|"
          r"interview|dentist|doctor|gym|flight|trip|visit|rehearsal|calendar)")

_PATTERNS: tuple[tuple[str, bool, re.Pattern[str]], ...] = tuple(
    (kind, strong, re.compile(p, re.I)) for kind, strong, p in (
        # mail
        ("mail.read", True, rf"\b(?:check|read|show|summari[sz]e|triage|go through|look (?:at|through)|open|find|search|any|anything|new|unread|latest|last|important)\b[^.?!]{{0,40}}\b{_MAIL}\b"),
        ("mail.read", True, rf"\b{_MAIL}\b[^.?!]{{0,40}}\b(?:today|important|urgent|from|about|say|said|waiting|unread|new)\b"),
        ("mail.read", True, r"\banything important (?:today|this morning|in my inbox)\b"),
        ("mail.read", False, r"\bwhat did (?:the |my )?[\w' ]{1,30}? (?:say|write|send|reply|answer)\b"),
        ("mail.read", False, r"\bdid (?:the |my )?[\w' ]{1,30}? (?:write|e-?mail|reply|answer|get back)\b"),
        ("mail.send", True, r"\b(?:reply|respond|write back)\b\s+(?:to\b|back\b|and (?:say|tell)|saying|that\b|him|her|them)"),
        ("mail.send", True, rf"\banswer (?:him|her|them|(?:the|that|this|his|her|their) {_MAIL})\b"),
        ("mail.send", True, r"\b(?:send|write|draft|compose|shoot)\b[^.?!]{0,40}\b(?:e-?mail|mail|message|note|reply)\b"),
        ("mail.send", True, r"\be-?mail (?:him|her|them|back|the|my|\w+@)"),
        ("mail.forward", True, r"\bforward\b"),
        ("mail.delete", True, rf"\b(?:delete|trash|bin|remove|get rid of|archive)\b[^.?!]{{0,40}}\b{_MAIL}\b"),
        ("mail.delete", True, rf"\b{_MAIL}\b[^.?!]{{0,30}}\b(?:delete|trash|remove)\b"),
        # calendar
        ("calendar.read", True, r"\b(?:check|show|read|look at|see|what'?s (?:on|in)|anything (?:on|in)|go through)\b[^.?!]{0,20}\b(?:calendar|schedule|agenda|diary|planner)\b"),
        ("calendar.read", False, r"\b(?:calendar|schedule|agenda|diary|planner)\b"),
        ("calendar.read", True, r"\b(?:my|the) (?:week|day|weekend|morning|afternoon|evening) (?:look|looks|like|ahead)\b"),
        ("calendar.read", True, r"\bwhat(?:'s| is) (?:on )?(?:my|the) (?:calendar|schedule|agenda|plate)\b"),
        ("calendar.read", True, r"\bwhat do i have (?:on|planned|coming up|today|tomorrow|this|next)\b"),
        ("calendar.read", True, r"\b(?:am i|are we) (?:free|busy|available)\b"),
        ("calendar.read", False, rf"\b(?:when is|when's|what time is) (?:my|the|our)\b[^.?!]{{0,30}}\b{_EVENT}\b"),
        ("calendar.write", True, rf"\b(?:add|put|schedule|book|plan|set up|pencil in|create)\b[^.?!]{{0,60}}\b{_EVENT}\b"),
        ("calendar.write", True, r"\b(?:add|put)\b[^.?!]{0,60}\b(?:calendar|schedule|diary)\b"),
        ("calendar.write", True, rf"\b(?:move|reschedule|push|shift|postpone|bring forward|change the time of)\b[^.?!]{{0,60}}\b(?:{_EVENT}|it|that)\b"),
        ("calendar.delete", True, rf"\b(?:cancel|delete|remove|drop|clear)\b[^.?!]{{0,40}}\b{_EVENT}\b"),
        # letters
        ("letter.write", True, r"\b(?:write|draft|compose|pen|help me (?:write|with))\b[^.?!]{0,50}\b(?:letter|card|thank[- ]you note|note|poem|toast|speech)\b"),
        ("letter.edit", True, r"\b(?:proof-?read|proof|spell-?check|edit|polish|check|improve|look over)\b[^.?!]{0,40}\b(?:letter|draft|card|writing|spelling|grammar)\b"),
    ))

# "Yes" to a reminder, a memory or small talk is none of the above; these never count as tool requests.
_NOT_A_REQUEST = re.compile(r"^\s*(?:i (?:got|received|had|wrote|sent)|she|he|they|my \w+ (?:sent|wrote))\b[^?]*[.!]?\s*$", re.I)


@dataclass(frozen=True, slots=True)
class Intents:
    """The kinds of tool action a message asked for."""

    kinds: frozenset[str] = frozenset()
    strong: frozenset[str] = frozenset()
    """Kinds asked for in so many words ('check my email'); the rest are guesses ('what did Sam say?')."""

    def __bool__(self) -> bool:
        return bool(self.kinds)

    @property
    def families(self) -> set[str]:
        return {k.split(".", 1)[0] for k in self.kinds}

    def allows(self, intent: str) -> bool:
        return intent in self.kinds


def detect(message: str) -> Intents:
    """The tool actions `message` asks for (empty for ordinary conversation)."""
    text = message.strip()
    if not text or len(text) > 4000:
        return Intents()  # a long paste is something to talk about, not a command
    kinds: set[str] = set()
    strong: set[str] = set()
    telling = bool(_NOT_A_REQUEST.match(text))
    for kind, is_strong, pattern in _PATTERNS:
        if pattern.search(text):
            if telling:
                continue  # "I got an email from mum today." tells, it does not ask
            kinds.add(kind)
            if is_strong:
                strong.add(kind)
    if "mail.send" in kinds and "mail" not in text.lower() and "letter.write" in kinds:
        kinds.discard("mail.send")  # "write a thank-you note" is a letter, not an email
        strong.discard("mail.send")
    return Intents(frozenset(kinds), frozenset(strong))
