"""Interactive `os1 chat` in a pseudo-terminal, as a person uses it.

The echo model (replies with its prompt as JSON lines) shows what reached the model; the tiny model
runs real llama.cpp for the greeting, streaming and Ctrl-C. Each test has its own OS1_HOME.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from os1 import Exchange, Profile
from os1.memory import SqlConversationStore
from os1.storage import open_database

NOW = "2026-11-25T09:30:00-05:00"
USER = "local"
TIMEOUT = 180  # generous: the machine is slow and shared; nothing here asserts on timing
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
BANNER = re.compile(r"Talking with (.+?) \((\S+)\)[^\n]*")
PROMPT = "\nYou: "


def clean(text: str) -> str:
    return ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "")


class Chat:
    """One `os1 chat` process on a pseudo-terminal."""

    def __init__(self, home: Path, model: str, **env: str) -> None:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("OS1_") or k == "OS1_MODELS_DIR"}
        full_env.update(OS1_HOME=str(home), OS1_NOW=NOW, TERM="dumb", NO_COLOR="1", **env)
        self.child = pexpect.spawn(
            sys.executable, ["-m", "os1.cli", "chat", "--model", model], env=full_env, cwd=str(home.parent),
            encoding="utf-8", codec_errors="replace", timeout=TIMEOUT, dimensions=(40, 200),
        )
        self.log = io.StringIO()
        self.child.logfile_read = self.log
        # A real model may itself write "You: " at the start of a line; echo's JSON lines cannot.
        self.settle = model != "echo"

    @property
    def transcript(self) -> str:
        """Everything the terminal showed so far."""
        return clean(self.log.getvalue())

    def expect(self, pattern: object, timeout: float = TIMEOUT) -> str:
        """Wait for `pattern`; return the cleaned text before it."""
        try:
            self.child.expect(pattern, timeout=timeout)
        except (pexpect.EOF, pexpect.TIMEOUT) as e:
            raise AssertionError(f"did not see {pattern!r}; output so far:\n{self.transcript}") from e
        return clean(self.child.before)

    def banner(self) -> tuple[str, str]:
        """The companion's name and the model id, from the first line."""
        self.expect(BANNER)
        match = self.child.match
        return match.group(1), match.group(2)

    def prompt(self) -> str:
        """Everything shown until the `You: ` prompt waits for input (a model may itself write 'You: ')."""
        shown = self.expect(PROMPT)
        while self.settle:
            try:
                self.child.expect(r"\S", timeout=1.5)
            except pexpect.TIMEOUT:
                return shown
            # More output came: that 'You: ' was part of a reply. Keep reading.
            shown += PROMPT + clean(self.child.before + self.child.after) + self.expect(PROMPT)
        return shown

    def say(self, text: str) -> str:
        """Type a line; return what was shown before the next prompt (the echoed line stripped)."""
        self.child.sendline(text)
        shown = self.prompt()
        first, _, rest = shown.partition("\n")
        assert first.strip() == text.strip(), f"expected the typed line echoed, got {first!r}"
        return rest

    def finish(self) -> str:
        """Wait for the process to end; return its last output. Asserts exit status 0."""
        tail = self.expect(pexpect.EOF)
        self.child.close()
        assert self.child.signalstatus is None, f"killed by signal {self.child.signalstatus}: {tail}"
        assert self.child.exitstatus == 0, f"exit {self.child.exitstatus}: {self.transcript}"
        return tail

    def kill(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)


@pytest.fixture
def sessions() -> Iterator[list[Chat]]:
    started: list[Chat] = []
    yield started
    for chat in started:
        chat.kill()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def start(sessions: list[Chat], home: Path, model: str = "echo", **env: str) -> Chat:
    chat = Chat(home, model, **env)
    sessions.append(chat)
    return chat


def echo_prompt(shown: str, name: str) -> list[dict[str, str]]:
    """The messages the echo model received, from a reply shown as 'NAME: {json}\\n{json}...'."""
    text = shown.strip("\n")
    assert text.startswith(f"{name}: "), f"expected a reply from {name}, got {text[:200]!r}"
    lines = [line for line in text[len(name) + 2:].split("\n") if line.strip()]
    messages = [json.loads(line) for line in lines]
    assert messages[0]["role"] == "system" and messages[-1]["role"] == "user"
    return messages


def said(message: dict[str, str]) -> str:
    """What the user typed, from a user message of the prompt (which may start with that turn's notes)."""
    return message["content"].rpartition("\n\n")[2]


def stored(home: Path) -> tuple[list[Exchange], Profile]:
    db = open_database(f"sqlite:///{home / 'os1.db'}")
    try:
        store = SqlConversationStore(db)

        async def read() -> tuple[list[Exchange], Profile]:
            return await store.recent(USER, 10_000), await store.profile(USER)

        return asyncio.run(read())
    finally:
        db.close()


# Echo model ------------------------------------------------------------------------------------------
def test_first_start_greets_then_answers_and_ctrl_d_says_goodbye(home: Path, sessions: list[Chat]) -> None:
    chat = start(sessions, home)
    name, model = chat.banner()
    assert model == "echo"
    # On a brand-new data dir OS1 speaks first, before any prompt.
    greeting = echo_prompt(chat.prompt(), name)
    assert name in greeting[0]["content"]
    assert name in greeting[-1]["content"]  # told its self-chosen name, to introduce itself with
    assert not [m for m in greeting if m["role"] == "assistant"]

    reply = echo_prompt(chat.say("I'm Theo"), name)
    assert "You are talking with Theo" in reply[0]["content"]
    assert said(reply[-1]) == "I'm Theo"
    # The greeting is part of the conversation now.
    assert [m["role"] for m in reply[1:-1]] == ["assistant"]

    chat.child.sendeof()
    goodbye = chat.finish()
    assert goodbye.strip(), "a goodbye line after Ctrl-D"
    exchanges, profile = stored(home)
    assert [e.role for e in exchanges] == ["assistant", "user", "assistant"]
    assert exchanges[1].text == "I'm Theo"
    assert profile.user_name == "Theo" and profile.companion_name == name


def test_restart_does_not_greet_again_and_keeps_the_history(home: Path, sessions: list[Chat]) -> None:
    # The echo model's replies repeat the whole prompt (thousands of characters each); a larger context keeps
    # the prompt budget from trimming this short history, which is not what this test is about.
    first = start(sessions, home, OS1_N_CTX="16384")
    name, _ = first.banner()
    first.prompt()  # the greeting
    first.say("I'm Theo")
    first.say("my sister Rachel lives in Ohio")
    first.child.sendline("/quit")
    assert first.finish().strip(), "a goodbye line after /quit"

    second = start(sessions, home, OS1_N_CTX="16384")
    again, _ = second.banner()
    assert again == name
    assert second.prompt().strip() == "", "no greeting on a later start"
    reply = echo_prompt(second.say("Where does Rachel live again?"), name)
    assert "You are talking with Theo" in reply[0]["content"]
    history = [said(m) for m in reply[1:-1] if m["role"] == "user"]
    assert history == ["I'm Theo", "my sister Rachel lives in Ohio"]
    second.child.sendline("/exit")
    second.finish()
    assert len(stored(home)[0]) == 7  # greeting + three exchanges of two


def test_blank_lines_are_ignored_and_bad_input_is_refused_without_leaving(
    home: Path, sessions: list[Chat]
) -> None:
    chat = start(sessions, home, OS1_MAX_MESSAGE_CHARS="100")
    name, _ = chat.banner()
    chat.prompt()
    assert chat.say("").strip() == ""
    assert chat.say("   ").strip() == ""
    refused = chat.say("z" * 150)
    assert refused.strip() and not refused.startswith(f"{name}: ")
    assert chat.child.isalive()
    reply = echo_prompt(chat.say("still here"), name)
    assert said(reply[-1]) == "still here"
    chat.child.sendeof()
    chat.finish()
    exchanges, _ = stored(home)
    assert [e.text for e in exchanges if e.role == "user"] == ["still here"]


def test_replies_are_shown_verbatim(home: Path, sessions: list[Chat]) -> None:
    """Text that looks like rich markup or emoji codes is shown as written, not rendered."""
    chat = start(sessions, home)
    name, _ = chat.banner()
    chat.prompt()
    text = "I love :pizza: and [bold]this[/bold] :smile: [link=x]y[/link]"
    reply = echo_prompt(chat.say(text), name)
    assert said(reply[-1]) == text
    chat.child.sendeof()
    chat.finish()


# Tiny model: real llama.cpp --------------------------------------------------------------------------
def interrupt_a_story(chat: Chat, name: str, request: str, tries: int = 3) -> str:
    """Ask for a long story and press Ctrl-C as soon as it streams; return what the terminal showed for the try
    that stopped it. The tiny model sometimes ends a story within milliseconds: a reply that was over before the
    signal landed is asked for again (it is stored whole, as it should be), never counted as stopped."""
    for _ in range(tries):
        mark = len(chat.transcript)
        chat.child.sendline(request)
        chat.expect(f"{name}: ")
        chat.expect(r"\S")
        chat.child.sendintr()
        chat.prompt()
        assert chat.child.isalive(), "Ctrl-C during a reply must not end the chat"
        shown = chat.transcript[mark:]
        if "(stopped)" in shown:
            return shown
    raise AssertionError(f"Ctrl-C never stopped a reply in {tries} tries:\n{chat.transcript}")


@pytest.mark.real
def test_tiny_model_greets_streams_and_ctrl_c_stops_a_reply(home: Path, sessions: list[Chat]) -> None:
    # One llama thread: the tiny model writes slowly enough that Ctrl-C lands mid-reply (the signal path is
    # the same at any speed).
    chat = start(sessions, home, "tiny", OS1_THREADS="1")
    name, model = chat.banner()
    assert model == "tiny"
    greeting = chat.prompt().lstrip("\n")
    assert greeting.startswith(f"{name}: ") and greeting[len(name) + 2:].strip(), greeting

    # A long request, interrupted as soon as the reply has started to stream; then the chat goes on: the
    # model answers again, and Ctrl-C works again.
    shown = interrupt_a_story(chat, name, "Please tell me a very long story about a dragon and a lighthouse, with many details.")
    interrupt_a_story(chat, name, "Now another long story, about a fox who sails around the world.")
    chat.child.sendeof()
    chat.finish()

    exchanges, _ = stored(home)
    assert exchanges[0].role == "assistant"  # the greeting
    turns = list(zip(exchanges[1::2], exchanges[2::2], strict=True))
    assert all(u.role == "user" and a.role == "assistant" for u, a in turns)
    dragon = [a for u, a in turns if u.text.startswith("Please tell me a very long story")]
    fox = [a for u, a in turns if u.text.startswith("Now another long story")]
    assert dragon and fox and len(turns) == len(dragon) + len(fox)
    # What was shown before Ctrl-C is kept, marked as cut short (the last try of each request is the one that
    # was stopped; earlier ones ended on their own and are stored whole).
    for partial in (dragon[-1].text, fox[-1].text):
        assert partial.endswith("…"), partial
    for whole in dragon[:-1] + fox[:-1]:
        assert not whole.text.endswith("…"), whole.text
    kept = dragon[-1].text.removesuffix("…").strip()
    assert kept and " ".join(kept.split()) in " ".join(shown.split()), (kept, shown)
