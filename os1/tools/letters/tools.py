"""The letter tools the model may ask for: write a letter in the user's voice, proofread one."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from ...errors import InputError
from ..base import Risk, Tool, ToolContext, ToolOutput
from .desk import LetterDesk
from .store import Letter


class WriteArgs(BaseModel):
    to: str = Field(description="Who the letter is for.")
    about: str = Field(description="What it should say, in short.")


class LetterWrite(Tool):
    name = "letter_write"
    description = "Write a first draft of a letter in the user's own voice (kept as a draft they can edit)."
    risk: ClassVar[Risk] = "write"
    intent = "letter.write"
    args = WriteArgs

    def __init__(self, desk: LetterDesk) -> None:
        self.desk = desk

    async def run(self, ctx: ToolContext, args: Any) -> ToolOutput:
        letter = await self.desk.write(ctx.user_id, to=args.to, about=args.about, request=ctx.request, now=ctx.now)
        return ToolOutput(f"Drafted letter {letter.id}: {letter.title}",
                          f"Letter {letter.id}, {letter.title!r}:\n\n{letter.body}",
                          data={"letter": letter.as_dict()})


class WhichLetter(BaseModel):
    letter: str = Field(default="latest", description="Which letter: 'latest', its number, or words from its title.")


async def find_letter(desk: LetterDesk, user_id: str, which: str) -> Letter:
    letters = await desk.letters.list(user_id)
    if not letters:
        raise InputError("You have no letters yet.", hint='Write one: os1 letter new --title "…" --file letter.txt')
    w = which.strip().lower()
    m = re.search(r"\d+", w)
    if m:
        return await desk.letters.get(user_id, int(m.group(0)))
    if w in ("", "latest", "last", "my letter", "the letter", "it"):
        return letters[0]
    words = [x for x in re.findall(r"\w+", w) if len(x) > 2]
    scored = sorted(((sum(x in f"{a.title} {a.recipient or ''}".lower() for x in words), a) for a in letters),
                    key=lambda s: -s[0])
    return scored[0][1] if scored and scored[0][0] > 0 else letters[0]


class LetterProofread(Tool):
    name = "letter_proofread"
    description = "Proofread one of the user's letters and suggest edits they can accept or reject."
    risk: ClassVar[Risk] = "write"
    intent = "letter.edit"
    args = WhichLetter

    def __init__(self, desk: LetterDesk) -> None:
        self.desk = desk

    async def run(self, ctx: ToolContext, args: Any) -> ToolOutput:
        letter = await find_letter(self.desk, ctx.user_id, args.letter or "latest")
        found = await self.desk.proofread(ctx.user_id, letter.id, now=ctx.now)
        lines = [f"{s.id}. {s.original!r} -> {s.replacement!r}: {s.reason}" for s in found]
        return ToolOutput(f"{len(found)} suggestion(s) for letter {letter.id}, {letter.title!r}",
                          "\n".join(lines) or "No suggestions: it reads well.",
                          data={"letter": letter.as_dict(), "suggestions": [s.as_dict() for s in found]})


def letter_tools(desk: LetterDesk) -> list[Tool]:
    return [LetterWrite(desk), LetterProofread(desk)]
