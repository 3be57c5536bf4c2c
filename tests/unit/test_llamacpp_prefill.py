"""Prefilling the next prompt's start in llama.cpp, with a scripted stand-in for the Llama object (no weights)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from os1.models.llamacpp import LlamaCppModel
from os1.types import GenOptions, Message


class FakeLlama:
    """Characters as tokens; a chat handler like llama-cpp-python's; eval() can be held at a gate."""

    def __init__(self) -> None:
        self.input_ids = np.zeros(8192, dtype=np.intc)
        self.n_tokens = 0
        self.chunks: list[int] = []
        self.generated: list[int] = []
        """Prompt tokens each generation had to evaluate (the rest came from the cache)."""
        self.gate: threading.Semaphore | None = None
        self.evaluated = threading.Semaphore(0)
        self.entered = threading.Semaphore(0)
        self.ctx_ops: list[tuple[str, int, int, int]] = []
        self._ctx = self
        self._requires_eval = False
        self.chat_handler = self.handler
        self._chat_handlers: dict[str, Any] = {}
        self.chat_format = None

    def kv_cache_seq_rm(self, seq: int, p0: int, p1: int) -> bool:
        self.ctx_ops.append(("rm", p0, p1, 0))
        return True

    def kv_cache_seq_shift(self, seq: int, p0: int, p1: int, delta: int) -> None:
        self.ctx_ops.append(("shift", p0, p1, delta))

    def reset(self) -> None:
        self.n_tokens = 0

    @property
    def _input_ids(self) -> np.ndarray:
        return self.input_ids[: self.n_tokens]

    def tokenize(self, text: bytes, add_bos: bool = False, special: bool = True) -> list[int]:
        return [ord(c) for c in text.decode()]

    @staticmethod
    def render(messages: list[dict[str, str]]) -> str:
        return "".join(f"<{m['role']}>{m['content']}</>" for m in messages) + "<assistant>"

    def handler(self, *, llama: Any, messages: list[dict[str, str]], **_: Any) -> Any:
        return llama.create_completion(prompt=llama.tokenize(self.render(messages).encode()), max_tokens=5)

    def eval(self, tokens: list[int]) -> None:
        self.entered.release()
        # Never held forever: a test that fails while a chunk waits here must not hang the loop's shutdown.
        if self.gate is not None and not self.gate.acquire(timeout=30):
            raise TimeoutError("the test never opened the gate")
        self.input_ids[self.n_tokens:self.n_tokens + len(tokens)] = tokens
        self.n_tokens += len(tokens)
        self.chunks.append(len(tokens))
        self.evaluated.release()

    def create_chat_completion(self, *, messages: list[dict[str, str]], **_: Any) -> Iterator[dict[str, Any]]:
        tokens = self.tokenize(self.render(messages).encode())
        cached = 0
        for a, b in zip(self._input_ids.tolist(), tokens, strict=False):
            if a != b:
                break
            cached += 1
        self.generated.append(len(tokens) - cached)
        self.input_ids[: len(tokens)] = tokens
        self.n_tokens = len(tokens)
        yield {"choices": [{"delta": {"content": "Hi."}}]}


def _model(chunk: int = 8) -> tuple[LlamaCppModel, FakeLlama]:
    model = LlamaCppModel(Path("fake.gguf"), model_id="fake", n_ctx=4096, prefill_chunk=chunk)
    fake = FakeLlama()
    model.llm = fake
    return model, fake


PREFIX = [Message("system", "You are kind. " * 10), Message("user", "hello"), Message("assistant", "hi there")]
OPTIONS = GenOptions(max_tokens=5, temperature=0.0)


async def _reply(model: LlamaCppModel, messages: list[Message]) -> str:
    return "".join([p async for p in model.stream(messages, options=OPTIONS)])


async def test_prefill_evaluates_the_next_prompts_start_in_chunks() -> None:
    model, fake = _model(chunk=8)
    done = await model.prefill(PREFIX)
    assert done > 100 and set(fake.chunks[:-1]) == {8}
    assert await model.prefill(PREFIX) == 0  # already in the cache
    # The next turn only evaluates its own message (and a few tokens where it joins the prefix).
    nxt = [*PREFIX, Message("user", "[Notes] how are you?")]
    await _reply(model, nxt)
    full = len(FakeLlama.render([{"role": m.role, "content": m.content} for m in nxt]))
    assert fake.generated == [full - done]
    assert fake.generated[0] <= len("<user>[Notes] how are you?</><assistant>")


async def test_prefill_keeps_the_shared_part_of_the_cache() -> None:
    model, fake = _model(chunk=8)
    await _reply(model, [*PREFIX[:2]])
    fake.chunks.clear()
    done = await model.prefill(PREFIX)
    # Only what follows the cached system prompt and first message is evaluated.
    assert 0 < done < len(FakeLlama.render([{"role": "assistant", "content": "hi there"}])) + 20


async def test_a_reply_waits_for_at_most_one_chunk_and_continues_from_it() -> None:
    model, fake = _model(chunk=8)
    fake.gate = threading.Semaphore(1)  # the first chunk may run; the second waits at the gate
    prefill = asyncio.create_task(model.prefill(PREFIX))
    await asyncio.to_thread(fake.evaluated.acquire)  # chunk 1 done; chunk 2 is blocked inside eval()
    reply = asyncio.create_task(_reply(model, [*PREFIX, Message("user", "so?")]))
    await asyncio.sleep(0)
    assert model._preempt.is_set()
    fake.gate.release()  # chunk 2 finishes; the prefill sees the reply waiting and stops
    assert await prefill == 16
    assert await reply == "Hi."
    assert fake.chunks == [8, 8]
    full = len(FakeLlama.render([{"role": m.role, "content": m.content} for m in [*PREFIX, Message("user", "so?")]]))
    assert fake.generated == [full - 16]
    assert not model._preempt.is_set()


async def test_cancelling_a_prefill_stops_it_after_the_current_chunk() -> None:
    model, fake = _model(chunk=8)
    fake.gate = threading.Semaphore(0)
    prefill = asyncio.create_task(model.prefill(PREFIX))
    await asyncio.to_thread(fake.entered.acquire)  # the first chunk is inside eval(), held at the gate
    prefill.cancel()
    fake.gate.release()
    with contextlib.suppress(asyncio.CancelledError):
        await prefill
    assert fake.chunks == [8]
    assert model._prefilling is not None and model._prefilling.done()


async def test_no_prefill_starts_while_a_reply_waits() -> None:
    model, fake = _model()
    model._waiting = 1
    assert await model.prefill(PREFIX) == 0
    assert fake.chunks == []


def test_prefix_tokens_stop_before_the_unknown_message() -> None:
    model, _ = _model()
    prefix = model.prefix_tokens(PREFIX)
    full = model.prefix_tokens([*PREFIX, Message("user", "anything at all")], complete=True)
    assert full[: len(prefix)] == prefix and len(prefix) < len(full)
    assert "".join(map(chr, prefix)).endswith("hi there</><use")  # two tokens of margin before the new text


def _history(n: int) -> list[Message]:
    return [Message("user" if i % 2 == 0 else "assistant", f"message {i}: " + "words and more words " * 6)
            for i in range(n)]


def _shiftable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os1.models.llamacpp.llama_memory", lambda llm: object())


async def test_a_moved_window_reuses_the_cached_history_by_shifting_it(monkeypatch: pytest.MonkeyPatch) -> None:
    _shiftable(monkeypatch)
    model, fake = _model(chunk=8)
    system = Message("system", "You are kind. " * 10)
    await _reply(model, [system, *_history(9)])
    fake.chunks.clear()
    moved = [system, *_history(9)[4:8]]  # the window dropped four messages and gained none yet
    done = await model.prefill(moved)
    expected = model.prefix_tokens(moved)
    assert fake._input_ids.tolist() == expected
    # The four remaining messages came from the cache, moved into place; almost nothing was evaluated.
    assert model.reused_tokens > len(expected) // 2 and done < 40
    rm, shift = fake.ctx_ops[0], fake.ctx_ops[1]
    assert rm[0] == "rm" and shift == ("shift", rm[2], -1, -(rm[2] - rm[1]))
    assert fake._requires_eval


async def test_no_shifting_without_a_long_enough_match_or_when_off(monkeypatch: pytest.MonkeyPatch) -> None:
    _shiftable(monkeypatch)
    model, fake = _model(chunk=8)
    system = Message("system", "You are kind. " * 10)
    await _reply(model, [system, *_history(9)])
    model.reuse_cache = False
    await model.prefill([system, *_history(9)[4:8]])
    assert model.reused_tokens == 0 and not any(op[0] == "shift" for op in fake.ctx_ops)
    model2, fake2 = _model(chunk=8)
    await _reply(model2, [system, *_history(3)])
    await model2.prefill([system, Message("user", "something new entirely, " * 8)])
    assert model2.reused_tokens == 0 and not any(op[0] == "shift" for op in fake2.ctx_ops)


async def test_forgetting_clears_the_cache() -> None:
    model, fake = _model()
    await _reply(model, [*PREFIX, Message("user", "so?")])
    await model.forget_cache()
    assert fake.n_tokens == 0 and ("rm", 0, -1, 0) in fake.ctx_ops
