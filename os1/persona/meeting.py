"""The first meeting: OS1 names itself, learns your name, and asks about you."""

from __future__ import annotations

import random
import re
import tomllib
from pathlib import Path

_DEFAULT = Path(__file__).with_name("default.toml")

# Words that follow "I'm" but are not names ("I'm tired", "I'm from Ohio").
_NOT_NAMES = frozenset(
    ["a", "an", "the", "so", "very", "really", "just", "not", "fine", "good", "ok", "okay", "great", "tired", "sad", "happy", "here", "back", "home", "sorry", "sure", "glad", "well", "from", "in", "at", "on", "going", "feeling", "doing", "trying", "looking", "working", "new", "old", "busy", "bored", "lonely", "alright", "alive", "stressed", "excited", "nervous", "scared", "worried", "hungry", "done", "ready", "still", "also", "only", "always", "never", "about", "like", "hi", "hello", "hey", "yes", "no", "yeah", "nope", "thanks", "thank", "you", "me", "i", "it", "this", "that", "what", "who", "how", "why", "when", "where", "there"]
)
_NAME = r"([A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ'\-]{0,30})"
_INTRO = [
    re.compile(r"\bmy name(?:'s| is)\s+" + _NAME, re.I),
    re.compile(r"\b(?:call me|i go by|name's)\s+" + _NAME, re.I),
    re.compile(r"\b(?:i'm|i am|im|it's|its|this is)\s+" + _NAME, re.I),
]
_RENAME = [
    re.compile(r"\b(?:can|could|may) i call you\s+" + _NAME, re.I),
    re.compile(r"\b(?:i'll|i will|i'd like to|let me|i want to) call you\s+" + _NAME, re.I),
    re.compile(r"\byour (?:new )?name (?:is|should be|will be)\s+" + _NAME, re.I),
    re.compile(r"\b(?:call|name) yourself\s+" + _NAME, re.I),
    re.compile(r"\bgo by\s+" + _NAME + r"\s+(?:from now on|instead)", re.I),
]


def _clean(candidate: str) -> str | None:
    word = candidate.strip("'-")
    if not word or word.lower() in _NOT_NAMES or len(word) < 2:
        return None
    return word[0].upper() + word[1:]


def _bare_reply(text: str, candidate: str) -> bool:
    """A lower-case "i'm x" that can only be an answer to "what's your name?": a few words, and x not an -ing,
    -ed or -ly word ("i'm managing", "i'm exhausted", "i'm lonely")."""
    word = candidate.lower()
    return len(text.split()) <= 4 and not word.endswith(("ing", "ed", "ly"))


def detect_user_name(text: str, *, expecting: bool) -> str | None:
    """The user's name if they state it; when `expecting` (we just asked), a short bare reply counts."""
    normalized = text.replace("’", "'").strip()
    introduced = False
    for i, pattern in enumerate(_INTRO):
        m = pattern.search(normalized)
        if m:
            introduced = True
            # "I'm X" is only a name when X is capitalised, or we just asked and the reply is a short one
            # ("i'm theo"): "work is stressful but I'm managing" is no introduction.
            if i == 2 and not m.group(1)[0].isupper() and not (expecting and _bare_reply(normalized, m.group(1))):
                continue
            name = _clean(m.group(1))
            if name:
                return name
    if expecting and not introduced:  # "I'm exhausted" was looked at above: "I'm" is not the name
        words = re.findall(r"[A-Za-zÀ-ÖØ-öø-ÿ'\-]+", normalized)
        if 1 <= len(words) <= 2 and len(normalized) <= 40:
            return _clean(words[0])
    return None


def detect_companion_rename(text: str) -> str | None:
    """A new name the user gives OS1 ("I'll call you Sam"), or None."""
    normalized = text.replace("’", "'")
    for pattern in _RENAME:
        m = pattern.search(normalized)
        if m:
            return _clean(m.group(1))
    return None


def candidate_names(persona_file: Path | None = None) -> list[str]:
    path = persona_file if persona_file and persona_file.is_file() else _DEFAULT
    data = tomllib.loads(path.read_text("utf-8"))
    names = [str(n) for n in data.get("names", []) if str(n).strip()]
    return names or ["Samantha"]


def choose_name(seed: str, persona_file: Path | None = None) -> str:
    """The name OS1 gives itself: its own pick from the persona's list, stable for a given seed."""
    return random.Random(seed).choice(candidate_names(persona_file))
