"""One reply at a time per user across app servers: two gates, as two servers, on one real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from os1.server.claims import ClusterClaims
from os1.server.gate import TurnGate, UserBusy

from ..conftest import postgres_database


@pytest.fixture
def pg() -> Iterator[Engine]:
    with postgres_database() as url:
        engine = create_engine(url)
        yield engine
        engine.dispose()


def two_servers(pg: Engine) -> tuple[TurnGate, TurnGate, ClusterClaims, ClusterClaims]:
    a, b = ClusterClaims(pg), ClusterClaims(pg)
    return TurnGate(max_turns=4, wait=1, claims=a), TurnGate(max_turns=4, wait=1, claims=b), a, b


async def test_a_users_turn_on_one_server_refuses_the_other_until_it_ends(pg: Engine) -> None:
    one, two, a, b = two_servers(pg)
    try:
        slot = await one.enter("ann")
        with pytest.raises(UserBusy) as refused:
            await two.enter("ann")
        assert refused.value.status == 429 and two.refused["user_busy"] == 1
        bob = await two.enter("bob")  # other people are not held up
        assert a.held() == 1 and b.held() == 1
        slot.release()
        again = await two.enter("ann")  # her first reply is over: any server may answer the next
        again.release()
        bob.release()
        assert a.held() == 0 and b.held() == 0 and one.in_progress == two.in_progress == 0
    finally:
        a.close()
        b.close()


async def test_a_server_that_dies_mid_turn_frees_its_users(pg: Engine) -> None:
    one, two, a, b = two_servers(pg)
    try:
        await one.enter("ann")
        with pytest.raises(UserBusy):
            await two.enter("ann")
        # The first server's process ends: PostgreSQL closes its session and its advisory locks go with it.
        with pg.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(pid) FROM pg_locks "
                               "WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"))
            admin.commit()
        for _ in range(50):
            try:
                slot = await two.enter("ann")
                break
            except UserBusy:
                await asyncio.sleep(0.05)
        else:
            pytest.fail("the dead server's claim was never freed")
        slot.release()
    finally:
        a.close()
        b.close()


async def test_concurrent_turns_for_one_user_get_exactly_one_claim(pg: Engine) -> None:
    gates = [TurnGate(max_turns=4, wait=1, claims=ClusterClaims(pg)) for _ in range(4)]
    try:
        results = await asyncio.gather(*(g.enter("ann") for g in gates), return_exceptions=True)
        won = [r for r in results if not isinstance(r, BaseException)]
        assert len(won) == 1 and sum(isinstance(r, UserBusy) for r in results) == 3
        won[0].release()  # type: ignore[union-attr]
    finally:
        for g in gates:
            assert g.claims is not None
            g.claims.close()


def test_claims_are_for_postgresql_only() -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        ClusterClaims(create_engine("sqlite://"))
