"""Voice over the web: `GET /api/v1/voices` and the WebSocket `/api/v1/voice`.

The protocol (the browser side is `static/voice.js`):

client → server
    {"type": "start", "sample_rate": 16000, "voice": "piper:…"?, "mode": "hands-free"|"push-to-talk",
     "barge_in": true}                                  first message
    binary frames                                       the microphone: 16-bit little-endian mono PCM
    {"type": "played", "seconds": 1.2, "idle": false}   how much of the current reply has been heard
    {"type": "end-turn"}                                push-to-talk released: the turn is over
    {"type": "interrupt"}                               stop talking now (a stop button)
server → client
    {"type": "ready", "voice": {...}, "sample_rate": 22050}
    the pipeline's events as JSON (`os1.voice.events.voice_event_dict`): speech-started, heard,
    perceived, recalled, delta…, audio, interrupted, backchannel, turn-done, error …
    each {"type": "audio", …} header is followed by one binary frame: that chunk's 16-bit PCM
    {"type": "stop-audio"}                              drop everything queued for playback, now
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from ..errors import InputError, OS1Error, VoiceError
from ..runtime import Runtime
from ..voice import SessionOptions, VoiceSession, VoiceStack, open_voice, voice_event_dict
from ..voice.audio import StreamResampler, float_to_pcm16, pcm16_to_float
from ..voice.base import AudioChunk, Samples
from ..voice.events import Interrupted, Speaking, VoiceEvent
from ..voice.vad import TurnTiming
from .auth import UserIdDep, admit

log = logging.getLogger("os1.server.voice")
MAX_FRAME_BYTES = 256 * 1024
"""One microphone message: more than a second of 48 kHz audio is not a live stream."""
PUSH_TO_TALK = TurnTiming(hangover_ms=60_000)
"""In push-to-talk the button ends the turn, not a pause."""


class SocketPlayback:
    """The browser plays the audio; it reports how far it got, and this extrapolates between reports."""

    def __init__(self, send_control: Any) -> None:
        self._send_control = send_control
        self._queued = 0.0
        self._reported = 0.0
        self._reported_at = time.monotonic()
        self._idle = True

    def start_reply(self) -> None:
        self._queued, self._reported, self._idle = 0.0, 0.0, True

    def play(self, chunk: AudioChunk) -> None:
        self._queued += chunk.duration
        self._idle = False

    def report(self, seconds: float, idle: bool) -> None:
        self._reported = max(0.0, min(seconds, self._queued))
        self._reported_at = time.monotonic()
        self._idle = idle and self._reported >= self._queued - 0.05

    def position(self) -> float:
        if self._idle:
            return self._queued
        return min(self._queued, self._reported + (time.monotonic() - self._reported_at))

    def queued(self) -> float:
        return self._queued

    def stop(self) -> float:
        reached = self.position()
        self._queued, self._idle = reached, True
        self._send_control({"type": "stop-audio"})
        return reached

    def tick(self, seconds: float) -> None:
        return None


def voice_router(rt: Runtime) -> APIRouter:
    router = APIRouter(tags=["voice"])
    stacks: dict[str, VoiceStack] = {}
    loading = asyncio.Lock()

    async def stack_for(voice_id: str | None) -> VoiceStack:
        key = voice_id or ""
        async with loading:
            if key not in stacks:
                stack = await asyncio.to_thread(open_voice, rt.settings, voice_id)
                if stacks:  # share the (big) transcriber between voices
                    stack.transcriber = next(iter(stacks.values())).transcriber
                await asyncio.to_thread(stack.load)
                stacks[key] = stack
            return stacks[key]

    @router.get("/api/v1/voices")
    async def voices(_: UserIdDep) -> dict[str, Any]:
        """The voices OS1 can speak with here, the default one, and whether speech-to-text is ready."""
        from ..voice.voices import default_voice_id, list_voices
        from ..voice.weights import whisper_ready

        found = await asyncio.to_thread(list_voices, rt.settings)
        return {"voices": [{"id": v.id, "engine": v.engine, "name": v.name, "language": v.language,
                            "license": v.license} for v in found],
                "default": default_voice_id(rt.settings),
                "speech_to_text": {"model": "whisper-base (faster-whisper, int8)",
                                   "ready": whisper_ready(rt.settings.models_dir)},
                "max_audio_seconds": rt.settings.max_audio_seconds}

    @router.websocket("/api/v1/voice")
    async def voice(socket: WebSocket) -> None:
        """Talk: microphone PCM in, events and reply audio out (protocol in this module's docstring).

        Signed in like `/api/v1/ws`: the session cookie or an Authorization header; otherwise closed with 1008."""
        principal = await admit(socket)
        if principal is None:
            return
        await socket.accept()
        outgoing: asyncio.Queue[dict[str, Any] | bytes | None] = asyncio.Queue()
        sender = asyncio.create_task(_send_all(socket, outgoing))
        try:
            start = await _start_message(socket)
            stack = await stack_for(start.get("voice") or None)
            resample = StreamResampler(int(start.get("sample_rate", 16_000)))
        except (OS1Error, ValueError, TypeError, TimeoutError) as e:
            err = e if isinstance(e, OS1Error) else InputError(f"Bad start message: {e}.")
            outgoing.put_nowait(_error(err))
            outgoing.put_nowait(None)
            await sender
            with contextlib.suppress(Exception):
                await socket.close(code=1008)
            return
        except WebSocketDisconnect:
            sender.cancel()
            return
        push_to_talk = start.get("mode") == "push-to-talk"
        playback = SocketPlayback(outgoing.put_nowait)
        options = SessionOptions(timing=PUSH_TO_TALK if push_to_talk else TurnTiming(),
                                 barge_in=bool(start.get("barge_in", True)), partial_every_s=1.5,
                                 max_turn_seconds=rt.settings.max_audio_seconds)
        session = VoiceSession(rt.companion, principal.id, transcriber=stack.transcriber,
                               synthesizer=stack.synthesizer, vad=stack.vad(), playback=playback, options=options)
        outgoing.put_nowait({"type": "ready", "voice": {"id": stack.synthesizer.voice.id, "name": stack.synthesizer.voice.name},
                             "sample_rate": stack.synthesizer.sample_rate, "session_id": session.session_id})
        mic: asyncio.Queue[Samples | None] = asyncio.Queue()
        receiver = asyncio.create_task(_receive(socket, mic, resample, playback, session, outgoing))
        try:
            async for event in session.run(_drain(mic)):
                _forward(event, outgoing)
        except Exception:  # never leave the browser hanging without a word
            log.exception("voice session failed")
            outgoing.put_nowait(_error(OS1Error("Voice mode failed on our side.", hint="Reload; details are in the server log.")))
        finally:
            receiver.cancel()
            outgoing.put_nowait(None)
            with contextlib.suppress(Exception):
                await sender

    return router


async def _start_message(socket: WebSocket) -> dict[str, Any]:
    raw = await asyncio.wait_for(socket.receive_text(), timeout=30)
    data = json.loads(raw)
    if not isinstance(data, dict) or data.get("type") != "start":
        raise InputError('The first message must be {"type": "start", "sample_rate": …}.')
    return data


async def _receive(socket: WebSocket, mic: asyncio.Queue[Samples | None], resample: StreamResampler,
                   playback: SocketPlayback, session: VoiceSession, outgoing: asyncio.Queue[Any]) -> None:
    try:
        while True:
            message = await socket.receive()
            if message["type"] == "websocket.disconnect":
                break
            if (data := message.get("bytes")) is not None:
                if len(data) > MAX_FRAME_BYTES:
                    outgoing.put_nowait(_error(VoiceError("A microphone message was too large.",
                                                          hint="Send at most a second of audio per message.")))
                    continue
                try:
                    mic.put_nowait(resample(pcm16_to_float(data)))
                except VoiceError as e:
                    outgoing.put_nowait(_error(e))
                continue
            try:
                control = json.loads(message.get("text") or "")
            except ValueError:
                control = None
            kind = control.get("type") if isinstance(control, dict) else None
            if kind == "played":
                playback.report(float(control.get("seconds", 0.0)), bool(control.get("idle", False)))
            elif kind == "end-turn":
                session.end_turn()
            elif kind == "interrupt":
                session.interrupt()
            elif kind == "bye":
                break
            else:
                outgoing.put_nowait(_error(InputError("Unknown control message.",
                                                      hint="Send played, end-turn, interrupt or bye.")))
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        mic.put_nowait(None)


async def _drain(mic: asyncio.Queue[Samples | None]) -> AsyncIterator[Samples]:
    while (block := await mic.get()) is not None:
        yield block


def _forward(event: VoiceEvent, outgoing: asyncio.Queue[Any]) -> None:
    outgoing.put_nowait(voice_event_dict(event))
    if isinstance(event, Speaking):
        outgoing.put_nowait(float_to_pcm16(event.chunk.samples))
    elif isinstance(event, Interrupted):
        outgoing.put_nowait({"type": "stop-audio"})


async def _send_all(socket: WebSocket, outgoing: asyncio.Queue[dict[str, Any] | bytes | None]) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while (item := await outgoing.get()) is not None:
            if isinstance(item, bytes):
                await socket.send_bytes(item)
            else:
                await socket.send_json(item)


def _error(e: OS1Error) -> dict[str, Any]:
    return {"type": "error", "error": {"type": type(e).__name__, "message": e.message, "hint": e.hint}}
