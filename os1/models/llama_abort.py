"""Stopping a llama.cpp prompt evaluation part-way, from another thread.

A background prefill evaluates its prompt in chunks and used to yield only between them: a chunk of 32 tokens
takes 0.2-0.9 s on two cores, and for that long a turn waited for the model, and speech-to-text at the end of a
spoken turn shared the cores with a look at words already out of date. llama.cpp checks an abort callback after
every node of its graph; when it says stop, `llama_decode` returns 2 and drops the positions of the unfinished
batch from the KV cache, so the cache is left as it was before that chunk (tests/real/test_llamacpp.py).

The callback must not take the GIL: llama.cpp calls it ~650 times a chunk from its own thread, and a Python
callback waits for the interpreter each time (a chunk took 2.5 s instead of 0.5 s beside a busy Python thread). No
library offers a GIL-free flag for it, so this borrows C's `strlen` (written by hand for that reason): the callback's
data is a two-byte buffer, "\\0\\0" (length 0: go on) or "\\1\\0" (length 1: stop); the bool result is the low
byte of the length in the return register on every ABI llama.cpp runs on. Without a C library nothing aborts
and prefills yield between chunks as before.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

log = logging.getLogger("os1.models.llamacpp")

_ABORTED = "llama_decode returned 2"
"""What llama-cpp-python raises when a decode was aborted (its return code 2)."""
_EXPECTED = (b"removing memory module entries", b"failed to decode, ret = 2")
"""What llama.cpp logs (as errors) when a decode is aborted: expected here, not shown."""


def _strlen() -> Any:
    """C's strlen from the process (Linux, macOS), the C library by name, or Windows' C runtime."""
    loaders: tuple[Callable[[], Any], ...] = (lambda: ctypes.CDLL(None), lambda: ctypes.CDLL(ctypes.util.find_library("c")),
                                              lambda: ctypes.cdll.msvcrt)
    for load in loaders:
        with contextlib.suppress(OSError, AttributeError, TypeError):
            return load().strlen
    return None


class AbortSwitch:
    """One llama.cpp context's abort flag, raised only while an abortable evaluation runs.

    `armed(should_stop)` wraps one evaluation that may be stopped; `poke()` (called after setting whatever
    `should_stop` reads) raises the flag if that evaluation should stop now. Outside `armed` the flag is never
    raised, so a generation (which must not be cut inside llama-cpp-python) is never aborted.
    """

    def __init__(self) -> None:
        self._flag = ctypes.create_string_buffer(2)
        self._lock = threading.Lock()
        self._should_stop: Callable[[], bool] | None = None
        self._callback: Any = None
        self.attached = False
        self.aborts = 0
        """Evaluations stopped part-way."""

    def attach(self, llm: Any) -> bool:
        """Install the callback on `llm`'s context; False when this platform can't (then nothing aborts)."""
        try:
            import llama_cpp

            strlen = _strlen()
            if strlen is None:
                return False
            self._callback = ctypes.cast(strlen, llama_cpp.ggml_abort_callback)
            llama_cpp.llama_set_abort_callback(llm._ctx.ctx, self._callback, ctypes.cast(self._flag, ctypes.c_void_p))
            _quiet_expected_errors()
        except (AttributeError, ImportError, TypeError, ctypes.ArgumentError):
            log.debug("no abort callback for llama.cpp", exc_info=True)
            return False
        self.attached = True
        return True

    @contextlib.contextmanager
    def armed(self, should_stop: Callable[[], bool]) -> Iterator[None]:
        with self._lock:
            self._should_stop = should_stop
            if self.attached and should_stop():
                self._flag[0] = b"\x01"
        try:
            yield
        finally:
            with self._lock:
                self._should_stop = None
                self._flag[0] = b"\x00"

    def poke(self) -> None:
        """Stop the armed evaluation now if its condition says so (cheap; call after any change to it)."""
        with self._lock:
            if self.attached and self._should_stop is not None and self._should_stop():
                self._flag[0] = b"\x01"

    def was_abort(self, error: BaseException) -> bool:
        """`error` (from `Llama.eval`) means the evaluation was stopped by this switch."""
        aborted = self.attached and isinstance(error, RuntimeError) and _ABORTED in str(error)
        self.aborts += aborted
        return aborted


_quieted = False


def _quiet_expected_errors() -> None:
    """Wrap llama-cpp-python's log callback so an abort's expected messages don't reach the terminal as errors."""
    global _quieted
    if _quieted:
        return
    import llama_cpp
    from llama_cpp import _logger

    original = _logger.llama_log_callback

    @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
    def callback(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        if any(e in text for e in _EXPECTED):
            log.debug("llama.cpp: %s", text.decode("utf-8", "replace").strip())
            return
        original(level, text, user_data)

    _logger._os1_quiet_callback = callback  # type: ignore[attr-defined]  # kept alive as long as the module
    llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))
    _quieted = True
