"""The `os1` command line as users' scripts run it: real processes, real SQLite files, real exit codes.

Most tests use the echo model, which replies with the exact prompt it received as JSON lines
({"role", "content"} per line): that shows what reached the model without parsing prose. Tests
marked `real` run llama.cpp with the tiny model. Each test has its own OS1_HOME under tmp_path.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from os1 import Exchange, Profile
from os1.memory import SqlConversationStore
from os1.storage import open_database

NOW = "2026-11-25T09:30:00-05:00"
USER = "local"  # OS1_USER's default
RESULT_KEYS = {"reply", "memories", "emotion", "safety", "companion_name", "user_exchange_id",
               "reply_exchange_id", "truncated_input", "actions", "model"}
MEMORY_KEYS = {"ref", "current", "id", "kind", "text", "source", "created_at", "score"}
RACHEL = "my sister Rachel lives in Ohio"


# Helpers ---------------------------------------------------------------------------------------------
@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> dict[str, Any]:
        """stdout as exactly one JSON object on one line."""
        lines = [line for line in self.out.splitlines() if line.strip()]
        assert len(lines) == 1, f"expected one JSON line on stdout, got {self.out!r} (stderr {self.err!r})"
        value = json.loads(lines[0])
        assert isinstance(value, dict)
        return value


def os1_env(home: Path, **extra: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS1_") or k == "OS1_MODELS_DIR"}
    env.update(OS1_HOME=str(home), OS1_NOW=NOW, COLUMNS="200", NO_COLOR="1", TERM="dumb")
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def os1(home: Path, *args: str | bytes, stdin: bytes | None = None, timeout: float = 300,
        **env: str | None) -> Run:
    """Run `python -m os1.cli ARGS` in its own process (cwd outside the repository)."""
    proc = subprocess.run(
        [sys.executable, "-m", "os1.cli", *args],
        input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True, env=os1_env(home, **env), cwd=home.parent, timeout=timeout,
    )
    run = Run(proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8", "replace"))
    assert "Traceback" not in run.err, f"os1 crashed:\n{run.err}"
    return run


def chat(home: Path, message: str, *args: str, **env: str | None) -> dict[str, Any]:
    """One echo turn with --json; must succeed."""
    run = os1(home, "chat", "--model", "echo", "--json", "--message", message, *args, **env)
    assert run.code == 0, f"exit {run.code}: {run.out} {run.err}"
    return run.json()


def prompt(reply: str) -> list[dict[str, str]]:
    """The messages the echo model received, parsed from its reply."""
    messages = [json.loads(line) for line in reply.splitlines()]
    for m in messages:
        assert set(m) == {"role", "content"}, m
        assert m["role"] in ("system", "user", "assistant")
    assert messages and messages[0]["role"] == "system"
    assert messages[-1]["role"] == "user"
    return messages


def system_of(result: dict[str, Any]) -> str:
    return prompt(result["reply"])[0]["content"]


def final_user(result: dict[str, Any]) -> str:
    """The last message of the prompt: this turn's notes block, then what the user said."""
    return prompt(result["reply"])[-1]["content"]


def history_of(result: dict[str, Any]) -> list[dict[str, str]]:
    """The past messages the prompt carried (neither the system prompt nor the final message)."""
    return prompt(result["reply"])[1:-1]


def said(message: dict[str, str]) -> str:
    """What the user typed, from a user message of the prompt (which may start with that turn's notes)."""
    return message["content"].rpartition("\n\n")[2]


def said_in_history(result: dict[str, Any]) -> list[str]:
    return [said(m) for m in history_of(result) if m["role"] == "user"]


def stored(home: Path) -> tuple[list[Exchange], Profile]:
    """What the data dir holds for the local user, read through OS1's own store."""
    db = open_database(f"sqlite:///{home / 'os1.db'}")
    try:
        store = SqlConversationStore(db)

        async def read() -> tuple[list[Exchange], Profile]:
            return await store.recent(USER, 10_000), await store.profile(USER)

        return asyncio.run(read())
    finally:
        db.close()


def error_of(run: Run, code: int, *types: str) -> dict[str, Any]:
    """The --json error object, checked for exit code and shape."""
    assert run.code == code, f"exit {run.code}, expected {code}: {run.out} {run.err}"
    body = run.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"type", "message", "hint"}, error
    assert isinstance(error["message"], str) and error["message"].strip()
    assert error["hint"] is None or (isinstance(error["hint"], str) and error["hint"].strip())
    if types:
        assert error["type"] in types, error
    return error


def table_rows(text: str) -> list[list[str]]:
    """The body rows of a rich table, with wrapped cells joined back together."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        if not line.startswith("│"):
            continue
        cells = [c.strip() for c in line.strip("│").split("│")]
        if rows and not any(cells[:2]):  # a continuation line of a wrapped row
            rows[-1] = [(a + " " + b).strip() for a, b in zip(rows[-1], cells, strict=True)]
        else:
            rows.append(cells)
    return rows


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


# One turn: the --json contract ----------------------------------------------------------------------
def test_json_result_has_the_documented_shape(home: Path) -> None:
    run = os1(home, "chat", "--message", "hello there", "--json", "--model", "echo")
    assert run.code == 0, run.err
    result = run.json()
    assert set(result) == RESULT_KEYS
    assert isinstance(result["reply"], str) and result["reply"]
    assert result["memories"] == []
    emotion = result["emotion"]
    assert {"label", "valence", "arousal", "scores"} <= set(emotion)
    assert isinstance(emotion["label"], str)
    assert -1.0 <= emotion["valence"] <= 1.0 and 0.0 <= emotion["arousal"] <= 1.0
    assert isinstance(emotion["scores"], dict)
    assert result["safety"] is None
    assert isinstance(result["companion_name"], str) and result["companion_name"].strip()
    assert isinstance(result["user_exchange_id"], int) and isinstance(result["reply_exchange_id"], int)
    assert result["reply_exchange_id"] > result["user_exchange_id"]
    assert result["truncated_input"] is False
    assert result["model"] == "echo"
    # Both sides of the turn were stored, under the ids reported.
    exchanges, _ = stored(home)
    assert [(e.id, e.role) for e in exchanges] == [(result["user_exchange_id"], "user"),
                                                   (result["reply_exchange_id"], "assistant")]
    assert exchanges[0].text == "hello there"
    assert exchanges[1].text == result["reply"]
    # The echo reply is the prompt: the user's words end its last message.
    assert final_user(result).endswith("\n\nhello there")


def test_plain_output_is_the_reply_alone(home: Path) -> None:
    run = os1(home, "chat", "--message", "hello there", "--model", "echo")
    assert run.code == 0, run.err
    assert run.out.endswith("\n")
    messages = prompt(run.out.rstrip("\n"))  # nothing but the reply on stdout
    assert messages[-1]["content"].endswith("hello there")
    exchanges, _ = stored(home)
    assert exchanges[-1].role == "assistant" and exchanges[-1].text == run.out.strip()


def test_message_dash_reads_raw_utf8_bytes_from_stdin(home: Path) -> None:
    text = "Grüße aus Köln ✓\nand a second line"
    run = os1(home, "chat", "--message", "-", "--json", "--model", "echo", stdin=text.encode("utf-8"))
    assert run.code == 0, run.err
    result = run.json()
    assert final_user(result).endswith("\n\n" + text)
    exchanges, _ = stored(home)
    assert exchanges[0].text == text


def test_model_is_chosen_by_env_and_the_flag_wins(home: Path) -> None:
    assert chat(home, "hi", OS1_MODEL="echo")["model"] == "echo"
    run = os1(home, "chat", "--message", "hi", "--json", "--model", "echo", OS1_MODEL="no-such-model")
    assert run.code == 0 and run.json()["model"] == "echo"
    run = os1(home, "chat", "--message", "hi", "--json", OS1_MODEL="no-such-model")
    error_of(run, 2, "ConfigError")


# Bad input: a clear error, exit 2, and nothing stored ------------------------------------------------
BAD_INPUTS = {
    "empty": (("--message", ""), None),
    "whitespace only": (("--message", "  \n\t  "), None),
    "control characters only": (("--message", "\x1b\x07\x08\x7f"), None),
    "1 MB on stdin": (("--message", "-"), b"a" * 1_048_576),
    "100 kB argument": (("--message", "b" * 100_000), None),
    "invalid UTF-8 on stdin": (("--message", "-"), b"hello \xff\xfe world"),
    "invalid UTF-8 argument": ((b"--message", b"caf\xe9 au lait"), None),
    "NUL bytes on stdin": (("--message", "-"), b"hello\x00world"),
}


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "plain"])
@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_refused_clearly_and_nothing_is_stored(home: Path, case: str, as_json: bool) -> None:
    args, stdin = BAD_INPUTS[case]
    run = os1(home, "chat", *args, *(["--json"] if as_json else []), "--model", "echo", stdin=stdin)
    if as_json:
        error_of(run, 2, "InputError")
        assert run.err == ""
    else:
        assert run.code == 2
        assert run.out == ""
        assert "error" in run.err.lower() and len(run.err.strip()) > 10
    exchanges, profile = stored(home)
    assert exchanges == []
    assert profile.stage == "new" and profile.user_name is None


def test_longest_message_is_accepted_and_one_more_character_is_not(home: Path) -> None:
    longest = "a" * 20_000
    run = os1(home, "chat", "--message", "-", "--json", "--model", "echo", stdin=longest.encode())
    assert run.code == 0, run.err
    result = run.json()
    # Too long for the prompt budget: cut in the prompt (and said so), stored whole.
    assert result["truncated_input"] is True
    assert len(final_user(result)) < 20_000
    exchanges, _ = stored(home)
    assert exchanges[0].text == longest
    run = os1(home, "chat", "--message", "-", "--json", "--model", "echo", stdin=longest.encode() + b"a")
    error_of(run, 2, "InputError")
    assert len(stored(home)[0]) == 2


def test_max_message_chars_is_configurable(home: Path) -> None:
    run = os1(home, "chat", "--message", "x" * 101, "--json", "--model", "echo", OS1_MAX_MESSAGE_CHARS="100")
    error_of(run, 2, "InputError")
    assert chat(home, "x" * 100, OS1_MAX_MESSAGE_CHARS="100")["truncated_input"] is False


def test_control_characters_are_stripped_and_the_message_accepted(home: Path) -> None:
    raw = "hi \x1b[31mred\x1b[0m there\x07 bell\ttab\r\nnext line\x08"
    result = chat(home, raw)
    (user, _reply), _ = stored(home)
    assert user.role == "user"
    assert not [ch for ch in user.text if unicodedata.category(ch) == "Cc" and ch not in "\n\t"]
    for word in ("hi", "red", "there", "bell", "tab", "next line"):
        assert word in user.text
    assert "\t" in user.text and "\n" in user.text
    assert final_user(result).endswith("\n\n" + user.text)


def test_ansi_escape_sequences_are_stripped_whole(home: Path) -> None:
    """Pasted coloured terminal output must not leave '[31m' debris in the conversation."""
    chat(home, "hi \x1b[31mred\x1b[0m there \x1b]0;title\x07done")
    (user, _reply), _ = stored(home)
    assert user.text == "hi red there done"


# Errors: exit codes and messages ---------------------------------------------------------------------
@pytest.mark.parametrize("as_json", [True, False], ids=["json", "plain"])
def test_unknown_model_is_a_config_error_with_a_hint(home: Path, as_json: bool) -> None:
    run = os1(home, "chat", "--message", "hi", "--model", "gpt-17", *(["--json"] if as_json else []))
    if as_json:
        error = error_of(run, 2, "ConfigError")
        assert "gpt-17" in error["message"] and error["hint"]
    else:
        assert run.code == 2 and run.out == ""
        assert "gpt-17" in run.err
    assert not (home / "os1.db").exists() or stored(home)[0] == []


def test_bad_setting_in_the_environment_is_a_config_error(home: Path) -> None:
    run = os1(home, "chat", "--message", "hi", "--model", "echo", OS1_HISTORY_TURNS="lots")
    assert run.code == 2 and run.out == ""
    assert "history_turns" in run.err.lower()


def test_bad_setting_with_json_gives_a_json_error(home: Path) -> None:
    """Scripts using --json read errors from stdout, whatever their cause."""
    run = os1(home, "chat", "--message", "hi", "--json", "--model", "echo", OS1_NOW="next tuesday")
    error = error_of(run, 2, "ConfigError")
    assert "now" in error["message"].lower()


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "plain"])
def test_unreachable_model_server_is_a_model_error(home: Path, as_json: bool) -> None:
    run = os1(home, "chat", "--message", "hi", "--model", "openai:x@http://127.0.0.1:9",
              *(["--json"] if as_json else []))
    if as_json:
        error = error_of(run, 3)
        assert error["hint"], error
    else:
        assert run.code == 3 and run.out.strip() == ""
        assert "127.0.0.1:9" in run.err


def test_missing_gguf_file_is_a_model_error(home: Path, tmp_path: Path) -> None:
    run = os1(home, "chat", "--message", "hi", "--json", "--model", f"gguf:{tmp_path / 'missing.gguf'}")
    error = error_of(run, 3)
    assert "missing.gguf" in error["message"]


def test_default_model_not_assembled_is_a_model_error_with_a_hint(home: Path, tmp_path: Path) -> None:
    empty = tmp_path / "no-models"
    empty.mkdir()
    run = os1(home, "chat", "--message", "hi", "--json", "--model", "default", OS1_MODELS_DIR=str(empty))
    error = error_of(run, 3)
    assert error["hint"]


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "plain"])
def test_unreadable_database_is_a_store_error_and_is_left_alone(home: Path, as_json: bool) -> None:
    home.mkdir()
    db = home / "os1.db"
    db.write_bytes(b"this is not a database, but it is somebody's file\n" * 10)
    before = db.read_bytes()
    run = os1(home, "chat", "--message", "hi", "--model", "echo", *(["--json"] if as_json else []))
    if as_json:
        error_of(run, 4, "StoreError")
    else:
        assert run.code == 4 and run.out == "" and run.err.strip()
    assert db.read_bytes() == before


def test_data_dir_that_is_a_file_is_a_clear_error(home: Path) -> None:
    home.write_text("not a directory")
    run = os1(home, "chat", "--message", "hi", "--json", "--model", "echo")
    assert run.code in (2, 4), f"exit {run.code}: {run.out} {run.err}"
    error_of(run, run.code)


# Safety ----------------------------------------------------------------------------------------------
def test_crisis_message_carries_a_safety_notice(home: Path) -> None:
    result = chat(home, "I keep thinking about ending my life")
    safety = result["safety"]
    assert set(safety) == {"level", "message", "resources"}
    assert safety["level"] == "crisis"
    assert isinstance(safety["message"], str) and safety["message"]
    assert safety["resources"] and all(isinstance(r, str) and r for r in safety["resources"])
    # Without --json the notice goes to stderr, the reply alone to stdout.
    run = os1(home, "chat", "--message", "I keep thinking about ending my life", "--model", "echo")
    assert run.code == 0
    assert safety["message"] in run.err
    assert safety["message"] not in run.out
    for resource in safety["resources"]:
        assert resource in run.err
    # stdout is the reply alone: here the echo model's JSON lines (the crisis lines reach the model's
    # prompt too, so they may appear inside it, but nothing else is printed there).
    assert all(json.loads(line)["role"] in ("system", "user", "assistant") for line in run.out.splitlines() if line.strip())


def test_worry_about_someone_else_is_a_concern(home: Path) -> None:
    result = chat(home, "my brother said he wants to die and I don't know what to do")
    assert result["safety"]["level"] == "concern"
    assert chat(home, "I had a lovely walk by the river")["safety"] is None


def test_crisis_message_is_answered_even_when_the_model_server_is_down(home: Path) -> None:
    """The companion falls back to a reviewed crisis reply when the model fails; the CLI must let it."""
    run = os1(home, "chat", "--message", "I want to kill myself", "--json", "--model", "openai:x@http://127.0.0.1:9")
    assert run.code == 0, f"exit {run.code}: {run.out} {run.err}"
    result = run.json()
    assert result["safety"]["level"] == "crisis"
    assert result["reply"].strip()
    exchanges, _ = stored(home)
    assert [e.role for e in exchanges] == ["user", "assistant"]


# Persistence across processes ------------------------------------------------------------------------
def test_a_fact_reaches_the_next_run_through_history(home: Path) -> None:
    chat(home, RACHEL)
    result = chat(home, "Where does Rachel live these days?")
    assert RACHEL in said_in_history(result)
    # It is in the window already, so it is not recalled a second time.
    assert RACHEL not in [m["text"] for m in result["memories"]]


def test_a_fact_is_recalled_once_the_history_window_has_moved_on(home: Path) -> None:
    said_at = "2026-11-20T18:05:00-05:00"
    chat(home, RACHEL, OS1_HISTORY_TURNS="2", OS1_NOW=said_at)
    chat(home, "I had pasta for lunch", OS1_HISTORY_TURNS="2", OS1_NOW="2026-11-21T12:00:00-05:00")
    chat(home, "we watched a film tonight", OS1_HISTORY_TURNS="2", OS1_NOW="2026-11-22T21:00:00-05:00")
    result = chat(home, "How is Rachel doing?", OS1_HISTORY_TURNS="2")
    history = said_in_history(result)
    assert RACHEL not in history
    assert "we watched a film tonight" in history, "the window still carries the latest messages"
    memories = result["memories"]
    assert memories and all(set(m) == MEMORY_KEYS for m in memories)
    fact = next((m for m in memories if m["text"] == RACHEL), None)
    assert fact is not None, memories
    assert fact["kind"] in ("exchange", "fact")
    assert isinstance(fact["id"], int) and isinstance(fact["score"], float)
    assert isinstance(fact["source"], str) and fact["source"]
    assert datetime.fromisoformat(fact["created_at"]) == datetime.fromisoformat(said_at)
    # The recalled fact reached the model in this turn's notes, before the user's words.
    notes, _, said = final_user(result).rpartition("\n\n")
    assert said == "How is Rachel doing?"
    assert RACHEL in notes


def test_companion_name_is_chosen_once_and_kept(home: Path) -> None:
    first = chat(home, "hello")
    name = first["companion_name"]
    assert name and name in system_of(first)
    second = chat(home, "hello again", OS1_NOW="2026-12-01T20:00:00-05:00")
    assert second["companion_name"] == name
    assert name in system_of(second)
    _, profile = stored(home)
    assert profile.companion_name == name


def test_companion_name_comes_from_persona_toml_in_the_data_dir(home: Path) -> None:
    home.mkdir()
    (home / "persona.toml").write_text('names = ["Zephyrine"]\n', "utf-8")
    result = chat(home, "hello")
    assert result["companion_name"] == "Zephyrine"
    assert "Zephyrine" in system_of(result)


def test_rename_changes_the_name_in_later_prompts(home: Path) -> None:
    old = chat(home, "hello")["companion_name"]
    run = os1(home, "rename", "Bartholomew")
    assert run.code == 0, run.err
    assert "Bartholomew" in run.out
    result = chat(home, "who are you now?")
    assert result["companion_name"] == "Bartholomew"
    assert "Bartholomew" in system_of(result) and old not in system_of(result)
    run = os1(home, "rename", " \x1b ")
    assert run.code == 2 and run.err.strip()
    assert stored(home)[1].companion_name == "Bartholomew"


def test_first_meeting_asks_the_name_and_remembers_it(home: Path) -> None:
    first = chat(home, "hello")
    name = first["companion_name"]
    assert "You are talking with" not in system_of(first)
    # The first turn's notes tell the model its self-chosen name, to introduce itself with.
    assert name in final_user(first).rpartition("\n\n")[0]
    second = chat(home, "I'm Theo")
    assert "You are talking with Theo" in system_of(second)
    assert "Theo" in final_user(second).rpartition("\n\n")[0]
    _, profile = stored(home)
    assert profile.user_name == "Theo"
    # Later runs know it without being told again; the introduction is over.
    third = chat(home, "what a day", OS1_NOW="2026-11-26T19:00:00-05:00")
    assert "You are talking with Theo" in system_of(third)
    assert name not in final_user(third).rpartition("\n\n")[0]
    assert third["companion_name"] == name


def test_name_given_in_the_very_first_message_is_used_at_once(home: Path) -> None:
    first = chat(home, "Hi! I'm Theo.")
    assert "You are talking with Theo" in system_of(first)
    assert first["companion_name"] in final_user(first).rpartition("\n\n")[0]
    assert stored(home)[1].user_name == "Theo"


def test_os1_now_sets_the_date_in_the_local_time_zone(home: Path) -> None:
    assert "Today is Wednesday 25 November 2026" in system_of(chat(home, "hello"))
    # 23:30 in New York is already the 15th in UTC: the date must stay the user's.
    late = chat(home, "still up", OS1_NOW="2027-02-14T23:30:00-05:00")
    assert "Today is Sunday 14 February 2027" in system_of(late)
    assert "23:30" in final_user(late)


# models / doctor -------------------------------------------------------------------------------------
def test_models_lists_every_kind_with_readiness(home: Path, tmp_path: Path) -> None:
    empty = tmp_path / "no-models"
    empty.mkdir()
    run = os1(home, "models", OS1_MODELS_DIR=str(empty), OS1_MODEL="tiny")
    assert run.code == 0, run.err
    ready = {row[0]: row[1] for row in table_rows(run.out)}
    assert len(ready) == 4, ready
    assert ready["default"] == "no"
    assert ready["tiny *"] == "yes" and ready["echo"] == "yes"  # * marks the one in use
    openai = [name for name in ready if name.startswith("openai:")]
    assert len(openai) == 1 and ready[openai[0]] == "yes"


def test_models_shows_the_openai_spec_verbatim(home: Path) -> None:
    """`openai:NAME[@URL]` tells people the syntax; rich markup must not eat the `[@URL]` part."""
    run = os1(home, "models")
    assert run.code == 0, run.err
    assert "openai:NAME[@URL]" in [row[0] for row in table_rows(run.out)]


@pytest.mark.default_model
def test_models_shows_the_assembled_default_model_ready(home: Path) -> None:
    from tests.conftest import default_models_dir

    models = default_models_dir()
    if not (models / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf").is_file():
        pytest.skip(f"the default model is not assembled in {models} (run `make model`)")
    run = os1(home, "models", OS1_MODELS_DIR=str(models))
    assert run.code == 0, run.err
    ready = {row[0]: row[1] for row in table_rows(run.out)}
    assert ready["default *"] == "yes"


def test_doctor_passes_with_the_echo_model(home: Path) -> None:
    run = os1(home, "doctor", "--model", "echo")
    assert run.code == 0, run.out + run.err
    rows = table_rows(run.out)
    assert rows and all(row[0] == "✓" for row in rows), rows
    assert {"data dir", "database", "model", "embeddings"} <= {row[1] for row in rows}


@pytest.mark.parametrize("spec", ["openai:x@http://127.0.0.1:9", "gpt-17"])
def test_doctor_fails_the_model_check_with_a_hint(home: Path, spec: str) -> None:
    run = os1(home, "doctor", OS1_MODEL=spec)
    assert run.code == 1, run.out + run.err
    failed = [row for row in table_rows(run.out) if row[0] == "✗"]
    assert failed, run.out
    assert all(row[1].startswith("model") and row[3] for row in failed), failed
    ok = {row[1] for row in table_rows(run.out) if row[0] == "✓"}
    assert {"data dir", "database"} <= ok


# The tiny model through llama.cpp --------------------------------------------------------------------
@pytest.mark.real
def test_tiny_model_answers_one_turn(home: Path) -> None:
    run = os1(home, "chat", "--message", "Hi! What is your favourite colour?", "--json", "--model", "tiny")
    assert run.code == 0, run.err
    result = run.json()
    assert set(result) == RESULT_KEYS
    assert result["model"] == "tiny"
    assert result["reply"].strip()
    exchanges, _ = stored(home)
    assert [e.role for e in exchanges] == ["user", "assistant"]
    assert exchanges[1].text == result["reply"]


@pytest.mark.real
def test_doctor_loads_the_tiny_model(home: Path) -> None:
    run = os1(home, "doctor", "--model", "tiny", "--load")
    assert run.code == 0, run.out + run.err
    rows = table_rows(run.out)
    assert all(row[0] == "✓" for row in rows), rows
    assert len([row for row in rows if row[1].startswith("model")]) == 2  # built, then answered
