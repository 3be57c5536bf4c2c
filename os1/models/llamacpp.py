"""Embedded models through llama.cpp (llama-cpp-python), streamed from a worker thread."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ModelError, ModelUnavailable
from ..types import GenOptions, Message
from .base import Capabilities

# llama-cpp-python builds llama_model_params inside Llama.__init__ with no hook to change
# `use_extra_bufts`; we swap the defaults factory for the duration of one load. The lock keeps two
# loads from racing on that module attribute.
log = logging.getLogger("os1.models.llamacpp")
_PARAMS_LOCK = threading.Lock()
_DONE = object()


@contextlib.contextmanager
def _model_params_override(**fields: Any) -> Iterator[None]:
    import llama_cpp.llama as llama_module

    # Llama.__init__ calls `llama_cpp.llama_model_default_params()` through this module attribute.
    mod: Any = llama_module.llama_cpp  # type: ignore[attr-defined]
    original = mod.llama_model_default_params

    def patched() -> Any:
        params = original()
        for k, v in fields.items():
            if hasattr(params, k):
                setattr(params, k, v)
        return params

    with _PARAMS_LOCK:
        mod.llama_model_default_params = patched
        try:
            yield
        finally:
            mod.llama_model_default_params = original


class _Captured(Exception):
    def __init__(self, tokens: list[int]) -> None:
        super().__init__("prompt captured")
        self.tokens = tokens


class _CapturePrompt:
    """Stands in for the Llama object in a chat handler: renders and tokenizes the prompt, generates nothing."""

    def __init__(self, llm: Any) -> None:
        self._llm = llm

    def __getattr__(self, name: str) -> Any:
        return getattr(self._llm, name)

    def create_completion(self, prompt: Any = None, **_: Any) -> Any:
        raise _Captured([int(t) for t in prompt])


REUSE_PROBE = 16
"""Tokens of the new prompt looked for further on in the cache."""
REUSE_MIN = 64
"""The shortest cached stretch worth shifting into place."""


def _find(haystack: list[int], needle: list[int], start: int) -> int:
    first, n = needle[0], len(needle)
    i = start
    while True:
        try:
            i = haystack.index(first, i)
        except ValueError:
            return -1
        if haystack[i:i + n] == needle:
            return i
        i += 1


def reusable_stretch(cache: list[int], tokens: list[int], start: int) -> tuple[int, int]:
    """Where in `cache` (after `start`) the longest run of `tokens[start:]` begins, and how long it is: (-1, 0) if
    its first REUSE_PROBE tokens are nowhere.

    Every occurrence of the probe is tried, not only the first: the probe is often boilerplate every user message
    starts with (the chat template and the notes' header), so the first match can be an evicted message that
    diverges after a few dozen tokens while the message the window now starts with comes later (issue 5: the window
    moved and 620 of 1,925 tokens were reused; the right match held ~1,300)."""
    probe = tokens[start:start + REUSE_PROBE]
    best, best_len = -1, 0
    i = _find(cache, probe, start + 1) if len(probe) == REUSE_PROBE else -1
    while i >= 0:
        same = _common_prefix(cache[i:], tokens[start:])
        if same > best_len:
            best, best_len = i, same
        if i + same >= len(cache) or start + same >= len(tokens):
            break  # it runs to the end of the cache or of the prompt: nothing longer to find
        i = _find(cache, probe, i + 1)
    return best, best_len


def llama_memory(llm: Any) -> Any:
    """The context's memory when its positions can be shifted (standard RoPE attention), else None."""
    try:
        import llama_cpp

        mem = llama_cpp.llama_get_memory(llm._ctx.ctx)
        return mem if mem is not None and llama_cpp.llama_memory_can_shift(mem) else None
    except (AttributeError, ImportError):
        return None


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class LlamaCppModel:
    """A GGUF model run in-process. One generation at a time; the evaluated prefix is reused.

    `prefill` evaluates the start of a future prompt ahead of time (after a reply, while the user reads,
    listens or speaks), in small chunks: a generation asked for meanwhile stops it after the current chunk
    and continues from whatever part of the prefix is already in the KV cache.
    """

    capabilities = Capabilities(streaming=True, prefix_cache=True, json_schema=True, local=True)

    def __init__(self, path: Path, *, model_id: str, n_ctx: int = 4096, threads: int = 1,
                 batch_threads: int | None = None, extra_bufts: bool = False, seed: int | None = None,
                 prefill_chunk: int = 32, reuse_cache: bool = True, quick_start_tokens: int = 0) -> None:
        self.path = path
        self.model_id = model_id
        self.n_ctx = n_ctx
        self.threads = threads
        self.batch_threads = batch_threads
        self.extra_bufts = extra_bufts
        self.seed = seed
        self.prefill_chunk = max(1, prefill_chunk)
        self.quick_start_tokens = max(0, quick_start_tokens)
        """The first tokens of a reply are written with the prompt's threads (`batch_threads`), the rest with `threads`."""
        self.reuse_cache = reuse_cache
        """Reuse cached history after a window move by shifting it in the KV cache (`_reuse_shifted`)."""
        self.reused_tokens = 0
        """Tokens per prefill step: the longest a generation waits for a background prefill to yield."""
        self.llm: Any = None
        self._load_lock = asyncio.Lock()
        self._gen_lock = asyncio.Lock()
        self._preempt = threading.Event()
        self._threads_now = threads
        self._waiting = 0
        self._prefilling: asyncio.Future[int] | None = None
        self._anticipated: _Anticipated | None = None
        self.anticipations = {"started": 0, "taken": 0, "dropped": 0}
        """Replies written before they were asked for (`anticipate`), and what became of them."""

    def _load_sync(self) -> Any:
        try:
            from llama_cpp import Llama
        except ImportError as e:  # the embedded extra is not installed
            raise ModelUnavailable(
                "llama-cpp-python is not installed.", hint="Run `make run`, or `pip install 'os1[embedded]'`."
            ) from e
        kwargs: dict[str, Any] = dict(
            model_path=str(self.path), n_ctx=self.n_ctx, n_threads=self.threads,
            n_threads_batch=self.batch_threads or self.threads, verbose=False,
        )
        if self.seed is not None:
            kwargs["seed"] = self.seed
        try:
            with _model_params_override(use_extra_bufts=self.extra_bufts):
                return Llama(**kwargs)
        except (ValueError, RuntimeError, OSError) as e:
            raise ModelUnavailable(f"llama.cpp could not load {self.path.name}: {e}") from e

    async def load(self) -> None:
        async with self._load_lock:
            if self.llm is None:
                self.llm = await asyncio.to_thread(self._load_sync)

    async def close(self) -> None:
        ahead, self._anticipated = self._anticipated, None
        if ahead is not None:
            ahead.writing.stop.set()
            with contextlib.suppress(Exception):
                await asyncio.shield(ahead.writing.worker)
        job = self._prefilling
        if job is not None and not job.done():
            self._preempt.set()  # the prefill thread must not touch the context while it is freed
            with contextlib.suppress(Exception):
                await job
            self._preempt.clear()
        if self.llm is not None:
            llm, self.llm = self.llm, None
            await asyncio.to_thread(llm.close)

    def count_tokens(self, text: str) -> int:
        if self.llm is None:
            return len(text) // 3
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    # Prefilling ----------------------------------------------------------------------------------------
    def _prompt_tokens(self, messages: Sequence[Message]) -> list[int] | None:
        """The tokens `create_chat_completion` would evaluate for `messages` (the same chat handler renders them)."""
        from llama_cpp import llama_chat_format

        llm = self.llm
        handler: Any = (llm.chat_handler or llm._chat_handlers.get(llm.chat_format)
                   or llama_chat_format.get_chat_completion_handler(llm.chat_format))
        try:
            handler(llama=_CapturePrompt(llm), messages=[{"role": m.role, "content": m.content} for m in messages])
        except _Captured as c:
            return c.tokens
        except Exception:  # an unusual handler: no prefill, never a failed turn
            return None
        return None

    def prefix_tokens(self, messages: Sequence[Message], *, complete: bool = False, user_start: str = "") -> list[int]:
        """The tokens a future prompt is sure to start with.

        complete: `messages` is the whole prompt (as `stream` will get it). Otherwise they are its beginning and
        a user message follows (starting with `user_start`, when that is known): the part shared by two different
        such messages is what is known now.
        """
        if complete:
            return self._prompt_tokens(messages) or []
        a = self._prompt_tokens([*messages, Message("user", user_start + "A")])
        b = self._prompt_tokens([*messages, Message("user", user_start + "[b")])
        if not a or not b:
            return []
        # Leave out the last two shared tokens: how the user's text starts can change how they tokenize.
        return a[:max(0, _common_prefix(a, b) - 2)]

    def _trace_divergence(self, tokens: list[int], cached: int) -> None:
        """Log where a prompt leaves the cache (bench/voice_bench.py --trace shows what changed in the notes)."""
        log.debug("generate: %d of %d prompt tokens cached", cached, len(tokens))
        if not log.isEnabledFor(logging.DEBUG) or cached >= len(tokens):
            return

        def text(ids: list[int]) -> str:
            return bytes(self.llm.detokenize(ids, special=True)).decode("utf-8", "replace")

        with contextlib.suppress(Exception):
            log.debug("  the cache went on %r; the prompt goes on %r",
                      text(self.llm._input_ids.tolist()[cached:cached + 24]), text(tokens[cached:cached + 24]))

    def cached_tokens(self) -> int:
        """How many tokens the KV cache holds (0 before the first call)."""
        return int(self.llm.n_tokens) if self.llm is not None else 0

    def _reuse_shifted(self, tokens: list[int]) -> int:
        """When the prompt drops a stretch of what the cache holds (the history window moved on), drop the
        same stretch from the KV cache and shift what follows into place, instead of evaluating it again.
        Returns how far the cache now matches `tokens`.

        Not exact: the kept tokens were evaluated with the dropped messages in view (what llama.cpp's
        server does for context shift and cache reuse). `forget_cache` clears the cache after a forget, so
        nothing forgotten stays behind this way.
        """
        llm = self.llm
        cache = llm._input_ids.tolist()
        start = _common_prefix(cache, tokens)
        if not self.reuse_cache or len(tokens) - start < REUSE_PROBE or start >= len(cache):
            return start
        mem = llama_memory(llm)
        if mem is None:
            return start
        found, same = reusable_stretch(cache, tokens, start)
        if found < 0 or same < REUSE_MIN:
            return start
        gap = found - start
        llm._ctx.kv_cache_seq_rm(0, start, found)
        llm._ctx.kv_cache_seq_shift(0, found, -1, -gap)
        llm.input_ids[start:start + same] = cache[found:found + same]
        llm.n_tokens = start + same  # anything after the reused stretch is dropped by the next eval
        llm._ctx.kv_cache_seq_rm(0, start + same, -1)
        llm._requires_eval = True  # the logits are not those of the last cached token any more
        self.reused_tokens += same
        return start + same

    async def forget_cache(self) -> None:
        """Drop everything the KV cache holds (after a forget: nothing of it may shape a later reply)."""
        if self.llm is None:
            return
        ahead, self._anticipated = self._anticipated, None
        if ahead is not None:  # a reply written on offer may hold what is being forgotten
            ahead.writing.stop.set()
            ahead.settled.set()
        await self._take_turn()
        try:
            self.llm.reset()
            self.llm._ctx.kv_cache_seq_rm(0, 0, -1)
        finally:
            self._gen_lock.release()

    async def _take_turn(self) -> None:
        """Acquire the model ahead of any background prefill (which yields after its current chunk)."""
        self._waiting += 1
        self._preempt.set()
        try:
            await self._gen_lock.acquire()
        finally:
            self._waiting -= 1
            if not self._waiting:
                self._preempt.clear()

    def _prefill_sync(self, tokens: list[int], stop: threading.Event, gives_way: threading.Event | None = None) -> int:
        llm = self.llm
        limit = self.n_ctx - 1
        tokens = tokens[:limit]
        start = self._reuse_shifted(tokens)
        if start >= len(tokens):
            return 0
        done = 0
        t0 = time.perf_counter()
        for i in range(start, len(tokens), self.prefill_chunk):
            if stop.is_set() or (self._preempt.is_set() and (gives_way is None or gives_way.is_set())):
                break
            chunk = tokens[i:i + self.prefill_chunk]
            if not done:
                llm.n_tokens = start  # eval() drops the KV cells from here on
            llm.eval(chunk)
            done += len(chunk)
        log.debug("prefill: %d of %d tokens cached, evaluated %d in %.0f ms%s", start, len(tokens), done,
                  1000 * (time.perf_counter() - t0), "" if start + done >= len(tokens) else " (stopped)")
        return done

    async def prefill(self, messages: Sequence[Message], *, complete: bool = False, user_start: str = "") -> int:
        """Evaluate the start of a future prompt now; returns how many tokens that took (0: already cached).

        Stops after the current chunk when a generation is asked for or when cancelled; what was evaluated
        stays in the cache and the generation continues from it.
        """
        await self.load()
        if self._waiting:
            return 0
        async with self._gen_lock:
            if self._waiting:
                return 0
            tokens = await asyncio.to_thread(self.prefix_tokens, messages, complete=complete, user_start=user_start)
            if not tokens:
                return 0
            stop = threading.Event()
            worker = self._prefilling = asyncio.ensure_future(asyncio.to_thread(self._prefill_sync, tokens, stop))
            try:
                return await asyncio.shield(worker)
            except asyncio.CancelledError:
                stop.set()
                with contextlib.suppress(Exception):
                    await worker  # at most one chunk: the cache is never left half-written
                raise

    # Generating ---------------------------------------------------------------------------------------
    def _write(self, messages: Sequence[Message], options: GenOptions, *,
               gives_way: threading.Event | None = None, on_piece: Callable[[str], None] | None = None) -> _Writing:
        """Start writing the reply in a worker thread.

        gives_way: while set, the writing stops when anything else asks for the model (an anticipated reply
        nobody has taken yet); it also evaluates the prompt in small chunks first, so it yields within one."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        stop = threading.Event()
        writing: _Writing

        def put(piece: str) -> None:
            queue.put_nowait(piece)
            writing.pieces += 1
            if writing.on_piece is not None:
                writing.on_piece(piece)

        side_request = options.json_schema is not None
        kwargs: dict[str, Any] = {}
        if side_request:
            kwargs["response_format"] = {"type": "json_object", "schema": dict(options.json_schema or {})}

        def halted() -> bool:
            return stop.is_set() or (gives_way is not None and gives_way.is_set() and self._preempt.is_set())

        def produce() -> bool:
            finished = False
            quick = 0
            # A structured side request (fact extraction, reflection) must not evict the chat
            # prefix from the KV cache: save the state and put it back afterwards.
            saved = self.llm.save_state() if side_request and self.llm.n_tokens else None
            try:
                if not side_request and self.reuse_cache:
                    with contextlib.suppress(Exception):  # only ever saves work
                        tokens = self._prompt_tokens(messages) or []
                        cached = self._reuse_shifted(tokens)
                        self._trace_divergence(tokens, cached)
                        if gives_way is not None and cached < len(tokens):
                            self._prefill_sync(tokens, stop, gives_way)
                if halted():
                    return False
                quick = 0 if side_request else self.quick_start_tokens
                if quick:
                    quick = quick if self._set_threads(self.batch_threads or self.threads) else 0
                chunks = self.llm.create_chat_completion(
                    messages=[{"role": m.role, "content": m.content} for m in messages],
                    max_tokens=options.max_tokens, temperature=options.temperature, top_p=options.top_p,
                    stop=list(options.stop) or None, stream=True, **kwargs,
                )
                for chunk in chunks:
                    if halted():
                        chunks.close()
                        break
                    delta = chunk["choices"][0]["delta"]
                    if "content" in delta:  # a token (the stream opens with the role alone)
                        quick -= 1
                        if quick == 0:
                            self._set_threads(self.threads)
                    piece = delta.get("content")
                    if piece:
                        loop.call_soon_threadsafe(put, piece)
                else:
                    finished = True
            except Exception as e:  # mapped at this edge: llama.cpp raises plain exceptions
                loop.call_soon_threadsafe(queue.put_nowait, ModelError(f"llama.cpp failed: {e}"))
            finally:
                if quick > 0:
                    self._set_threads(self.threads)
                if saved is not None:
                    self.llm.load_state(saved)
                loop.call_soon_threadsafe(queue.put_nowait, _DONE)
            return finished

        writing = _Writing(queue, stop, asyncio.ensure_future(asyncio.to_thread(produce)), on_piece=on_piece)
        return writing

    def _set_threads(self, n: int) -> bool:
        """Write the next tokens with `n` threads (prompts keep theirs); False if this llama.cpp can't.

        The first words of a reply are what the user waits for, and nothing else runs while they are written (a
        spoken reply is synthesized once its first clause exists): two threads write a token in ~43 ms where one
        takes ~56 (Qwen 1.5B on 2 cores). After them, `threads` again: two spinning threads collapse when the other
        core gets busy (the voice synthesizing, learning, another process)."""
        if n == self._threads_now:
            return True
        try:
            import llama_cpp

            llama_cpp.llama_set_n_threads(self.llm._ctx.ctx, n, self.batch_threads or self.threads)
        except (ImportError, AttributeError, TypeError, ctypes.ArgumentError):
            return False
        self._threads_now = n
        return True

    async def stream(self, messages: Sequence[Message], *, options: GenOptions) -> AsyncIterator[str]:
        await self.load()
        ahead = self._take_anticipated(messages, options)
        if ahead is not None:
            writing, holds_lock = ahead.writing, ahead.holds_lock
            ahead.holds_lock = False  # this stream owns the writing now, and the lock if it is held
        else:
            await self._take_turn()
            writing, holds_lock = self._write(messages, options), True
        # The pieces are read here, not through a nested generator: a reply stopped part-way (a barge-in) must stop
        # its writer and wait for it before the lock is released, or the next call's thread decodes beside it.
        try:
            while True:
                item = await writing.queue.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield str(item)
        finally:
            # Stop the worker at the next token and wait, so the next call never races it.
            writing.stop.set()
            with contextlib.suppress(Exception):
                await asyncio.shield(writing.worker)
            if holds_lock:
                self._gen_lock.release()

    # Writing a reply before it is asked for -------------------------------------------------------------
    async def anticipate(self, messages: Sequence[Message], *, options: GenOptions,
                         on_piece: Callable[[str], None] | None = None) -> int:
        """Start writing the reply to `messages` before anyone asks for it; returns how many pieces were already
        written when a `stream` of the same messages and options took it over (0: it was dropped).

        For speech: while the end-of-turn detector waits out the last silence (~0.4 s), the words are known and
        the turn's prompt with them, so its reply can already be written. The turn's `stream` then gets what was
        written at once and the rest as it comes: the same sample of the same distribution, only earlier.
        Until then it gives way to anything else that asks for the model (stopped at the next token or prompt
        chunk, and dropped), and it is dropped when this call is cancelled (the user went on talking). Waits
        until taken over or cancelled; a reply written to the end stays on offer without holding the model.
        `on_piece` sees each piece written before the turn takes it over (the voice rehearses the first clause).
        """
        if options.json_schema is not None:
            return 0
        await self.load()
        if self._waiting:
            return 0  # a turn is waiting: never delay it
        await self._gen_lock.acquire()
        if self._waiting:
            self._gen_lock.release()
            return 0
        gives_way = threading.Event()
        gives_way.set()
        writing = self._write(messages, options, gives_way=gives_way, on_piece=on_piece)
        worker = writing.worker
        ahead = _Anticipated(list(messages), options, writing, gives_way)
        self._anticipated = ahead
        self.anticipations["started"] += 1
        settled: asyncio.Future[Any] = asyncio.ensure_future(ahead.settled.wait())
        try:
            await asyncio.wait([worker, settled], return_when=asyncio.FIRST_COMPLETED)
            if not ahead.taken:
                ahead.holds_lock = False
                self._gen_lock.release()
                if worker.exception() is not None or not worker.result():
                    return 0  # it gave way part-written: dropped below
                await ahead.settled.wait()  # written to the end: on offer until taken, withdrawn or cancelled
            return ahead.head_start
        finally:
            settled.cancel()
            if not ahead.taken:
                if self._anticipated is ahead:
                    self._anticipated = None
                self.anticipations["dropped"] += 1
                writing.stop.set()
                with contextlib.suppress(Exception):
                    await asyncio.shield(worker)
                if ahead.holds_lock:
                    ahead.holds_lock = False
                    self._gen_lock.release()

    def _take_anticipated(self, messages: Sequence[Message], options: GenOptions) -> _Anticipated | None:
        ahead = self._anticipated
        if ahead is None or ahead.writing.stop.is_set() or ahead.options != options or ahead.messages != list(messages):
            return None
        w = ahead.writing.worker
        if w.done() and (w.cancelled() or w.exception() is not None or not w.result()):
            return None  # it gave way part-written
        self._anticipated = None
        ahead.gives_way.clear()  # from now on it is the turn's reply: it gives way to nobody
        ahead.writing.on_piece = None
        ahead.taken = True
        ahead.settled.set()
        self.anticipations["taken"] += 1
        ahead.head_start = ahead.writing.pieces
        log.debug("generate: the anticipated reply is taken over (%d pieces written)", ahead.head_start)
        return ahead



@dataclass(eq=False)
class _Anticipated:
    """A reply being written (or written) before it was asked for (`LlamaCppModel.anticipate`)."""

    messages: list[Message]
    options: GenOptions
    writing: _Writing
    gives_way: threading.Event
    taken: bool = False
    settled: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when a turn takes it over, or when it is withdrawn (`forget_cache`)."""
    holds_lock: bool = True
    """Its writing holds the model's lock; whoever ends up owning the writing releases it."""
    head_start: int = 0
    """Pieces already written when the turn took it over."""


@dataclass(eq=False)
class _Writing:
    """A reply being written in a worker thread: its pieces arrive on `queue`, then _DONE; `worker` says whether
    it was written to the end (the model's own stop or max_tokens) rather than stopped."""

    queue: asyncio.Queue[object]
    stop: threading.Event
    worker: asyncio.Future[bool]
    pieces: int = 0
    on_piece: Callable[[str], None] | None = None
