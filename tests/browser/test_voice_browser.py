"""Voice mode in a real browser: Chromium's fake microphone plays a spoken question (a WAV made here with
the installed voice), the page streams it to a real OS1 server over the voice WebSocket, Whisper hears it,
the (scripted) model answers, and the answer comes back as audio that the page plays.

Chromium flags: `--use-fake-ui-for-media-stream` grants the microphone, `--use-fake-device-for-media-stream`
with `--use-file-for-fake-audio-capture=FILE%noloop` makes that WAV the microphone, played once (then
silence). Everything else is the shipped page: chat.js's voice button and voice.js's capture and playback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import expect

from os1.voice.audio import write_wav
from os1.voice.base import SAMPLE_RATE

from ..real.voice_helpers import say, voices, wer, whisper_models
from .conftest import CHROMIUM, DESKTOP, Running, SlowScripted

pytestmark = pytest.mark.real

QUESTION = "Can you remind me to call my sister Rachel on Sunday?"
GREETING = "Hi, I'm Wren. It's lovely to meet you."
REPLY = "Of course. I will remind you on Sunday. Is something on your mind about Rachel?"

# Every message of the voice WebSocket and every buffer the page starts playing, recorded in the page.
RECORDER = """
(() => {
  window.__voice = { events: [], binary: 0, played: [] };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      if (String(url).endsWith("/api/v1/voice")) {
        this.addEventListener("message", (m) => {
          if (typeof m.data === "string") window.__voice.events.push(JSON.parse(m.data));
          else window.__voice.binary += 1;
        });
      }
    }
  };
  const start = AudioBufferSourceNode.prototype.start;
  AudioBufferSourceNode.prototype.start = function (...args) {
    if (this.buffer) window.__voice.played.push(this.buffer.duration);
    return start.apply(this, args);
  };
})();
"""


@pytest.fixture(scope="module")
def question_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    found = voices()
    if not found:
        pytest.fail("No voice to make the question with: `make setup` installs espeak-ng.")
    # In a thread: Playwright's sync API keeps an event loop running in this one, and say() uses asyncio.run.
    with ThreadPoolExecutor(1) as pool:
        clip = pool.submit(say, found[0], QUESTION).result()
    # 2 s of silence first (the page connects while the fake microphone already plays), 3 s after.
    silence = np.zeros(SAMPLE_RATE, np.float32)
    samples = np.concatenate([silence, silence, clip.samples, silence, silence, silence])
    path = tmp_path_factory.mktemp("voice") / "question.wav"
    write_wav(path, samples, SAMPLE_RATE)
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return whisper_models(tmp_path_factory)


@pytest.fixture
def voice_page(browser: Any, question_wav: Path) -> Iterator[Callable[[str], Any]]:
    """A page in a Chromium whose microphone is `question_wav` (another browser on the same Playwright)."""
    b = browser.browser_type.launch(executable_path=str(CHROMIUM), args=[
        "--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={question_wav}%noloop", "--autoplay-policy=no-user-gesture-required"])
    errors: list[str] = []

    def open_page(url: str) -> Any:
        ctx = b.new_context(viewport=DESKTOP, locale="en-US", timezone_id="America/New_York")
        ctx.grant_permissions(["microphone"])
        ctx.add_init_script(RECORDER)
        page = ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_default_timeout(30_000)
        page.goto(url)
        return page

    yield open_page
    b.close()
    assert not errors, f"script errors in the page: {errors}"


def _events(page: Any, kind: str) -> list[dict[str, Any]]:
    return [e for e in page.evaluate("window.__voice.events") if e.get("type") == kind]


def test_a_spoken_question_is_heard_answered_and_played(serve: Callable[..., Running], voice_page: Callable[[str], Any],
                                                       models: Path) -> None:
    running = serve(SlowScripted([GREETING, REPLY], delay=0.01), models_dir_override=models, background="worker")
    page = voice_page(running.base)
    page.wait_for_function("() => document.body.dataset.state === 'ready'")
    expect(page.locator(".msg.assistant .text").first).to_have_text(GREETING)  # the first meeting's greeting
    page.wait_for_function("() => !document.querySelector('.msg.assistant[aria-busy=true]')")
    button = page.locator("#voice")
    expect(button).to_be_visible()
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")

    # The whole turn: heard (final), answered, spoken, played to the end (the page reports what it played).
    page.wait_for_function("() => window.__voice.events.some((e) => e.type === 'turn-done')", timeout=180_000)
    (heard,) = [e for e in _events(page, "heard") if e["final"]]
    edits, n = wer(QUESTION, heard["text"])
    assert edits / n <= 0.25, heard["text"]
    expect(page.locator(".msg.user .text").last).to_have_text(heard["text"])

    audio = _events(page, "audio")
    assert audio and page.evaluate("window.__voice.binary") == len(audio)  # one PCM frame per audio header
    played = page.evaluate("window.__voice.played")
    assert len(played) == len(audio) and sum(played) >= 1.0  # every chunk went to the speakers: seconds of speech
    (done,) = _events(page, "turn-done")
    assert not done["interrupted"] and done["heard"] == heard["text"]
    assert done["spoken"].strip() == REPLY  # heard to the last word: the page said it had played it all
    assert done["timings"]["voice_to_voice"] > 0
    expect(page.locator(".msg.assistant .text").last).to_have_text(REPLY)

    # Hang up; the spoken turn is an ordinary stored turn.
    button.click()
    expect(button).to_have_attribute("aria-pressed", "false")
    with running.api() as api:
        texts = [(m["role"], m["text"]) for m in api.get("/api/v1/history?limit=10").json()["messages"]]
    assert texts[-2:] == [("user", heard["text"]), ("assistant", REPLY)]
