"""The turn: perceive -> recall -> compose -> reply -> remember."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from . import prompts
from .affect import read_emotion
from .affect.mood import change_since_yesterday
from .clock import Clock
from .compose import BRIEF_MEMORIES, TurnContext, anchored_window, compose, notes_block, notes_opening, prompt_prefix
from .errors import InputError, ModelError
from .foresight import Foresight, worth_keeping
from .inputs import clean_message, elide_middle
from .memory import SqlConversationStore
from .memory.forget import Forgotten, Selection, forget_request
from .memory.learning import Learner, Memory
from .memory.recall import Recaller
from .models import ChatModel
from .persona import choose_name, detect_companion_rename, detect_user_name
from .persona.journal import Journal
from .persona.self import SelfStore, load_persona
from .proactive import Noticed, Proactive
from .safety import CrisisResources, SafetyEvents, SafetyPlan, assess, plan_turn, resources_for, screen
from .safety.events import EventKind
from .tools import Toolbox
from .types import (
    Emotion,
    GenOptions,
    Message,
    Perceived,
    Profile,
    Recalled,
    RecalledMemory,
    ReplyDone,
    ReplyEvent,
    SafetyReading,
    TextDelta,
    UserId,
)

log = logging.getLogger("os1.companion")

# How many of the user's answers OS1 asks about before the first meeting is over.
GETTING_TO_KNOW_QUESTIONS = 2
EMPTY_REPLY_FALLBACK = "Sorry, I lost my words for a second. Could you say that again?"


@dataclass(frozen=True, slots=True)
class CompanionConfig:
    max_message_chars: int = 20_000
    history_turns: int = 16
    recall_limit: int = 5
    budget_chars: int = 10_000
    """Characters of prompt the model can take (about 3 per token, leaving room for the reply)."""
    options: GenOptions = GenOptions()
    persona_file: Path | None = None
    learn: bool = True
    """Learn from each exchange in the background (facts, people, embeddings, reflections)."""
    zone: tzinfo | None = None
    """The user's time zone, for reminders and check-ins (default: the clock's)."""
    proactive_words: bool = True
    """Let the model word check-ins, follow-ups and nudges (else plain written sentences)."""
    crisis_resources: CrisisResources = field(default_factory=lambda: resources_for(None))
    """The crisis lines shown when the risk screen finds risk (OS1_LOCALE; docs/safety.md)."""
    home: Path | None = None
    """The data directory: the local calendar file and the encrypted secrets file of the tools (os1/tools)."""
    secret_store: str = "auto"
    """Where tool account passwords live: auto, keyring or file (os1/tools/credentials.py)."""


class Companion:
    """OS1 itself: one instance serves every user of a store."""

    def __init__(self, store: SqlConversationStore, model: ChatModel, clock: Clock,
                 config: CompanionConfig | None = None, *, memory: Memory | None = None) -> None:
        self.store = store
        self.model = model
        self.clock = clock
        self.config = config or CompanionConfig()
        self.memory = memory or Memory.open(store.db)
        self.learner = Learner(self.memory, model, clock)
        self.recaller = Recaller(store, self.memory.facts, self.memory.index)
        self.self_store = SelfStore(store.db, load_persona(self.config.persona_file))
        self.safety_events = SafetyEvents(store.db)
        self.proactive = Proactive(store.db, lambda: self.model if self.config.proactive_words else None, clock,
                                   zone=self.config.zone, idle=lambda: self._replying == 0)
        self.journal = Journal(store.db, self.self_store)
        self.tools = make_toolbox(self)
        self._user_locks: dict[UserId, asyncio.Lock] = {}
        self._replying = 0
        self._learning: asyncio.Task[None] | None = None
        self._warming: asyncio.Task[int] | None = None
        self._foresight: dict[UserId, Foresight] = {}

    async def _now(self, user_id: UserId) -> datetime:
        """Now, in the user's own time zone (the prompt's clock, recall's "last Tuesday", the journal's day)."""
        return self.clock.now().astimezone(await self.proactive.zone(user_id))

    # Keeping the next prompt's start evaluated -----------------------------------------------------
    def can_warm(self) -> bool:
        return self.model.capabilities.prefix_cache and callable(getattr(self.model, "prefill", None))

    async def warm(self, user_id: UserId) -> int:
        """Evaluate the start of this user's next prompt (system prompt and history) now; returns the tokens
        that took (0 when it was already in the model's cache).

        The model yields to any reply within one small chunk, and a reply continues from what was done; so
        when the history window has moved, its re-evaluation happens here, while the user reads or talks,
        instead of before the next first word.
        """
        if not self.can_warm():
            return 0
        now = await self._now(user_id)
        size = self.config.history_turns
        profile, total, recent, me = await asyncio.gather(
            self.store.profile(user_id), self.store.count(user_id, live_only=True),
            self.store.recent(user_id, size + size // 2, live_only=True), self.self_store.get(user_id, at=now))
        ctx = TurnContext(now, profile, None, (), anchored_window(recent, total, size), (), me)
        prefill = self.model.prefill  # type: ignore[attr-defined]  # can_warm checked it
        # The notes' header and clock too: the next message starts with them (when it comes in this same minute).
        opening = notes_opening(ctx) if profile.companion_name is not None else ""
        return int(await prefill(prompt_prefix(ctx, budget_chars=self.config.budget_chars), user_start=opening))

    async def speculate(self, user_id: UserId, text: str, *, brief: bool = False, write: bool = False,
                        on_piece: Callable[[str], None] | None = None) -> int:
        """Evaluate the whole prompt a turn with `text` would get, without taking the turn (nothing is stored
        or acted on); returns the tokens evaluated.

        For speech: while the end-of-turn detector waits out the last silence, the transcript is known, so the
        prompt with its notes can be evaluated before the turn is confirmed. If the user goes on talking the
        work is dropped (cancel this, or let the next reply preempt it); if not, the turn composes the same
        prompt and finds it in the cache. Reminders, tools and forget requests are not looked at here: where
        they add to the notes, the turn evaluates from there on.

        `brief` (a spoken turn) may be called on the words heard so far, while the user is still talking: the
        first such call of an utterance keeps its clock and recalled memories (`os1.foresight`), and later calls
        and the turn reuse them, so the notes evaluated early are still the turn's notes.

        `write`: the words are final (the end-of-turn pause): where the model can (`anticipate`), the reply is
        written too, and the turn that follows takes it over when it composes the same prompt. Then this waits
        until the turn takes it, or until cancelled (the user went on), and returns the pieces written; `on_piece`
        sees them as they are written.
        """
        if not self.can_warm():
            return 0
        # The user is talking: the model is theirs. Learning stops at its next token (what it was learning from
        # stays pending) and starts again after the reply.
        await self._stop_learning()
        t0 = time.perf_counter()
        try:
            message = clean_message(text, max_chars=self.config.max_message_chars)
        except InputError:
            return 0
        if forget_request(message) is not None:
            return 0
        now = await self._now(user_id)
        reading = asyncio.ensure_future(asyncio.to_thread(read_emotion, message))
        risk = asyncio.ensure_future(asyncio.to_thread(assess, message))
        size = self.config.history_turns
        profile, total, recent, me = await asyncio.gather(
            self.store.profile(user_id), self.store.count(user_id, live_only=True),
            self.store.recent(user_id, size + size // 2, live_only=True), self.self_store.get(user_id, at=now))
        if profile.companion_name is None:
            return 0  # the very first turn names OS1 first
        history = anchored_window(recent, total, size)
        ahead = self._foreseen(user_id, message, now, brief)
        limit = min(self.config.recall_limit, BRIEF_MEMORIES) if brief else self.config.recall_limit
        memories = await self._recall_or_reuse(ahead, user_id, message, now=now, limit=limit,
                                               before_id=history[0].id if history else None)
        emotion = await reading
        at = now
        if ahead is not None:
            at, emotion = ahead.at, ahead.emotion_for(emotion)
        if brief and (ahead is not None or worth_keeping(message) or write):
            # What the turn (and the next speculation) will reuse while the words heard go on the same way.
            self._foresight[user_id] = Foresight(ahead.text if ahead else message, at, tuple(memories), emotion)
        plan = plan_turn(message, self.config.crisis_resources, reading=await risk)
        profile, instructions = self._meeting_step(profile, message)
        mood_note = await change_since_yesterday(self.store.db, user_id, valence_now=emotion.valence, now=now,
                                                 zone=now.tzinfo or UTC)
        instructions += plan.instructions()
        ctx = TurnContext(at, profile, emotion, memories, history, tuple(instructions), me, mood_note, brief)
        messages, _ = compose(ctx, message, notes=notes_block(ctx), budget_chars=self.config.budget_chars)
        log.debug("speculation: the prompt for %r composed in %.0f ms", message[:40], 1000 * (time.perf_counter() - t0))
        anticipate = getattr(self.model, "anticipate", None) if write else None
        if callable(anticipate):
            return int(await anticipate(messages, options=self.config.options, on_piece=on_piece))
        prefill = self.model.prefill  # type: ignore[attr-defined]  # can_warm checked it
        return int(await prefill(messages, complete=True))

    def _foreseen(self, user_id: UserId, message: str, now: datetime, brief: bool) -> Foresight | None:
        """The foresight a spoken turn (or a speculation for it) on `message` can reuse, if any."""
        ahead = self._foresight.get(user_id) if brief else None
        return ahead if ahead is not None and ahead.continues(message, now) else None

    async def _recall_or_reuse(self, ahead: Foresight | None, user_id: UserId, message: str, *, now: datetime,
                               limit: int, before_id: int | None) -> list[RecalledMemory]:
        if ahead is not None:
            return list(ahead.memories)
        return await self.recaller.recall(user_id, message, now=now, limit=limit, before_id=before_id)

    def warm_in_background(self, user_id: UserId) -> None:
        """Start `warm` as a task (replacing one in progress, whose prefix is out of date); errors are ignored."""
        if not self.can_warm():
            return
        if self._warming is not None and not self._warming.done():
            self._warming.cancel()
        self._warming = asyncio.create_task(self._warm_quietly(user_id, self._warming))

    async def _warm_quietly(self, user_id: UserId, previous: asyncio.Task[int] | None) -> int:
        if previous is not None:
            await asyncio.wait({previous})  # it stops within one chunk
        try:
            return await self.warm(user_id)
        except Exception:  # only ever a head start: a failure here must not surface anywhere
            log.debug("warming the prompt failed", exc_info=True)
            return 0

    async def _stop_warming(self) -> None:
        task = self._warming
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # Learning in the background -------------------------------------------------------------------
    def _start_learning(self) -> None:
        if self.config.learn and self._replying == 0 and (self._learning is None or self._learning.done()):
            self._learning = asyncio.create_task(self._learn_while_idle())

    async def _learn_while_idle(self) -> None:
        # The next prompt's start is evaluated first (it makes the next reply fast); learning waits for it.
        if self._warming is not None and not self._warming.done():
            await asyncio.wait({self._warming})
        # A reply always comes first: it cancels this task, and the message stays pending.
        while self._replying == 0 and await self.learner.step():
            pass
        if self._replying == 0:
            await self._journal_if_due()

    async def _journal_if_due(self) -> None:
        for user_id in await self.journal.users_due():
            if self._replying:
                return
            async with self.learner.claim(user_id) as mine:  # one process writes a user's journal (claims.py)
                if not mine or not await self.journal.due(user_id):
                    continue
                profile = await self.store.profile(user_id)
                try:
                    await self.journal.write(self.model, user_id, now=await self._now(user_id), user_name=profile.user_name,
                                             companion_name=profile.companion_name)
                except ModelError:
                    return  # the model is unavailable: the entry is written next time

    async def learn_in_background(self) -> None:
        """Learn from what is pending, then write due journals (an `os1 worker` pass; OS1_BACKGROUND=worker)."""
        await self._learn_while_idle()

    async def _pause_learning(self) -> None:
        self._replying += 1
        await self._stop_learning()

    async def _stop_learning(self) -> None:
        task = self._learning
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def pause_learning(self) -> None:
        """Stop background learning (at shutdown); unfinished messages stay pending for next time."""
        await self._pause_learning()
        await self._stop_warming()

    async def drain(self) -> None:
        """Finish all background learning (before a one-shot CLI process exits, and in tests)."""
        await self._stop_warming()  # a head start for a next turn that a one-shot process never takes
        if not self.config.learn:
            return
        if self._learning is not None and not self._learning.done():
            # Backfilling a big import can take minutes: leave that for an idle server or chat session.
            self._learning.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._learning
        while self._replying == 0 and await self.learner.step(backfill=False):
            pass
        await self._journal_if_due()

    def _lock(self, user_id: UserId) -> asyncio.Lock:
        return self._user_locks.setdefault(user_id, asyncio.Lock())

    @contextlib.asynccontextmanager
    async def exclusive(self, user_id: UserId) -> AsyncIterator[None]:
        """Hold off this user's turns and all background learning (while deleting everything, say)."""
        await self._pause_learning()
        await self._stop_warming()
        try:
            async with self._lock(user_id):
                yield
        finally:
            self._replying -= 1
            self._start_learning()

    # First meeting ---------------------------------------------------------------------------------
    async def profile(self, user_id: UserId) -> Profile:
        """The profile, with OS1's self-chosen name filled in on the very first call."""
        profile = await self.store.profile(user_id)
        if profile.companion_name is None:
            name = choose_name(f"{user_id}:{uuid.uuid4()}", self.config.persona_file)
            profile = replace(profile, companion_name=name)
            await self.store.save_profile(profile, at=self.clock.now())
        return profile

    async def rename(self, user_id: UserId, name: str) -> Profile:
        """Give OS1 a new name (the user's choice)."""
        try:
            name = clean_message(name, max_chars=60)
        except InputError as e:
            raise InputError("A name needs 1 to 60 characters of text.") from e
        profile = replace(await self.profile(user_id), companion_name=name)
        await self.store.save_profile(profile, at=self.clock.now())
        return profile

    def _meeting_step(self, profile: Profile, text: str) -> tuple[Profile, list[str]]:
        """Update the profile from what the user said; return the turn's first-meeting instructions."""
        instructions: list[str] = []
        new_name = detect_companion_rename(text)
        if new_name and new_name != profile.companion_name:
            profile = replace(profile, companion_name=new_name)
            instructions.append(prompts.render("stage_renamed", companion_name=new_name))
        user_name = detect_user_name(text, expecting=profile.stage == "asked_name")
        if user_name and not new_name:
            first_time = profile.user_name is None
            profile = replace(profile, user_name=user_name)
            if first_time:
                prompt = "stage_new_named" if profile.stage == "new" else "stage_named"
                instructions.append(prompts.render(prompt, user_name=user_name, companion_name=profile.companion_name))
                profile = replace(profile, stage="getting_to_know", questions_asked=1)
                return profile, instructions
        if profile.stage == "new":
            profile = replace(profile, stage="asked_name")
            instructions.append(prompts.render("stage_new", companion_name=profile.companion_name))
        elif profile.stage == "asked_name":
            # They answered something else; ask again, gently, next time round.
            instructions.append(prompts.render("stage_new", companion_name=profile.companion_name))
        elif profile.stage == "getting_to_know":
            if profile.questions_asked < GETTING_TO_KNOW_QUESTIONS:
                instructions.append(prompts.render("stage_getting_to_know", user_name=profile.user_name))
                profile = replace(profile, questions_asked=profile.questions_asked + 1)
            else:
                profile = replace(profile, stage="met")
        return profile, instructions

    # The turn --------------------------------------------------------------------------------------
    async def greet(self, user_id: UserId, *, session_id: str | None = None) -> AsyncIterator[ReplyEvent]:
        """OS1 speaks first, on the very first start: it introduces itself and asks your name."""
        async with self._lock(user_id):
            profile = await self.profile(user_id)
            if profile.stage != "new":
                return
            now = await self._now(user_id)
            profile = replace(profile, stage="asked_name")
            ctx = TurnContext(now, profile, None, (), (),
                              (prompts.render("stage_new", companion_name=profile.companion_name),),
                              await self.self_store.get(user_id, at=now))
            messages, _ = compose(ctx, prompts.render("opening"), notes=notes_block(ctx),
                                  budget_chars=self.config.budget_chars)
            text = ""
            async for piece in self.model.stream(messages, options=self.config.options):
                text += piece
                yield TextDelta(piece)
            text = text.strip() or f"Hi! I'm {profile.companion_name}. What's your name?"
            stored = await self.store.add_exchange(user_id, "assistant", text, at=now, session_id=session_id)
            await self.store.save_profile(profile, at=now)
            yield ReplyDone(text, 0, stored.id, profile.companion_name)

    async def prepare(self, text: str | bytes) -> str:
        """Check a message and the model before a turn starts, so a refusal stores nothing.

        Raises InputError for bad input and ModelError when the model cannot answer, except for a
        message showing risk (to the user or someone else): that turn goes ahead and gets the reviewed
        fallback reply.
        """
        message = clean_message(text, max_chars=self.config.max_message_chars)
        if screen(message).level == "none":
            try:
                await self.model.load()
            except ModelError:
                # The rules found nothing: ask the semantic stage too (an embedding) before refusing the turn.
                if (await asyncio.to_thread(assess, message)).level == "none":
                    raise
        return message

    async def reply(self, user_id: UserId, text: str | bytes, *, session_id: str | None = None,
                    context: str | None = None, brief: bool = False) -> AsyncIterator[ReplyEvent]:
        """Answer one message, streaming events; the message is stored before the model is called.

        `context` is what a client app says about itself (an OpenAI client's system prompt): it reaches the
        model as a quoted note for this turn, never as instructions above OS1's persona or safety.
        `brief`: a spoken turn, where every token before the first word is heard as a pause: the notes carry
        fewer, shorter recalled memories (emotion, safety and instructions are unchanged). A spoken reply cut off is
        stored again as far as it was heard (`os1.voice.reply.store_heard`), which evaluates the next prompt's
        start then: it is not evaluated here first for a history about to change.
        """
        message = await self.prepare(text)
        await self._pause_learning()
        cut = False
        try:
            async with self._lock(user_id):
                turn = self._turn(user_id, message, session_id, context, brief)
                try:
                    async for event in turn:
                        yield event
                except (asyncio.CancelledError, GeneratorExit):
                    cut = True
                    raise
                finally:
                    # Close the inner turn now (not at garbage collection) so an interrupted reply is saved.
                    await turn.aclose()
        finally:
            self._replying -= 1
            if self._replying == 0 and not (cut and brief):
                self.warm_in_background(user_id)
            self._start_learning()

    async def _turn(self, user_id: UserId, message: str, session_id: str | None,
                    context: str | None = None, brief: bool = False) -> AsyncGenerator[ReplyEvent, None]:
        now = await self._now(user_id)
        # Perceive. The emotion reading embeds the message (the slowest step before the model); it runs in a
        # thread while the database work below goes on, and recall reuses the embedding from the cache.
        reading = asyncio.ensure_future(asyncio.to_thread(read_emotion, message))
        # The risk screen: rules, then a semantic head on the same embedding (shared cache), beside the reading.
        risk = asyncio.ensure_future(asyncio.to_thread(assess, message))
        target = forget_request(message)
        plan = plan_turn(message, self.config.crisis_resources, reading=await risk) if target is not None else None
        if target is not None and plan is not None and plan.reading.level == "none":
            yield Perceived(await reading, plan.reading)
            async for event in self._forget(user_id, target, session_id):
                yield event
            return
        size = self.config.history_turns
        myself = asyncio.ensure_future(self.self_store.get(user_id, at=now))
        profile, total_before, recent = await asyncio.gather(
            self.profile(user_id), self.store.count(user_id, live_only=True),
            self.store.recent(user_id, size + size // 2, live_only=True))
        # Recall what is older than the window the prompt already carries. It starts now and waits inside for
        # the message's embedding (shared with the reading) while the emotion head and the risk screen finish;
        # it only reads, so starting it before the turn's plan is known changes nothing.
        history = anchored_window(recent, total_before, size)
        # A spoken turn whose notes were evaluated while the user was still talking reuses their clock and memories.
        ahead = self._foreseen(user_id, message, now, brief)
        self._foresight.pop(user_id, None)
        limit = min(self.config.recall_limit, BRIEF_MEMORIES) if brief else self.config.recall_limit
        recalling = asyncio.ensure_future(self._recall_or_reuse(
            ahead, user_id, message, now=now, limit=limit, before_id=history[0].id if history else None))
        try:
            emotion = await reading
            seen_as = ahead.emotion_for(emotion) if ahead is not None else emotion  # in the notes
            plan = plan or plan_turn(message, self.config.crisis_resources, reading=await risk)
            safety = plan.reading
            yield Perceived(emotion, safety)
            profile, instructions = self._meeting_step(profile, message)

            async def act_on_notice() -> Noticed:
                # Reminders asked for, dated events, replies to a nudge: acted on now, confirmed in the reply.
                return await self.proactive.notice(user_id, message, now) if safety.level != "crisis" else Noticed()

            noticed, mood_note = await asyncio.gather(act_on_notice(), change_since_yesterday(
                self.store.db, user_id, valence_now=seen_as.valence, now=now, zone=now.tzinfo or UTC))
            instructions += noticed.instructions

            # Tools (os1/tools): mail, calendar, letters; a yes or no to a pending action. No tool intent in the
            # message: no extra model call. What tools read is fenced as untrusted data in the notes; anything
            # that sends or deletes only becomes a pending action that waits for the user's own yes.
            tool_step = await self.tools.step(user_id, message, now, history=recent) if safety.level == "none" else None
            if tool_step is not None:
                instructions += tool_step.instructions
                for tool_event in tool_step.events:
                    yield tool_event
            memories = await recalling
            me = await myself
        finally:
            for task in (recalling, myself):
                task.cancel()  # a no-op once done; else the turn was abandoned part-way

        if context:
            instructions.append(prompts.render("client_context", context=elide_middle(context, 2000)[0]))
        instructions += plan.instructions()
        ctx = TurnContext(ahead.at if ahead else now, profile, seen_as, memories, history, tuple(instructions), me,
                          mood_note, brief)
        notes = notes_block(ctx)

        # Remember what was said before the model is called: once acknowledged, it is never lost.
        user_ex = await self.store.add_exchange(
            user_id, "user", message, at=now, session_id=session_id, emotion=emotion,
            importance=_importance(emotion, safety), notes=notes,
        )
        await self.proactive.remember(noticed, user_id, user_ex.id, message, now)
        yield Recalled(tuple(memories))
        notice = plan.notice()
        if notice is not None:
            yield notice

        messages, cut = compose(ctx, message, notes=notes, budget_chars=self.config.budget_chars)
        # In a risk turn (or when asked "are you human?") the reply is held back and checked before it is shown.
        shown = not plan.checks_reply
        reply, response = "", "model"
        problems: tuple[str, ...] = ()
        try:
            async for piece in self.model.stream(messages, options=self.config.options):
                reply += piece
                if shown:
                    yield TextDelta(piece)
        except ModelError:
            if not plan.risky:
                await self.store.save_profile(profile, at=now)
                raise
            # The model is down; a person at risk still gets a reviewed answer.
            reply, response = plan.fallback(), "fallback:model_unavailable"
        except (asyncio.CancelledError, GeneratorExit):
            # Interrupted mid-reply: keep what was already shown (in a checked turn, nothing was), and what the
            # message told (a name said, then a reply cut off, is still known).
            if shown and reply.strip():
                await asyncio.shield(self.store.add_exchange(user_id, "assistant", reply.strip() + " …",
                                                             at=self.clock.now(), session_id=session_id))
            await asyncio.shield(self.store.save_profile(profile, at=now))
            await asyncio.shield(self._record_safety(user_id, user_ex.id, plan, "interrupted", (), now))
            raise
        reply = reply.strip()
        if not reply:
            reply, response = (plan.fallback(), "fallback:empty_reply") if plan.risky else (EMPTY_REPLY_FALLBACK, "empty")
            if shown:
                yield TextDelta(reply)
        elif response == "model" and plan.checks_reply:
            verdict = plan.check(reply)
            if not verdict.ok:
                reply, response, problems = plan.fallback(), "fallback:reply_check", verdict.problems
        if not shown:
            yield TextDelta(reply)
        reply_ex = await self.store.add_exchange(user_id, "assistant", reply, at=self.clock.now(), session_id=session_id)
        await self.store.save_profile(profile, at=now)
        await self._record_safety(user_id, user_ex.id, plan, response, problems, now)
        yield ReplyDone(reply, user_ex.id, reply_ex.id, profile.companion_name, truncated_input=cut)

    async def _record_safety(self, user_id: UserId, message_id: int, plan: SafetyPlan, response: str,
                             problems: tuple[str, ...], now: datetime) -> None:
        """Record a risk turn, or a reply that failed the check, where the user can see it (`os1 safety`)."""
        if not plan.risky and not problems:
            return
        notice = plan.notice()
        kind: EventKind = "crisis" if plan.reading.level == "crisis" else "concern" if plan.risky else "honesty"
        await self.safety_events.record(
            user_id, kind=kind, message_id=message_id,
            categories=plan.reading.categories, reasons=plan.reading.reasons, country=plan.resources.country,
            resources=notice.resources if notice else (), response=response, problems=problems, at=now)

    async def _forget(self, user_id: UserId, target: str, session_id: str | None) -> AsyncGenerator[ReplyEvent, None]:
        """"Forget X" in conversation: remove it and all derived from it, and say what was done."""
        now = await self._now(user_id)
        gone = await self.forget(user_id, await self.memory.forgetter.select(user_id, target))
        # The request itself would repeat what is being forgotten: keep only that it was made.
        user_ex = await self.store.add_exchange(user_id, "user", "(You asked me to forget something.)", at=now,
                                                session_id=session_id, learned=True)
        yield Recalled(())
        if gone.count:
            n = len(gone.exchanges) + len(gone.facts) + len(gone.reflections)
            reply = (f"Okay. I've forgotten that: {n} {'memory' if n == 1 else 'memories'} gone, along with "
                     "anything I'd worked out from them. It won't come up again.")
        else:
            reply = "I looked, and I don't have anything like that to forget."
        yield TextDelta(reply)
        reply_ex = await self.store.add_exchange(user_id, "assistant", reply, at=now, session_id=session_id)
        profile = await self.profile(user_id)
        yield ReplyDone(reply, user_ex.id, reply_ex.id, profile.companion_name)

    async def search_memories(self, user_id: UserId, query: str, *, limit: int = 10) -> list[RecalledMemory]:
        """Everything relevant to `query`, as recall would find it (no history window excluded)."""
        return await self.recaller.recall(user_id, query, now=await self._now(user_id), limit=limit, before_id=None)

    async def forget(self, user_id: UserId, selection: Selection) -> Forgotten:
        """Forget a selection and everything derived from it, index entries included."""
        gone = await self.memory.forgetter.forget(user_id, selection)
        clear = getattr(self.model, "forget_cache", None)
        if clear is not None and gone.count:
            await clear()  # the model's cache may hold it (and shifted reuse could carry it on): drop it all
        if self.memory.index is not None:
            for kind, ids in (("exchange", gone.exchanges), ("fact", gone.facts), ("reflection", gone.reflections)):
                if ids:
                    await self.memory.index.remove(kind, ids)
        return gone

    async def history(self, user_id: UserId, limit: int = 50) -> list[Message]:
        return [Message(e.role, e.text) for e in await self.store.recent(user_id, limit)]


def make_toolbox(companion: Companion) -> Toolbox:
    """Mail, calendar and letters for this companion, their events linked to its reminders."""
    from .tools.calendar.hooks import ProactiveHooks
    from .tools.credentials import secrets_for

    config = companion.config
    return Toolbox(companion.store.db, lambda: companion.model, zone_for=companion.proactive.zone_for,
                   secrets=secrets_for(config.home, config.secret_store), home=config.home,
                   hooks=ProactiveHooks(companion.proactive))


def _importance(emotion: Emotion, safety: SafetyReading) -> float:
    """A first importance score: strong feelings and safety concerns matter more (0..1)."""
    base = 0.2 + 0.5 * abs(emotion.valence) * (0.5 + emotion.arousal / 2)
    if safety.level != "none":
        base = 1.0
    return round(min(1.0, base), 3)


__all__ = ["Companion", "CompanionConfig", "RecalledMemory"]
