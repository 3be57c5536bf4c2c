"""Pending actions, accounts and their secrets, letters and suggestions: over SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from os1 import FakeClock
from os1.errors import ConfigError, InputError
from os1.storage import Database
from os1.tools import Actions, FileSecrets, KeyringSecrets
from os1.tools.accounts import Accounts
from os1.tools.credentials import MemorySecrets, secrets_for
from os1.tools.letters.store import Letters, Proposed
from os1.tools.tables import tool_accounts


async def test_a_yes_runs_an_action_once_however_often_it_is_given(db: Database, clock: FakeClock) -> None:
    actions = Actions(db)
    now = clock.now()
    a = await actions.propose("u", tool="mail_reply", risk="send", summary="Send to x", payload={"to": ["x@y"]},
                              warnings=["look twice"], requested="reply to x", now=now)
    assert a.status == "pending" and a.payload == {"to": ["x@y"]} and a.warnings == ("look twice",)
    # Two confirmations at once (two tabs): exactly one claims it.
    results = await asyncio.gather(actions.claim("u", a.id, now), actions.claim("u", a.id, now), return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert any(isinstance(r, InputError) and "running" in r.message for r in results)
    done = await actions.finish(a.id, "done", "sent", now)
    assert done.status == "done" and done.result == "sent"
    with pytest.raises(InputError, match="done"):
        await actions.claim("u", a.id, now)


async def test_actions_expire_and_belong_to_their_user(db: Database, clock: FakeClock) -> None:
    actions = Actions(db)
    now = clock.now()
    a = await actions.propose("u", tool="mail_delete", risk="delete", summary="Trash it", payload={}, warnings=[],
                              requested=None, now=now)
    with pytest.raises(InputError, match="no action"):
        await actions.claim("someone-else", a.id, now)
    later = now + timedelta(hours=25)
    with pytest.raises(InputError, match="expired"):
        await actions.claim("u", a.id, later)
    assert await actions.list("u", now=later) == []
    assert [x.status for x in await actions.list("u", now=later, status=None)] == ["expired"]


async def test_decline_only_a_pending_action(db: Database, clock: FakeClock) -> None:
    actions = Actions(db)
    a = await actions.propose("u", tool="t", risk="send", summary="s", payload={}, warnings=[], requested=None, now=clock.now())
    assert (await actions.decline("u", a.id, clock.now())).status == "declined"
    with pytest.raises(InputError, match="declined"):
        await actions.decline("u", a.id, clock.now())


# Accounts and secrets ------------------------------------------------------------------------------------
async def test_account_password_lives_in_the_secret_store_never_the_database(db: Database, clock: FakeClock) -> None:
    store = MemorySecrets()
    accounts = Accounts(db, lambda: store)
    a = await accounts.add("u", "mail", "home", {"address": "t@x.test", "imap_host": "h"}, secret="hunter2-pw", now=clock.now())
    rows = await db.read(lambda c: [dict(r._mapping) for r in c.execute(select(tool_accounts)).all()])
    assert "hunter2-pw" not in json.dumps(rows, default=str)
    assert "hunter2-pw" not in repr(a) and "hunter2-pw" not in json.dumps(a.as_dict())
    assert a.as_dict()["has_password"] is True
    assert accounts.secret(a) == "hunter2-pw"
    with pytest.raises(InputError, match="already"):
        await accounts.add("u", "mail", "home", {}, secret="x", now=clock.now())
    await accounts.remove("u", "home")
    assert store.get(a.secret_ref or "") is None  # the password goes with the account


async def test_settings_that_look_like_secrets_are_refused(db: Database, clock: FakeClock) -> None:
    accounts = Accounts(db, MemorySecrets)
    with pytest.raises(InputError, match="secrets"):
        await accounts.add("u", "mail", "x", {"password": "oops"}, secret=None, now=clock.now())


def test_file_secrets_are_encrypted_and_survive_a_reopen(tmp_path: Path) -> None:
    s = FileSecrets(tmp_path)
    s.set("a", "pässword-1")
    raw = (tmp_path / "secrets.enc").read_bytes()
    assert b"password" not in raw and "pässword".encode() not in raw
    assert (tmp_path / "secrets.key").stat().st_mode & 0o777 == 0o600
    assert FileSecrets(tmp_path).get("a") == "pässword-1"
    s.delete("a")
    assert FileSecrets(tmp_path).get("a") is None


def test_file_secrets_with_a_passphrase_need_it(tmp_path: Path) -> None:
    FileSecrets(tmp_path, passphrase="correct horse").set("a", "b")
    assert not (tmp_path / "secrets.key").exists()
    assert FileSecrets(tmp_path, passphrase="correct horse").get("a") == "b"
    with pytest.raises(ConfigError, match="decrypt"):
        FileSecrets(tmp_path, passphrase="wrong").get("a")


def test_keyring_secrets_go_through_the_keyring_library() -> None:
    import keyring.backend

    class Mem(keyring.backend.KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            self.items: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.items.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.items[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            import keyring.errors

            if self.items.pop((service, username), None) is None:
                raise keyring.errors.PasswordDeleteError(username)

    backend = Mem()
    s = KeyringSecrets(backend)
    s.set("u/mail/1", "pw")
    assert backend.items == {("os1", "u/mail/1"): "pw"} and s.get("u/mail/1") == "pw"
    s.delete("u/mail/1")
    s.delete("u/mail/1")  # deleting twice is fine
    assert s.get("u/mail/1") is None


def test_unknown_secret_store_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        secrets_for(tmp_path, "vault")


# Letters -------------------------------------------------------------------------------------------------
async def test_accepting_a_suggestion_applies_it_and_shifts_the_others(db: Database, clock: FakeClock) -> None:
    letters = Letters(db)
    now = clock.now()
    body = "Dear Sam, thank you for the the dinner. i loved it."
    letter = await letters.create("u", title="Thanks", body=body, recipient="Sam", now=now)
    s1 = Proposed(body.index("the the"), body.index("the the") + 7, "the the", "the", "twice", "grammar")
    s2 = Proposed(body.index(" i ") + 1, body.index(" i ") + 2, "i", "I", "capital", "grammar")
    stored = await letters.suggest("u", letter.id, [s1, s2], now)
    assert [s.status for s in stored] == ["open", "open"]
    updated, first = await letters.decide("u", letter.id, stored[0].id, accept=True, now=now)
    assert updated.body == "Dear Sam, thank you for the dinner. i loved it." and first.status == "accepted"
    second = (await letters.suggestions("u", letter.id))[0]
    assert updated.body[second.start:second.end] == "i"  # shifted by the first edit
    updated, s = await letters.decide("u", letter.id, second.id, accept=False, now=now)
    assert s.status == "rejected" and updated.body.endswith("i loved it.")
    with pytest.raises(InputError, match="rejected"):
        await letters.decide("u", letter.id, second.id, accept=True, now=now)


async def test_editing_the_text_makes_open_suggestions_stale(db: Database, clock: FakeClock) -> None:
    letters = Letters(db)
    letter = await letters.create("u", title="T", body="hello  world", recipient=None, now=clock.now())
    await letters.suggest("u", letter.id, [Proposed(5, 7, "  ", " ", "two spaces")], clock.now())
    await letters.update("u", letter.id, now=clock.now(), body="Hello world")
    assert await letters.suggestions("u", letter.id) == []
    assert [s.status for s in await letters.suggestions("u", letter.id, status=None)] == ["stale"]


async def test_a_suggestion_must_point_at_its_text(db: Database, clock: FakeClock) -> None:
    letters = Letters(db)
    letter = await letters.create("u", title="T", body="abc", recipient=None, now=clock.now())
    with pytest.raises(ValueError):
        await letters.suggest("u", letter.id, [Proposed(0, 2, "xy", "z", "r")], clock.now())


async def test_letters_are_per_user(db: Database, clock: FakeClock) -> None:
    letters = Letters(db)
    letter = await letters.create("u", title="T", body="b", recipient=None, now=clock.now())
    with pytest.raises(InputError):
        await letters.get("v", letter.id)
    assert await letters.list("v") == []


