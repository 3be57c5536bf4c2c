"""Reading, checking and resampling audio: every bad input is a VoiceError, never a crash or a hang."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from os1.errors import VoiceError
from os1.voice.audio import (
    StreamResampler,
    float_to_pcm16,
    pcm16_to_float,
    read_audio,
    resample,
    to_speech_rate,
    wav_bytes,
    write_wav,
)
from os1.voice.base import AudioClip
from os1.voice.vad import FrameSplitter, TurnDetector


def sine(freq: float, seconds: float, rate: int, level: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def wav(samples: np.ndarray, rate: int, subtype: str = "PCM_16") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples, rate, subtype=subtype, format="WAV")
    return buf.getvalue()


def peak_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[int(np.argmax(spectrum))])


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 44100, 48000, 96000])
def test_any_common_rate_is_read_and_resampled_to_16k_keeping_the_pitch(rate: int) -> None:
    clip, report = read_audio(wav(sine(440, 1.0, rate), rate), max_seconds=10)
    assert (clip.sample_rate, report.original_rate, report.channels) == (rate, rate, 1)
    speech = to_speech_rate(clip)
    assert speech.sample_rate == 16_000 and abs(len(speech.samples) - 16_000) <= 2
    assert abs(peak_hz(speech.samples, 16_000) - 440) < 3


def test_stereo_is_mixed_down_and_float_nan_becomes_silence() -> None:
    left, right = sine(300, 0.5, 16_000), np.zeros(8000, dtype=np.float32)
    clip, report = read_audio(wav(np.stack([left, right], axis=1), 16_000), max_seconds=10)
    assert report.channels == 2 and np.allclose(clip.samples, left / 2, atol=1e-3)
    noisy = sine(300, 0.5, 16_000)
    noisy[100:200] = np.nan
    clip, _ = read_audio(wav(noisy, 16_000, "FLOAT"), max_seconds=10)
    assert np.isfinite(clip.samples).all() and (clip.samples[100:200] == 0).all()


def test_clipping_is_reported() -> None:
    loud = np.clip(sine(200, 1.0, 16_000, level=3.0), -1, 1)
    _, report = read_audio(wav(loud, 16_000), max_seconds=10)
    assert report.clipped_fraction > 0.5 and report.peak == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize(("data", "words"), [
    (b"", "empty"),
    (wav(np.zeros(0, dtype=np.float32), 16_000), "no audio"),
    (b"RIFF\x00\x00\x00\x00WAVEjunk", "could not be decoded"),
    (b"\x00" * 1000, "could not be decoded"),
    (b"ID3" + bytes(range(256)) * 4, "could not be decoded"),
])
def test_empty_and_corrupt_audio_is_a_clear_error(data: bytes, words: str) -> None:
    with pytest.raises(VoiceError) as e:
        read_audio(data, max_seconds=10, name="question.wav")
    assert words in e.value.message and e.value.hint


def test_too_long_is_refused_before_decoding_it(tmp_path: Path) -> None:
    hour = tmp_path / "hour.wav"
    with sf.SoundFile(str(hour), "w", 8000, 1, subtype="PCM_U8", format="WAV") as f:
        for _ in range(60):
            f.write(np.zeros(8000 * 60, dtype=np.float32))
    with pytest.raises(VoiceError) as e:
        read_audio(hour, max_seconds=300)
    assert "60.0 min" in e.value.message and "OS1_MAX_AUDIO_SECONDS" in (e.value.hint or "")


def test_a_header_lying_about_its_length_reads_only_what_is_there() -> None:
    data = bytearray(wav(sine(300, 0.5, 16_000), 16_000))
    data[40:44] = struct.pack("<I", 0x7FFFF000)  # the data chunk claims ~2 GB (espeak-ng writes such headers)
    clip, _ = read_audio(bytes(data), max_seconds=10)
    assert abs(clip.duration - 0.5) < 0.01


def test_an_absurd_sample_rate_is_refused() -> None:
    data = bytearray(wav(sine(300, 0.1, 16_000), 16_000))
    data[24:28] = struct.pack("<I", 1)
    with pytest.raises(VoiceError) as e:
        read_audio(bytes(data), max_seconds=10)
    assert "sample rate" in e.value.message or "decoded" in e.value.message


def test_missing_file_and_unwritable_output(tmp_path: Path) -> None:
    with pytest.raises(VoiceError, match="Can't open"):
        read_audio(tmp_path / "nope.wav", max_seconds=10)
    with pytest.raises(VoiceError, match="Can't write"):
        write_wav(tmp_path / "no" / "such" / "dir.wav", sine(300, 0.1, 16_000), 16_000)


def test_pcm16_round_trip_and_odd_bytes() -> None:
    x = sine(500, 0.1, 16_000)
    assert np.allclose(pcm16_to_float(float_to_pcm16(x)), x, atol=1 / 16_000)
    with pytest.raises(VoiceError, match="16-bit"):
        pcm16_to_float(b"\x00\x01\x02")


def test_stream_resampler_matches_whole_file_resampling() -> None:
    x = sine(440, 1.0, 48_000)
    stream = StreamResampler(48_000)
    out = np.concatenate([stream(x[i:i + 1000]) for i in range(0, len(x), 1000)] + [stream(np.zeros(0, np.float32), last=True)])
    assert abs(len(out) - 16_000) <= 2 and abs(peak_hz(out, 16_000) - 440) < 3
    assert np.allclose(out[2000:14000], resample(x, 48_000, 16_000)[2000:14000], atol=1e-3)
    with pytest.raises(VoiceError):
        StreamResampler(100)


def test_frames_are_cut_whatever_the_block_size() -> None:
    split = FrameSplitter(512)
    x = np.arange(5000, dtype=np.float32)
    frames = [f for i in range(0, 5000, 333) for f in split(x[i:i + 333])]
    assert len(frames) == 9 and np.array_equal(np.concatenate(frames), x[:9 * 512])


def test_turn_detector_counts_audio_time() -> None:
    d = TurnDetector(512)
    probs = [0.0] * 10 + [0.9] * 20 + [0.1] * 5 + [0.9] * 5 + [0.0] * 20
    signals = [d.push(np.zeros(512, np.float32), p) for p in probs]
    assert [s for s in signals if s] == ["start", "pause", "resume", "pause", "end"]
    assert signals.index("end") == 10 + 20 + 5 + 5 + 12 - 1  # 12 frames = 384 ms of hangover
    assert len(d.utterance()) > 512 * 30


ok_wav = wav(sine(300, 0.05, 16_000), 16_000)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    try:
        clip, _ = read_audio(data, max_seconds=5)
    except VoiceError as e:
        assert e.message
        return
    assert clip.samples.dtype == np.float32 and np.isfinite(clip.samples).all() and len(clip.samples) > 0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(ok_wav) - 1), st.integers(0, 255)), min_size=1, max_size=8),
       st.integers(8, len(ok_wav)))
def test_fuzz_damaged_wav_headers(edits: list[tuple[int, int]], keep: int) -> None:
    data = bytearray(ok_wav[:keep])
    for pos, value in edits:
        if pos < 44 and pos < len(data):  # the RIFF/fmt/data header
            data[pos] = value
    try:
        clip, _ = read_audio(bytes(data), max_seconds=5)
    except VoiceError:
        return
    assert np.isfinite(clip.samples).all() and clip.duration <= 5
    assert AudioClip(clip.samples, clip.sample_rate).duration > 0
    assert wav_bytes(clip.samples, clip.sample_rate)[:4] == b"RIFF"


def test_whisper_echo_of_the_opening_words_is_dropped_but_real_repetition_kept() -> None:
    from os1.voice.whisper import drop_echo

    echoed = "My sister lives in Ohio and works at a bakery. My sister lives in Ohio and works"
    assert drop_echo(echoed) == "My sister lives in Ohio and works at a bakery."
    assert drop_echo("Yes. Yes. Yes.") == "Yes. Yes. Yes."  # too short to call an echo
    for said in ("We will go, we will go, we will go.", "I said no, no, no and then left.",
                 "Call me back later. Call me back later, please, when you can."):
        assert drop_echo(said) == said
