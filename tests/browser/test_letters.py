"""Letters and actions that wait for your yes, in real headless Chromium against a real OS1 server.

The scripted model answers the structured requests (a first draft, a proofreading pass, a tool choice);
everything else is real: the letter store, the rule-based proofreader, the exports, the iCalendar file and
the pending-action gate.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from os1 import ScriptedModel

from .conftest import Running, SlowScripted

pytestmark = pytest.mark.real

DRAFT = ("Dear Grandma Rose,\n\nThank you for the birthday card. It made my whole week, and i have it on my desk.\n\n"
         "The new job is going well. I write letters for other people all day, so it feels odd to write my own.\n\n"
         "With love,\nTheo")


def _pick(model: Any, tool: str, **arguments: object) -> None:
    model.enqueue_json(json.dumps({"tool": tool, "arguments": arguments}))


def test_a_letter_is_drafted_proofread_edited_and_exported(serve: Callable[..., Running], page_for: Callable[..., Any],
                                                           shots: Path, tmp_path: Path) -> None:
    model = SlowScripted()
    running = serve(model, background="worker")  # no background learning to take the scripted JSON
    assert isinstance(model, ScriptedModel)
    model.enqueue_json(json.dumps({"title": "For Grandma Rose", "body": DRAFT}))
    page = page_for(f"{running.base}/#letters")
    expect(page.locator("#letters-status")).to_contain_text("No letters yet")

    page.fill("#ask-to", "Grandma Rose")
    page.fill("#ask-about", "thank her for the birthday card and tell her about the new job")
    page.click("#letter-ask button[type=submit]")
    expect(page.locator("#letter-editor")).to_be_visible()
    assert page.input_value("#letter-body") == DRAFT
    assert page.input_value("#letter-title") == "For Grandma Rose"
    assert page.input_value("#letter-recipient") == "Grandma Rose"
    assert page.locator("#letters-list").is_hidden()  # one thing at a time

    # Proofread: the rules find the lower-case "i"; the model (scripted) suggests a clearer phrase.
    model.enqueue_json(json.dumps({"suggestions": [
        {"quote": "It made my whole week", "replacement": "It brightened my whole week", "reason": "warmer", "kind": "tone"}]}))
    page.click("#letter-proofread")
    suggestions = page.locator("#suggestions .suggestion")
    expect(suggestions).to_have_count(2)
    lower_i = suggestions.filter(has_text="capital")
    expect(lower_i.locator("del")).to_have_text("i")
    expect(lower_i.locator("ins")).to_have_text("I")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shots / "letters.png"), full_page=True)

    lower_i.locator("button.accept").click()
    expect(page.locator("#letter-body")).to_have_value(DRAFT.replace(" i have", " I have"))
    expect(suggestions).to_have_count(1)
    suggestions.first.locator("button.reject").click()
    expect(suggestions).to_have_count(0)
    assert "brightened" not in page.input_value("#letter-body")

    # Edit by hand and save; the export carries exactly the saved text.
    page.fill("#letter-body", page.input_value("#letter-body") + "\n\nP.S. The roses are blooming.")
    page.check("#letter-final")
    page.click("#letter-editor button[type=submit]")
    expect(page.locator("#letter-status")).to_contain_text("Saved")
    with page.expect_download() as download:
        page.click("#letter-md")
    saved = tmp_path / "letter.md"
    download.value.save_as(saved)
    text = saved.read_text("utf-8")
    assert "P.S. The roses are blooming." in text and "and I have it" in text and "brightened" not in text
    with running.api() as api:
        (letter,) = api.get("/api/v1/letters").json()["letters"]
    assert letter["status"] == "final" and letter["body"].endswith("blooming.")

    # Back to the list, which shows the letter; the book of letters can be downloaded.
    page.click("#letter-close")
    item = page.locator("#letters-list .letter-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("For Grandma Rose")
    expect(item).to_contain_text("finished")
    with page.expect_download() as book:
        page.click("#letters-book a[href*='format=pdf']")
    book_path = tmp_path / "book.pdf"
    book.value.save_as(book_path)
    assert book_path.read_bytes().startswith(b"%PDF")


def test_deleting_a_letter_asks_twice(serve: Callable[..., Running], page_for: Callable[..., Any]) -> None:
    running = serve(background="worker")
    with running.api() as api:
        letter = api.post("/api/v1/letters", json={"title": "Draft to Paul", "body": "Hi Paul."}).json()["letter"]
    page = page_for(f"{running.base}/#letters/{letter['id']}")  # an address can open one letter
    expect(page.locator("#letter-title")).to_have_value("Draft to Paul")
    page.click("#letter-delete")
    expect(page.locator("#letter-delete")).to_have_text("Press again to delete")
    with running.api() as api:
        assert len(api.get("/api/v1/letters").json()["letters"]) == 1  # not yet
    page.click("#letter-delete")
    expect(page.locator("#letters-status")).to_contain_text("Deleted")
    with running.api() as api:
        assert api.get("/api/v1/letters").json()["letters"] == []


def test_an_action_waits_for_a_yes_in_the_conversation_and_the_inbox(serve: Callable[..., Running], home: Path,
                                                                     page_for: Callable[..., Any], shots: Path) -> None:
    model = SlowScripted()
    running = serve(model, background="worker")
    calendar = home / "calendar.ics"
    with running.api() as api:
        for title in ("Dentist", "Gym"):
            r = api.post("/api/v1/calendar/events", json={"title": title, "when": "Friday at 3pm"})
            assert r.status_code == 201, r.text
    page = page_for(running.base)
    page.wait_for_function("() => document.body.dataset.state === 'ready'")
    # The first meeting's greeting streams first (with the model's default reply); the message box takes a message,
    # and the replies queued below are for it, only once that is done.
    page.wait_for_selector(".msg.assistant")
    page.wait_for_function("() => !document.querySelector('.msg.assistant[aria-busy=true]')")

    # In the conversation: OS1 proposes the deletion; nothing happens until Confirm.
    _pick(model, "calendar_delete", event="dentist")
    model.enqueue("It's ready to go: press Confirm if you want it gone.")
    page.fill("#message", "cancel my dentist appointment")
    page.keyboard.press("Enter")
    card = page.locator("#log .action-card")
    expect(card).to_have_count(1)
    expect(card.locator(".action-summary")).to_contain_text("Dentist")
    assert "Dentist" in calendar.read_text("utf-8")
    card.locator("button.confirm").click()
    expect(card).to_have_attribute("data-status", "done")
    assert "Dentist" not in calendar.read_text("utf-8")

    # From the API (a delete is always a pending action), shown on the Inbox page; declined there.
    with running.api() as api:
        pending = api.delete("/api/v1/calendar/events/gym").json()["pending"]
    page.click("nav a[href='#inbox']")
    waiting = page.locator("#actions-list .action-card")
    expect(waiting).to_have_count(1)
    expect(waiting).to_have_attribute("data-action-id", str(pending["id"]))
    expect(waiting.locator(".action-summary")).to_contain_text("Gym")
    page.screenshot(path=str(shots / "actions.png"))
    waiting.locator("button.decline").click()
    expect(waiting).to_have_attribute("data-status", "declined")
    assert "Gym" in calendar.read_text("utf-8")
    with running.api() as api:
        assert api.get("/api/v1/actions").json()["actions"] == []
    expect(page.locator("#actions-status")).to_contain_text("Nothing is waiting", timeout=5000)
