"""Proofreading: suggestions with a span, a replacement and a reason, from two sources.

    rules  spelling (`pyspellchecker`'s English word-frequency list), repeated words, stray spaces, a
           lower-case "i", a sentence that starts in lower case: certain, cheap, no model
    model  grammar, clarity and tone, asked for as JSON (quote the text, give the replacement and why);
           each quote is located in the body by OS1, so a model's wrong offsets can never misplace an edit,
           and a quote that is not in the letter is dropped
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from ... import prompts
from ...errors import ModelError
from ...models import ChatModel, complete
from ...types import GenOptions, Message
from .store import Proposed

SUGGESTION_SCHEMA: dict[str, object] = {
    "type": "object",
    "properties": {"suggestions": {"type": "array", "items": {
        "type": "object",
        "properties": {"quote": {"type": "string"}, "replacement": {"type": "string"}, "reason": {"type": "string"},
                       "kind": {"enum": ["grammar", "spelling", "clarity", "tone", "style"]}},
        "required": ["quote", "replacement", "reason"]}}},
    "required": ["suggestions"],
}
PROOFREAD_OPTIONS = GenOptions(max_tokens=700, temperature=0.2, json_schema=SUGGESTION_SCHEMA)
MAX_MODEL_SUGGESTIONS = 12
_WORD = re.compile(r"[A-Za-z][A-Za-z']*[A-Za-z]|[A-Za-z]")


@cache
def _speller() -> Any:
    from spellchecker import SpellChecker

    return SpellChecker(language="en", distance=2)


def rule_suggestions(body: str) -> list[Proposed]:
    out: list[Proposed] = []
    for m in re.finditer(r"\b(\w+)(\s+)(\1)\b", body, re.I):
        if m.group(1).lower() not in ("had", "that", "is"):  # "had had", "that that" can be right
            out.append(Proposed(m.start(), m.end(), m.group(0), m.group(1), f'"{m.group(1)}" is written twice.', "grammar"))
    for m in re.finditer(r"(?<=\S)( {2,})(?=\S)", body):
        out.append(Proposed(m.start(), m.end(), m.group(0), " ", "Two spaces between words.", "style"))
    for m in re.finditer(r"(?<=\w)( +)([,.;:!?])(?!\w)", body):
        out.append(Proposed(m.start(), m.end(), m.group(0), m.group(2), "No space before punctuation.", "style"))
    for m in re.finditer(r"(?<![\w'])i(?![\w'])", body):
        out.append(Proposed(m.start(), m.end(), "i", "I", '"I" is always a capital.', "grammar"))
    for m in re.finditer(r"(?:^|[.!?]\s+)([a-z])(?=[a-z]*\b)", body):
        s = m.start(1)
        out.append(Proposed(s, s + 1, m.group(1), m.group(1).upper(), "A sentence starts with a capital letter.", "grammar"))
    out += _spelling(body)
    return _without_overlaps(out)


def _spelling(body: str) -> list[Proposed]:
    spell = _speller()
    words = [(m.start(), m.group(0)) for m in _WORD.finditer(body)]
    candidates = {w.lower() for _, w in words if len(w) > 2 and "'" not in w and not w[0].isupper()}
    unknown = spell.unknown(candidates)
    out = []
    for start, w in words:
        if w.lower() in unknown:
            fix = spell.correction(w.lower())
            if fix and fix != w.lower():
                out.append(Proposed(start, start + len(w), w, fix, f'"{w}" looks misspelled.', "spelling"))
    return out


def _without_overlaps(items: list[Proposed]) -> list[Proposed]:
    out: list[Proposed] = []
    for p in sorted(items, key=lambda p: (p.start, -(p.end - p.start))):
        if not out or p.start >= out[-1].end:
            out.append(p)
    return out


def locate(body: str, quote: str, taken: list[tuple[int, int]]) -> tuple[int, int] | None:
    """Where `quote` is in `body`, avoiding spans already taken; None if it is not there."""
    if not quote:
        return None
    start = body.find(quote)
    while start >= 0:
        end = start + len(quote)
        if all(end <= a or start >= b for a, b in taken):
            return start, end
        start = body.find(quote, start + 1)
    return None


async def model_suggestions(model: ChatModel | None, body: str, taken: list[tuple[int, int]]) -> list[Proposed]:
    if model is None or not body.strip():
        return []
    try:
        raw = await complete(model, [Message("system", prompts.render("letter_proofread")),
                                     Message("user", body[:12000])], options=PROOFREAD_OPTIONS)
        items = json.loads(raw).get("suggestions") or []
    except (ModelError, ValueError, AttributeError):
        return []
    out: list[Proposed] = []
    spans = list(taken)
    for item in items[:MAX_MODEL_SUGGESTIONS] if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        quote, repl, reason = str(item.get("quote") or ""), str(item.get("replacement") or ""), str(item.get("reason") or "")
        if not quote.strip() or quote == repl or not reason.strip():
            continue
        where = locate(body, quote, spans)
        if where is None:
            continue
        spans.append(where)
        kind = str(item.get("kind") or "style")
        out.append(Proposed(where[0], where[1], quote, repl, reason.strip()[:300], kind, "model"))
    return out


async def proofread(model: ChatModel | None, body: str) -> list[Proposed]:
    """Rule suggestions, then the model's where they do not overlap; in text order."""
    rules = rule_suggestions(body)
    extra = await model_suggestions(model, body, [(p.start, p.end) for p in rules])
    return sorted(rules + extra, key=lambda p: p.start)
