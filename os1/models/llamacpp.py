"""Embedded models through llama.cpp (llama-cpp-python), streamed from a worker thread."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import ModelError, ModelUnavailable
from ..types import GenOptions, Message
from .base import Capabilities

# llama-cpp-python builds llama_model_params inside Llama.__init__ with no hook to change
# `use_extra_bufts`; we swap the defaults factory for the duration of one load. The lock keeps two
# loads from racing on that module attribute.
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


class LlamaCppModel:
    """A GGUF model run in-process. One generation at a time; the evaluated prefix is reused."""

    capabilities = Capabilities(streaming=True, prefix_cache=True, json_schema=True, local=True)

    def __init__(self, path: Path, *, model_id: str, n_ctx: int = 4096, threads: int = 1,
                 batch_threads: int | None = None, extra_bufts: bool = False, seed: int | None = None) -> None:
        self.path = path
        self.model_id = model_id
        self.n_ctx = n_ctx
        self.threads = threads
        self.batch_threads = batch_threads
        self.extra_bufts = extra_bufts
        self.seed = seed
        self.llm: Any = None
        self._load_lock = asyncio.Lock()
        self._gen_lock = asyncio.Lock()

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
        if self.llm is not None:
            llm, self.llm = self.llm, None
            await asyncio.to_thread(llm.close)

    def count_tokens(self, text: str) -> int:
        if self.llm is None:
            return len(text) // 3
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    async def stream(self, messages: Sequence[Message], *, options: GenOptions) -> AsyncIterator[str]:
        await self.load()
        async with self._gen_lock:
            loop = asyncio.get_running_loop()
            queue: asyncio.Queue[object] = asyncio.Queue()
            stop = threading.Event()

            side_request = options.json_schema is not None
            kwargs: dict[str, Any] = {}
            if side_request:
                kwargs["response_format"] = {"type": "json_object", "schema": dict(options.json_schema or {})}

            def produce() -> None:
                # A structured side request (fact extraction, reflection) must not evict the chat
                # prefix from the KV cache: save the state and put it back afterwards.
                saved = self.llm.save_state() if side_request and self.llm.n_tokens else None
                try:
                    chunks = self.llm.create_chat_completion(
                        messages=[{"role": m.role, "content": m.content} for m in messages],
                        max_tokens=options.max_tokens, temperature=options.temperature, top_p=options.top_p,
                        stop=list(options.stop) or None, stream=True, **kwargs,
                    )
                    for chunk in chunks:
                        if stop.is_set():
                            chunks.close()
                            break
                        piece = chunk["choices"][0]["delta"].get("content")
                        if piece:
                            loop.call_soon_threadsafe(queue.put_nowait, piece)
                except Exception as e:  # mapped at this edge: llama.cpp raises plain exceptions
                    loop.call_soon_threadsafe(queue.put_nowait, ModelError(f"llama.cpp failed: {e}"))
                finally:
                    if saved is not None:
                        self.llm.load_state(saved)
                    loop.call_soon_threadsafe(queue.put_nowait, _DONE)

            worker = asyncio.ensure_future(asyncio.to_thread(produce))
            try:
                while True:
                    item = await queue.get()
                    if item is _DONE:
                        break
                    if isinstance(item, BaseException):
                        raise item
                    yield str(item)
            finally:
                # Stop the worker at the next token and wait, so the next call never races it.
                stop.set()
                await asyncio.shield(worker)
