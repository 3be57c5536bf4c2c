"""Which cached stretch a moved history window reuses (os1/models/llamacpp.py `reusable_stretch`), on token lists."""

from __future__ import annotations

from os1.models.llamacpp import REUSE_PROBE, reusable_stretch

SYSTEM = list(range(1000, 1040))
HEADER = list(range(2000, 2000 + REUSE_PROBE + 8))
"""What every user message starts with (the chat template, the notes' header): longer than the probe."""


def _user(n: int, length: int = 60) -> list[int]:
    return HEADER + [10_000 * n + i for i in range(length)]


def _reply(n: int) -> list[int]:
    return [500_000 + 100 * n + i for i in range(30)]


def test_the_stretch_the_window_now_starts_with_is_found_past_a_boilerplate_match() -> None:
    cache = SYSTEM + _user(1) + _reply(1) + _user(2) + _reply(2) + _user(3) + _reply(3)
    # The window moved on by one exchange: message 1 is evicted, the prompt goes on from message 2.
    tokens = SYSTEM + _user(2) + _reply(2) + _user(3) + _reply(3) + _user(4)
    start = len(SYSTEM)
    found, same = reusable_stretch(cache, tokens, start)
    # The first place the probe occurs is message 1's header, which diverges after it; message 2's runs to the end.
    assert found == len(SYSTEM) + len(_user(1)) + len(_reply(1))
    assert same == len(cache) - found
    assert cache[found:found + same] == tokens[start:start + same]


def test_nothing_to_reuse_when_the_probe_is_nowhere_or_the_prompt_is_short() -> None:
    cache = SYSTEM + _user(1) + _reply(1)
    assert reusable_stretch(cache, SYSTEM + [7] * 40, len(SYSTEM)) == (-1, 0)
    assert reusable_stretch(cache, SYSTEM + HEADER[:5], len(SYSTEM)) == (-1, 0)
