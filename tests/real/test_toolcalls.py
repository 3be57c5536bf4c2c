"""Tool calls through real backends: native function calling with an OpenAI-compatible server (the fake
server over real HTTP), and grammar-constrained JSON with the embedded tiny model (SmolLM2-135M)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from os1 import Companion, CompanionConfig, FakeClock, GenOptions
from os1.memory import SqlConversationStore
from os1.models import weights
from os1.models.llamacpp import LlamaCppModel
from os1.models.openai_compat import OpenAICompatModel
from os1.storage import Database
from os1.testing import FakeOpenAIServer, serve_app
from os1.tools.select import choose, selection_prompt
from os1.types import ReplyDone, ToolRefused, ToolResult

from ..conftest import collect, default_models_dir

pytestmark = pytest.mark.real
USER = "local"


@pytest.fixture
def fake() -> Iterator[tuple[FakeOpenAIServer, str]]:
    server = FakeOpenAIServer(replies=["It's on your calendar."])
    with serve_app(server.app()) as base:
        yield server, base


async def test_native_function_calling_runs_the_tool_it_chose(fake: tuple[FakeOpenAIServer, str], sqlite_db: Database,
                                                             clock: FakeClock, tmp_path: Path) -> None:
    server, base = fake
    model = OpenAICompatModel("fake-model", f"{base}/v1")
    c = Companion(SqlConversationStore(sqlite_db), model, clock, CompanionConfig(learn=False, home=tmp_path))
    server.tool_calls.append([{"name": "calendar_add", "arguments": {"title": "Lunch with Amy", "when": "Friday at 1pm"}}])
    events = await collect(c.reply(USER, "add lunch with Amy on Friday at 1pm"))
    (result,) = [e for e in events if isinstance(e, ToolResult)]
    assert result.ok and "Lunch with Amy" in result.summary
    select, chat = server.requests[0], server.requests[1]
    assert select["tool_choice"] == "auto" and select["stream"] is False and "response_format" not in select
    names = {t["function"]["name"] for t in select["tools"]}
    assert "calendar_add" in names and not any(n.startswith("mail") for n in names)
    add = next(t["function"] for t in select["tools"] if t["function"]["name"] == "calendar_add")
    assert add["parameters"]["required"] == ["title", "when"]
    assert "tools" not in chat and "Lunch with Amy" in chat["messages"][-1]["content"]  # the result in the notes
    assert next(e for e in events if isinstance(e, ReplyDone)).text == "It's on your calendar."
    await model.close()


async def test_native_calls_outside_the_request_are_refused(fake: tuple[FakeOpenAIServer, str], sqlite_db: Database,
                                                            clock: FakeClock, tmp_path: Path) -> None:
    server, base = fake
    model = OpenAICompatModel("fake-model", f"{base}/v1")
    c = Companion(SqlConversationStore(sqlite_db), model, clock, CompanionConfig(learn=False, home=tmp_path))
    server.tool_calls.append([{"name": "calendar_delete", "arguments": {"event": "everything"}}])
    events = await collect(c.reply(USER, "what does my week look like?"))
    assert [e.tool for e in events if isinstance(e, ToolRefused)] == ["calendar_delete"]
    assert await c.tools.pending(USER, clock.now()) == []
    # Arguments that are not JSON count as no call: the read asked for still happens.
    server.tool_calls.append([{"name": "calendar_agenda", "arguments": "{not json"}])
    events = await collect(c.reply(USER, "what does my week look like?"))
    assert [e.tool for e in events if isinstance(e, ToolResult)] == ["calendar_agenda"]
    await model.close()


@pytest.fixture(scope="module")
def tiny() -> Iterator[LlamaCppModel]:
    try:
        path = weights.locate(weights.SMOLLM2_135M, default_models_dir())
    except Exception as e:  # the tiny model package is missing
        pytest.skip(f"tiny model not available: {e}")
    model = LlamaCppModel(path, model_id="tiny", threads=1, n_ctx=2048, seed=1)
    yield model


async def test_tiny_model_picks_a_tool_under_the_grammar(tiny: LlamaCppModel, sqlite_db: Database, clock: FakeClock,
                                                        tmp_path: Path) -> None:
    c = Companion(SqlConversationStore(sqlite_db), tiny, clock, CompanionConfig(learn=False, home=tmp_path))
    offered = c.tools.registry.for_families({"calendar"})
    for request in ("add lunch with Amy on Friday at 1pm", "what does my week look like?", "move the dentist to Monday at 3pm"):
        call = await choose(tiny, offered, selection_prompt(offered, request=request, now=clock.now(), recent=(), found=()))
        # The grammar guarantees the shape: a known tool with arguments its schema accepts, or none.
        if call is not None:
            tool = c.tools.registry.get(call.name)
            assert tool is not None and tool in offered
            tool.parse(call.arguments)


async def test_tiny_model_turn_never_acts_beyond_the_request(tiny: LlamaCppModel, sqlite_db: Database, clock: FakeClock,
                                                           tmp_path: Path) -> None:
    c = Companion(SqlConversationStore(sqlite_db), tiny, clock,
                  CompanionConfig(learn=False, home=tmp_path, options=GenOptions(max_tokens=24)))
    now = clock.now()
    await c.tools.calendar.add(USER, "Dentist", now.replace(hour=15) + timedelta(days=1), now=now)
    events = await collect(c.reply(USER, "what does my week look like?"))
    tools = [e for e in events if isinstance(e, ToolResult | ToolRefused)]
    assert tools and all(e.tool.startswith("calendar") for e in tools)
    # Whatever the tiny model proposed, a read request changed nothing and left nothing pending.
    assert await c.tools.pending(USER, now) == []
    assert [e.summary for e in await c.tools.calendar.between(USER, now, now + timedelta(days=7))] == ["Dentist"]
    assert next(e for e in events if isinstance(e, ReplyDone)).text
