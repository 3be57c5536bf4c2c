"""The OpenAI-compatible backend against a fake server over real loopback HTTP."""

import pytest

from os1 import Companion, CompanionConfig, Settings
from os1.errors import ModelUnavailable
from os1.models import complete
from os1.models.openai_compat import OpenAICompatModel
from os1.models.registry import resolve
from os1.testing import FakeOpenAIServer, free_port, serve_app
from os1.types import GenOptions, Message

from ..conftest import collect


async def test_streams_a_reply_and_sends_the_prompt_and_key() -> None:
    fake = FakeOpenAIServer(replies=["Hi Theo, good to see you."], api_key="sk-secret")
    with serve_app(fake.app()) as url:
        model = OpenAICompatModel("fake-model", f"{url}/v1", api_key="sk-secret")
        await model.load()
        pieces = [p async for p in model.stream([Message("system", "be kind"), Message("user", "hi")],
                                                options=GenOptions(max_tokens=50))]
        await model.close()
    assert len(pieces) > 1 and "".join(pieces).strip() == "Hi Theo, good to see you."
    body = fake.requests[0]
    assert body["messages"] == [{"role": "system", "content": "be kind"}, {"role": "user", "content": "hi"}]
    assert body["stream"] is True and body["max_tokens"] == 50
    assert "sk-secret" not in repr(model) and "sk-secret" not in model.model_id


async def test_wrong_key_and_unknown_model_are_clear_errors() -> None:
    fake = FakeOpenAIServer(api_key="right")
    with serve_app(fake.app()) as url:
        with pytest.raises(ModelUnavailable, match="refused the API key"):
            await OpenAICompatModel("fake-model", f"{url}/v1", api_key="wrong").load()
        with pytest.raises(ModelUnavailable, match="no model 'other'"):
            await OpenAICompatModel("other", f"{url}/v1", api_key="right").load()


async def test_unreachable_server_is_model_unavailable() -> None:
    model = OpenAICompatModel("m", f"http://127.0.0.1:{free_port()}/v1", timeout=5)
    with pytest.raises(ModelUnavailable, match="Cannot reach"):
        await model.load()
    with pytest.raises(ModelUnavailable):
        await complete(model, [Message("user", "hi")], options=GenOptions())
    await model.close()


async def test_companion_turn_through_an_openai_compatible_server(sqlite_store, clock, monkeypatch) -> None:
    fake = FakeOpenAIServer(replies=["Nice to meet you!"])
    with serve_app(fake.app()) as url:
        monkeypatch.setenv("OS1_OPENAI_API_KEY", "sk-from-env")
        model = resolve(f"openai:fake-model@{url}/v1", Settings())
        companion = Companion(sqlite_store, model, clock, CompanionConfig())
        events = await collect(companion.reply("u", "Hello, I'm Theo"))
        await model.close()
    assert events[-1].text == "Nice to meet you!"  # type: ignore[attr-defined]
    assert fake.headers[-1]["authorization"] == "Bearer sk-from-env"
    assert fake.requests[0]["messages"][-1]["content"].endswith("Hello, I'm Theo")
