"""Who is due a journal entry: one query over everyone, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, insert

from os1.memory import SqlConversationStore
from os1.memory.store import ensure_user
from os1.persona.journal import Journal
from os1.persona.self import SelfStore, load_persona
from os1.storage import Database
from os1.storage.schema import journal

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


async def test_users_due_counts_only_messages_since_the_last_entry(db: Database) -> None:
    store = SqlConversationStore(db)
    ids: dict[str, list[int]] = {}
    for user, n in (("alice", 6), ("bob", 3), ("carol", 2), ("dave", 4)):
        for i in range(n):
            at = NOW + timedelta(minutes=i)
            ex = await store.add_exchange(user, "user", f"message {i}", at=at)
            await store.add_exchange(user, "assistant", "reply", at=at)
            ids.setdefault(user, []).append(ex.id)

    def entries(conn: Connection) -> None:
        # alice: an entry after her 3rd message (3 since); dave: two entries, the later after his 3rd (1 since).
        for user, after in (("alice", ids["alice"][2]), ("dave", ids["dave"][0]), ("dave", ids["dave"][2])):
            ensure_user(conn, user, NOW)
            conn.execute(insert(journal).values(user_id=user, text="entry", about_user="", about_self="",
                                                last_message_id=after, created_at=NOW.replace(tzinfo=None)))

    await db.write(entries)
    keeper = Journal(db, SelfStore(db, load_persona()))
    assert await keeper.users_due(3) == ["alice", "bob"]
    assert await keeper.users_due(2) == ["alice", "bob", "carol"]
    assert await keeper.users_due(1) == ["alice", "bob", "carol", "dave"]
    for user in ("alice", "bob", "carol", "dave"):  # the one-query answer agrees with the per-person check
        assert (user in await keeper.users_due(3)) == await keeper.due(user, 3)
