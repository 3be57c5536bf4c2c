"""Letters over HTTP (a real `os1 serve`) and the proofreading sources: write, proofread, accept or reject,
export to Markdown and PDF, gather into a book; the OpenAPI document describes it all."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from os1 import FakeClock
from os1.storage import Database
from os1.testing import ScriptedModel
from os1.tools.letters.desk import LetterDesk
from os1.tools.letters.store import Letters

from .test_http import Server

pytestmark = pytest.mark.real
BODY = "Dear Catherine,\n\nI have been thinking about the the years we spent growing up.  i miss you.\n\nTheodore"


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


def test_letters_over_http(tmp_path: Path) -> None:
    server = Server(tmp_path / "home", env={"OS1_NOW": "2026-11-25T09:30:00-05:00", "OS1_EMBEDDINGS": "0"}).start()
    try:
        with server.client() as http:
            r = http.post("/api/v1/letters", json={"title": "To Catherine", "recipient": "Catherine", "body": BODY})
            assert r.status_code == 201, r.text
            letter = r.json()["letter"]
            r = http.post(f"/api/v1/letters/{letter['id']}/proofread")
            assert r.status_code == 200, r.text
            suggestions = r.json()["suggestions"]
            by_original = {s["original"]: s for s in suggestions}
            assert {"the the", "  ", "i"} <= set(by_original)
            for s in suggestions:  # every span points at the text it would replace
                assert BODY[s["start"]:s["end"]] == s["original"] and s["reason"]
            r = http.post(f"/api/v1/letters/{letter['id']}/suggestions/{by_original['the the']['id']}/accept")
            assert r.status_code == 200 and "about the years" in r.json()["letter"]["body"]
            r = http.post(f"/api/v1/letters/{letter['id']}/suggestions/{by_original['i']['id']}/reject")
            assert r.json()["suggestion"]["status"] == "rejected"
            r = http.post(f"/api/v1/letters/{letter['id']}/suggestions/{by_original['  ']['id']}/accept")
            body = r.json()["letter"]["body"]
            assert "up. i miss you" in body  # the second accept landed where it should after the first shifted the text
            assert http.post(f"/api/v1/letters/{letter['id']}/suggestions/{by_original['  ']['id']}/accept").status_code == 400

            md = http.get(f"/api/v1/letters/{letter['id']}/export", params={"format": "md"})
            assert md.status_code == 200 and md.text.startswith("# To Catherine") and "*To Catherine · 25 November 2026*" in md.text
            pdf = http.get(f"/api/v1/letters/{letter['id']}/export", params={"format": "pdf"})
            assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-") and _pages(pdf.content) == 1

            r = http.post("/api/v1/letters", json={"recipient": "Amy", "ask": "thank her for the dinner"})
            assert r.status_code == 201  # the echo model cannot write: a plain opening to start from
            assert r.json()["letter"]["body"].startswith("Dear Amy,")
            book = http.get("/api/v1/letters/book", params={"format": "pdf", "title": "Letters 2026"})
            assert book.status_code == 200 and _pages(book.content) >= 4  # title, contents, two letters
            assert http.get("/api/v1/letters/999").status_code == 400
            assert http.post("/api/v1/letters", json={"title": "x"}).status_code == 400

            paths = http.get("/openapi.json").json()["paths"]
            for p in ("/api/v1/letters", "/api/v1/letters/{letter_id}/proofread", "/api/v1/letters/{letter_id}/export",
                      "/api/v1/letters/book", "/api/v1/actions/{action_id}/confirm", "/api/v1/mail/inbox",
                      "/api/v1/calendar/events"):
                assert p in paths, p
    finally:
        server.stop()


async def test_model_suggestions_are_located_by_os1_never_by_the_model(db: Database, clock: FakeClock) -> None:
    model = ScriptedModel()
    model.enqueue_json(json.dumps({"suggestions": [
        {"quote": "growing up", "replacement": "growing up together", "reason": "Warmer.", "kind": "tone"},
        {"quote": "words that are not in the letter", "replacement": "x", "reason": "invented"},
        {"quote": "the the", "replacement": "the", "reason": "overlaps a rule suggestion"},
    ]}))
    letters = Letters(db)
    desk = LetterDesk(letters, lambda: model)
    letter = await letters.create("u", title="T", body=BODY, recipient=None, now=clock.now())
    found = await desk.proofread("u", letter.id, now=clock.now())
    model_made = [s for s in found if s.source == "model"]
    assert [(s.original, s.replacement) for s in model_made] == [("growing up", "growing up together")]
    s = model_made[0]
    assert BODY[s.start:s.end] == "growing up"


async def test_writing_in_their_voice_shows_their_earlier_letters(db: Database, clock: FakeClock) -> None:
    model = ScriptedModel()
    letters = Letters(db)
    await letters.create("u", title="Old", body="My dearest Lou, the rain here smells like pencils. Ever yours, T.",
                         recipient="Lou", now=clock.now())
    model.enqueue_json(json.dumps({"title": "For Amy", "body": "Dear Amy, thank you for dinner. Ever yours, T."}))
    letter = await LetterDesk(letters, lambda: model).write("u", to="Amy", about="thank her for dinner",
                                                          request="write Amy a thank-you letter", now=clock.now())
    assert letter.title == "For Amy" and letter.status == "draft" and letter.recipient == "Amy"
    prompt = model.history[-1][-1].content
    assert "smells like pencils" in prompt and "thank her for dinner" in prompt
