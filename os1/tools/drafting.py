"""Writing in the user's own voice: a reply, a message or a letter, drafted by the model as JSON.

The user's earlier writing (sent mail, letters, their own chat messages) is shown as style samples; what
is being answered is fenced as untrusted data. A draft is only ever a draft: sending it waits for a yes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from .. import prompts
from ..errors import ModelError
from ..models import ChatModel, complete
from ..types import GenOptions, Message
from .quarantine import fence

DRAFT_SCHEMA: dict[str, object] = {"type": "object", "properties": {"body": {"type": "string"}}, "required": ["body"]}
DRAFT_OPTIONS = GenOptions(max_tokens=600, temperature=0.6, json_schema=DRAFT_SCHEMA)


async def draft(model: ChatModel | None, *, kind: str, points: str, request: str, user_name: str | None,
                answering: str | None = None, answering_source: str = "the message being answered",
                samples: Sequence[str] = ()) -> str | None:
    """The body the model wrote, or None when it could not (no model, a failure, nothing usable)."""
    if model is None:
        return None
    parts = [f"What {user_name or 'they'} want to say: {points.strip() or '(see their request)'}",
             f"Their request, in their words: {request.strip()}"]
    if answering:
        parts.append(fence(answering, source=answering_source))
    if samples:
        parts.append(fence("\n\n---\n\n".join(s.strip() for s in samples if s.strip()),
                           source=f"{user_name or 'their'} own earlier writing (style samples only)"))
    system = prompts.render("tool_draft", kind=kind, user_ref=user_name or "the person you talk with")
    try:
        raw = await complete(model, [Message("system", system), Message("user", "\n\n".join(parts))], options=DRAFT_OPTIONS)
    except ModelError:
        return None
    try:
        body = json.loads(raw).get("body")
    except (ValueError, AttributeError):
        return None
    if not isinstance(body, str) or len(body.strip()) < 2:
        return None
    return body.strip()
