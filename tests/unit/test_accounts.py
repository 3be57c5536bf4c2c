"""Accounts on SQLite and PostgreSQL: argon2id passwords (verify, rehash), sessions (expiry, sign-out), API tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from os1 import FakeClock
from os1.accounts import Accounts, Passwords
from os1.accounts.tables import accounts as accounts_table
from os1.accounts.tables import api_tokens, sessions
from os1.errors import InputError
from os1.memory import SqlConversationStore
from os1.storage import Database

# Cheap parameters keep the suite fast; one test below checks the real defaults.
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def accounts(db: Database, fake_clock: FakeClock) -> Accounts:
    return Accounts(db, clock=fake_clock, passwords=Passwords(FAST), session_ttl=timedelta(days=1))


async def test_a_password_signs_in_and_a_wrong_one_does_not(accounts: Accounts, db: Database) -> None:
    made = await accounts.create("Ada", "correct horse battery", admin=True)
    assert made.username == "Ada" and made.admin and made.id != "local"
    assert (await accounts.authenticate("ada", "correct horse battery")) == await accounts.by_id(made.id)
    assert await accounts.authenticate("Ada", "correct horse batterY") is None
    assert await accounts.authenticate("nobody", "correct horse battery") is None
    stored = await db.read(lambda c: c.execute(select(accounts_table.c.password_hash)).scalar_one())
    assert stored.startswith("$argon2id$") and "correct horse" not in stored


async def test_usernames_are_unique_whatever_the_case_and_passwords_have_a_minimum(accounts: Accounts) -> None:
    await accounts.create("ada", "a long password")
    with pytest.raises(InputError, match="taken"):
        await accounts.create("ADA", "another long one")
    with pytest.raises(InputError, match="too short"):
        await accounts.create("bob", "short")
    with pytest.raises(InputError, match="username"):
        await accounts.create("no spaces please", "a long password")
    assert [a.username for a in await accounts.list()] == ["ada"]


async def test_a_token_only_account_never_signs_in_with_a_password(accounts: Accounts) -> None:
    bench = await accounts.create("bench", None)
    assert not bench.has_password
    assert await accounts.authenticate("bench", "") is None
    assert await accounts.authenticate("bench", "anything at all") is None
    token = await accounts.issue_token(bench.id, "load test")
    assert (await accounts.by_token(token)) == await accounts.by_id(bench.id)


async def test_a_hash_made_with_old_parameters_is_replaced_at_the_next_sign_in(db: Database, fake_clock: FakeClock) -> None:
    old = Accounts(db, clock=fake_clock, passwords=Passwords(FAST))
    await old.create("ada", "a long password")
    before = await db.read(lambda c: c.execute(select(accounts_table.c.password_hash)).scalar_one())
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    new = Accounts(db, clock=fake_clock, passwords=Passwords(stronger))
    assert await new.authenticate("ada", "a long password") is not None
    after = await db.read(lambda c: c.execute(select(accounts_table.c.password_hash)).scalar_one())
    assert after != before and not stronger.check_needs_rehash(after)
    assert await new.authenticate("ada", "a long password") is not None
    assert await new.authenticate("ada", "a wrong password") is None


def test_the_default_hasher_is_argon2id_with_rfc_9106_low_memory_parameters() -> None:
    stored = Passwords().hash("a long password")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert Passwords().verify(stored, "a long password") == (True, False)
    assert Passwords().verify(stored, "a long passworD") == (False, False)


async def test_a_session_expires_and_ends_at_sign_out(accounts: Accounts, fake_clock: FakeClock, db: Database) -> None:
    ada = await accounts.create("ada", "a long password")
    first, second = await accounts.start_session(ada.id), await accounts.start_session(ada.id)
    signed = await accounts.by_session(first.token)
    assert signed is not None and signed.account.id == ada.id and signed.csrf_hash != first.csrf
    stored = await db.read(lambda c: c.execute(select(sessions.c.token_hash)).scalars().all())
    assert first.token not in stored and second.token not in stored  # only hashes are kept
    await accounts.end_session(first.token)
    assert await accounts.by_session(first.token) is None
    assert await accounts.by_session(second.token) is not None
    fake_clock.advance(timedelta(days=1, seconds=1))
    assert await accounts.by_session(second.token) is None
    assert await accounts.by_session("made-up") is None


async def test_a_new_password_or_disabling_ends_every_session(accounts: Accounts) -> None:
    ada = await accounts.create("ada", "a long password")
    s1 = await accounts.start_session(ada.id)
    await accounts.set_password("ada", "another long password")
    assert await accounts.by_session(s1.token) is None
    assert await accounts.authenticate("ada", "a long password") is None
    assert await accounts.authenticate("ada", "another long password") is not None
    s2 = await accounts.start_session(ada.id)
    token = await accounts.issue_token(ada.id, "phone")
    await accounts.set_flags("ada", disabled=True)
    assert await accounts.by_session(s2.token) is None
    assert await accounts.by_token(token) is None
    assert await accounts.authenticate("ada", "another long password") is None


async def test_tokens_are_listed_without_their_secret_and_revoked_only_by_their_owner(
        accounts: Accounts, fake_clock: FakeClock, db: Database) -> None:
    ada, bob = await accounts.create("ada", "a long password"), await accounts.create("bob", None)
    token = await accounts.issue_token(ada.id, "phone")
    assert token.startswith("os1_") and len(token) > 40
    [info] = await accounts.tokens(ada.id)
    assert info.label == "phone" and token.startswith(info.prefix) and info.last_used_at is None
    assert token not in str(info.as_dict())
    assert token not in await db.read(lambda c: c.execute(select(api_tokens.c.token_hash)).scalars().all())
    fake_clock.advance(timedelta(minutes=5))
    assert (await accounts.by_token(token)) is not None
    [info] = await accounts.tokens(ada.id)
    assert info.last_used_at == fake_clock.now().astimezone(UTC).replace(tzinfo=None)
    assert await accounts.tokens(bob.id) == []
    with pytest.raises(InputError):
        await accounts.revoke_token(bob.id, info.id)
    assert await accounts.by_token(token) is not None
    await accounts.revoke_token(ada.id, info.id)
    assert await accounts.by_token(token) is None
    with pytest.raises(InputError, match="label"):
        await accounts.issue_token(ada.id, "  ")
    with pytest.raises(InputError, match="no account"):
        await accounts.issue_token("local", "x")


async def test_removing_an_account_removes_its_data_unless_kept(accounts: Accounts, db: Database) -> None:
    store = SqlConversationStore(db)
    ada, bob = await accounts.create("ada", "a long password"), await accounts.create("bob", "a long password")
    for user in (ada.id, bob.id):
        await store.add_exchange(user, "user", f"hello from {user}", at=START)
    token = await accounts.issue_token(bob.id, "phone")
    await accounts.remove("bob", keep_data=True)
    assert await accounts.get("bob") is None and await accounts.by_token(token) is None
    assert await store.count(bob.id) == 1  # the data stayed
    await accounts.remove("ada")
    assert await store.count(ada.id) == 0
    with pytest.raises(InputError):
        await accounts.remove("ada")


async def test_the_first_account_can_adopt_the_single_user_data(accounts: Accounts, db: Database) -> None:
    store = SqlConversationStore(db)
    await store.add_exchange("local", "user", "what I said before accounts existed", at=START)
    assert not await accounts.exists()
    ada = await accounts.create("ada", "a long password", admin=True, user_id="local")
    assert ada.id == "local" and await accounts.exists()
    assert [e.text for e in await store.recent(ada.id, 5)] == ["what I said before accounts existed"]
    with pytest.raises(InputError, match="already has an account"):
        await accounts.create("eve", "a long password", user_id="local")


async def test_an_export_never_holds_the_password_or_token_hashes(accounts: Accounts, db: Database,
                                                                    fake_clock: FakeClock, tmp_path: Path) -> None:
    from os1.data import export_to_dir

    dana = await accounts.create("dana", "correct horse battery")
    token = await accounts.issue_token(dana.id, "laptop")
    await accounts.authenticate("dana", "correct horse battery")
    report = export_to_dir(db, dana.id, tmp_path / "out", zone=fake_clock.now().tzinfo or UTC, now=fake_clock.now())
    assert {"accounts", "api_tokens"} <= set(report.derived)
    everything = "".join(p.read_text("utf-8") for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert "argon2" not in everything and token not in everything
    assert "users" in report.tables  # the user's own row is still exported
