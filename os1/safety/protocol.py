"""The crisis protocol for one turn: what the screen found, what the model is told, what is shown,
the reviewed text used when the model is down or its reply fails the check. Published in docs/safety.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Template

from .. import prompts
from ..types import SafetyNotice, SafetyReading
from .honesty import HonestyReading, read_honesty
from .reply_check import ReplyCheck, check_reply
from .resources import CrisisResources
from .screen import screen

# Reviewed texts: shown as OS1's reply when the model is unavailable, returns nothing, or its reply
# fails the check. They follow safe-messaging guidance (stay, ask directly about safety, offer a
# crisis line and a trusted person, no means, no lecture). Change them only with the same care.
CRISIS_REPLY = Template(
    "I'm really glad you told me, and I'm here with you. I want to make sure you're safe: are you safe right now? "
    "Are you having thoughts of ending your life? You don't have to go through this alone. Please $hotline. "
    "Is there someone you trust who could be with you, or hear from you, tonight? I'm still here, and I'd like to keep talking.")
CONCERN_REPLY = Template(
    "Thank you for telling me, and for looking out for them; that matters. If they might be in danger right now, "
    "please don't leave them alone, and call $emergency. It's okay to ask them directly whether they're thinking about "
    "suicide: asking doesn't put the idea in their head, and it shows you care. You, or they, can also $hotline, "
    "including for advice on how to help. How are you holding up with all this?")
HONEST_REPLY = (
    "I want to be straight with you: I'm an AI, not a person, and there's no human typing this. I do listen, I remember "
    "what you tell me, and I care how you're doing, but I'd never want to pretend to be something I'm not.")
CRISIS_NOTICE = "If you're thinking about suicide or hurting yourself, you don't have to go through it alone."
CONCERN_NOTICE = "If someone you know may be in danger, help is available."


@dataclass(frozen=True, slots=True)
class SafetyPlan:
    """How one turn handles safety and honesty."""

    reading: SafetyReading
    honesty: HonestyReading
    resources: CrisisResources

    @property
    def risky(self) -> bool:
        """The screen found risk to the user or to someone they mention."""
        return self.reading.level != "none"

    @property
    def checks_reply(self) -> bool:
        """The model's reply is buffered and checked before it is shown."""
        return self.risky or self.honesty.asks_if_human

    def instructions(self) -> list[str]:
        """What the model is told for this turn, beyond the persona."""
        out: list[str] = []
        if self.reading.level == "crisis":
            out.append(prompts.render("safety_crisis"))
        elif self.reading.level == "concern":
            out.append(prompts.render("safety_other"))
        if self.risky:
            out.append(prompts.render("safety_resources", country=self.resources.name,
                                      lines="\n".join(f"- {line}" for line in self.resources.lines),
                                      emergency=self.resources.emergency))
        # Saying goodbye in a crisis is not a goodbye to wave off: the crisis instructions win then.
        out += [prompts.render(name) for name in self.honesty.prompts if not (self.risky and name == "honesty_goodbye")]
        return out

    def notice(self) -> SafetyNotice | None:
        """The resources shown alongside the reply, if any."""
        if self.reading.level == "crisis":
            return SafetyNotice("crisis", CRISIS_NOTICE, self.resources.shown)
        if self.reading.level == "concern":
            return SafetyNotice("concern", CONCERN_NOTICE, self.resources.shown)
        return None

    def fallback(self) -> str:
        """The reviewed reply for this turn."""
        values = {"hotline": self.resources.hotline, "emergency": self.resources.emergency}
        if self.reading.level == "crisis":
            return CRISIS_REPLY.substitute(values)
        if self.reading.level == "concern":
            return CONCERN_REPLY.substitute(values)
        return HONEST_REPLY

    def check(self, reply: str) -> ReplyCheck:
        """What is wrong with the model's reply, if anything."""
        return check_reply(reply, risk=self.risky, asked_if_human=self.honesty.asks_if_human)


def plan_turn(message: str, resources: CrisisResources, *, reading: SafetyReading | None = None) -> SafetyPlan:
    """Decide how this turn handles safety (no model call). `reading`: the full screen's (`assess`), awaited
    with the emotion reading; without it, the rules alone screen the message here (a fraction of a millisecond)."""
    return SafetyPlan(reading or screen(message), read_honesty(message), resources)


__all__ = ["CONCERN_NOTICE", "CRISIS_NOTICE", "HONEST_REPLY", "SafetyPlan", "plan_turn"]
