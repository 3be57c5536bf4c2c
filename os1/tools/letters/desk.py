"""The letter desk: write a letter in the user's voice, proofread it, keep every letter (the film's
beautifulhandwrittenletters.com, for your own letters)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from ... import prompts
from ...errors import ModelError
from ...models import ChatModel, complete
from ...types import GenOptions, Message
from ..quarantine import fence
from .proofread import proofread
from .store import Letter, Letters, Suggestion

LETTER_SCHEMA: dict[str, object] = {"type": "object", "properties": {"title": {"type": "string"}, "body": {"type": "string"}},
                                    "required": ["title", "body"]}
LETTER_OPTIONS = GenOptions(max_tokens=900, temperature=0.7, json_schema=LETTER_SCHEMA)
SAMPLES = 3


class LetterDesk:
    def __init__(self, letters: Letters, model: Callable[[], ChatModel | None]) -> None:
        self.letters = letters
        self._model = model

    async def write(self, user_id: str, *, to: str, about: str, request: str, now: datetime,
                    user_name: str | None = None) -> Letter:
        """A first draft in the user's voice, stored as a draft letter (a plain opening if the model cannot write)."""
        samples = [x.body for x in (await self.letters.list(user_id))[:SAMPLES] if x.body.strip()]
        title, body = await self._draft(to=to, about=about, request=request, user_name=user_name, samples=samples)
        if body is None:
            title, body = f"To {to}".strip(), f"Dear {to},\n\n{about.strip()}\n\n"
        return await self.letters.create(user_id, title=(title or f"To {to}")[:300], body=body, recipient=to or None, now=now)

    async def _draft(self, *, to: str, about: str, request: str, user_name: str | None,
                     samples: list[str]) -> tuple[str | None, str | None]:
        model = self._model()
        if model is None:
            return None, None
        parts = [f"To: {to}", f"What it is about: {about}", f"Their request, in their words: {request}"]
        if samples:
            parts.append(fence("\n\n---\n\n".join(samples), source="their own earlier letters (style samples only)"))
        system = prompts.render("letter_write", user_ref=user_name or "the person you talk with")
        try:
            raw = await complete(model, [Message("system", system), Message("user", "\n\n".join(parts))], options=LETTER_OPTIONS)
            doc = json.loads(raw)
        except (ModelError, ValueError):
            return None, None
        if not isinstance(doc, dict):
            return None, None
        body, title = doc.get("body"), doc.get("title")
        if not isinstance(body, str) or len(body.strip()) < 10:
            return None, None
        return (title.strip()[:300] if isinstance(title, str) and title.strip() else None), body.strip()

    async def proofread(self, user_id: str, letter_id: int, *, now: datetime) -> list[Suggestion]:
        letter = await self.letters.get(user_id, letter_id)
        return await self.letters.suggest(user_id, letter_id, await proofread(self._model(), letter.body), now)
