"""Checking what people type before anything is stored."""

from __future__ import annotations

import re
import unicodedata

from .errors import InputError

_ALLOWED_CONTROL = {"\n", "\t"}
# Terminal escape sequences (CSI, OSC), removed whole so no "[31m" residue is left behind.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def clean_message(raw: str | bytes, *, max_chars: int) -> str:
    """The message as OS1 will store it, or InputError saying what is wrong. Nothing is stored on error."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise InputError(
                f"The message is not valid UTF-8 text (bad byte at position {e.start}).",
                hint="Send plain text encoded as UTF-8.",
            ) from e
    if "\x00" in raw:
        raise InputError("The message contains NUL bytes; it looks like binary data, not text.")
    # Lone surrogates (from bad decoding upstream) cannot be stored as UTF-8.
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InputError("The message contains characters that are not valid Unicode text.") from e
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    # Drop terminal escapes and other control characters; keep newlines and tabs.
    text = _ANSI.sub("", text)
    text = "".join(ch for ch in text if ch in _ALLOWED_CONTROL or unicodedata.category(ch) != "Cc")
    text = unicodedata.normalize("NFC", text).strip()
    if not text:
        raise InputError("The message is empty.", hint="Type something to say to OS1.")
    if len(text) > max_chars:
        raise InputError(
            f"The message is {len(text):,} characters long; OS1 takes up to {max_chars:,} at a time.",
            hint="Split it into shorter messages.",
        )
    return text


def elide_middle(text: str, max_chars: int) -> tuple[str, bool]:
    """`text` shortened to about `max_chars` by cutting its middle, and whether it was cut."""
    if len(text) <= max_chars:
        return text, False
    keep = max(0, max_chars - 40) // 2
    return text[:keep] + "\n[… the middle of this message was cut to fit …]\n" + text[-keep:], True
