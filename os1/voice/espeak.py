"""Text to speech with espeak-ng, run as a subprocess: the fallback voice, and a licence-clean one.

espeak-ng (GPL-3.0) is a separate program from Debian's package; OS1 only runs it, so nothing GPL is
linked into OS1. It sounds robotic but is tiny and fast, and covers about a hundred languages.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import subprocess
from collections.abc import AsyncIterator

from ..errors import VoiceError
from .audio import read_audio
from .base import AudioChunk, VoiceInfo
from .chunker import has_words, speakable

TIMEOUT_S = 30.0
"""espeak-ng speaks a clause in milliseconds; past this it is stuck."""


def espeak_path() -> str | None:
    return shutil.which("espeak-ng")


def espeak_voices(language_prefix: str = "") -> list[VoiceInfo]:
    """Voices espeak-ng offers (optionally only languages starting with the prefix, e.g. 'en')."""
    exe = espeak_path()
    if exe is None:
        return []
    try:
        listing = subprocess.run([exe, "--voices"], capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    voices: list[VoiceInfo] = []
    for line in listing.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 4:
            continue
        lang, name = parts[1], parts[3]
        if language_prefix and not lang.lower().startswith(language_prefix.lower()):
            continue
        voices.append(VoiceInfo(f"espeak:{lang}", "espeak", name.replace("_", " "), lang,
                                "espeak-ng formant voice", "GPL-3.0-or-later (separate program)"))
    return voices


class EspeakSynthesizer:
    """espeak-ng through a subprocess; text goes in on stdin (never as an argument), WAV comes out."""

    sample_rate = 22_050

    def __init__(self, language: str = "en-us", *, words_per_minute: int = 165) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_+\-]{1,40}", language):
            raise VoiceError(f"{language!r} is not an espeak-ng voice.", hint="`os1 talk --voices` lists them.")
        self.language = language
        self.words_per_minute = words_per_minute
        self.voice = VoiceInfo(f"espeak:{language}", "espeak", language, language, "espeak-ng formant voice",
                               "GPL-3.0-or-later (separate program)")

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        said = speakable(text)
        if not has_words(said):
            return
        exe = espeak_path()
        if exe is None:
            raise VoiceError("No voice to speak with: espeak-ng is not installed and Piper is not available.",
                             hint="Install espeak-ng (`apt-get install espeak-ng`) or the voice extra (`make setup`).")
        proc = await asyncio.create_subprocess_exec(
            exe, "-v", self.language, "-s", str(self.words_per_minute), "--stdout",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            wav, err = await asyncio.wait_for(proc.communicate(said.encode("utf-8")), TIMEOUT_S)
        except TimeoutError as e:
            raise VoiceError("espeak-ng did not answer in time.", hint="Check `espeak-ng --version` works.") from e
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if proc.returncode != 0 or not wav:
            raise VoiceError(f"espeak-ng failed: {err.decode('utf-8', 'replace').strip()[:200] or proc.returncode}.",
                             hint=f"Check the voice {self.language!r} exists (`espeak-ng --voices`).")
        clip, _ = read_audio(wav, max_seconds=3600, name="espeak-ng's output")
        yield AudioChunk(clip.samples, clip.sample_rate, text)
