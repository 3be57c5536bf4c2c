"""The tool step of a turn, and the same actions for the CLI and the API.

One turn, in order:
  1. an answer to a pending action ("yes, send it", "no") in the user's own message is carried out;
  2. a cheap local check reads which kinds of action the message asks for (intent.py); none: done, no
     model call;
  3. the model proposes a call among the tools of those kinds (select.py); a call of a kind the user did
     not ask for is refused and reported, never run;
  4. read and write tools run, and their output joins the turn's notes, untrusted content fenced as data;
     send, delete and spend tools are only planned: a pending action shows exactly what would happen.
Up to two steps, so "find the landlord's email and reply that I agree" reads, then drafts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from .. import prompts
from ..errors import InputError, ModelError, OS1Error
from ..models import ChatModel
from ..storage import Database
from ..types import Exchange, ToolProposed, ToolRefused, ToolResult
from .accounts import Accounts
from .base import Registry, Tool, ToolContext, ToolOutput
from .calendar.service import Calendar, EventHooks
from .calendar.tools import calendar_tools
from .confirm import BARE_YES_WINDOW, Action, Actions, read_answer
from .credentials import SecretStore
from .intent import Intents, detect
from .letters.desk import LetterDesk
from .letters.store import Letters
from .letters.tools import letter_tools
from .mail.service import Mail
from .mail.tools import mail_tools
from .quarantine import fence
from .select import choose, selection_prompt

log = logging.getLogger("os1.tools")
MAX_STEPS = 2
ToolEvent = ToolProposed | ToolResult | ToolRefused


@dataclass
class ToolStep:
    """What the tool step of one turn did: events to stream, instructions for the turn's notes."""

    events: list[ToolEvent] = field(default_factory=list)
    instructions: list[str] = field(default_factory=list)
    intents: Intents = field(default_factory=Intents)
    model_calls: int = 0


class Toolbox:
    """Mail, calendar and letters for every user of one database."""

    def __init__(self, db: Database, model: Callable[[], ChatModel | None], *, zone_for: Callable[[str], tzinfo],
                 secrets: Callable[[], SecretStore], home: Path | None = None, hooks: EventHooks | None = None) -> None:
        self.model = model
        self.zone_for = zone_for
        self.actions = Actions(db)
        self.accounts = Accounts(db, secrets)
        self.mail = Mail(self.accounts)
        self.calendar = Calendar(self.accounts, zone_for, home=home, hooks=hooks)
        self.letters = Letters(db)
        self.desk = LetterDesk(self.letters, model)
        self.registry = Registry([*mail_tools(self.mail), *calendar_tools(self.calendar), *letter_tools(self.desk)])

    def _ctx(self, user_id: str, now: datetime, request: str) -> ToolContext:
        return ToolContext(user_id, now.astimezone(self.zone_for(user_id)), request, self.model())

    # The turn ------------------------------------------------------------------------------------------
    async def step(self, user_id: str, message: str, now: datetime, *, history: Sequence[Exchange] = ()) -> ToolStep:
        """The tool step for one user message (see the module docstring)."""
        answered = await self._answer(user_id, message, now)
        if answered is not None:
            return answered
        out = ToolStep(intents=detect(message))
        if not out.intents:
            return out  # ordinary conversation: no extra model call
        model = self.model()
        recent = [("them" if e.role == "user" else "you", e.text) for e in list(history)[-4:]]
        found: list[str] = []
        done: set[str] = set()
        ctx = self._ctx(user_id, now, message)
        for _ in range(MAX_STEPS):
            remaining = out.intents.kinds - done
            if not remaining:
                break
            offered = [t for t in self.registry.for_families({k.split(".")[0] for k in remaining}) if t.intent not in done]
            call = None
            if model is not None:
                try:
                    out.model_calls += 1
                    call = await choose(model, offered, selection_prompt(offered, request=message, now=ctx.now,
                                                                         recent=recent, found=found))
                except ModelError as e:
                    log.warning("tool selection failed: %s", e.message)
            tool, args = self._resolve(call, out, remaining, first=not done)
            if tool is None:
                break
            done.add(tool.intent)
            text = await self._use(ctx, tool, args, out)
            if text:
                found.append(text)
        return out

    def _resolve(self, call: Any, out: ToolStep, remaining: AbstractSet[str], *,
                 first: bool) -> tuple[Tool | None, Mapping[str, object]]:
        """The proposed tool if the user's words allow it; else a refusal, and (first step only) the plain
        read they asked for in so many words."""
        if call is not None:
            tool = self.registry.get(call.name)
            if tool is None:
                out.events.append(ToolRefused(call.name, "there is no such tool"))
            elif not out.intents.allows(tool.intent) or tool.intent not in remaining:
                reason = f"you did not ask for {tool.intent.replace('.', ' ')}; the request came from the model, not from you"
                out.events.append(ToolRefused(tool.name, reason))
                out.instructions.append(prompts.render("tool_refused", tool=tool.name, reason=reason))
            else:
                return tool, call.arguments
        return self._fallback(out.intents, remaining) if first else (None, {})

    def _fallback(self, intents: Intents, remaining: AbstractSet[str]) -> tuple[Tool | None, Mapping[str, object]]:
        """When the model chose nothing usable, a plain read that was asked for in so many words."""
        if "mail.read" in remaining and "mail.read" in intents.strong:
            return self.registry.get("mail_triage"), {"period": "today"}
        if "calendar.read" in remaining and "calendar.read" in intents.strong:
            return self.registry.get("calendar_agenda"), {"range": "this week"}
        return None, {}

    async def _use(self, ctx: ToolContext, tool: Tool, arguments: Mapping[str, object], out: ToolStep) -> str | None:
        """Run or plan one call; record its events and notes. Returns fenced text for a next selection."""
        try:
            args = tool.parse(arguments)
            if tool.needs_confirmation:
                plan = await tool.plan(ctx, args)
                action = await self.actions.propose(ctx.user_id, tool=tool.name, risk=tool.risk, summary=plan.summary,
                                                    payload=plan.payload, warnings=plan.warnings, requested=ctx.request,
                                                    now=ctx.now)
                out.events.append(ToolProposed(action.id, tool.name, tool.risk, plan.summary, plan.warnings))
                out.instructions.append(prompts.render("tool_pending", action_id=action.id, summary=plan.summary,
                                                       warnings=_warning_lines(plan.warnings)))
                return None
            result = await tool.run(ctx, args)
        except OS1Error as e:
            out.events.append(ToolResult(tool.name, False, e.message, status="failed"))
            out.instructions.append(prompts.render("tool_failed", tool=tool.name, error=e.message, hint=e.hint or ""))
            return None
        out.events.append(ToolResult(tool.name, True, result.summary))
        content = fence(result.text, source=result.source or tool.name) if result.untrusted else result.text
        out.instructions.append(prompts.render("tool_result", tool=tool.name, summary=result.summary,
                                               warnings=_warning_lines(result.warnings), content=content))
        return content if result.untrusted else None

    async def _answer(self, user_id: str, message: str, now: datetime) -> ToolStep | None:
        """A yes or no to a pending action, in the user's own words; None when the message is not one."""
        reply = read_answer(message)
        if reply is None:
            return None
        pending = await self.actions.list(user_id, now=now)
        if not pending:
            return None
        target = next((a for a in pending if a.id == reply.action_id), None) if reply.action_id else pending[0]
        if target is None or (not reply.explicit and now - target.created_at > BARE_YES_WINDOW):
            return None
        out = ToolStep()
        if reply.answer == "yes":
            event = await self.confirm(user_id, target.id, now)
            key = "tool_done" if event.ok else "tool_failed"
            values = ({"action_id": target.id, "summary": event.summary} if event.ok else
                      {"tool": target.tool, "error": event.summary, "hint": "Nothing else was done."})
        else:
            event = await self.decline(user_id, target.id, now)
            key, values = "tool_declined", {"action_id": target.id, "summary": target.summary.split("\n", 1)[0]}
        out.events.append(event)
        out.instructions.append(prompts.render(key, **values))
        return out

    # Confirming (conversation, CLI, API) ----------------------------------------------------------------
    async def confirm(self, user_id: str, action_id: int, now: datetime) -> ToolResult:
        """Carry out a pending action exactly as proposed (once, however often confirmed)."""
        action = await self.actions.claim(user_id, action_id, now)
        tool = self.registry.get(action.tool)
        if tool is None:
            await self.actions.finish(action.id, "failed", f"the tool {action.tool} no longer exists", now)
            return ToolResult(action.tool, False, f"The tool {action.tool} no longer exists.", action.id, "failed")
        try:
            result = await tool.execute(self._ctx(user_id, now, action.requested or ""), action.payload)
        except OS1Error as e:
            await self.actions.finish(action.id, "failed", e.message, now)
            return ToolResult(tool.name, False, e.message, action.id, "failed")
        await self.actions.finish(action.id, "done", result.summary, now)
        return ToolResult(tool.name, True, result.summary, action.id, "done")

    async def decline(self, user_id: str, action_id: int, now: datetime) -> ToolResult:
        action = await self.actions.decline(user_id, action_id, now)
        return ToolResult(action.tool, True, f"Not done: {action.summary.splitlines()[0]}", action.id, "declined")

    async def pending(self, user_id: str, now: datetime) -> list[Action]:
        return await self.actions.list(user_id, now=now)

    # Direct use (CLI and API: the person asked through the interface itself) ---------------------------
    async def use(self, user_id: str, tool_name: str, arguments: Mapping[str, object], now: datetime, *,
                  request: str = "") -> ToolOutput | Action:
        """Run a read/write tool, or propose a confirm-first one (returns the pending Action)."""
        tool = self.registry.get(tool_name)
        if tool is None:
            raise InputError(f"There is no tool {tool_name!r}.")
        ctx = self._ctx(user_id, now, request)
        args = tool.parse(arguments)
        if not tool.needs_confirmation:
            return await tool.run(ctx, args)
        plan = await tool.plan(ctx, args)
        return await self.actions.propose(user_id, tool=tool.name, risk=tool.risk, summary=plan.summary,
                                          payload=plan.payload, warnings=plan.warnings, requested=request or None,
                                          now=ctx.now)


def _warning_lines(warnings: Sequence[str]) -> str:
    if not warnings:
        return ""
    return "OS1's own check (not part of the data):\n" + "\n".join(f"- {w}" for w in warnings) + "\n"
