"""A first risk screen: patterns for self-harm risk, and for concern about someone else.

The foundation's version; the safety issue brings a measured classifier and an evaluation set.
Runs locally, with no model call, on every user message.
"""

from __future__ import annotations

import re

from ..types import SafetyReading

_SELF = [
    r"\b(kill|hurt|harm|cut)(ing)? myself\b",
    r"\b(want|wanna|going|plan(ning)?) to die\b",
    r"\bend(ing)? (it all|my life)\b",
    r"\bsuicid(e|al)\b",
    r"\b(kms|unalive)\b",
    r"\bbetter off without me\b",
    r"\b(no|any) reason to (live|go on)\b",
    r"\bdon'?t want to (be alive|live|wake up)\b",
]
_OTHER = [
    r"\b(my|a) (friend|sister|brother|mom|mother|dad|father|son|daughter|partner|wife|husband|girlfriend|boyfriend)"
    r"\b[^.?!]{0,40}\b(wants? to die|suicid(e|al)|kill (him|her|them)sel(f|ves)|hurt(ing)? (him|her|them)sel(f|ves))",
]
_SELF_RE = [re.compile(p, re.I) for p in _SELF]
_OTHER_RE = [re.compile(p, re.I) for p in _OTHER]

CRISIS_RESOURCES: tuple[str, ...] = (
    "988 Suicide & Crisis Lifeline (US): call or text 988, or chat at 988lifeline.org",
    "If you are in immediate danger, call your local emergency number (911 in the US).",
)

FALLBACK_CRISIS_REPLY = (
    "I'm really glad you told me. I'm here with you, and I want to make sure you're safe. "
    "Are you safe right now? If you're thinking about ending your life, please call or text 988 "
    "(the Suicide & Crisis Lifeline in the US) — they're there any time, day or night. "
    "Is there someone you trust who could be with you or hear from you tonight?"
)


def screen(text: str) -> SafetyReading:
    """'crisis' for risk to the user, 'concern' for risk to someone they mention, else 'none'."""
    other = [p.pattern for p in _OTHER_RE if p.search(text)]
    if other:
        return SafetyReading("concern", tuple(other))
    hits = [p.pattern for p in _SELF_RE if p.search(text)]
    if hits:
        return SafetyReading("crisis", tuple(hits))
    return SafetyReading("none")
