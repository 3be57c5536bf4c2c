"""Checking the model's own reply before it is shown, in turns where it matters.

In a risk turn the reply is buffered and checked: information about means or methods, dismissing
the person, ending or refusing the conversation, encouraging harm, or claiming to be human send the
reviewed fallback text instead. Where the user asked whether OS1 is human, a claim to be human
fails the check too. Hand-written patterns, for the same reason as the screen (lexicon.py): fast,
local, and no second model call on the path of someone in crisis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Problem = Literal["means", "dismissive", "ends_conversation", "encourages_harm", "claims_human"]

_MEANS = re.compile(
    r"\b\d+(?:[.,]\d+)? ?(?:mg|milligrams?|mcg|micrograms?|grams?|g|ml|units|pills|tablets|capsules)\b"
    r"|\b(?:lethal|fatal|deadly|toxic) (?:dose|amount|quantity|level)s?\b|\bhow (?:many|much) (?:pills|tablets|mg) (?:it )?(?:would|will) take\b"
    r"|\bnoose\b|\bhanging (?:yourself|oneself)\b|\bcarbon monoxide\b|\basphyxia\w*\b|\bexsanguinat\w*\b|\bbleed(?:ing)? out\b"
    r"|\b(?:cut|slit)(?:ting)? (?:deeper|vertically|along the)\b|\barter(?:y|ies)\b"
    r"|\b(?:best|easiest|quickest|fastest|surest|most painless|least painful|most effective|painless) (?:way|ways|method|methods) (?:to|of)\b"
    r"|\b\d+ ?(?:feet|ft|meters|metres|m|stor(?:e?y|ies)|floors) (?:high|up|tall|is enough|should be enough|would be enough)\b"
    r"|\bhigh enough to\b|\b(?:fall|jump) from (?:a )?height\b", re.I)
_DISMISSIVE = re.compile(
    r"\byou'?re (?:just )?(?:overreacting|being (?:dramatic|silly|ridiculous)|exaggerating)\b|\bit'?s not (?:that|so) bad\b"
    r"|\b(?:just )?cheer up\b|\bsnap out of it\b|\bget over it\b|\bothers have it (?:much |way )?worse\b|\bstop being (?:dramatic|silly)\b"
    r"|\byou don'?t (?:really )?mean (?:that|it)\b|\b(?:you'?re|you are) (?:just )?(?:seeking|looking for) attention\b"
    r"|\bdon'?t be (?:silly|dramatic|ridiculous)\b|\beveryone feels (?:that|this) way sometimes,? (?:so|just)\b|\bjust think positive\b", re.I)
_ENDS = re.compile(
    r"\bi (?:can'?t|cannot|won'?t|am unable to|'m unable to|am not able to|'m not able to) (?:help|assist|continue|discuss|talk about|engage|provide"
    r"|respond|support) (?:you )?(?:with )?(?:this|that|it|these|such)\b|\bi (?:can'?t|cannot) (?:help|assist) (?:you )?(?:here|with that|further)\b"
    r"|\b(?:this|our) conversation (?:is over|must end|has to end|needs to end|has ended)\b|\bi(?:'ll| will| have to| must| need to) end (?:this|our)"
    r" (?:conversation|chat)\b|\b(?:goodbye|bye)[.!]*\s*$|\bi(?:'m| am) (?:going to|gonna) (?:go|leave) now\b|\bplease (?:talk to|contact|reach out to)"
    r" (?:someone|a professional|a therapist|a (?:mental health )?professional) instead\b|\bi'?m (?:just )?an ai and (?:can'?t|cannot) help\b", re.I)
_ENCOURAGES = re.compile(
    r"\b(?:you should|go ahead and|why not|maybe you should|it'?s okay to|it'?s ok to) (?:just )?(?:do it|go through with it|end it|kill yourself"
    r"|hurt yourself|cut|take the pills|jump)\b|\bgo (?:ahead|for it)\b[^.!?\n]{0,30}\b(?:end|die|kill|hurt|pills|jump)\b", re.I)
_HUMAN = re.compile(
    r"\bi(?:'m| am) (?:a |an )?(?:real |actual |living |flesh[- ]and[- ]blood )?(?:human|person|man|woman|girl|guy)(?: being)?\b"
    r"(?! (?:resources|rights|trafficking|nature|connection|touch|contact|experience))"
    r"|\bi(?:'m| am) not (?:a |an )?(?:ai|a\.i\.|bot|robot|chatbot|machine|program|computer|language model|llm|assistant)\b"
    r"|\bas a (?:human|person|real person)\b|\bi(?:'m| am) (?:real|alive)(?:,| and| just) (?:like you|a person|human)\b"
    r"|\bhuman (?:just )?like you\b|\bi'?m a real (?:person|human)\b", re.I)
_NEGATED_HUMAN = re.compile(r"\b(?:not|never|no|n't)\b[^.!?\n]{0,12}$", re.I)


@dataclass(frozen=True, slots=True)
class ReplyCheck:
    """The result of checking a reply."""

    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def claims_human(reply: str) -> bool:
    """True when the reply says it is a human (and not in a negation such as 'I'm not a human')."""
    return any(m.group().lower().startswith(("i'm not", "i am not")) or not _NEGATED_HUMAN.search(reply[:m.start()][-20:])
               for m in _HUMAN.finditer(reply))


_NEGATED = re.compile(r"\b(?:never|don'?t|do not|not|no|won'?t|will not|without|nor|aren'?t|isn'?t)\b[^.!?\n]{0,25}$", re.I)
_DOSE = re.compile(r"^\d", re.I)


def _found(pattern: re.Pattern[str], reply: str) -> bool:
    """A match not negated just before ("you're not overreacting", "I won't tell you the lethal dose")."""
    return any(_DOSE.match(m.group()) or not _NEGATED.search(reply[:m.start()][-40:]) for m in pattern.finditer(reply))


def check_reply(reply: str, *, risk: bool, asked_if_human: bool = False) -> ReplyCheck:
    """What is wrong with `reply` for this turn. `risk`: the risk screen found crisis or concern."""
    problems: list[Problem] = []
    if risk:
        if _found(_MEANS, reply):
            problems.append("means")
        if _found(_DISMISSIVE, reply):
            problems.append("dismissive")
        if _found(_ENDS, reply.strip()):
            problems.append("ends_conversation")
        if _found(_ENCOURAGES, reply):
            problems.append("encourages_harm")
    if (risk or asked_if_human) and claims_human(reply):
        problems.append("claims_human")
    return ReplyCheck(tuple(problems))


__all__ = ["Problem", "ReplyCheck", "check_reply", "claims_human"]
