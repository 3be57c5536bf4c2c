"""Every table that holds a user's data, found by walking the database itself.

Export and delete must cover tables that other parts of OS1 add later (reminders, safety events,
accounts…) without being told about them. So the tables are reflected from the live database: a table
is per-user when it has a `user_id` column, or a foreign key into a per-user table (e.g.
`reflection_sources` -> `reflections`). Full-text indexes (SQLite FTS5 virtual tables and their
shadow tables) are indexes, not data; `embeddings` is data derived from the text (rebuilt from it).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, ColumnElement, Connection, MetaData, Select, Table, select, text

from ..types import UserId

SKIP = frozenset({"alembic_version"})
DERIVED = frozenset({"embeddings"})
"""Tables computed from the others: deleted with the user, left out of an export."""
CREDENTIALS = frozenset({"accounts", "auth_sessions", "api_tokens"})
"""Password and token hashes: deleted with the user, never written into an export (a zip is easily shared)."""


@dataclass(frozen=True, slots=True)
class UserTable:
    """A table holding per-user rows, and how to select one user's rows from it."""

    table: Table
    via: tuple[Column[object], UserTable] | None = None
    """None when the table has `user_id` (or is `users`); else (its foreign key, the per-user table it points to)."""

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def derived(self) -> bool:
        """Left out of an export: derived from the other tables, or sign-in secrets."""
        return self.name in DERIVED or self.name in CREDENTIALS

    def rows(self, user_id: UserId) -> Select[tuple[object, ...]]:
        """SELECT of this user's rows, in primary-key order."""
        q = select(self.table).where(self.condition(user_id))
        pk = list(self.table.primary_key.columns)
        return q.order_by(*pk) if pk else q

    def condition(self, user_id: UserId) -> ColumnElement[bool]:
        if self.name == "users":
            return self.table.c.id == user_id
        if self.via is None:
            return self.table.c.user_id == user_id
        column, parent = self.via
        target = next(iter(column.foreign_keys)).column
        return column.in_(select(parent.table.c[target.name]).where(parent.condition(user_id)))


def _index_tables(conn: Connection) -> set[str]:
    """FTS virtual tables and their shadow tables (SQLite); nothing elsewhere."""
    if conn.dialect.name != "sqlite":
        return set()
    rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all()
    virtual = {r.name for r in rows if (r.sql or "").upper().startswith("CREATE VIRTUAL TABLE")}
    return {r.name for r in rows if r.name in virtual or any(r.name.startswith(v + "_") for v in virtual)}


def fts_tables(conn: Connection) -> list[tuple[str, str | None]]:
    """SQLite FTS5 tables as (name, external content table or None when the index holds its own text)."""
    if conn.dialect.name != "sqlite":
        return []
    found = []
    for r in conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'")):
        sql = str(r.sql)
        if "fts5" not in sql.lower():
            continue
        content = None
        low = sql.replace('"', "'").replace(" ", "").lower()
        if "content='" in low:
            content = low.split("content='", 1)[1].split("'", 1)[0] or None
        found.append((str(r.name), content))
    return found


def user_tables(conn: Connection) -> list[UserTable]:
    """Every per-user table in the database, parents before children (delete them in reverse)."""
    skip = SKIP | _index_tables(conn)
    meta = MetaData()
    meta.reflect(conn, only=lambda name, _m: name not in skip and not name.startswith("sqlite_"))
    found: dict[str, UserTable] = {}
    for table in meta.sorted_tables:
        if table.name == "users" or "user_id" in table.c:
            found[table.name] = UserTable(table)
            continue
        for column in table.c:
            parent = next((found[fk.column.table.name] for fk in column.foreign_keys if fk.column.table.name in found), None)
            if parent is not None:
                found[table.name] = UserTable(table, (column, parent))
                break
    return list(found.values())
