"""The llama.cpp e5 engine uses its extra thread only while the machine is otherwise idle."""

from __future__ import annotations

from typing import Any

import pytest

from os1.memory import embed
from os1.memory.embed import LlamaE5Embedder


class FakeContext:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def set_n_threads(self, n: int, n_batch: int) -> None:
        self.calls.append((n, n_batch))


class FakeLlm:
    def __init__(self) -> None:
        self._ctx = FakeContext()


@pytest.mark.parametrize(("configured", "runnable", "expected"), [(2, 1, []), (2, 3, [(1, 1)]), (1, 5, [])])
def test_threads_follow_how_busy_the_machine_is(monkeypatch: pytest.MonkeyPatch, configured: int, runnable: int,
                                                 expected: list[tuple[int, int]]) -> None:
    monkeypatch.setattr(embed, "_runnable_now", lambda: runnable)
    e = LlamaE5Embedder(num_threads=configured)
    llm: Any = FakeLlm()
    e._fit_threads(llm)
    assert llm._ctx.calls == expected


def test_back_to_the_configured_threads_once_idle_and_no_redundant_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    busy = [3, 3, 1, 1, 2]
    monkeypatch.setattr(embed, "_runnable_now", lambda: busy.pop(0))
    e = LlamaE5Embedder(num_threads=2)
    llm: Any = FakeLlm()
    for _ in range(5):
        e._fit_threads(llm)
    assert llm._ctx.calls == [(1, 1), (2, 2), (1, 1)]


def test_runnable_count_reads_the_kernel_or_assumes_idle(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    assert embed._runnable_now() >= 1
    fake = tmp_path / "loadavg"
    fake.write_text("0.50 0.40 0.30 4/321 9999\n")
    real_path = embed.Path
    monkeypatch.setattr(embed, "Path", lambda p: real_path(fake) if p == "/proc/loadavg" else real_path(p))
    assert embed._runnable_now() == 4
    fake.write_text("garbage")
    assert embed._runnable_now() == 1
