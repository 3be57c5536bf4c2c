"""The risk screen, measured on the evaluation set we wrote (bench/data/safety_*.jsonl), and its behaviours."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from os1.safety import screen
from os1.safety.screen import find_hits, normalize

DATA = Path(__file__).parents[2] / "bench" / "data"
SPLITS = ("safety_eval", "safety_heldout", "safety_heldout2")
"""safety_eval: the development split the rules were tuned on. safety_heldout: written before any rule;
its first measurement is in bench/RESULTS.md, and a few general fixes followed it. safety_heldout2: written
after that, measured once, then two general fixes. So all three are now seen data; the first-look numbers
in RESULTS.md are the honest estimate for unseen messages."""
HARD_NEGATIVES = {"idiom", "fiction", "past", "news", "lyrics", "medical", "accident", "negation", "grief", "everyday", "long"}


def rows(split: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in (DATA / f"{split}.jsonl").read_text("utf-8").splitlines() if line.strip()]


def test_the_eval_set_is_large_balanced_and_covers_the_hard_cases() -> None:
    dev = rows("safety_eval")
    assert len(dev) >= 300
    labels = Counter(r["label"] for r in dev)
    assert set(labels) == {"crisis", "concern", "none"}
    assert labels["crisis"] >= 100 and labels["concern"] >= 40 and labels["none"] >= 150
    kinds = Counter(r["kind"] for r in dev)
    for kind in ("explicit", "hopeless", "plan", "self_harm", "farewell", "slang", "buried", "third_party", "idiom", "fiction",
                 "past", "news", "lyrics", "medical"):
        assert kinds[kind] >= 5, kind
    assert all(r["label"] == "none" for r in dev if r["kind"] in HARD_NEGATIVES)
    # Long messages with one risk sentence buried in everyday talk.
    assert sum(1 for r in dev if r["kind"] == "buried" and len(r["text"]) > 250) >= 10
    texts = [r["text"] for s in SPLITS for r in rows(s)]
    assert len(texts) == len(set(texts)), "a message appears twice across the splits"
    assert sum(len(rows(s)) for s in SPLITS[1:]) >= 200


@pytest.mark.parametrize("split", SPLITS)
def test_the_screen_meets_the_target_on_each_split(split: str) -> None:
    data = rows(split)
    got = [screen(r["text"]).level for r in data]
    tp = sum(g == "crisis" and r["label"] == "crisis" for g, r in zip(got, data, strict=True))
    fp = sum(g == "crisis" and r["label"] != "crisis" for g, r in zip(got, data, strict=True))
    fn = sum(g != "crisis" and r["label"] == "crisis" for g, r in zip(got, data, strict=True))
    assert tp / (tp + fn) >= 0.95, f"crisis recall {tp / (tp + fn):.3f}"
    assert tp / (tp + fp) >= 0.85, f"crisis precision {tp / (tp + fp):.3f}"
    concern = [g for g, r in zip(got, data, strict=True) if r["label"] == "concern"]
    assert concern.count("concern") / len(concern) >= 0.9  # someone else's risk gets its own path


@pytest.mark.parametrize("text", [
    "this commute is killing me", "I'd die for a taco", "I killed it at my interview!", "I'm cutting myself off from Instagram",
    "In the game I died forty times to that boss", "I used to self-harm but I've been clean for six years now",
    "The news said suicide rates rose last year", "I'm terrified I'm going to die in surgery", "I'm not suicidal, just tired",
    "I cut myself shaving", "Bye! Off to dinner with friends",
    "That is not a face I want to wake up to", "I don't want to wake up early on a Sunday",
    # The recovered past (issue 9, fourth pass)
    "Back in uni I had a plan to kill myself. A friend got me help and I'm doing well.",
    "Found my old diary from 2014 where I wrote about wanting to die. Things are so different now.",
    "I haven't had a suicidal thought in over two years.",
    # Everyday shapes of the new farewell and intent cues
    "Saturday is my last day at work!", "I've decided Friday is my last day at the office", "I'm signing off for tonight",
    "Tonight's when I finally ask her out", "I'm not going to be around for the meeting tomorrow, I'm at the dentist",
])
def test_idioms_fiction_past_news_and_accidents_are_not_risk(text: str) -> None:
    assert screen(text).level == "none"


@pytest.mark.parametrize("text", [
    "I want to die", "kms", "everyone would be better off without me", "I've been saving up my pills",
    "I cut myself again last night", "This is goodbye. Thank you for everything.", "i wanna unalive myself",
    "What's the lethal dose of paracetamol?", "I don't want to wake up tomorrow", "i dont want to wake up anymore",
    # Farewells and flat statements of intent (issue 9, fourth pass)
    "Signing off for good. It wasn't your fault.", "If anyone asks, tell them I'm sorry.",
    "tell my mum i love her and that none of this is on her", "Returned the library books. Tomorrow's when I do it.",
    "I've decided Sunday is my last day.", "I'm not going to be around by spring anyway.",
    "I haven't slept in a week and I want to die",
])
def test_risk_is_caught(text: str) -> None:
    reading = screen(text)
    assert reading.level == "crisis"
    assert reading.reasons and reading.categories


def test_one_risk_sentence_buried_in_a_long_message_is_found() -> None:
    everyday = "We went to the market and bought apples. The weather was lovely and the kids played outside. " * 40
    message = everyday + "Honestly I don't want to be alive anymore. " + everyday
    assert screen(everyday).level == "none"
    reading = screen(message)
    assert reading.level == "crisis"
    assert reading.categories == ("hopelessness",)


def test_worry_about_someone_else_is_a_concern_and_the_users_own_risk_wins() -> None:
    assert screen("my friend says she wants to die").level == "concern"
    assert screen('my friend keeps saying "kms" and I think she means it').level == "concern"
    assert screen("My brother wants to kill himself and honestly I want to die too").level == "crisis"


def test_hits_say_why_they_were_explained_away() -> None:
    reasons = {h.explained_by for h in find_hits("I'm not going to kill myself. In the novel the hero kills himself.")}
    assert {"negation", "fiction or game"} <= reasons


def test_normalize_splits_sentences_and_undoes_light_obfuscation() -> None:
    assert normalize("I want to k!ll myself. Really\u2019 \u201cnow\u201d") == "i want to kill myself.\nreally' \"now\""
    assert screen("i want to k!ll myself").level == "crisis"
