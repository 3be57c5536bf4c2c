"""The web app, used the way a person would: in real headless Chromium against a real OS1 server.

First meeting, a streamed reply and what OS1 remembered for it, editing and forgetting a memory, the
mood chart, changing the model in Settings (to a real OpenAI-compatible server on loopback), export,
clear states when the model is unavailable or the server is gone, and keyboard access.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from os1.testing import FakeOpenAIServer, serve_app

from .conftest import COMPANION, Running, SlowScripted
from .seed import DAYS, ZONE, seed

pytestmark = pytest.mark.real

GREETING = f"Hi, I'm {COMPANION}. It's lovely to meet you. What should I call you?"
SECOND = "Ada. That's a beautiful name. What has today been like for you?"
MAYA_REPLY = "Last time you told me Maya loves Denver. Have you two made plans to visit?"
STREAMING = "() => { const t = document.querySelector('.msg.assistant[aria-busy=true] .text'); return t && t.textContent.length > 0; }"
DONE = "() => !document.querySelector('.msg.assistant[aria-busy=true]')"


def wait_ready(page: Any) -> None:
    page.wait_for_function("() => document.body.dataset.state === 'ready'")


def seeded(serve: Callable[..., Running], home: Path, replies: list[str] | None = None) -> Running:
    seed(home, datetime.now(ZONE))
    return serve(SlowScripted(replies or []))


def test_first_meeting_streams_the_greeting_then_a_reply(serve: Callable[..., Running], page_for: Callable[..., Any],
                                                         shots: Path) -> None:
    running = serve(SlowScripted([GREETING, SECOND]))
    page = page_for(running.base)
    page.wait_for_selector(".first-meeting")
    page.wait_for_function(STREAMING)  # words on screen while the greeting is still streaming
    page.wait_for_function(DONE)
    assert page.inner_text(".msg.assistant .text") == GREETING
    assert page.inner_text("#companion-name") == COMPANION
    wait_ready(page)
    assert page.evaluate("document.activeElement.id") == "message"

    page.keyboard.type("I'm Ada")
    page.keyboard.press("Enter")
    page.wait_for_function(STREAMING)
    page.wait_for_function(DONE)
    texts = page.locator(".msg .text").all_inner_texts()
    assert texts == [GREETING, "I'm Ada", SECOND]
    with running.api() as api:
        profile = api.get("/api/v1/profile").json()
        assert profile["user_name"] == "Ada" and profile["stage"] == "getting_to_know"
        assert [m["text"] for m in api.get("/api/v1/history").json()["messages"]] == texts
    page.screenshot(path=str(shots / "first-meeting.png"))

    phone = page_for(running.base, phone=True)
    phone.wait_for_function("() => document.querySelectorAll('.msg').length === 3")
    assert not phone.query_selector(".first-meeting")  # met now: no second greeting
    phone.screenshot(path=str(shots / "first-meeting-phone.png"))


def test_a_streamed_reply_shows_what_was_remembered(serve: Callable[..., Running], home: Path,
                                                    page_for: Callable[..., Any], shots: Path) -> None:
    running = seeded(serve, home, [MAYA_REPLY])
    page = page_for(running.base)
    page.wait_for_function(f"() => document.querySelectorAll('.msg').length === {2 * len(DAYS)}")
    page.fill("#message", "How is Maya doing?")
    page.click("#send")
    page.wait_for_function(STREAMING)
    assert page.is_visible("#stop") and not page.is_visible("#send")
    page.wait_for_function(DONE)
    last = page.locator(".msg.assistant").last
    assert last.locator(".text").inner_text() == MAYA_REPLY
    why = last.locator("details.why")
    assert not why.locator("ul").is_visible()  # on demand only
    why.locator("summary").click()
    remembered = why.locator("li").all_inner_texts()
    assert any("Maya lives in Denver" in r for r in remembered), remembered
    assert all(" · " in r for r in remembered)  # each with its source and id
    assert why.locator("summary").inner_text().startswith("What I remembered (")
    page.screenshot(path=str(shots / "conversation.png"))


def test_memories_can_be_browsed_edited_and_forgotten(serve: Callable[..., Running], home: Path,
                                                      page_for: Callable[..., Any], shots: Path) -> None:
    running = seeded(serve, home)
    page = page_for(running.base + "/#memories")
    maya = page.locator("li.memory", has_text="Maya lives in Denver")
    maya.wait_for()
    assert "from what you said" in maya.locator(".source").inner_text()
    ref = maya.get_attribute("data-id")
    assert ref and ref.startswith("f")
    # Browse by person and by topic.
    expect(page.locator("#people")).to_contain_text("Maya (sister)")  # its own request: wait for it
    page.locator("#topics button", has_text="work").click()
    assert page.locator("li.memory").all_inner_texts() and all(
        "design studio" in t for t in page.locator("li.memory .mem-text").all_inner_texts())
    page.locator("#topics button", has_text="work").click()
    # Where it came from, on demand.
    maya.locator("details.more summary").click()
    expect(maya.locator(".more-body")).to_contain_text("My sister Maya moved to Denver")
    page.screenshot(path=str(shots / "memories.png"))

    maya.get_by_role("button", name="Edit").click()
    page.get_by_label("Correct this memory").fill("Your sister Maya lives in Boulder now.")
    page.get_by_role("button", name="Save").click()
    page.wait_for_function("() => document.getElementById('memory-status').textContent.startsWith('Saved')")
    with running.api() as api:
        assert api.get(f"/api/v1/memory/{ref}").json()["text"] == "Your sister Maya lives in Boulder now."

    studio = page.locator("li.memory", has_text="design studio")
    studio_ref = studio.get_attribute("data-id")
    dialogs: list[str] = []
    page.once("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    studio.get_by_role("button", name="Forget").click()
    page.wait_for_function("() => document.getElementById('memory-status').textContent.startsWith('Forgotten')")
    assert dialogs and studio_ref in dialogs[0] and "can't be undone" in dialogs[0]
    assert page.locator(f"li.memory[data-id='{studio_ref}']").count() == 0
    with running.api() as api:
        assert api.get(f"/api/v1/memory/{studio_ref}").status_code == 400
        listed = [m["id"] for m in api.get("/api/v1/memory", params={"kind": "all"}).json()["memories"]]
        assert studio_ref not in listed and ref in listed

    phone = page_for(running.base + "/#memories", phone=True)
    phone.locator("li.memory").first.wait_for()
    phone.screenshot(path=str(shots / "memories-phone.png"))


def test_mood_chart_draws_each_day(serve: Callable[..., Running], home: Path, page_for: Callable[..., Any],
                                   shots: Path) -> None:
    running = seeded(serve, home)
    page = page_for(running.base + "/#mood")
    page.wait_for_function(f"() => document.querySelectorAll('#mood-chart circle.dot').length === {len(DAYS)}")
    points = page.get_attribute("#mood-chart polyline.mood-line", "points") or ""
    assert len(points.split()) == len(DAYS)
    heavy = sum(1 for d in DAYS if d[4] < 0)
    assert page.locator("#mood-chart circle.heavy").count() == heavy
    # Lighter days sit higher on the chart than heavier ones.
    ys = {c.get_attribute("data-day"): float(c.get_attribute("cy") or 0) for c in page.locator("#mood-chart circle.dot").all()}
    with running.api() as api:
        days = api.get("/api/v1/mood?days=30").json()["days"]
    best, worst = max(days, key=lambda d: d["valence"]), min(days, key=lambda d: d["valence"])
    assert ys[best["day"]] < ys[worst["day"]]
    assert page.locator("#mood-table tbody tr").count() == len(DAYS)
    assert "Average mood" in (page.get_attribute("#mood-chart", "aria-label") or "")
    page.wait_for_function("() => document.getElementById('self').textContent.includes('Lately I feel')")
    page.screenshot(path=str(shots / "mood.png"), full_page=True)
    phone = page_for(running.base + "/#mood", phone=True)
    phone.wait_for_function(f"() => document.querySelectorAll('#mood-chart circle.dot').length === {len(DAYS)}")
    phone.screenshot(path=str(shots / "mood-phone.png"))


def test_changing_the_model_in_settings_takes_effect(serve: Callable[..., Running], page_for: Callable[..., Any],
                                                     shots: Path) -> None:
    fake = FakeOpenAIServer(replies=["Hello from the other server."], api_key="sk-test-123", models=("fake-model",))
    running = serve(SlowScripted([GREETING]))
    with serve_app(fake.app()) as fake_base:
        page = page_for(running.base + "/#settings")
        page.wait_for_function("() => document.getElementById('set-backend').options.length > 0")
        page.select_option("#set-backend", "openai")
        page.fill("#set-openai-model", "fake-model")
        page.fill("#set-openai-url", fake_base + "/v1")
        page.fill("#set-openai-key", "sk-test-123")
        page.fill("#set-tz", "Europe/Paris")
        page.screenshot(path=str(shots / "settings.png"), full_page=True)
        page.get_by_role("button", name="Save settings").click()
        page.wait_for_function("() => document.getElementById('settings-status').textContent.startsWith('Saved')")
        assert "restarts" not in page.inner_text("#settings-status")  # a time zone applies at once now
        assert page.input_value("#set-openai-key") == ""
        assert "A key is saved" in page.inner_text("#key-note")
        wait_ready(page)

        with running.api() as api:
            raw = api.get("/api/v1/settings").text
            got = json.loads(raw)
        assert got["model"] == "openai:fake-model" and got["openai_base_url"] == f"{fake_base}/v1"
        assert got["openai_api_key_set"] is True
        assert "sk-test-123" not in raw
        saved = json.loads((running.home / "settings.json").read_text("utf-8"))
        assert saved["model"] == got["model"] and "sk-test-123" not in json.dumps(saved)
        assert got["tz"] == "Europe/Paris" and "tz" not in saved  # the person's own zone, kept with their data
        assert "sk-test-123" in (running.home / "keys.toml").read_text("utf-8")

        page.click("nav a[href='#talk']")
        # The first meeting's greeting streams first; the message box takes a message once it is done.
        page.wait_for_selector(".msg.assistant")
        page.wait_for_function(DONE)
        wait_ready(page)
        page.fill("#message", "Are you there?")
        page.keyboard.press("Enter")
        page.wait_for_function("() => [...document.querySelectorAll('.msg.assistant .text')].some(t => t.textContent === 'Hello from the other server.')")
        assert fake.requests and fake.requests[-1]["model"] == "fake-model"
        assert fake.headers[-1]["authorization"] == "Bearer sk-test-123"


def test_export_and_delete_everything(serve: Callable[..., Running], home: Path, page_for: Callable[..., Any],
                                      tmp_path: Path) -> None:
    running = seeded(serve, home)
    with running.api() as api:
        paths = api.get("/openapi.json").json()["paths"]
    page = page_for(running.base + "/#settings")
    if "/api/v1/export" not in paths:
        page.wait_for_function("() => document.getElementById('data-status').textContent.includes('Export')")
        assert not page.is_visible("#export")
        assert "isn't available" in page.inner_text("#data-status")
    else:
        page.locator("#export").wait_for()
        with page.expect_download() as dl:
            page.click("#export")
        target = tmp_path / "export.zip"
        dl.value.save_as(target)
        with zipfile.ZipFile(target) as z:
            everything = " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        assert "Maya" in everything
    if "/api/v1/delete" in paths:
        page.fill("#delete-confirm", "delete everything")
        page.get_by_role("button", name="Delete everything").click()
        page.wait_for_function("() => document.getElementById('data-status').textContent.startsWith('Everything is deleted')")
        with running.api() as api:
            assert api.get("/api/v1/history").json()["messages"] == []
    else:
        assert not page.is_visible("#delete-form")


UNREACHABLE = "openai:nothing@http://127.0.0.1:9/v1"


def test_model_unavailable_and_offline_are_clear(serve: Callable[..., Running], page_for: Callable[..., Any],
                                                 shots: Path) -> None:
    running = serve(model=UNREACHABLE)
    page = page_for(running.base)
    # The greeting was tried (and waits for a model); nothing is streaming.
    page.wait_for_function("() => performance.getEntriesByType('resource').some(e => e.name.endsWith('/api/v1/greet'))")
    page.wait_for_function(DONE)
    page.wait_for_function("() => document.body.dataset.state === 'unavailable'")
    assert page.inner_text("#status") == "Model unavailable"
    banner = page.locator("#banner")
    assert banner.is_visible() and banner.get_by_role("link", name="Choose another model in Settings").is_visible()
    page.fill("#message", "Hello?")
    page.keyboard.press("Enter")
    error = page.locator(".msg.error")
    error.wait_for()
    assert "Cannot reach the model server" in error.inner_text()
    assert error.get_by_role("button", name="Choose another model").is_visible()
    assert error.get_by_role("button", name="Try again").is_visible()
    with httpx.Client(base_url=running.base) as api:
        assert api.get("/api/v1/history").json()["messages"] == []  # refused before anything was stored
    page.screenshot(path=str(shots / "model-unavailable.png"))
    # Choosing a model that works clears the warning, and the first meeting's greeting, which had to wait, comes.
    with running.api() as api:
        assert api.put("/api/v1/settings", json={"model": "echo"}).status_code == 200
    wait_ready(page)
    assert not page.is_visible("#banner")
    page.wait_for_function("() => document.querySelectorAll('.msg.assistant').length === 1")
    page.wait_for_function(DONE)
    assert '"role": "system"' in page.inner_text(".msg.assistant .text")  # the echo model shows its prompt


def test_offline_is_shown_when_the_server_goes_away(browser: Any, home: Path) -> None:
    from os1 import Settings
    from os1.server.app import create_app

    ctx = browser.new_context()
    page = ctx.new_page()
    with serve_app(create_app(Settings(home=home, embeddings=False), model=SlowScripted())) as base:
        page.goto(base)
        page.wait_for_function("() => document.body.dataset.state === 'ready'")
    page.wait_for_function("() => document.body.dataset.state === 'offline'", timeout=30_000)
    assert page.inner_text("#status") == "Offline"
    assert "Can't reach OS1" in page.inner_text("#banner")
    ctx.close()


def test_every_control_is_labelled_and_reachable_by_keyboard(serve: Callable[..., Running],
                                                             page_for: Callable[..., Any]) -> None:
    running = serve(SlowScripted([GREETING]))
    page = page_for(running.base)
    page.wait_for_function(DONE)
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea, button')]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
        .map(e => e.outerHTML)""")
    assert unlabelled == []
    with running.api() as api:
        speaks = "/api/v1/voices" in api.get("/openapi.json").json()["paths"]
    # The voice button shows only where this server speaks, and says what it does.
    page.wait_for_function("() => performance.getEntriesByType('resource').some(e => e.name.endsWith('/openapi.json'))")
    if speaks:
        page.get_by_role("button", name="Talk with your voice").wait_for()
    else:
        assert not page.is_visible("#voice")
    page.focus("body")
    seen = []
    for _ in range(8):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("document.activeElement.textContent.trim()"))
        if seen[-1].startswith("What I know"):
            break
    assert seen[0] == "Skip to the message box" and seen[-1].startswith("What I know"), seen
    page.keyboard.press("Enter")
    page.wait_for_selector("#memories:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "memories-title"
    assert page.get_attribute("nav a[href='#memories']", "aria-current") == "page"


def test_a_reply_from_the_tiny_real_model_streams_into_the_page(serve: Callable[..., Running],
                                                               page_for: Callable[..., Any]) -> None:
    pytest.importorskip("llama_cpp")
    running = serve(model="tiny", n_ctx=2048)
    page = page_for(running.base)
    page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=120_000)
    page.locator(".msg.assistant").first.wait_for()
    page.wait_for_function(DONE, timeout=120_000)  # the first meeting's greeting
    page.fill("#message", "Hello! What's a nice thing to do on a rainy day?")
    page.keyboard.press("Enter")
    page.wait_for_function(DONE, timeout=120_000)
    replies = page.locator(".msg.assistant .text").all_inner_texts()
    assert replies and replies[-1].strip(), page.inner_text("#log")
    with running.api() as api:
        stored = api.get("/api/v1/history").json()["messages"]
    assert stored[-1]["role"] == "assistant" and stored[-1]["text"] == replies[-1]


def test_a_reminder_set_in_the_page_arrives_live_in_the_inbox(serve: Callable[..., Running],
                                                             page_for: Callable[..., Any], shots: Path) -> None:
    running = serve(SlowScripted([GREETING]), job_poll_seconds=0.5)
    with running.api() as api:
        if "/api/v1/reminders" not in api.get("/openapi.json").json()["paths"]:
            pytest.skip("this build has no reminders API")
    page = page_for(running.base + "/#inbox")
    page.locator("#reminder-form").wait_for()
    due = datetime.now(ZONE).replace(microsecond=0) + timedelta(seconds=4)
    page.fill("#reminder-text", "stretch and drink some water")
    # The page asks for minutes; allowing seconds keeps this test short (the rest of the path is unchanged).
    page.eval_on_selector("#reminder-at", "e => e.step = 1")
    page.fill("#reminder-at", due.strftime("%Y-%m-%dT%H:%M:%S"))
    page.get_by_role("button", name="Add reminder").click()
    page.wait_for_function("() => document.getElementById('reminders-status').textContent.startsWith(\"I'll remind you\")")
    assert page.locator("#reminders-list li", has_text="stretch and drink some water").count() == 1
    # When it is due, the server pushes it over the WebSocket: a toast, the inbox and the unread count.
    page.locator(".toast", has_text="stretch").wait_for(timeout=30_000)
    item = page.locator("#inbox-list .inbox-item").first
    assert "stretch" in item.inner_text()
    assert page.inner_text("#inbox-count") == "1"
    page.screenshot(path=str(shots / "inbox.png"))
    item.get_by_role("button", name="Mark read").click()
    page.wait_for_function("() => document.getElementById('inbox-count').hidden")
    with running.api() as api:
        assert api.get("/api/v1/inbox").json()["unread"] == 0
