"""Talking for real: the pipeline with Whisper, Silero and a real voice; `os1 talk` files; the WebSocket."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from os1 import Companion, ScriptedModel, Settings
from os1.memory import SqlConversationStore
from os1.voice.audio import float_to_pcm16, read_audio, resample, write_wav
from os1.voice.events import Backchannel, Heard, Interrupted, Speaking, TurnDone, VoiceEvent
from os1.voice.pipeline import SessionOptions, VoiceSession
from os1.voice.playback import ClockedPlayback
from os1.voice.vad import SileroActivity
from os1.voice.whisper import WhisperOptions, WhisperTranscriber

from .voice_helpers import say, voices, wer, whisper_models

pytestmark = pytest.mark.real
REPLY = ("I'm so glad you asked. My day was quiet, mostly thinking about our talk yesterday, and about how "
         "many small things make a day feel full. What about yours, did anything surprise you?")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return whisper_models(tmp_path_factory)


@pytest.fixture(scope="module")
def stt(models: Path) -> WhisperTranscriber:
    t = WhisperTranscriber.from_models_dir(models, WhisperOptions(threads=2))
    t.load()
    return t


def _voice() -> object:
    found = voices()
    if not found:
        pytest.skip("no voice installed")
    return found[0]


async def _session(companion: Companion, stt: WhisperTranscriber, script: list[tuple[str, np.ndarray]]
                   ) -> tuple[list[VoiceEvent], ClockedPlayback]:
    """Feed the script; each step is ('now', audio) or ('speaking', audio): wait until OS1 talks ~1 s first."""
    playback = ClockedPlayback()
    synth = _voice()
    session = VoiceSession(companion, "u", transcriber=stt, synthesizer=synth, vad=SileroActivity(),  # type: ignore[arg-type]
                           playback=playback, options=SessionOptions())
    seen: list[VoiceEvent] = []

    async def mic() -> AsyncIterator[np.ndarray]:
        for when, audio in script:
            for _ in range(2000):
                if when == "now" or playback.position() > 1.0:
                    break
                yield np.zeros(512, np.float32)
                await asyncio.sleep(0.005)
            for i in range(0, len(audio), 512):
                yield audio[i:i + 512]
                await asyncio.sleep(0)
        for _ in range(3000):  # until everything was said and heard
            if sum(isinstance(e, TurnDone) for e in seen) >= len(script) - sum(isinstance(e, Backchannel) for e in seen) \
                    and playback.position() >= playback.queued():
                return
            yield np.zeros(512, np.float32)
            await asyncio.sleep(0.005)

    async for event in session.run(mic()):
        seen.append(event)
    return seen, playback


def test_a_spoken_question_is_heard_answered_and_spoken(companion: Companion, model: ScriptedModel, stt: WhisperTranscriber,
                                                         sqlite_store: SqlConversationStore) -> None:
    model.enqueue("Nice to meet you, Theo.")
    # No comma: Piper's pause lengths are random, and a comma pause near the end-of-turn tail can split a turn.
    question = say(_voice(), "My name is Theo and I write letters.", pad_s=0.5).samples  # type: ignore[arg-type]
    events, playback = asyncio.run(_session(companion, stt, [("now", question)]))
    heard = [e.text for e in events if isinstance(e, Heard) and e.final]
    assert len(heard) == 1 and wer("My name is Theo and I write letters.", heard[0])[0] <= 1
    assert playback.heard_audio(16_000).size > 8000 and any(isinstance(e, Speaking) for e in events)
    stored = asyncio.run(sqlite_store.recent("u", 10))
    assert [e.role for e in stored] == ["user", "assistant"] and stored[0].text == heard[0]


def test_barge_in_and_backchannel_with_real_speech(companion: Companion, model: ScriptedModel, stt: WhisperTranscriber,
                                                   sqlite_store: SqlConversationStore) -> None:
    model.enqueue(REPLY, REPLY, "Okay, tell me.")
    v = _voice()
    question = say(v, "How was your day?", pad_s=0.5).samples  # type: ignore[arg-type]
    events, _ = asyncio.run(_session(companion, stt, [("now", question), ("speaking", say(v, "Yeah.", pad_s=0.6).samples)]))  # type: ignore[arg-type]
    assert any(isinstance(e, Backchannel) for e in events) and not any(isinstance(e, Interrupted) for e in events)

    cut_in = say(v, "Sorry to interrupt, but I need to tell you something important.", pad_s=0.6).samples  # type: ignore[arg-type]
    events, _ = asyncio.run(_session(companion, stt, [("now", question), ("speaking", cut_in)]))
    cut = next(e for e in events if isinstance(e, Interrupted))
    assert cut.spoken and cut.unspoken and REPLY.startswith(cut.spoken)
    stored = [(e.role, e.text) for e in asyncio.run(sqlite_store.recent("u", 10))]
    assert ("assistant", cut.spoken + " …") in stored
    assert stored[-1] == ("assistant", "Okay, tell me.") and "interrupt" in stored[-2][1].lower()


# os1 talk --in/--out ---------------------------------------------------------------------------------
def talk(home: Path, models: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    e = {**os.environ, "OS1_HOME": str(home), "OS1_MODELS_DIR": str(models), "OS1_NOW": "2026-11-25T09:30:00-05:00",
         "OS1_EMBEDDINGS": "0", **(env or {})}
    return subprocess.run([sys.executable, "-m", "os1.cli", "talk", *args], capture_output=True, text=True, env=e, timeout=300)


def test_talk_files_question_in_reply_out(tmp_path: Path, models: Path) -> None:
    v = _voice()
    q = tmp_path / "question.wav"
    clip = say(v, "What is your favorite color?", pad_s=0.8)  # type: ignore[arg-type]
    # Stereo at 44.1 kHz, as a phone or a laptop records it.
    sf.write(str(q), np.stack([resample(clip.samples, 16_000, 44_100)] * 2, axis=1), 44_100)
    r = talk(tmp_path / "home", models, "--in", str(q), "--out", str(tmp_path / "reply.wav"), "--json",
             "--model", "echo", "--voice", "espeak:en-us")
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    assert wer("What is your favorite color?", body["heard"])[0] <= 1
    assert (body["input_sample_rate"], body["input_channels"]) == (44_100, 2)
    reply, _ = read_audio(tmp_path / "reply.wav", max_seconds=3600)
    assert reply.duration == pytest.approx(body["reply_seconds"], abs=0.05) and reply.duration > 1
    assert body["user_exchange_id"] and body["voice"] == "espeak:en-us"


@pytest.mark.parametrize(("make", "words"), [
    (lambda p: p.write_bytes(b""), "empty"),
    (lambda p: p.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt garbage"), "could not be decoded"),
    (lambda p: write_wav(p, np.zeros(32_000, np.float32), 16_000), "No speech heard"),
    (lambda p: write_wav(p, (np.random.default_rng(0).standard_normal(32_000) * 0.1).astype(np.float32), 16_000), "No speech heard"),
    (lambda p: write_wav(p, np.zeros(16_000 * 5, np.float32), 16_000), "limit"),
])
def test_talk_refuses_bad_audio_clearly(tmp_path: Path, models: Path, make: object, words: str) -> None:
    q = tmp_path / "q.wav"
    make(q)  # type: ignore[operator]
    r = talk(tmp_path / "home", models, "--in", str(q), "--model", "echo", "--voice", "espeak:en-us",
             env={"OS1_MAX_AUDIO_SECONDS": "4"})
    assert r.returncode == 2, r.stderr
    assert words in r.stderr and "Traceback" not in r.stderr


def test_talk_live_says_there_is_no_microphone(tmp_path: Path, models: Path) -> None:
    from os1.voice.devices import find_devices

    if find_devices().problem is None:
        pytest.skip("this machine has sound devices")
    r = talk(tmp_path / "home", models)
    assert r.returncode == 2 and "--in question.wav" in r.stderr and "Traceback" not in r.stderr


# WebSocket /api/v1/voice -----------------------------------------------------------------------------
SPOKEN = "My sister lives in Ohio and works at a bakery."


def test_voice_over_websocket(tmp_path: Path, models: Path) -> None:
    import websockets.sync.client as wsc

    from os1.server.app import create_app
    from os1.testing import serve_app

    model = ScriptedModel(["Hello Theo, lovely to hear you."])
    settings = Settings(home=tmp_path / "home", models_dir_override=models, embeddings=False)
    # A plain sentence: Piper draws its timing at random, and the three words of "Hi, I'm Theo." were
    # sometimes heard as two other words in CI (WER 2 of 3), a flaky test rather than a broken pipeline.
    question = say(_voice(), SPOKEN, pad_s=0.5).samples  # type: ignore[arg-type]
    with serve_app(create_app(settings, model=model)) as base:
        import httpx

        listed = httpx.get(f"{base}/api/v1/voices").json()
        assert listed["speech_to_text"]["ready"] and listed["default"] in {v["id"] for v in listed["voices"]}
        with wsc.connect(base.replace("http", "ws") + "/api/v1/voice", max_size=None) as ws:
            ws.send(json.dumps({"type": "start", "sample_rate": 16_000}))
            events: list[dict[str, object]] = []
            audio_bytes = 0
            ready = json.loads(ws.recv(timeout=120))
            assert ready["type"] == "ready"
            pcm = float_to_pcm16(np.concatenate([question, np.zeros(16_000, np.float32)]))
            for i in range(0, len(pcm), 2048):
                ws.send(pcm[i:i + 2048])
            hush = float_to_pcm16(np.zeros(1600, np.float32))
            for _ in range(1200):  # a live microphone keeps sending: 0.1 s of quiet whenever nothing comes
                if any(e.get("type") == "turn-done" for e in events):
                    break
                try:
                    msg = ws.recv(timeout=0.1)
                except TimeoutError:
                    ws.send(hush)
                    continue
                if isinstance(msg, bytes):
                    audio_bytes += len(msg)
                    ws.send(json.dumps({"type": "played", "seconds": 1000, "idle": True}))  # played it all at once
                    continue
                events.append(json.loads(msg))
            kinds = [e["type"] for e in events]
            assert kinds.index("speech-started") < kinds.index("heard") < kinds.index("delta") < kinds.index("audio")
            heard = next(e for e in events if e["type"] == "heard" and e["final"])
            assert wer(SPOKEN, str(heard["text"]))[0] <= 1
            expected = sum(int(e["samples"]) for e in events if e["type"] == "audio") * 2  # type: ignore[call-overload]
            assert audio_bytes == expected > 0
