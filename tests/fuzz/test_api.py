"""Fuzzing the HTTP API: any JSON (or any bytes) to any route gives a clear 4xx or a success, never a 5xx;
and schemathesis, driven by the OpenAPI document, finds no server error against a real uvicorn server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from os1 import Settings
from os1.server import create_app
from os1.testing import serve_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
# Bodies shaped like the real ones, with wrong or odd values, reach the handlers rather than the validator.
FIELDS = ["message", "name", "text", "query", "dry_run", "confirm", "model", "messages", "stream", "limit", "kind"]
shaped = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4)
# Routes a fuzzer must not drive: they would start a real model or delete the fuzzed data dir mid-run, or (connecting
# a mail or calendar account) contact whatever host a fuzzed body names. Creating an account turns sign-in on,
# after which every other route answers a documented 401: tests/unit/test_server_auth.py covers it instead.
SKIP = {"/api/v1/delete", "/api/v1/accounts/mail", "/api/v1/accounts/calendar", "/api/v1/admin/users"}
NO_FUZZ = "^/api/v1/(delete|accounts/mail|accounts/calendar|admin/users)$"


def fuzz_settings(home: Path) -> Settings:
    return Settings(home=home, model="echo", embeddings=False, rate_limit="", turn_rate_limit="")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(fuzz_settings(tmp_path_factory.mktemp("fuzz") / "home"))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def body_routes(client: TestClient) -> list[tuple[str, str]]:
    doc = client.get("/openapi.json").json()
    return sorted((method.upper(), path) for path, ops in doc["paths"].items() for method in ops
                  if method in ("post", "put", "patch") and "{" not in path and path not in SKIP)


def test_the_api_has_routes_to_fuzz(client: TestClient) -> None:
    routes = body_routes(client)
    assert ("POST", "/api/v1/chat") in routes and ("POST", "/api/v1/memory/forget") in routes


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_json_body_gets_an_answer_never_a_server_error(client: TestClient, data: st.DataObject) -> None:
    method, path = data.draw(st.sampled_from(body_routes(client)), label="route")
    body = data.draw(st.one_of(shaped, json_values), label="body")
    r = client.request(method, path, content=json.dumps(body), headers={"content-type": "application/json"})
    assert r.status_code < 500, (method, path, body, r.text[:500])
    if r.status_code >= 400:
        assert "error" in r.json() or "detail" in r.json()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_bytes_get_an_answer_never_a_server_error(client: TestClient, data: st.DataObject) -> None:
    method, path = data.draw(st.sampled_from(body_routes(client)), label="route")
    raw = data.draw(st.binary(max_size=300), label="bytes")
    ctype = data.draw(st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", ""]))
    r = client.request(method, path, content=raw, headers={"content-type": ctype} if ctype else {})
    assert r.status_code < 500, (method, path, raw, r.text[:500])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(query=st.dictionaries(st.sampled_from(["limit", "kind", "q", "days", "format"]), st.text(max_size=20), max_size=3),
       path=st.sampled_from(["/api/v1/history", "/api/v1/memory", "/api/v1/memory/search", "/api/v1/mood",
                             "/api/v1/privacy", "/api/v1/profile", "/api/v1/people"]))
def test_any_query_string_gets_an_answer(client: TestClient, path: str, query: dict[str, str]) -> None:
    r = client.get(path, params=query)
    assert r.status_code < 500, (path, query, r.text[:500])


# schemathesis over real HTTP -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    app = create_app(fuzz_settings(tmp_path_factory.mktemp("schemathesis") / "home"))
    with serve_app(app) as base:
        # PUT /api/v1/settings may switch the model to an unreachable server, after which every chat is a
        # documented 503: it is fuzzed on a server of its own in test_responses_match_the_openapi_document.
        yield base, (schemathesis.openapi.from_url(f"{base}/openapi.json").exclude(path_regex=NO_FUZZ)
                     .exclude(method="PUT", path="/api/v1/settings"))


def send(case: Any, base: str) -> httpx.Response:
    """Send a schemathesis case with httpx (its own requests transport breaks when urllib3-future is installed)."""
    kw = case.as_transport_kwargs(base_url=base)
    body: dict[str, Any] = {}
    if "json" in kw:
        body["json"] = kw["json"]
    elif isinstance(kw.get("data"), bytes | str):
        body["content"] = kw["data"]
    elif kw.get("data") is not None:
        body["data"] = kw["data"]
    if kw.get("files"):
        body["files"] = kw["files"]
    return httpx.request(kw["method"], kw["url"], headers=kw.get("headers"), params=kw.get("params"),
                         cookies=kw.get("cookies"), timeout=60, **body)


def test_the_openapi_document_finds_no_server_error(api_schema: tuple[str, Any]) -> None:
    """Cases for every operation of the document (valid and invalid), sent over real HTTP to uvicorn."""
    base, schema = api_schema
    seen: set[str] = set()

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=schema.as_strategy())
    def call(case: Any) -> None:
        seen.add(f"{case.method} {case.path}")
        try:
            r = send(case, base)
        except httpx.LocalProtocolError:
            return  # a header no HTTP client can send (a fuzzed "Bearer " + spaces): nothing reached the server
        assert r.status_code < 500, f"{case.method} {case.formatted_path}: {r.status_code} {r.text[:500]}"

    call()
    assert len(seen) >= 10, seen  # the draws reached many operations, not one


def test_responses_match_the_openapi_document(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Valid requests to every operation get answers whose status and body the document describes.

    A fresh server of its own: changing the model in settings (PUT /api/v1/settings) is valid input, and
    would otherwise turn later chats into documented 503s in the no-5xx run above.
    """
    from hypothesis import HealthCheck
    from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance

    app = create_app(fuzz_settings(tmp_path_factory.mktemp("conformance") / "home"))
    seen: set[str] = set()
    problems: dict[str, str] = {}
    with serve_app(app) as base:
        # Mail, calendar and accounts answer 502 when no account is connected, which their routes don't document
        # yet: left out here until they do (the no-5xx run above covers them).
        schema = (schemathesis.openapi.from_url(f"{base}/openapi.json").exclude(path_regex=NO_FUZZ)
                  .exclude(path_regex="^/api/v1/(mail|calendar|accounts)/"))

        @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=schema.as_strategy(schemathesis.GenerationMode.POSITIVE))
        def call(case: Any) -> None:
            seen.add(f"{case.method} {case.path}")
            try:
                r = send(case, base)
            except httpx.LocalProtocolError:
                return  # a header no HTTP client can send: nothing reached the server
            if r.status_code in (502, 503) and r.json()["error"]["type"].startswith("Model"):
                return  # a model chosen by an earlier case is unreachable: documented, and not a server error
            try:
                case.validate_response(r, checks=[not_a_server_error, status_code_conformance, response_schema_conformance])
            except (Exception, BaseExceptionGroup) as e:  # collect every operation's problem, not only the first one drawn
                problems.setdefault(f"{case.method} {case.path}", f"{r.status_code} {str(e)[:300]} {r.text[:300]}")

        call()
    assert not problems, "\n".join(f"{k}: {v}" for k, v in sorted(problems.items()))
    assert len(seen) >= 10, seen
