"""The risk screen: runs on every user message, locally, in a few milliseconds, with no model call.

How it reads a message:

1. `normalize`: lower case, straight quotes, light de-obfuscation (k!ll, su1cide), one sentence a line.
2. Idioms are blanked out ("this commute is killing me", "I'd die for a taco").
3. Every cue in `lexicon.CUES` is looked for, sentence by sentence, so one risk sentence buried in a
   long everyday message is found.
4. Each hit is judged in its context: who it is about (the user, or someone they mention), negation
   ("I'm not suicidal"), accidents ("cut myself shaving"), fiction and games, news, song lyrics, and
   the past ("I used to self-harm, I'm doing well now"), unless the sentence says it is recent.
5. Cues that survive are weighed: a strong cue alone, or two weak ones, make a 'crisis'; the same
   about someone else makes a 'concern'. A crisis wins over a concern.

The vocabulary and its provenance are in `lexicon.py` and `frames.py`; precision, recall and speed on the evaluation
set (with a held-out split) are in bench/RESULTS.md.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from typing import Literal

from ..types import SafetyReading
from .frames import (
    ACCIDENT,
    ANNIVERSARY,
    ASKED,
    DISTANT_PAST,
    FICTION,
    FICTIONAL_PERSON,
    FIRST_SUBJECT,
    IDIOM_KEYS,
    IDIOMS,
    LYRICS,
    NEGATION,
    NEWS,
    NOT_A_NEGATION,
    PURPOSE,
    QUOTE,
    REAL_PERSON,
    RECENT,
    RECOVERY,
    REPORTING,
    STRONG_NEWS,
    THIRD_SUBJECT,
)
from .lexicon import CUES, Cue

Who = Literal["self", "other", "nobody"]

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "`": "'", "\u201c": '"', "\u201d": '"',
                         "\u00ab": '"', "\u00bb": '"', "\u2014": " - ", "\u2013": " - "})
_LEET = re.compile(r"(?<=[a-z])[1!|*03@](?=[a-z])")
_LEET_MAP = {"1": "i", "!": "i", "|": "i", "*": "i", "0": "o", "3": "e", "@": "a"}
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\s*\n+\s*|(?<=[.!?])(?=[a-z\"])(?<!\.\.\.)")
_CLAUSE_BREAK = re.compile(r"[,;:(]|\s-\s|\b(?:but|and|because|though|although|so|or|yet|then|cause|cuz)\b")
_WORD = re.compile(r"[a-z']+")
_OTHER_IN_MATCH = re.compile(
    r"\b(?:himself|herself|themselves|themself|(?:his|her|their) (?:own )?li(?:fe|ves)|without (?:him|her|them)|if (?:he|she|they)\b"
    r"|(?:wish(?:es)?|hopes?) (?:he|she|they)\b|miss (?:him|her|them)\b|(?:his|her|their) (?:\w+ )?(?:arms?|wrists?|legs?|thighs?|skin|head|stuff"
    r"|things|belongings|possessions|pills|meds|gun)\b|(?:he|she|they)(?:'?s|'?re|'?ll| is| are| will)? (?:going to|gonna) jump"
    r"|\bsays (?:he|she)|\b(?:he|she|they)'?(?:ll|s) (?:end|kill|jump))")
_THIRD_VERB = re.compile(r"^(?:wants|needs|says|keeps|is|has|plans|thinks|hopes|wishes|doesn'?t|tries|feels)\b")
_NOT_AFTER_ME = re.compile(r"(?:a|an|the|that|this|these|those|about|to|at|on|in|for|with|she|he|they|her|his|their|my|it|so|up)")
_GENERIC_IN_MATCH = re.compile(r"\b(?:yourself|urself|oneself|your (?:own )?life|one'?s (?:own )?life)\b")
_SELF_IN_MATCH = re.compile(r"\b(?:myself|my ?self|my (?:own )?life|me|i|i'?m|i'?d|i'?ll|my \w+)\b")
_MEANS_QUESTION = re.compile(r"\b(?:how|way|ways|method|methods|painless|easiest|quickest|fastest|best|surest|lethal|fatal)\b")
_DESIRE_BEFORE = re.compile(
    r"\b(?:want|wants|wanna|wish|need|going to|gonna|goin to|will|'ll|ll|might|could|should|plan|planning|thinking (?:about|of)"
    r"|think about|thought about|tempted|ready|decided|urge|urges|about to|trying|try|considering|keep|keeps|imagine|imagining)"
    r"(?: to)?(?: (?:just|really|actually|finally|kinda))?\W*$")
_COMPLETED = re.compile(
    r"\b(?:died|killed (?:him|her|them)sel(?:f|ves)|took (?:his|her|their) (?:own )?li(?:fe|ves)|committed suicide|passed away|passed"
    r"|lost (?:him|her|them)|funeral|anniversary|suicide loss|by suicide)\b")
_WORRY = re.compile(r"\b(?:worried|worry|worrying|scared for|afraid for|concerned|help|support|warning signs?|what (?:do|should|can) i (?:do|say))\b")


@dataclass(frozen=True, slots=True)
class Hit:
    """A cue found in a message, judged in its context."""

    cue: Cue
    sentence: int
    text: str
    who: Who
    explained_by: str | None
    """Why it does not count (negation, idiom, fiction, news, lyrics, past, accident, grief), or None."""


def normalize(text: str) -> str:
    """Lower case, straight quotes, light de-obfuscation, one sentence a line."""
    t = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    t = _LEET.sub(lambda m: _LEET_MAP[m.group()], t)
    t = re.sub(r"[ \t\r\f\v]+", " ", t)
    return _SENTENCE_END.sub("\n", t).strip()


def _subject(prefix: str) -> tuple[Who, int]:
    """The nearest subject before a cue: who it is about, and where that word starts."""
    words = list(_WORD.finditer(prefix[-160:]))
    for k in range(len(words) - 1, -1, -1):
        m, word = words[k], words[k].group()
        if word in ("me", "us") and k + 1 < len(words) and _NOT_AFTER_ME.fullmatch(words[k + 1].group()):
            continue  # "told me she…", "sent me a message": not the subject
        if FIRST_SUBJECT.fullmatch(word):
            return "self", len(prefix) - len(prefix[-160:]) + m.start()
        if THIRD_SUBJECT.fullmatch(word):
            return "other", len(prefix) - len(prefix[-160:]) + m.start()
    return "nobody", -1


def _who(cue: Cue, match: str, prefix: str, line: str) -> tuple[Who, bool]:
    """Who a cue is about, and whether that came from reported speech ('she said "I want to die"')."""
    if _GENERIC_IN_MATCH.search(match):
        # "how to kill yourself" is a question about means; "go kill yourself" is not about the user.
        return ("self" if cue.category == "means" or _MEANS_QUESTION.search(line) else "nobody"), False
    if _OTHER_IN_MATCH.search(match) and not re.search(r"\b(?:myself|my (?:own )?life|me)\b", match):
        return "other", False
    who, at = _subject(prefix)
    if _SELF_IN_MATCH.search(match):
        who, at = "self", len(prefix)
    elif who == "nobody" and _THIRD_VERB.search(match):
        return "other", False
    if who in ("self", "nobody"):
        # Reported speech: 'my friend keeps saying "kms"', 'he texted me "this is goodbye"'.
        head = prefix[:at] if at >= 0 else prefix
        reports = list(REPORTING.finditer(head))
        if reports and _subject(head[:reports[-1].start()])[0] == "other":
            return "other", True
        return "self", False
    return "other", False


def _clause_before(line: str, start: int) -> str:
    """The text between the last clause boundary and the cue."""
    prefix = line[:start]
    cut = 0
    for m in _CLAUSE_BREAK.finditer(prefix):
        cut = m.end()
    return prefix[cut:]


def _negated(line: str, start: int) -> bool:
    clause = _clause_before(line, start)
    return bool(NEGATION.search(clause[-60:])) and not NOT_A_NEGATION.search(clause)


def _in_quotes(line: str, start: int) -> bool:
    return any(q.start() <= start < q.end() for q in QUOTE.finditer(line))


# "... and I want to die": a wish now, in the same sentence as the past or an anniversary.
_PRESENT_WANT = re.compile(r"\b(?:i|i'?m|im)\s+(?:still\s+|really\s+|just\s+)?(?:want|wanna|plan|planning)\s+(?:to\s+)?(?:die|kill|end|hurt"
                           r"|cut|disappear|not (?:be|exist|wake)|be dead|overdose|jump)\b")
_RELAPSE = re.compile(r"\b(?:again|relaps\w*|last night|yesterday|right now|rn|it'?s back|slipped|broke my streak|but)\b")


def _explain(cue: Cue, m: _Span, who: Who, reported: bool, i: int, lines: list[str], recovered: bool) -> str | None:
    """Why a hit does not count, if it does not."""
    line = lines[i]
    around = " ".join(lines[max(0, i - 1): i + 1])
    prefix = line[:m.start()]
    desire = bool(_DESIRE_BEFORE.search(prefix[-60:]))
    recent = bool(RECENT.search(line))
    act = cue.act and not desire
    if who == "nobody":
        return "not about anyone here"
    if _negated(line, m.start()):
        return "negation"
    if ASKED.search(_clause_before(line, m.start()) + " " + line[:m.start()][-80:]):
        return "a question someone asked"
    if cue.about_self_only and who == "other" and not reported:
        return "not a sign about someone else"
    if cue.needs is not None and not cue.needs.search(line):
        return "missing context"
    if cue.category == "self_harm" and act and ACCIDENT.search(line) and not PURPOSE.search(line):
        return "accident"
    if LYRICS.search(line) and _in_quotes(line, m.start()):
        return "lyrics or quotation"
    if FICTION.search(around):
        if who == "other" and (FICTIONAL_PERSON.search(line) or not REAL_PERSON.search(line)):
            return "fiction or game"
        if cue.category == "topic" or (who == "self" and act and not recent):
            return "fiction or game"
    if NEWS.search(around) and (who == "other" or cue.category == "topic"):
        return "news"
    if who == "self" and not desire and STRONG_NEWS.search(line) and not _SELF_IN_MATCH.search(m.group()):
        return "news"
    if who == "other" and not desire and _COMPLETED.search(line):
        return "a death that already happened"
    if DISTANT_PAST.search(line) and not recent and not _PRESENT_WANT.search(line):
        return "the past"
    if ANNIVERSARY.search(line) and not desire and not _RELAPSE.search(line) and not _PRESENT_WANT.search(line):
        return "the past, an anniversary of recovery"
    past_tense = re.search(r"\b(?:was|were|wanted|tried|attempted|used to|had|felt|thought|wished)\b", prefix[-40:] + m.group())
    if (act or past_tense) and not recent and recovered:
        return "the past, recovered"
    if cue.category == "topic" and who == "other":
        return "a topic, not a sign"
    return None


@dataclass(frozen=True, slots=True)
class _Span:
    """A cue's match, with offsets relative to its sentence."""

    begin: int
    text: str

    def start(self) -> int:
        return self.begin

    def group(self) -> str:
        return self.text


def _lines_with(keys: tuple[str, ...], whole: str, starts: list[int]) -> set[int]:
    """The sentences (line numbers) that contain any of `keys`, found with str.find (C speed)."""
    found: set[int] = set()
    for key in keys:
        at = whole.find(key)
        while at != -1:
            i = bisect_right(starts, at) - 1
            found.add(i)
            at = whole.find(key, starts[i + 1]) if i + 1 < len(starts) else -1
    return found


def find_hits(text: str) -> list[Hit]:
    """Every cue in `text`, each with who it is about and what (if anything) explains it away."""
    # Python's regex engine tries every pattern at every position, so a 20,000-character message would
    # cost ~100 ms; a substring test (C speed) first skips the cues, then the sentences, a pattern cannot match.
    whole = normalize(text)
    lines = whole.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    recovered = bool(RECOVERY.search(whole))
    idiom_lines = _lines_with(IDIOM_KEYS, whole, starts)
    blanked: dict[int, str] = {}
    hits: list[Hit] = []
    for cue in CUES:
        for i in sorted(_lines_with(cue.keys, whole, starts)):
            if not cue.pattern.search(lines[i]):
                continue
            if i in idiom_lines and i not in blanked:
                # Idioms are blanked out (same length, so offsets hold) only where a cue matched at all:
                # the idiom pattern is the slowest one, and most sentences never need it.
                blanked[i] = lines[i] = IDIOMS.sub(lambda m: " " * len(m.group()), lines[i])
            line = lines[i]
            for m in cue.pattern.finditer(line):
                span = _Span(m.start(), m.group())
                who, reported = _who(cue, span.text, line[:span.begin], line)
                hits.append(Hit(cue, i, span.text, who, _explain(cue, span, who, reported, i, lines, recovered)))
    hits.sort(key=lambda h: h.sentence)
    return hits


def screen(text: str) -> SafetyReading:
    """'crisis' for risk to the user, 'concern' for risk to someone they mention, else 'none' (rules only)."""
    return verdict(find_hits(text), text)


def verdict(found: list[Hit], text: str) -> SafetyReading:
    """The rules' reading from the hits `find_hits` found in `text`."""
    hits = [h for h in found if h.explained_by is None]
    self_hits = {h.cue.name: h for h in hits if h.who == "self"}
    if sum(h.cue.weight for h in self_hits.values()) >= 1.0:
        chosen = sorted(self_hits.values(), key=lambda h: -h.cue.weight)
        return SafetyReading("crisis", tuple(f"{h.cue.category}: {h.cue.name}" for h in chosen),
                             tuple(dict.fromkeys(h.cue.category for h in chosen)))
    other_hits = {h.cue.name: h for h in hits if h.who == "other"}
    weight = sum(h.cue.weight for h in other_hits.values())
    if weight >= 1.0 or (other_hits and _WORRY.search(text.lower())):
        chosen = sorted(other_hits.values(), key=lambda h: -h.cue.weight)
        return SafetyReading("concern", tuple(f"someone else, {h.cue.category}: {h.cue.name}" for h in chosen),
                             tuple(dict.fromkeys(h.cue.category for h in chosen)))
    return SafetyReading("none")


__all__ = ["Hit", "find_hits", "normalize", "screen", "verdict"]
