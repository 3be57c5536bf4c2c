"""Voice: talk with OS1 out loud (speech-to-text, text-to-speech, turn-taking with barge-in).

    base.py      Transcriber, Synthesizer, VoiceActivity; AudioClip, AudioChunk, Transcript
    audio.py     decode / check / resample / encode          vad.py      Silero VAD, turn detector
    whisper.py   faster-whisper (Whisper base int8)          piper.py    Piper voices (optional, GPL)
    espeak.py    espeak-ng subprocess (fallback voice)       voices.py   installed voices, pick one
    chunker.py   reply text → clauses to speak               playback.py where audio goes, how far heard
    pipeline.py  the conversation loop with barge-in         events.py   the typed event stream
    reply.py     one reply: turn → clauses → speech; storing what was heard when cut off
    weights.py   assemble + verify the speech models         testing.py  fakes for tests
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Settings
from .base import SAMPLE_RATE, AudioChunk, AudioClip, Synthesizer, Transcriber, Transcript, VoiceActivity, VoiceInfo
from .events import VoiceEvent, voice_event_dict
from .pipeline import SessionOptions, VoiceSession
from .playback import ClockedPlayback, Playback


@dataclass
class VoiceStack:
    """The speech components for a runtime: one transcriber and one synthesizer, shared by sessions."""

    transcriber: Transcriber
    synthesizer: Synthesizer

    def vad(self) -> VoiceActivity:
        """A fresh detector (it keeps per-stream state, so one per session)."""
        from .vad import SileroActivity

        return SileroActivity()

    def load(self) -> None:
        """Load the models now rather than at the first turn (blocking: call from a thread)."""
        for part in (self.transcriber, self.synthesizer):
            load = getattr(part, "load", None)
            if load is not None:
                load()


def open_voice(settings: Settings, voice_id: str | None = None) -> VoiceStack:
    """Whisper from the models dir and the chosen voice; raises VoiceError saying what is missing."""
    from .voices import open_synthesizer
    from .whisper import WhisperOptions, WhisperTranscriber

    transcriber = WhisperTranscriber.from_models_dir(
        settings.models_dir, WhisperOptions(language=settings.voice_language.split("-")[0] or None,
                                            threads=settings.stt_threads))
    return VoiceStack(transcriber, open_synthesizer(settings, voice_id))


__all__ = ["SAMPLE_RATE", "AudioChunk", "AudioClip", "ClockedPlayback", "Playback", "SessionOptions", "Synthesizer",
           "Transcriber", "Transcript", "VoiceActivity", "VoiceEvent", "VoiceInfo", "VoiceSession", "VoiceStack",
           "open_voice", "voice_event_dict"]
