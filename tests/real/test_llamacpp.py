"""Real llama.cpp with the tiny model (and one turn with the default model)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import llama_cpp
import pytest

from os1 import Companion, CompanionConfig, Settings
from os1.models import complete, weights
from os1.models.llamacpp import LlamaCppModel
from os1.models.registry import resolve
from os1.types import GenOptions, Message, ReplyDone, TextDelta

from ..conftest import collect, default_models_dir

pytestmark = pytest.mark.real

SHORT = GenOptions(max_tokens=12, temperature=0.0)


def _tiny(tmp_path: Path, **kw: object) -> LlamaCppModel:
    path = weights.locate(weights.SMOLLM2_135M, tmp_path)
    return LlamaCppModel(path, model_id="tiny", threads=1, n_ctx=2048, **kw)  # type: ignore[arg-type]


def _prompt_tokens_evaluated(model: LlamaCppModel) -> int:
    return int(llama_cpp.llama_perf_context(model.llm._ctx.ctx).n_p_eval)


@pytest.mark.parametrize("extra", [False, True])
async def test_loads_with_the_chosen_buffer_types_and_decodes(tmp_path: Path, extra: bool) -> None:
    model = _tiny(tmp_path, extra_bufts=extra)
    await model.load()
    try:
        # The override reached llama.cpp's model params, and the first decode works.
        assert bool(model.llm.model_params.use_extra_bufts) is extra
        text = await complete(model, [Message("user", "Say hello.")], options=SHORT)
        assert text.strip()
    finally:
        await model.close()


async def test_override_does_not_leak_into_other_loads(tmp_path: Path) -> None:
    model = _tiny(tmp_path, extra_bufts=False)
    await model.load()
    await model.close()
    assert llama_cpp.llama_model_default_params().use_extra_bufts is True  # library default restored


async def test_streams_in_pieces(tmp_path: Path) -> None:
    model = _tiny(tmp_path)
    try:
        pieces = [p async for p in model.stream([Message("user", "Count from one to ten.")],
                                                options=GenOptions(max_tokens=24, temperature=0.0))]
        assert len(pieces) > 3
    finally:
        await model.close()


async def test_the_prompt_prefix_is_reused_across_turns(tmp_path: Path) -> None:
    model = _tiny(tmp_path)
    try:
        system = Message("system", "You are a warm companion who remembers everything. " * 10)
        first = [system, Message("user", "hi")]
        reply = await complete(model, first, options=SHORT)
        after_first = _prompt_tokens_evaluated(model)
        second = [*first, Message("assistant", reply), Message("user", "how are you today?")]
        await complete(model, second, options=SHORT)
        evaluated_for_second = _prompt_tokens_evaluated(model) - after_first
        second_len = len(model.llm.tokenize(system.content.encode()))
        # Only the new tail was evaluated; the long system prompt came from the cache.
        assert evaluated_for_second < second_len / 2
    finally:
        await model.close()


async def test_stopping_mid_stream_leaves_the_model_usable(tmp_path: Path) -> None:
    model = _tiny(tmp_path)
    try:
        gen = model.stream([Message("user", "Tell me a long story about a lighthouse.")],
                           options=GenOptions(max_tokens=200))
        async for _ in gen:
            break
        await gen.aclose()
        assert (await complete(model, [Message("user", "Say hi.")], options=SHORT)).strip()
    finally:
        await model.close()


async def test_a_companion_turn_with_the_tiny_model(tmp_path: Path, sqlite_store, clock) -> None:
    model = resolve("tiny", Settings(home=tmp_path, threads=1))
    companion = Companion(sqlite_store, model, clock, CompanionConfig(options=GenOptions(max_tokens=24)))
    try:
        events = await collect(companion.reply("u", "Hi! I'm Theo and I love hiking."))
    finally:
        await model.close()
    done = events[-1]
    assert isinstance(done, ReplyDone) and done.text.strip()
    assert any(isinstance(e, TextDelta) for e in events)
    assert [e.role for e in await sqlite_store.recent("u", 5)] == ["user", "assistant"]


@pytest.mark.default_model
async def test_a_companion_turn_with_the_default_model(tmp_path: Path, sqlite_store, clock) -> None:
    models_dir = default_models_dir()
    assert (models_dir / weights.QWEN_1_5B.filename).is_file(), "run `make model` (make test does) first"
    settings = Settings(home=tmp_path, threads=1, models_dir_override=models_dir)  # type: ignore[call-arg]
    model = resolve("default", settings)
    companion = Companion(sqlite_store, model, clock, CompanionConfig(options=GenOptions(max_tokens=24)))
    try:
        events = await collect(companion.reply("u", "Hello! My name is Theo."))
    finally:
        await model.close()
    assert isinstance(events[-1], ReplyDone) and events[-1].text.strip()


async def test_structured_side_requests_are_valid_json_and_keep_the_chat_cache(tmp_path: Path) -> None:
    import json

    from os1.memory.extract import SCHEMA

    model = _tiny(tmp_path)
    try:
        system = Message("system", "You are a warm companion who remembers everything. " * 10)
        chat = [system, Message("user", "hi")]
        reply = await complete(model, chat, options=SHORT)
        raw = await complete(model, [Message("user", "List facts: my dog Biscuit is a corgi.")],
                             options=GenOptions(max_tokens=120, temperature=0.0, json_schema=SCHEMA))
        assert raw.lstrip().startswith("{")  # grammar-constrained from the first token
        if raw.rstrip().endswith("}"):  # (the tiny model may run out of tokens mid-object)
            assert isinstance(json.loads(raw)["facts"], list)
        before = _prompt_tokens_evaluated(model)
        await complete(model, [*chat, Message("assistant", reply), Message("user", "and you?")], options=SHORT)
        # The side request did not evict the conversation: only the new tail was evaluated.
        assert _prompt_tokens_evaluated(model) - before < len(model.llm.tokenize(system.content.encode())) / 2
    finally:
        await model.close()


@pytest.mark.default_model
async def test_the_default_model_extracts_a_fact_and_a_correction(tmp_path: Path) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from os1.memory.extract import extract

    settings = Settings(home=tmp_path, models_dir_override=default_models_dir())  # type: ignore[call-arg]
    model = resolve("default", settings)
    now = datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("UTC"))
    try:
        first = await extract(model, "My sister Rachel lives in Ohio.", now=now, user_name="Theo", people=[])
        moved = await extract(model, "Actually my sister moved from Ohio to Denver.", now=now, user_name="Theo", people=[])
    finally:
        await model.close()
    assert any(f.value.lower() == "ohio" and f.attribute == "lives_in" for f in first), first
    assert any("denver" in f.value.lower() for f in moved), moved


async def test_a_prefilled_start_leaves_only_the_new_message_to_evaluate(tmp_path: Path) -> None:
    model = _tiny(tmp_path, prefill_chunk=16)
    try:
        start = [Message("system", "You are a warm companion who remembers everything. " * 10),
                 Message("user", "hi, I'm Theo"), Message("assistant", "Hello Theo! How was your day?")]
        await complete(model, [start[0], Message("user", "something else entirely")], options=SHORT)
        done = await model.prefill(start)
        # Only what follows the cached system prompt was evaluated, and a second prefill has nothing to do.
        assert 0 < done < len(model.llm.tokenize(start[0].content.encode())) / 2
        assert await model.prefill(start) == 0
        nxt = [*start, Message("user", "[Notes] It is evening.\n\nIt was long, but good.")]
        full = model.prefix_tokens(nxt, complete=True)
        assert full[: model.cached_tokens()] == model.llm._input_ids.tolist()
        before, cached = _prompt_tokens_evaluated(model), model.cached_tokens()
        assert (await complete(model, nxt, options=SHORT)).strip()
        # The reply evaluated its own message (and the two tokens of margin), not the prefix again.
        evaluated = _prompt_tokens_evaluated(model) - before
        assert evaluated < len(full) / 2 and cached > len(full) * 3 / 4
    finally:
        await model.close()


async def test_the_known_start_of_the_next_message_is_evaluated_too(tmp_path: Path) -> None:
    model = _tiny(tmp_path, prefill_chunk=16)
    try:
        start = [Message("system", "You are a warm companion. " * 10), Message("user", "hi"), Message("assistant", "Hello!")]
        opening = "[Notes for you, not written by Theo. Do not quote them.]\nIt is evening (19:05).\n"
        await model.prefill(start)
        without = model.cached_tokens()
        await model.prefill(start, user_start=opening)
        assert model.cached_tokens() > without + 10  # the notes' header and clock are in the cache too
        nxt = [*start, Message("user", opening + "[End of notes]\n\nIt was long, but good.")]
        full = model.prefix_tokens(nxt, complete=True)
        assert full[: model.cached_tokens()] == model.llm._input_ids.tolist()
    finally:
        await model.close()


async def test_a_reply_written_ahead_is_the_reply_the_turn_gets(tmp_path: Path) -> None:
    """Greedy decoding: the reply written before it was asked for is exactly the one written on request."""
    model = _tiny(tmp_path, prefill_chunk=16)
    try:
        prompt = [Message("system", "You are a warm companion."), Message("user", "I had a long day at work today.")]
        fresh = await complete(model, prompt, options=SHORT)
        await complete(model, [Message("user", "Something else entirely, to change the cache.")], options=SHORT)
        ahead = asyncio.create_task(model.anticipate(prompt, options=SHORT))
        while model._anticipated is None or model._gen_lock.locked():  # written to the end, on offer
            await asyncio.sleep(0.01)
        before = _prompt_tokens_evaluated(model)
        assert await complete(model, prompt, options=SHORT) == fresh
        assert _prompt_tokens_evaluated(model) == before  # nothing evaluated on request: it was all done
        assert await ahead > 0 and model.anticipations["taken"] == 1
        # A different prompt stops one still being written and gets its own reply.
        ahead = asyncio.create_task(model.anticipate(prompt, options=replace(SHORT, max_tokens=200)))
        await asyncio.sleep(0.05)
        other = await complete(model, [*prompt[:1], Message("user", "Say hello.")], options=SHORT)
        assert other.strip() and await ahead == 0 and model.anticipations["dropped"] == 1
    finally:
        await model.close()


async def test_the_first_tokens_of_a_reply_are_written_with_the_prompt_threads(tmp_path: Path, monkeypatch) -> None:
    """quick_start_tokens: two threads for the first words, then the generation threads again; same reply."""
    long = GenOptions(max_tokens=16, temperature=0.0)
    prompt = [Message("user", "Tell me a story about a lighthouse keeper.")]
    plain = _tiny(tmp_path, batch_threads=2)
    try:
        expected = await complete(plain, prompt, options=long)
    finally:
        await plain.close()
    model = _tiny(tmp_path, batch_threads=2, quick_start_tokens=3)
    switched: list[tuple[int, int]] = []
    original = llama_cpp.llama_set_n_threads

    def record(ctx: object, n: int, n_batch: int) -> None:
        switched.append((n, int(model.llm.n_tokens)))
        original(ctx, n, n_batch)

    monkeypatch.setattr(llama_cpp, "llama_set_n_threads", record)
    try:
        assert await complete(model, prompt, options=long) == expected
        assert [n for n, _ in switched] == [2, 1]
        written = switched[1][1] - len(model.prefix_tokens(prompt, complete=True))
        assert 2 <= written <= 3  # three pieces: the first comes from the prompt's evaluation, then two decoded
        assert llama_cpp.llama_n_threads(model.llm._ctx.ctx) == 1
        switched.clear()
        await complete(model, [Message("user", "hi")], options=replace(long, max_tokens=2))  # ends before the third
        assert [n for n, _ in switched] == [2, 1] and llama_cpp.llama_n_threads(model.llm._ctx.ctx) == 1
    finally:
        await model.close()


async def test_a_companion_warms_its_next_prompt_with_the_tiny_model(tmp_path: Path, sqlite_store, clock) -> None:
    model = resolve("tiny", Settings(home=tmp_path, threads=1))
    companion = Companion(sqlite_store, model, clock, CompanionConfig(options=GenOptions(max_tokens=16), learn=False))
    try:
        await collect(companion.reply("u", "Hi! I'm Theo and I love hiking."))
        assert companion._warming is not None
        await asyncio.wait({companion._warming})  # the warm-up after the reply
        before = _prompt_tokens_evaluated(model)  # type: ignore[arg-type]
        assert await companion.warm("u") == 0  # nothing left to do
        await collect(companion.reply("u", "We went up Mount Tam."))
        evaluated = _prompt_tokens_evaluated(model) - before  # type: ignore[arg-type]
        # Only the new message with its notes: the system prompt and the first exchange were warm.
        assert 0 < evaluated < model.cached_tokens() / 2  # type: ignore[attr-defined]
    finally:
        await model.close()



@pytest.mark.parametrize("notes", ["", "[Notes for you, not written by Theo. Do not quote them.]\nIt is evening (19:0{}).\n"
                                       "Things from earlier conversations that may matter: none.\n[End of notes]\n\n"])
async def test_a_moved_window_is_shifted_into_place_not_evaluated_again(tmp_path: Path, notes: str) -> None:
    """With `notes`, user messages start alike (as OS1's do): the first evicted one at 19:04, every later one at 19:05.
    Where the prompt leaves the cache ("5)..."), those tokens first occur in an evicted message: the stretch reused
    must be the one the window now starts with, further on."""
    model = _tiny(tmp_path, prefill_chunk=16)
    try:
        system = Message("system", "You are a warm companion who remembers everything. " * 10)
        lines = ["I went to the lake on Sunday.", "That sounds peaceful! Was it cold?", "Freezing, but lovely.",
                 "Did you swim?", "No, I just walked along the shore with my sister.", "How is she doing?",
                 "She's well, she starts a new job in March.", "That's exciting news for her.", "It is!"]
        history = [Message("user", notes.format(4 if i == 0 else 5) + t * 3) if i % 2 == 0
                   else Message("assistant", t * 3) for i, t in enumerate(lines)]
        await complete(model, [system, *history], options=SHORT)
        moved = [system, *history[4:8]]  # the window moved on by four messages
        done = await model.prefill(moved)
        assert model.llm._input_ids.tolist() == model.prefix_tokens(moved)
        assert model.reused_tokens > 60 and done < model.reused_tokens / 2
        reply = await complete(model, [*moved, Message("user", "What did I say about my sister?")], options=SHORT)
        assert reply.strip()
    finally:
        await model.close()
