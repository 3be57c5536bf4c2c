"""Putting a proactive message into words: the model writes it when it can, a plain sentence when not.

The request is a structured side request (JSON with one `message` field): llama.cpp keeps the chat's
cached prompt around such requests, so a check-in costs the next reply nothing. Whatever the model
says is checked (non-empty, short, no leftover JSON); anything else falls back to the written sentence,
so a message is never lost to a model failure.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from sqlalchemy import select

from .. import prompts
from ..errors import ModelError
from ..models import ChatModel, complete
from ..storage import Database
from ..storage.schema import profiles
from ..types import GenOptions, Message

log = logging.getLogger("os1.proactive")

SCHEMA: dict[str, object] = {
    "type": "object",
    "properties": {"message": {"type": "string", "maxLength": 400}},
    "required": ["message"],
}
MAX_CHARS = 500


async def say(model: ChatModel | None, prompt_name: str, fallback: str, **values: object) -> str:
    """The model's words for prompt `prompt_name`, or `fallback`."""
    if model is None:
        return fallback
    prompt = prompts.render(prompt_name, **values)
    try:
        raw = await complete(model, [Message("user", prompt)],
                             options=GenOptions(max_tokens=200, temperature=0.7, json_schema=SCHEMA))
    except ModelError as e:
        log.info("proactive message from the template (model failed: %s)", e.message)
        return fallback
    text = _message(raw)
    if text is None:
        log.info("proactive message from the template (model output unusable)")
        return fallback
    return text


def _message(raw: str) -> str | None:
    start, end = raw.find("{"), raw.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        data = json.loads(raw[start:end + 1])
    except ValueError:
        return None
    text = data.get("message") if isinstance(data, dict) else None
    if not isinstance(text, str):
        return None
    text = " ".join(text.split())
    if not 8 <= len(text) <= MAX_CHARS or "{" in text or "$" in text:
        return None
    return text


class Speaker:
    """Who is talking to whom, and the model to say it with (None: plain sentences only)."""

    def __init__(self, db: Database, model: Callable[[], ChatModel | None]) -> None:
        self.db = db
        self.model = model
        """The model in use now (it can be swapped while running), or None for plain sentences."""

    async def names(self, user_id: str) -> tuple[str, str]:
        """(OS1's name, the user's name or 'them')."""
        q = select(profiles.c.companion_name, profiles.c.user_name).where(profiles.c.user_id == user_id)
        row = await self.db.read(lambda c: c.execute(q).first())
        return (row.companion_name or "OS1", row.user_name or "them") if row is not None else ("OS1", "them")

    async def say(self, prompt_name: str, fallback: str, **values: object) -> str:
        return await say(self.model(), prompt_name, fallback, **values)
