"""The web app in real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright for Python).

Each test gets its own OS1 server on loopback (the real FastAPI app, uvicorn, SQLite in a fresh data
dir) with a scripted model whose replies arrive word by word with a short pause, so streaming is real
and the screens are deterministic. Screenshots go to a temporary folder, or to docs/screenshots/ when
OS1_SCREENSHOTS=1 (`make screenshots`), for the README.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from os1 import ScriptedModel, Settings
from os1.models import ChatModel
from os1.server.app import create_app
from os1.testing import serve_app
from os1.types import GenOptions, Message

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path(os.environ.get("OS1_CHROMIUM", "/usr/bin/chromium"))
REPO = Path(__file__).resolve().parents[2]
DESKTOP = {"width": 1280, "height": 820}
PHONE = {"width": 390, "height": 844}
COMPANION = "Wren"
SAVE_SCREENSHOTS = os.environ.get("OS1_SCREENSHOTS") == "1"
"""Read at import: the shared conftest clears OS1_* variables before each test."""


class SlowScripted(ScriptedModel):
    """The scripted model, pausing between words like a real one, so the page must render a stream."""

    def __init__(self, replies: Sequence[str] = (), *, delay: float = 0.04, **kw: Any) -> None:
        super().__init__(replies, **kw)
        self.delay = delay

    async def stream(self, messages: Sequence[Message], *, options: GenOptions) -> AsyncIterator[str]:
        async for piece in super().stream(messages, options=options):
            if options.json_schema is None:
                await asyncio.sleep(self.delay)
            yield piece


@dataclass
class Running:
    base: str
    home: Path
    model: ChatModel

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=60)


# Package scope, not session: Playwright's sync API keeps an event loop running in this thread while it is
# open, and any later test that calls asyncio.run() would fail with "cannot be called from a running loop".
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"No Chromium at {CHROMIUM}: run `make setup-test` (it installs Debian's chromium).")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    (h / "persona.toml").write_text(f'names = ["{COMPANION}"]\n', "utf-8")
    return h


@pytest.fixture
def serve(home: Path) -> Iterator[Callable[..., Running]]:
    """Start OS1 on loopback: serve(a ChatModel) or serve(model="tiny", **other settings)."""
    stack: list[Any] = []

    def start(chat_model: ChatModel | None = None, **settings: Any) -> Running:
        settings.setdefault("embeddings", False)
        if chat_model is None and "model" not in settings:
            chat_model = SlowScripted()
        app = create_app(Settings(home=home, **settings), model=chat_model)
        ctx = serve_app(app)
        base = ctx.__enter__()
        stack.append(ctx)
        return Running(base, home, app.state.runtime.model)

    yield start
    for ctx in reversed(stack):
        ctx.__exit__(None, None, None)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    out = REPO / "docs" / "screenshots" if SAVE_SCREENSHOTS else tmp_path / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture
def page_for(browser: Any) -> Iterator[Callable[..., Any]]:
    """A fresh page (desktop by default, or phone=True) that fails the test on any script error."""
    contexts: list[Any] = []
    errors: list[str] = []

    def open_page(url: str, *, phone: bool = False) -> Any:
        ctx = browser.new_context(viewport=PHONE if phone else DESKTOP, device_scale_factor=1,
                                  is_mobile=phone, has_touch=phone, locale="en-US", timezone_id="America/New_York")
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_default_timeout(20_000)
        page.goto(url)
        return page

    yield open_page
    for ctx in contexts:
        ctx.close()
    assert not errors, f"script errors in the page: {errors}"
