"""Audio in and out: decode, check, downmix and resample; encode PCM and WAV.

Decoding is libsndfile's (through `soundfile`: WAV, FLAC, OGG/Opus, MP3, AIFF…), resampling is libsoxr's
(`soxr`): no hand-written DSP. Everything that comes out is mono float32 in [-1, 1]. Anything that
cannot be used (empty, corrupt, too long, an absurd sample rate) raises VoiceError with a sentence a
person can act on, never a foreign exception.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import VoiceError
from .base import SAMPLE_RATE, AudioChunk, AudioClip, Samples

MIN_RATE, MAX_RATE = 4_000, 384_000
"""Sample rates accepted from files and microphones (telephone to studio)."""
CLIPPED_LEVEL = 0.999
"""A sample at or past this magnitude counts as clipped."""
_FORMATS_HINT = "Use a WAV, FLAC, OGG or MP3 file with sound in it (any common sample rate, mono or stereo)."


@dataclass(frozen=True, slots=True)
class AudioReport:
    """What was noticed while reading a recording, for a helpful note to the user."""

    original_rate: int
    channels: int
    clipped_fraction: float
    """Share of samples at full scale: above ~1% the recording is distorted."""
    peak: float


def _soundfile() -> Any:
    try:
        import soundfile
    except (ImportError, OSError) as e:  # OSError: the bundled libsndfile failed to load
        raise VoiceError("Audio files can't be read: the `soundfile` package is missing.",
                         hint="Install the voice extra: `pip install 'os1[voice]'` (make setup does it).") from e
    return soundfile


def read_audio(source: bytes | Path, *, max_seconds: float, name: str | None = None) -> tuple[AudioClip, AudioReport]:
    """Decode a recording (bytes or a file) into mono float32 at its own rate, with a report."""
    sf = _soundfile()
    label = name or (source.name if isinstance(source, Path) else "the audio")
    if isinstance(source, Path):
        try:
            size = source.stat().st_size
        except OSError as e:
            raise VoiceError(f"Can't open {source}: {e.strerror or e}.", hint="Check the path.") from e
        if size == 0:
            raise VoiceError(f"{label} is empty (0 bytes).", hint=_FORMATS_HINT)
    elif len(source) == 0:
        raise VoiceError(f"{label} is empty (0 bytes).", hint=_FORMATS_HINT)
    handle: io.BytesIO | str = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    try:
        with sf.SoundFile(handle) as f:
            rate, channels, frames = int(f.samplerate), int(f.channels), int(f.frames)
            if not MIN_RATE <= rate <= MAX_RATE:
                raise VoiceError(f"{label} says its sample rate is {rate} Hz, which can't be right.",
                                 hint=f"Use a recording between {MIN_RATE:,} and {MAX_RATE:,} Hz.")
            if channels < 1 or channels > 64:
                raise VoiceError(f"{label} says it has {channels} channels.", hint=_FORMATS_HINT)
            limit = int(max_seconds * rate)
            if frames > limit:
                raise VoiceError(f"{label} is {_minutes(frames / rate)} long; the limit is {_minutes(max_seconds)}.",
                                 hint="Send a shorter recording, or raise OS1_MAX_AUDIO_SECONDS.")
            # Read at most one frame past the limit: a header that lies about its length can't make us
            # decode an hour of audio.
            data = f.read(frames=limit + 1, dtype="float32", always_2d=True)
    except VoiceError:
        raise
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError, EOFError, OverflowError, MemoryError) as e:
        raise VoiceError(f"{label} could not be decoded as audio ({_first_line(e)}).", hint=_FORMATS_HINT) from e
    if len(data) > limit:
        raise VoiceError(f"{label} is longer than the limit of {_minutes(max_seconds)}.",
                         hint="Send a shorter recording, or raise OS1_MAX_AUDIO_SECONDS.")
    if len(data) == 0:
        raise VoiceError(f"{label} holds no audio (0 samples).", hint=_FORMATS_HINT)
    mono = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
    mono = sanitize(mono)
    peak = float(np.max(np.abs(mono))) if len(mono) else 0.0
    clipped = float(np.mean(np.abs(mono) >= CLIPPED_LEVEL)) if len(mono) else 0.0
    return AudioClip(mono, rate), AudioReport(rate, channels, clipped, peak)


def sanitize(samples: Samples) -> Samples:
    """Finite float32 in [-1, 1]: NaN becomes silence, overs are clipped."""
    out = np.nan_to_num(np.asarray(samples, dtype=np.float32), nan=0.0, posinf=1.0, neginf=-1.0)
    return np.clip(out, -1.0, 1.0, out=out)


def resample(samples: Samples, from_rate: int, to_rate: int) -> Samples:
    """Resample with libsoxr (high quality); a no-op when the rates match."""
    if from_rate == to_rate or len(samples) == 0:
        return np.asarray(samples, dtype=np.float32)
    try:
        import soxr
    except ImportError as e:
        raise VoiceError("Audio can't be resampled: the `soxr` package is missing.",
                         hint="Install the voice extra: `pip install 'os1[voice]'`.") from e
    return np.asarray(soxr.resample(samples, from_rate, to_rate, quality="HQ"), dtype=np.float32)


def to_speech_rate(clip: AudioClip) -> AudioClip:
    """The clip at 16 kHz, the rate the VAD and Whisper take."""
    if clip.sample_rate == SAMPLE_RATE:
        return clip
    return AudioClip(resample(clip.samples, clip.sample_rate, SAMPLE_RATE), SAMPLE_RATE)


class StreamResampler:
    """Resamples a live stream block by block (libsoxr keeps the filter state between blocks)."""

    def __init__(self, from_rate: int, to_rate: int = SAMPLE_RATE) -> None:
        if not MIN_RATE <= from_rate <= MAX_RATE:
            raise VoiceError(f"A microphone at {from_rate} Hz can't be used.",
                             hint=f"Send audio between {MIN_RATE:,} and {MAX_RATE:,} Hz.")
        self.from_rate, self.to_rate = from_rate, to_rate
        self._stream = None
        if from_rate != to_rate:
            import soxr

            self._stream = soxr.ResampleStream(from_rate, to_rate, 1, dtype="float32", quality="HQ")

    def __call__(self, block: Samples, *, last: bool = False) -> Samples:
        if self._stream is None:
            return block
        return np.asarray(self._stream.resample_chunk(block, last=last), dtype=np.float32)


def pcm16_to_float(data: bytes) -> Samples:
    """Little-endian signed 16-bit PCM (what browsers and sound cards send) to float32."""
    if len(data) % 2:
        raise VoiceError("Audio frames must be whole 16-bit samples (an even number of bytes).",
                         hint="Send little-endian signed 16-bit mono PCM.")
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm16(samples: Samples) -> bytes:
    """float32 in [-1, 1] to little-endian signed 16-bit PCM."""
    clipped = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    return (clipped * 32767.0).round().astype("<i2").tobytes()


def write_wav(path: Path, samples: Samples, sample_rate: int) -> None:
    """Write 16-bit PCM mono WAV (atomically: a partial file never has the final name)."""
    sf = _soundfile()
    tmp = path.with_name(path.name + ".partial")
    try:
        sf.write(str(tmp), np.asarray(samples, dtype=np.float32), sample_rate, subtype="PCM_16", format="WAV")
        tmp.replace(path)
    except (OSError, sf.LibsndfileError) as e:
        tmp.unlink(missing_ok=True)
        raise VoiceError(f"Can't write {path}: {_first_line(e)}.", hint="Check the folder exists and is writable.") from e


def wav_bytes(samples: Samples, sample_rate: int) -> bytes:
    """A complete 16-bit PCM mono WAV file in memory."""
    sf = _soundfile()
    buf = io.BytesIO()
    sf.write(buf, np.asarray(samples, dtype=np.float32), sample_rate, subtype="PCM_16", format="WAV")
    return buf.getvalue()


def join(chunks: list[AudioChunk], sample_rate: int) -> Samples:
    """Concatenate synthesized chunks at one rate (resampling any that differ)."""
    parts = [resample(c.samples, c.sample_rate, sample_rate) for c in chunks]
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, dtype=np.float32)


def rms(samples: Samples) -> float:
    """Root-mean-square level (0 for silence, ~0.1 for speech at a normal level)."""
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0


def _minutes(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:200] if text else type(e).__name__
