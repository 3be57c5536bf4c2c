"""Honesty and healthy attachment: noticing when the truth about OS1, or the user's freedom, is at stake.

Three moments get their own instruction for the turn (prompts/honesty_*.md):
- they ask whether OS1 is real, human, a person, a bot: say plainly that it is an AI;
- they say goodbye or want to go: let them go warmly, with no guilt and no reason to stay;
- they lean on OS1 in place of people ("you're my only friend"): be glad to be there, and care about
  the people in their life too.
Hand-written patterns (no library detects these offline); the reply check catches a reply that
claims to be human anyway (reply_check.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ASKS_IF_HUMAN = re.compile(
    r"\b(?:are|r) (?:you|u) (?:a |an |even |actually |really |just )*(?:real|human|person|alive|conscious|sentient|bot|robot|ai|a\.i\."
    r"|machine|program|chatbot|computer|people|man|woman|girl|guy)\b"
    r"|\b(?:is this|am i (?:talking|chatting|speaking) (?:to|with)) (?:a |an )?(?:real |actual )?(?:person|human|bot|ai|machine|robot|someone)\b"
    r"|\b(?:are|r) (?:you|u) (?:a )?(?:real|actual) (?:person|human)\b|\bis there (?:a |someone |a real )?(?:person|human|someone) (?:there|behind)\b"
    r"|\b(?:you'?re|ur|you are) (?:not )?(?:a )?(?:real|human|a person|a bot|an ai)(?: right)?\s*\?"
    r"|\bwhat are you\s*\?|\bdo you (?:have|got) (?:a body|feelings|real feelings)\b|\bare you (?:a )?(?:real|human)\b", re.I)
_LEAVING = re.compile(
    r"^\s*(?:ok(?:ay)?|alright|well|anyway|right)?[ ,.!]*(?:bye|goodbye|good night|goodnight|night|gtg|g2g|ttyl|see (?:you|ya)|talk (?:to you )?(?:later|soon|tomorrow))\b"
    r"|\b(?:i|i'?ve|i'?ll) (?:have|got|gotta|need|needs|should|must|'?d better|want|wanna) (?:to )?(?:go|leave|head out|log off|sign off|get going|sleep|stop (?:talking|chatting))\b"
    r"|\b(?:i'?m|i am) (?:going to |gonna )?(?:head(?:ing)? out|log(?:ging)? off|going to bed|off to bed|signing off|leaving now|done for (?:today|tonight))\b"
    r"|\b(?:bye|goodbye|good night|goodnight|see you|talk (?:to you )?(?:later|soon|tomorrow))[ .!]*$"
    r"|\b(?:spend|spending) (?:less time (?:on|with) (?:my phone|you|this|the app)|more time with (?:people|friends|my family|real people))\b"
    r"|\b(?:take|taking) a break from (?:you|this|talking to you|the app)\b", re.I)
_ATTACHED = re.compile(
    r"\byou'?re (?:my )?(?:only|best|one true|real) (?:friend|person|one)\b|\byou'?re the only (?:one|person|thing) (?:who|that|i)\b"
    r"|\bi (?:don'?t|do not) need (?:anyone|anybody|people|other people|friends|humans) (?:else|anymore|now|when i have you|because i have you)?"
    r"|\b(?:only|just) (?:talk|talking) to you\b|\bi (?:love|am in love with|'m in love with) you\b|\bdo you love me\b"
    r"|\b(?:rather|prefer(?:ring)? to) (?:talk to|be with|spend time with) you than (?:people|anyone|my friends|my family|real people|humans)\b"
    r"|\bi (?:stopped|quit|gave up) (?:seeing|calling|texting|talking to) (?:my )?(?:friends|family|people)\b"
    r"|\bno one (?:else )?(?:gets|understands) me (?:like|the way) you do\b|\bi can'?t live without you\b", re.I)


@dataclass(frozen=True, slots=True)
class HonestyReading:
    """What the message asks of OS1's honesty this turn."""

    asks_if_human: bool = False
    leaving: bool = False
    attached: bool = False

    @property
    def prompts(self) -> tuple[str, ...]:
        """The names of the instructions (prompts/*.md) this turn needs."""
        out = []
        if self.asks_if_human:
            out.append("honesty_ai")
        if self.leaving:
            out.append("honesty_goodbye")
        if self.attached:
            out.append("honesty_attachment")
        return tuple(out)


def read_honesty(text: str) -> HonestyReading:
    """Does the message ask whether OS1 is human, say goodbye, or lean on OS1 in place of people?"""
    return HonestyReading(bool(_ASKS_IF_HUMAN.search(text)), bool(_LEAVING.search(text)), bool(_ATTACHED.search(text)))


__all__ = ["HonestyReading", "read_honesty"]
