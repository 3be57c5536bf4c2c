"""Memory and people over real HTTP: `os1 serve` runs as a subprocess on a data dir seeded beforehand.

GET /api/v1/memory, /memory/search, /memory/{ref}, /people; PATCH and DELETE /memory/{ref}; POST
/memory/forget (with dry_run). The seeded data (see test_memory_cli.seed) has a second user with the same
words, so every check also shows that the API stays within the server's user.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from .test_cli import NOW
from .test_http import Server, assert_error, prompt_of
from .test_memory_cli import (
    BREAD_SAID,
    DENVER_FACT,
    DENVER_SAID,
    FORGOTTEN_MARK,
    ITEM_KEYS,
    MARK_AT,
    MARK_FACT,
    MARK_REFLECTION,
    MARK_SAID,
    OHIO_FACT,
    OTHER,
    RACHEL_CONTACT_AT,
    REF,
    SEARCH_KEYS,
    Seeded,
    add_embeddings,
    assert_newest_first,
    at,
    query,
    refs_in,
    seed,
    state,
)

Home = tuple[Server, Path, Seeded]
MARK_REFS = ("mark_said", "mark_reply", "mark", "mark_reflection")


def get(c: httpx.Client, path: str, **params: Any) -> Any:
    r = c.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def memories(c: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    return list(get(c, "/api/v1/memory", **params)["memories"])


def forget(c: httpx.Client, query: str, *, dry_run: bool = False) -> dict[str, Any]:
    r = c.post("/api/v1/memory/forget", json={"query": query, "dry_run": dry_run})
    assert r.status_code == 200, r.text
    return dict(r.json())


def vector(home: Path, ref: str) -> bytes | None:
    kind = {"e": "exchange", "f": "fact", "r": "reflection"}[ref[0]]
    rows = query(home, "SELECT vector FROM embeddings WHERE item_kind = ? AND item_id = ?", kind, int(ref[1:]))
    return bytes(rows[0][0]) if rows else None


def mark_refs(s: Seeded) -> set[str]:
    return {getattr(s, name) for name in MARK_REFS}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Seeded]:
    home = tmp_path_factory.mktemp("template") / "home"
    return home, seed(home)


def serve(template: tuple[Path, Seeded], home: Path, **env: str) -> Server:
    shutil.copytree(template[0], home)
    return Server(home, "echo", {"OS1_EMBEDDINGS": "0", "OS1_NOW": NOW, **env}).start()


@pytest.fixture(scope="module")
def shared(template: tuple[Path, Seeded], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    """One server on the seeded data, for the tests that only read."""
    server = serve(template, tmp_path_factory.mktemp("shared") / "home")
    yield server, server.home, template[1]
    server.stop()


@pytest.fixture
def client(shared: Home) -> Iterator[httpx.Client]:
    with shared[0].client() as c:
        yield c


@pytest.fixture
def start(template: tuple[Path, Seeded], tmp_path: Path) -> Iterator[Callable[..., Home]]:
    """Start a server on a private copy of the seeded data (for tests that change it)."""
    started: list[Server] = []

    def go(**env: str) -> Home:
        server = serve(template, tmp_path / f"home{len(started)}", **env)
        started.append(server)
        return server, server.home, template[1]

    yield go
    for server in started:
        server.stop()


# GET /memory -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["known", "fact", "reflection", "exchange", "all"])
def test_list_each_kind_newest_first_with_sources(shared: Home, client: httpx.Client, kind: str) -> None:
    s = shared[2]
    items = memories(client, kind=kind)
    assert {m["id"] for m in items} == s.refs(kind)
    texts = s.texts()
    for m in items:
        assert set(m) >= ITEM_KEYS and REF.match(m["id"])
        assert m["kind"] == {"e": "exchange", "f": "fact", "r": "reflection"}[m["id"][0]]
        assert m["text"] == texts[m["id"]]
        assert m["source"].strip()
        assert m["current"] is (m["id"] != s.ohio)
    assert_newest_first(items)
    if kind in ("known", "fact", "all"):
        ohio = next(m for m in items if m["id"] == s.ohio)
        assert ohio["current"] is False and "true until 2026-11-01" in ohio["source"]
        assert ohio["superseded_by"] == s.denver


def test_list_defaults_to_what_os1_has_learned_and_limits(shared: Home, client: httpx.Client) -> None:
    s = shared[2]
    assert {m["id"] for m in memories(client)} == s.refs("known")
    assert [m["id"] for m in memories(client, kind="all", limit=4)] == [
        s.bread_reply, s.bread_said, s.family_reflection, s.mark_reflection]
    assert [m["id"] for m in memories(client, kind="fact", limit=1)] == [s.mark]
    for params in ({"kind": "everything"}, {"limit": 0}, {"limit": 1001}, {"limit": "many"}):
        assert client.get("/api/v1/memory", params=params).status_code == 422, params


# GET /memory/search ----------------------------------------------------------------------------------
def test_search_finds_seeded_memories_with_refs_and_sources(shared: Home, client: httpx.Client) -> None:
    s = shared[2]
    found = get(client, "/api/v1/memory/search", q="Denver")["memories"]
    assert found and all(set(m) == SEARCH_KEYS for m in found)
    by_ref = {m["ref"]: m for m in found}
    assert s.denver in by_ref, found
    assert by_ref[s.denver]["text"] == DENVER_FACT and "2026-11-01" in by_ref[s.denver]["source"]
    assert all(m["ref"][1:] == str(m["id"]) for m in found)

    found = get(client, "/api/v1/memory/search", q="Mark", limit=2)["memories"]
    assert 0 < len(found) <= 2
    assert not {m["ref"] for m in found} & s.other_refs()
    assert MARK_FACT in [m["text"] for m in get(client, "/api/v1/memory/search", q="Mark")["memories"]]
    assert client.get("/api/v1/memory/search", params={"q": ""}).status_code == 422


# GET /memory/{ref} -----------------------------------------------------------------------------------
def test_show_a_fact_an_exchange_and_a_reflection(shared: Home, client: httpx.Client) -> None:
    s = shared[2]
    fact = get(client, f"/api/v1/memory/{s.denver}")
    assert (fact["id"], fact["kind"], fact["text"], fact["current"]) == (s.denver, "fact", DENVER_FACT, True)
    assert fact["source_exchange"] == s.denver_said and fact["source_text"] == DENVER_SAID
    [old] = fact["history"]
    assert (old["id"], old["text"], old["value"], old["current"]) == (s.ohio, OHIO_FACT, "Ohio", False)

    exchange = get(client, f"/api/v1/memory/{s.mark_said}")
    assert (exchange["kind"], exchange["text"], exchange["role"]) == ("exchange", MARK_SAID, "user")
    assert exchange["derived_facts"] == [s.mark]

    reflection = get(client, f"/api/v1/memory/{s.mark_reflection}")
    assert (reflection["kind"], reflection["text"]) == ("reflection", MARK_REFLECTION)
    assert set(reflection["sources"]) == {s.mark_said, s.mark}


def test_show_refuses_unknown_malformed_and_other_users_ids(shared: Home, client: httpx.Client) -> None:
    s = shared[2]
    for ref in ("f99999", "e0", s.other_fact, s.other_said, s.other_reflection):
        err = assert_error(client.get(f"/api/v1/memory/{ref}"), 400, "InputError")
        assert ref in err["message"] and err["hint"]
        assert MARK_FACT not in err["message"]
    for ref in ("x12", "12", "fact7", "f-1"):
        err = assert_error(client.get(f"/api/v1/memory/{ref}"), 400, "InputError")
        assert ref in err["message"] and "e12" in err["hint"]


# GET /people -----------------------------------------------------------------------------------------
def test_people_with_relation_location_and_dates(shared: Home, client: httpx.Client) -> None:
    s = shared[2]
    people = {p["name"]: p for p in get(client, "/api/v1/people")["people"]}
    assert set(people) == {"Rachel", "Mark"}
    rachel, mark = people["Rachel"], people["Mark"]
    assert (rachel["id"], rachel["relation"], rachel["location"]) == (s.rachel_id, "sister", "Denver")
    assert datetime.fromisoformat(rachel["last_mentioned_at"]) == at(RACHEL_CONTACT_AT)
    assert datetime.fromisoformat(rachel["last_contact_at"]) == at(RACHEL_CONTACT_AT)
    assert (mark["id"], mark["relation"], mark["location"], mark["last_contact_at"]) == (s.mark_id, "ex", None, None)
    assert datetime.fromisoformat(mark["last_mentioned_at"]) == at(MARK_AT)
    assert mark["id"] != s.other_mark_id


# PATCH /memory/{ref} ---------------------------------------------------------------------------------
def test_edit_changes_the_text_and_bad_edits_change_nothing(start: Callable[..., Home]) -> None:
    server, home, s = start()
    corrected = "The user's sister Rachel lives in Boulder, near Denver."
    with server.client() as c:
        r = c.patch(f"/api/v1/memory/{s.denver}", json={"text": corrected})
        assert r.status_code == 200, r.text
        assert (r.json()["id"], r.json()["text"]) == (s.denver, corrected)
        assert r.json()["history"][0]["id"] == s.ohio  # still the same fact, with its history
        assert get(c, f"/api/v1/memory/{s.denver}")["text"] == corrected
        assert {m["id"]: m["text"] for m in memories(c, kind="fact")}[s.denver] == corrected
        assert [m["ref"] for m in get(c, "/api/v1/memory/search", q="Boulder")["memories"]] == [s.denver]
        r = c.patch(f"/api/v1/memory/{s.family_reflection}", json={"text": "Family comes first for the user."})
        assert r.status_code == 200 and r.json()["text"] == "Family comes first for the user."

        before, other_before = state(home), state(home, OTHER)
        assert c.patch(f"/api/v1/memory/{s.mark}", json={"text": ""}).status_code == 422
        assert c.patch(f"/api/v1/memory/{s.mark}", json={"text": "x" * 4001}).status_code == 422
        assert c.patch(f"/api/v1/memory/{s.mark}", json={}).status_code == 422
        assert_error(c.patch(f"/api/v1/memory/{s.mark}", json={"text": " \x1b\x07 "}), 400, "InputError")
        for ref in ("f99999", "x12", s.other_fact, s.other_said):
            err = assert_error(c.patch(f"/api/v1/memory/{ref}", json={"text": "Mark is a stranger."}), 400, "InputError")
            assert ref in err["message"]
    assert state(home) == before and state(home, OTHER) == other_before


# DELETE /memory/{ref} --------------------------------------------------------------------------------
def test_delete_forgets_one_memory_and_what_derives_from_it(start: Callable[..., Home]) -> None:
    server, home, s = start()
    before, other_before = state(home), state(home, OTHER)
    with server.client() as c:
        r = c.delete(f"/api/v1/memory/{s.denver_said}")
        assert r.status_code == 200, r.text
        body = r.json()
        gone = {s.denver_said, s.denver_reply, s.denver, s.family_reflection}
        assert set(body["exchanges"]) | set(body["facts"]) | set(body["reflections"]) == gone
        assert body["forgotten"] == 4 and body["people"] == []
        assert refs_in(state(home)) == refs_in(before) - gone
        for ref in sorted(gone):
            assert_error(c.get(f"/api/v1/memory/{ref}"), 400, "InputError")
        assert not {m["id"] for m in memories(c, kind="all")} & gone
        # The Ohio fact stays, as what was true before.
        assert get(c, f"/api/v1/memory/{s.ohio}")["current"] is False

        after = state(home)
        for ref in (s.denver_said, "f99999", "x12", s.other_said, s.other_fact):
            assert_error(c.delete(f"/api/v1/memory/{ref}"), 400, "InputError")
    assert state(home) == after and state(home, OTHER) == other_before


# POST /memory/forget ---------------------------------------------------------------------------------
def test_forget_dry_run_changes_nothing_then_forget_removes_it_from_later_prompts(start: Callable[..., Home]) -> None:
    server, home, s = start()
    before, other_before = state(home), state(home, OTHER)
    with server.client() as c:
        preview = forget(c, "my ex Mark", dry_run=True)["would_forget"]
        assert s.mark_said in preview["exchanges"] and s.mark in preview["facts"]
        assert preview["reflections"] == [s.mark_reflection] and preview["people"] == [s.mark_id]
        assert MARK_SAID in preview["previews"] and MARK_FACT in preview["previews"]
        assert state(home) == before and state(home, OTHER) == other_before
        assert {m["id"] for m in memories(c, kind="all")} == s.refs("all")

        report = forget(c, "my ex Mark")
        assert set(report["exchanges"]) == {s.mark_said, s.mark_reply}
        assert report["facts"] == [s.mark] and report["reflections"] == [s.mark_reflection]
        assert report["people"] == [s.mark_id] and report["forgotten"] == 5
        after = state(home)
        assert refs_in(after) == set(s.texts()) - mark_refs(s)
        assert after["notes"][s.bread_said] is None
        assert not any(t in repr(after) for t in FORGOTTEN_MARK)
        assert state(home, OTHER) == other_before  # the other user's Mark, in the same words, stays
        assert [p["name"] for p in get(c, "/api/v1/people")["people"]] == ["Rachel"]
        assert not [m for m in get(c, "/api/v1/memory/search", q="Mark ex texts")["memories"] if "Mark" in m["text"]]

        r = c.post("/api/v1/chat", json={"message": "Does my ex still text me?"})
        assert r.status_code == 200, r.text
        seen = json.dumps(prompt_of(r.json()["reply"]))
        assert "Mark" not in seen and not any(t in seen for t in FORGOTTEN_MARK)
        assert DENVER_SAID in seen and BREAD_SAID in seen  # the prompt does carry the remaining history


def test_forget_what_is_not_there_changes_nothing(start: Callable[..., Home]) -> None:
    server, home, s = start()
    before, other_before = state(home), state(home, OTHER)
    with server.client() as c:
        for query in ("Zanzibar", "f99999", s.other_said, s.other_fact, s.other_reflection):
            assert forget(c, query)["forgotten"] == 0, query
            assert forget(c, query, dry_run=True)["would_forget"]["previews"] == []
        for body in ({"query": ""}, {}, {"query": "x" * 501}, {"query": "Mark", "dry_run": "maybe"}):
            assert c.post("/api/v1/memory/forget", json=body).status_code == 422, body
    assert state(home) == before and state(home, OTHER) == other_before


def test_dry_run_says_everything_forget_would_remove(start: Callable[..., Home]) -> None:
    server, _, s = start()
    with server.client() as c:
        preview = forget(c, s.denver_said, dry_run=True)["would_forget"]
        report = forget(c, s.denver_said)
    for key in ("exchanges", "facts", "reflections", "people"):
        assert set(preview[key]) == set(report[key]), key


def test_forgetting_where_someone_lives_removes_it_from_people(start: Callable[..., Home]) -> None:
    server, _, s = start()
    with server.client() as c:
        assert forget(c, s.denver)["facts"] == [s.denver]
        rachel = next(p for p in get(c, "/api/v1/people")["people"] if p["name"] == "Rachel")
        assert rachel["location"] != "Denver"


# With embeddings (the bundled e5 model) --------------------------------------------------------------
@pytest.mark.real
def test_search_finds_a_paraphrase_and_forget_removes_the_embeddings(
    template: tuple[Path, Seeded], tmp_path: Path
) -> None:
    s = template[1]
    home = tmp_path / "home"
    shutil.copytree(template[0], home)
    assert add_embeddings(home) > 0
    other_vectors = state(home, OTHER)["vectors"]
    assert mark_refs(s) <= state(home)["vectors"]
    server = Server(home, "echo", {"OS1_NOW": NOW}).start()  # embeddings on: the default
    question = "Who keeps messaging me after our breakup?"  # no word in common with the Mark memories
    try:
        with server.client() as c:
            found = get(c, "/api/v1/memory/search", q=question)["memories"]
            assert {m["ref"] for m in found} & {s.mark, s.mark_said, s.mark_reflection}, found
            assert not {m["ref"] for m in found} & s.other_refs()

            assert forget(c, "my ex Mark")["facts"] == [s.mark]
            vectors = state(home)["vectors"]
            assert not vectors & mark_refs(s)
            assert vectors == refs_in(state(home))  # what remains is still indexed
            assert state(home, OTHER)["vectors"] == other_vectors
            again = get(c, "/api/v1/memory/search", q=question)["memories"]
            assert not [m for m in again if "Mark" in m["text"]]

            # An edited memory is embedded again, from its new text.
            old_vector = vector(home, s.bread_said)
            r = c.patch(f"/api/v1/memory/{s.bread_said}", json={"text": "We adopted a grey kitten called Pixel."})
            assert r.status_code == 200, r.text
            assert vector(home, s.bread_said) not in (None, old_vector)
            found = get(c, "/api/v1/memory/search", q="Do I have a cat?")["memories"]
            assert s.bread_said in [m["ref"] for m in found], found
    finally:
        server.stop()
