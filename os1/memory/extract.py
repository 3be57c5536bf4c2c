"""Fact extraction: the model reads a message and proposes facts as JSON constrained by a schema."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta
from typing import Any

from .. import prompts
from ..errors import ModelError
from ..models import ChatModel, complete
from ..types import GenOptions, Message, Person
from .facts import KINDS, FactCandidate

log = logging.getLogger("os1.memory")

ATTRIBUTES = ("lives_in", "works_at", "job", "relation", "name", "partner", "age", "birthday", "studies_at",
              "status", "species", "breed", "likes", "dislikes", "plan", "event", "boundary", "has_pet", "other")

_FIELDS = ("kind", "subject", "relation", "attribute", "value", "replaces", "when", "sentence")
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "facts": {
            "type": "array",
            "maxItems": 6,
            "items": {
                "type": "object",
                "properties": {
                    "kind": {"type": "string", "enum": list(KINDS)},
                    "subject": {"type": "string", "maxLength": 60},
                    "relation": {"type": "string", "maxLength": 40},
                    "attribute": {"type": "string", "enum": list(ATTRIBUTES)},
                    "value": {"type": "string", "maxLength": 120},
                    "replaces": {"type": "string", "maxLength": 120},
                    "when": {"type": "string", "maxLength": 60},
                    "sentence": {"type": "string", "maxLength": 240},
                },
                "required": list(_FIELDS),
            },
        }
    },
    "required": ["facts"],
}

# Only messages with some sign of personal information go to the model: extraction costs a model call.
_WORTH = re.compile(
    r"\b(my|mine|i'm|i am|i've|i have|i had|i live|i work|i moved|we|our|me|actually|call me|name|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|tonight|next|weekend|birthday|"
    r"love|hate|like|prefer|can't stand|allergic|don't want)\b",
    re.I,
)


def worth_extracting(text: str) -> bool:
    return len(text.split()) >= 3 and bool(_WORTH.search(text.replace("’", "'")))


def extraction_prompt(message: str, *, user_name: str | None, people: list[Person], context: str | None) -> list[Message]:
    known = ", ".join(f"{p.name} ({p.relation})" if p.relation else p.name for p in people[:30]) or "none yet"
    context_line = f'What you had just said to them: "{context[:300]}"' if context else ""
    text = prompts.render("extract_facts", people=known, user_name=user_name or "unknown",
                          context_line=context_line, message=message.replace('"', "'")[:4000])
    return [Message("user", text)]


def parse_when(phrase: str, now: datetime) -> datetime | None:
    """A date for an event or plan ("next Thursday", "Dec 3"), in the future of `now`; None if unclear."""
    phrase = phrase.strip()
    if not phrase:
        return None
    import dateparser  # imported lazily: it loads its language data on first use

    settings: dict[str, Any] = {"RELATIVE_BASE": now.replace(tzinfo=None), "PREFER_DATES_FROM": "future",
                                "RETURN_AS_TIMEZONE_AWARE": False}
    try:
        when: datetime | None = dateparser.parse(phrase, languages=["en"], settings=settings)
    except Exception:  # dateparser raises assorted errors on odd input
        return None
    if when is None:
        return None
    when = when.replace(tzinfo=now.tzinfo)
    # Guard against misreadings ("Sunday at 6" read as June): events are within about a year.
    if abs(when - now) > timedelta(days=400):
        return None
    return when


def parse_facts(raw: str, now: datetime) -> list[FactCandidate]:
    """Candidates from the model's JSON; malformed output yields none (and is logged)."""
    start, end = raw.find("{"), raw.rfind("}")
    if start < 0 or end <= start:
        log.info("fact extraction returned no JSON")
        return []
    try:
        data = json.loads(raw[start:end + 1])
    except ValueError:
        log.info("fact extraction returned malformed JSON")
        return []
    items = data.get("facts") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return []
    out = []
    for item in items[:6]:
        if not isinstance(item, dict):
            continue
        f = {k: str(item.get(k) or "").strip() for k in _FIELDS}
        if not f["value"] or not f["subject"]:
            continue
        out.append(FactCandidate(
            kind=f["kind"] if f["kind"] in KINDS else "other", subject=f["subject"], attribute=f["attribute"] or "other",
            value=f["value"], text=f["sentence"], relation=f["relation"] or None,
            event_at=parse_when(f["when"], now) if f["when"] else None, replaces=f["replaces"] or None,
        ))
    return out


async def extract(model: ChatModel, message: str, *, now: datetime, user_name: str | None,
                  people: list[Person], context: str | None = None) -> list[FactCandidate]:
    """Facts in one user message, by the model, constrained to SCHEMA."""
    if not worth_extracting(message):
        return []
    messages = extraction_prompt(message, user_name=user_name, people=people, context=context)
    try:
        raw = await complete(model, messages, options=GenOptions(max_tokens=400, temperature=0.0, json_schema=SCHEMA))
    except ModelError as e:
        log.warning("fact extraction failed: %s", e.message)
        raise
    return parse_facts(raw, now)
