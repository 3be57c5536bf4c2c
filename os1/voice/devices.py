"""The machine's own microphone and speaker, through `sounddevice` (PortAudio). Optional.

Many machines (servers, containers, CI) have neither; `find_devices` says so in words instead of
failing deep inside PortAudio.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import VoiceError
from .audio import StreamResampler, resample
from .base import SAMPLE_RATE, AudioChunk, Samples


@dataclass(frozen=True, slots=True)
class Devices:
    """What this machine has for sound."""

    input: str | None
    output: str | None
    problem: str | None = None
    """Why there is no sound, in words (None when both are there)."""


def _sounddevice() -> Any:
    try:
        import sounddevice
    except ImportError as e:
        raise VoiceError("The `sounddevice` package is not installed.",
                         hint="Install the voice extra: `pip install 'os1[voice]'`.") from e
    except OSError as e:  # PortAudio's shared library is missing
        raise VoiceError("This machine has no sound system OS1 can use (the PortAudio library is missing).",
                         hint="On Debian/Ubuntu: `apt-get install libportaudio2`. Or use `os1 talk --in question.wav "
                              "--out reply.wav`, or voice mode in the browser (`os1 serve`).") from e
    return sounddevice


def find_devices() -> Devices:
    """The default microphone and speaker, or why there are none."""
    try:
        sd = _sounddevice()
        devices = sd.query_devices()
    except VoiceError as e:
        return Devices(None, None, e.message)
    except Exception as e:  # PortAudio errors have their own type
        return Devices(None, None, f"The sound system failed: {e}.")
    names_in = [d["name"] for d in devices if d.get("max_input_channels", 0) > 0]
    names_out = [d["name"] for d in devices if d.get("max_output_channels", 0) > 0]
    problem = None
    if not names_in or not names_out:
        missing = " and ".join(x for x, ok in (("microphone", names_in), ("speaker", names_out)) if not ok)
        problem = f"This machine has no {missing}."
    return Devices(names_in[0] if names_in else None, names_out[0] if names_out else None, problem)


async def microphone(block: int = 512) -> AsyncIterator[Samples]:
    """The default microphone as 16 kHz mono float32 blocks (resampled if the device can't do 16 kHz)."""
    sd = _sounddevice()
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Samples] = asyncio.Queue(maxsize=200)
    rate = int(sd.query_devices(kind="input")["default_samplerate"])
    to_16k = StreamResampler(rate, SAMPLE_RATE)

    def callback(data: Any, frames: int, time: Any, status: Any) -> None:
        block16 = to_16k(np.asarray(data[:, 0], dtype=np.float32).copy())
        def put() -> None:
            if not queue.full():  # a stalled consumer drops audio rather than growing without bound
                queue.put_nowait(block16)

        loop.call_soon_threadsafe(put)

    with sd.InputStream(samplerate=rate, channels=1, dtype="float32", blocksize=block, callback=callback):
        while True:
            yield await queue.get()


class DevicePlayback:
    """Plays through the default speaker; the position is what the sound card has consumed."""

    def __init__(self) -> None:
        sd = _sounddevice()
        self.rate = int(sd.query_devices(kind="output")["default_samplerate"])
        self._lock = threading.Lock()
        self._queue: deque[Samples] = deque()
        self._played = 0
        self._queued = 0
        self._stream = sd.OutputStream(samplerate=self.rate, channels=1, dtype="float32", callback=self._fill)
        self._stream.start()

    def _fill(self, out: Any, frames: int, time: Any, status: Any) -> None:
        filled = 0
        with self._lock:
            while filled < frames and self._queue:
                head = self._queue[0]
                n = min(frames - filled, len(head))
                out[filled:filled + n, 0] = head[:n]
                filled += n
                if n == len(head):
                    self._queue.popleft()
                else:
                    self._queue[0] = head[n:]
            self._played += filled
        out[filled:, 0] = 0.0

    def start_reply(self) -> None:
        with self._lock:
            self._queue.clear()
            self._played = self._queued = 0

    def play(self, chunk: AudioChunk) -> None:
        samples = resample(chunk.samples, chunk.sample_rate, self.rate)
        with self._lock:
            self._queue.append(samples)
            self._queued += len(samples)

    def position(self) -> float:
        return self._played / self.rate

    def queued(self) -> float:
        return self._queued / self.rate

    def stop(self) -> float:
        with self._lock:
            self._queue.clear()
            self._queued = self._played
        return self._played / self.rate

    def tick(self, seconds: float) -> None:
        return None

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()
