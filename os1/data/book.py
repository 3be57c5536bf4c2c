"""The memory book: a readable Markdown account of your time together, written with every export.

It is made from the same per-user tables as the JSON (os1.data.tables), in one read snapshot: what
OS1 knows about you, the people in your life, its reflections and journal, your moods day by day, who
it became, every conversation, and a plain listing of any other table (reminders, accounts…).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, tzinfo
from typing import IO, Any

from sqlalchemy import Connection

from ..types import UserId
from .tables import UserTable

Row = Mapping[str, Any]
# Tables with a section of their own; every other per-user table is listed under "Everything else".
DESCRIBED = frozenset({"users", "profiles", "messages", "facts", "people", "reflections", "reflection_sources",
                       "journal", "self_state", "beliefs", "belief_changes"})


def _local(value: Any, zone: tzinfo) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone)


def _day(value: Any, zone: tzinfo) -> str:
    when = _local(value, zone)
    return when.strftime("%A %-d %B %Y") if when else "an unknown day"


def _short(value: Any, zone: tzinfo) -> str:
    when = _local(value, zone)
    return when.strftime("%-d %b %Y") if when else "?"


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in str(text).splitlines() or [""])


def _emotion(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


class BookWriter:
    """Writes the book for one user from one open connection (a consistent snapshot)."""

    def __init__(self, conn: Connection, tables: list[UserTable], user_id: UserId, *, zone: tzinfo, now: datetime) -> None:
        self.conn, self.user_id, self.zone, self.now = conn, user_id, zone, now
        self.tables = {t.name: t for t in tables}

    def rows(self, name: str) -> Iterator[Row]:
        table = self.tables.get(name)
        if table is None:
            return iter(())
        return (dict(r._mapping) for r in self.conn.execute(table.rows(self.user_id)))

    def write(self, out: IO[str]) -> None:
        profile = next(self.rows("profiles"), None)
        me = profile.get("companion_name") if profile else None
        you = profile.get("user_name") if profile else None
        self.me = str(me or "OS1")
        first = last = None
        count = 0
        for m in self.rows("messages"):
            first = first or m["created_at"]
            last, count = m["created_at"], count + 1
        out.write(f"# A memory book: {self.me} and {you or 'you'}\n\n")
        if first is not None:
            out.write(f"*From {_day(first, self.zone)} to {_day(last, self.zone)}: {count:,} messages.*\n\n")
        out.write(f"Written {self.now.astimezone(self.zone).strftime('%-d %B %Y at %H:%M')}, with everything OS1 kept. "
                  "The same data, complete and machine-readable, is in `tables/`.\n\n")
        for section in (self._facts, self._people, self._reflections, self._journal, self._moods, self._self,
                        self._conversations, self._everything_else):
            section(out)

    def _facts(self, out: IO[str]) -> None:
        current: dict[str, list[str]] = defaultdict(list)
        past: list[str] = []
        for f in self.rows("facts"):
            if f.get("valid_to") is None and f.get("superseded_by") is None:
                when = f" (on {_short(f['event_at'], self.zone)})" if f.get("event_at") else ""
                current[str(f["kind"])].append(f"- {f['text']}{when}")
            else:
                past.append(f"- {f['text']} (until {_short(f.get('valid_to'), self.zone)})")
        if not current and not past:
            return
        out.write("## What I know about you\n\n")
        for kind in sorted(current):
            out.write(f"**{kind.replace('_', ' ').capitalize()}**\n\n" + "\n".join(current[kind]) + "\n\n")
        if past:
            out.write("**What changed**\n\n" + "\n".join(past) + "\n\n")

    def _people(self, out: IO[str]) -> None:
        lines = []
        for p in self.rows("people"):
            bits = [str(p[k]) for k in ("relation",) if p.get(k)]
            if p.get("location"):
                bits.append(f"lives in {p['location']}")
            if p.get("last_contact_at"):
                bits.append(f"last in touch {_short(p['last_contact_at'], self.zone)}")
            lines.append(f"- **{p['name']}**" + (": " + ", ".join(bits) if bits else ""))
        if lines:
            out.write("## The people in your life\n\n" + "\n".join(lines) + "\n\n")

    def _reflections(self, out: IO[str]) -> None:
        lines = [f"- {_short(r['created_at'], self.zone)}: {r['text']}" for r in self.rows("reflections")]
        if lines:
            out.write("## What I came to understand\n\n" + "\n".join(lines) + "\n\n")

    def _journal(self, out: IO[str]) -> None:
        entries = list(self.rows("journal"))
        if not entries:
            return
        out.write(f"## {self.me}'s journal\n\n")
        for j in entries:
            out.write(f"### {_day(j['created_at'], self.zone)}\n\n{j['text']}\n\n")
            for key, label in (("about_user", "About you"), ("about_self", "About me")):
                if j.get(key):
                    out.write(f"*{label}:* {j[key]}\n\n")

    def _moods(self, out: IO[str]) -> None:
        days: dict[date, list[dict[str, Any]]] = defaultdict(list)
        for m in self.rows("messages"):
            emo = _emotion(m.get("emotion"))
            when = _local(m["created_at"], self.zone)
            if m["role"] == "user" and emo and when:
                days[when.date()].append(emo)
        if not days:
            return
        out.write("## How you've been\n\n| day | messages | mood (-1..1) | mostly |\n|---|---:|---:|---|\n")
        for day in sorted(days):
            emos = days[day]
            valence = sum(float(e.get("valence", 0.0)) for e in emos) / len(emos)
            labels = Counter(str(e.get("label", "neutral")) for e in emos)
            if len(labels) > 1:
                labels.pop("neutral", None)
            top = ", ".join(label for label, _ in labels.most_common(2))
            out.write(f"| {day.isoformat()} | {len(emos)} | {valence:+.2f} | {top} |\n")
        out.write("\n")

    def _self(self, out: IO[str]) -> None:
        state = next(self.rows("self_state"), None)
        beliefs = list(self.rows("beliefs"))
        changes = list(self.rows("belief_changes"))
        if state is None and not beliefs and not changes:
            return
        out.write(f"## Who I am, {self.me}\n\n")
        if state is not None and (state.get("mood") or state.get("curious_about")):
            out.write(f"Lately I feel {state.get('mood') or 'steady'}; I'm curious about {state.get('curious_about') or 'you'}.\n\n")
        for b in beliefs:
            out.write(f"- **{b['topic']}** ({b['kind']}, {float(b['weight']):.1f}): {b['stance']}\n")
        if changes:
            out.write("\n**How I changed**\n\n")
            for c in changes:
                undone = " (undone)" if c.get("reverted_at") else ""
                out.write(f"- {_short(c['created_at'], self.zone)}, {c['topic']}: {c.get('old_stance') or '-'} -> "
                          f"{c.get('new_stance') or '-'}; {c['reason']}{undone}\n")
        out.write("\n")

    def _conversations(self, out: IO[str]) -> None:
        day = None
        for m in self.rows("messages"):
            if day is None:
                out.write("## Our conversations\n\n")
            this = _day(m["created_at"], self.zone)
            if this != day:
                out.write(f"### {this}\n\n")
                day = this
            who = "You" if m["role"] == "user" else self.me
            when = _local(m["created_at"], self.zone)
            origin = f" (imported: {m['origin']})" if m.get("origin") else ""
            out.write(f"**{who}**, {when.strftime('%H:%M') if when else '?'}{origin}\n\n{_quote(m['text'])}\n\n")

    def _everything_else(self, out: IO[str]) -> None:
        others = [t for name, t in self.tables.items() if name not in DESCRIBED and not t.derived]
        if not others:
            return
        out.write("## Everything else\n\n")
        for table in others:
            rows = list(self.rows(table.name))
            out.write(f"### {table.name.replace('_', ' ').capitalize()} ({len(rows):,})\n\n")
            for r in rows:
                fields = "; ".join(f"{k}: {_plain(v, self.zone)}" for k, v in r.items() if k != "user_id" and v is not None)
                out.write(f"- {fields}\n")
            out.write("\n")


def _plain(value: Any, zone: tzinfo) -> str:
    if isinstance(value, datetime):
        when = _local(value, zone)
        return when.strftime("%Y-%m-%d %H:%M") if when else str(value)
    if isinstance(value, bytes):
        return f"({len(value):,} bytes)"
    return str(value).replace("\n", " ")
