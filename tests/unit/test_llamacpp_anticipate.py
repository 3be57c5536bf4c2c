"""Writing a reply before it is asked for (LlamaCppModel.anticipate), with a scripted stand-in for the Llama object."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from os1.types import GenOptions, Message

from .test_llamacpp_prefill import OPTIONS, PREFIX, FakeLlama, _model

WORDS = ["Oh, ", "a long ", "day? ", "Tell ", "me."]


class WritingLlama(FakeLlama):
    """Writes WORDS one piece at a time; a gate can hold the next reply written between its pieces."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []
        """The last user message of every reply written (one entry per create_chat_completion)."""
        self.piece_gate: threading.Semaphore | None = None
        self.pieces_out = threading.Semaphore(0)
        self.stopped: list[int] = []
        """How many pieces a reply had written when it was stopped."""

    def create_chat_completion(self, *, messages: list[dict[str, str]], **_: Any) -> Iterator[dict[str, Any]]:
        tokens = self.tokenize(self.render(messages).encode())
        self.input_ids[: len(tokens)] = tokens
        self.n_tokens = len(tokens)
        self.writes.append(messages[-1]["content"])
        gate, self.piece_gate = self.piece_gate, None

        def pieces() -> Iterator[dict[str, Any]]:
            n = 0
            try:
                for w in WORDS:
                    if gate is not None and not gate.acquire(timeout=30):
                        raise TimeoutError("the test never opened the gate")
                    n += 1
                    self.pieces_out.release()
                    yield {"choices": [{"delta": {"content": w}}]}
            except GeneratorExit:
                self.stopped.append(n)
                raise

        return pieces()


def _writer(chunk: int = 8) -> tuple[Any, WritingLlama]:
    model, _ = _model(chunk)
    fake = WritingLlama()
    model.llm = fake
    return model, fake


PROMPT = [*PREFIX, Message("user", "[Notes] I had a long day at work today.")]


async def _reply(model: Any, messages: list[Message], options: GenOptions = OPTIONS) -> str:
    return "".join([p async for p in model.stream(messages, options=options)])


async def _until(cond: Any) -> None:
    for _ in range(2000):
        if cond():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition never held")


async def test_a_reply_written_ahead_is_taken_over_by_the_turn_that_asks_for_it() -> None:
    model, fake = _writer()
    ahead = asyncio.create_task(model.anticipate(PROMPT, options=OPTIONS))
    # Written to the end: on offer without holding the model.
    await _until(lambda: model._anticipated is not None and not model._gen_lock.locked())
    assert model._anticipated.writing.worker.done() and model._anticipated.writing.pieces == len(WORDS)
    assert await _reply(model, PROMPT) == "".join(WORDS)
    assert await ahead == len(WORDS)
    assert len(fake.writes) == 1  # written once, ahead of time
    assert model.anticipations == {"started": 1, "taken": 1, "dropped": 0}
    # Nothing is left on offer: the same prompt again is written afresh.
    assert await _reply(model, PROMPT) == "".join(WORDS) and len(fake.writes) == 2


async def test_the_turn_takes_over_a_reply_still_being_written() -> None:
    model, fake = _writer()
    fake.piece_gate = gate = threading.Semaphore(2)  # two pieces, then it waits
    ahead = asyncio.create_task(model.anticipate(PROMPT, options=OPTIONS))
    for _ in range(2):
        await asyncio.to_thread(fake.pieces_out.acquire)
    turn = model.stream(PROMPT, options=OPTIONS)
    first = [await turn.__anext__(), await turn.__anext__()]
    assert first == WORDS[:2]  # at once: they were already written
    # The writing now belongs to the turn: someone else asking for the model does not stop it.
    other = asyncio.create_task(_reply(model, [*PREFIX, Message("user", "something else")]))
    await asyncio.sleep(0.05)
    assert model._preempt.is_set()
    for _ in range(3):
        gate.release()
    rest = [p async for p in turn]
    assert first + rest == WORDS and fake.stopped == []
    assert await ahead == 2  # the head start: two pieces were written when the turn took it over
    assert await other == "".join(WORDS)  # it got the model once the turn was done
    assert fake.writes[-1] == "something else" and len(fake.writes) == 2
    assert not model._gen_lock.locked()


async def test_a_different_prompt_stops_the_writing_and_is_answered_fresh() -> None:
    model, fake = _writer()
    fake.piece_gate = gate = threading.Semaphore(1)
    ahead = asyncio.create_task(model.anticipate(PROMPT, options=OPTIONS))
    await asyncio.to_thread(fake.pieces_out.acquire)
    said_more = [*PREFIX, Message("user", "[Notes] I had a long day at work today, and then some.")]
    turn = asyncio.create_task(_reply(model, said_more))
    await _until(model._preempt.is_set)
    gate.release()  # the next piece is written, then it sees the turn waiting and stops
    assert await ahead == 0
    assert await turn == "".join(WORDS)
    assert fake.stopped[0] < len(WORDS)
    assert fake.writes == [PROMPT[-1].content, said_more[-1].content]
    assert model.anticipations == {"started": 1, "taken": 0, "dropped": 1}


async def test_other_options_are_not_the_same_reply() -> None:
    model, fake = _writer()
    ahead = asyncio.create_task(model.anticipate(PROMPT, options=OPTIONS))
    await _until(lambda: model._anticipated is not None and model._anticipated.writing.worker.done())
    await _reply(model, PROMPT, replace(OPTIONS, temperature=0.9))
    assert len(fake.writes) == 2
    ahead.cancel()
    await asyncio.gather(ahead, return_exceptions=True)
    assert model.anticipations["taken"] == 0 and model._anticipated is None


async def test_cancelling_drops_the_reply_and_frees_the_model() -> None:
    """The user went on talking: what was being written is thrown away within one piece."""
    model, fake = _writer()
    fake.piece_gate = gate = threading.Semaphore(1)
    ahead = asyncio.create_task(model.anticipate(PROMPT, options=OPTIONS))
    await asyncio.to_thread(fake.pieces_out.acquire)
    writing = model._anticipated.writing
    ahead.cancel()
    await _until(writing.stop.is_set)  # the writing is told to stop; the next piece is its last
    gate.release()
    await asyncio.gather(ahead, return_exceptions=True)
    assert ahead.cancelled()
    assert model._anticipated is None and not model._gen_lock.locked()
    assert fake.stopped and fake.stopped[0] < len(WORDS)
    assert await _reply(model, PROMPT) == "".join(WORDS) and len(fake.writes) == 2


async def test_no_writing_ahead_while_a_turn_waits_or_for_structured_requests() -> None:
    model, fake = _writer()
    structured = replace(OPTIONS, json_schema={"type": "object"})
    assert await model.anticipate(PROMPT, options=structured) == 0
    model._waiting = 1
    assert await model.anticipate(PROMPT, options=OPTIONS) == 0
    model._waiting = 0
    assert fake.writes == [] and model.anticipations["started"] == 0


async def test_a_long_prompt_is_read_in_chunks_that_give_way() -> None:
    """The prompt is evaluated chunk by chunk first, so a turn that wants the model waits for one chunk at most."""
    model, fake = _writer(chunk=8)
    fake.gate = threading.Semaphore(1)
    ahead = asyncio.create_task(model.anticipate(PROMPT, options=OPTIONS))
    await asyncio.to_thread(fake.evaluated.acquire)  # chunk 1 done; chunk 2 waits inside eval()
    turn = asyncio.create_task(_reply(model, [*PREFIX, Message("user", "hm?")]))
    await _until(model._preempt.is_set)
    fake.gate.release()
    fake.gate = None
    assert await ahead == 0
    assert await turn == "".join(WORDS)
    assert fake.chunks[:2] == [8, 8] and fake.writes == ["hm?"]  # the anticipated reply was never written


async def test_forgetting_withdraws_a_reply_on_offer() -> None:
    """A reply written ahead may hold what is being forgotten: it is withdrawn with the cache."""
    model, fake = _writer()
    ahead = asyncio.create_task(model.anticipate(PROMPT, options=OPTIONS))
    await _until(lambda: model._anticipated is not None and not model._gen_lock.locked())
    await model.forget_cache()
    assert await ahead == 0 and model._anticipated is None
    assert await _reply(model, PROMPT) == "".join(WORDS) and len(fake.writes) == 2
    assert model.anticipations == {"started": 1, "taken": 0, "dropped": 1}


async def _stop_after_first_piece(model: Any, fake: WritingLlama, gate: threading.Semaphore) -> None:
    turn = model.stream(PROMPT, options=OPTIONS)
    assert await turn.__anext__() == WORDS[0]
    closing = asyncio.create_task(turn.aclose())  # the listener cut in
    await asyncio.sleep(0.02)
    assert not closing.done() and model._gen_lock.locked()  # the writer is still at work: the model is not free
    gate.release()
    await closing
    # Closed only once its writer stopped: the next reply can never decode beside it (a segfault in llama.cpp).
    assert fake.stopped and not model._gen_lock.locked()


async def test_a_reply_stopped_part_way_frees_the_model_only_once_its_writer_stopped() -> None:
    model, fake = _writer()
    fake.piece_gate = gate = threading.Semaphore(1)
    await _stop_after_first_piece(model, fake, gate)
    assert await _reply(model, PROMPT) == "".join(WORDS)


async def test_a_reply_taken_over_and_stopped_part_way_frees_the_model_only_once_its_writer_stopped() -> None:
    model, fake = _writer()
    fake.piece_gate = gate = threading.Semaphore(1)
    ahead = asyncio.create_task(model.anticipate(PROMPT, options=OPTIONS))
    await asyncio.to_thread(fake.pieces_out.acquire)
    await _stop_after_first_piece(model, fake, gate)
    assert await ahead == 1 and model.anticipations["taken"] == 1
    assert await _reply(model, PROMPT) == "".join(WORDS)
