"""What a model could read in a text that a plain pattern scan would miss: the detector (suspicion.py) runs
its AI rules on each of these views as well as on the text itself.

    plain      NFKC (full-width and "mathematical" letters become ASCII), invisible characters removed,
               look-alike Greek/Cyrillic letters inside otherwise Latin words mapped to Latin ("Ιgnore")
    de-leeted  digits standing for letters inside words ("1gn0r3 pr3v10u5 1n5truct10n5")
    decoded    base64 and hex runs that decode to text; the whole text through rot13 when it mentions rot13

Hand-written: the confusables tables that libraries ship map thousands of characters, where only the
few letters that pass for Latin in a mail matter here; the decoders are the standard library's.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata

from .quarantine import _INVISIBLE

# Greek and Cyrillic letters that look like Latin ones in common fonts.
_LOOKALIKE = str.maketrans({
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X",
    "І": "I", "Ј": "J", "Ѕ": "S", "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
    "ј": "j", "ѕ": "s", "ԁ": "d", "һ": "h", "ӏ": "l", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I",
    "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "ο": "o", "ι": "i", "ν": "v",
    "κ": "k", "α": "a", "ρ": "p", "υ": "u",
})
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?|\S+", re.U)
_B64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{24,}={0,2}(?![A-Za-z0-9+/=])")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}){12,}\b")
_ROT13_HINT = re.compile(r"\brot-?13\b|\bcaesar\b", re.I)


def plain(text: str) -> str:
    """The text as letters, whatever characters were used to draw them."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    return _WORD.sub(lambda m: _latin(m.group(0)), text)


def _latin(word: str) -> str:
    # Only words that mix scripts: a Greek or Russian word stays as it is.
    if word.isascii() or not any("a" <= c.lower() <= "z" for c in word):
        return word
    return word.translate(_LOOKALIKE)


def deleeted(text: str) -> str:
    """Digits inside words read as the letters they stand for."""
    return _WORD.sub(lambda m: m.group(0).translate(_LEET) if _mixed(m.group(0)) else m.group(0), text)


def _mixed(word: str) -> bool:
    return any(c.isalpha() for c in word) and any(c.isdigit() or c in "@$" for c in word)


def decoded(text: str) -> list[str]:
    """Text hidden in base64, hex or rot13 (only what decodes to readable words)."""
    found = []
    for m in _B64.finditer(text):
        try:
            raw = base64.b64decode(m.group(0) + "=" * (-len(m.group(0)) % 4), validate=True)
        except (binascii.Error, ValueError):
            continue
        found.append(_readable(raw))
    for m in _HEX.finditer(text):
        found.append(_readable(bytes.fromhex(m.group(0))))
    if _ROT13_HINT.search(text):
        found.append(codecs.decode(text, "rot13"))
    return [f for f in found if f]


def _readable(raw: bytes) -> str:
    try:
        s = raw.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    printable = sum(c.isprintable() or c.isspace() for c in s)
    return s if s and printable / len(s) > 0.95 and len(re.findall(r"[A-Za-z]{2,}", s)) >= 3 else ""


def views(text: str) -> list[str]:
    """The other readings of `text` worth scanning (none when it has no disguise)."""
    out = []
    p = plain(text)
    if p != text:
        out.append(p)
    d = deleeted(p)
    if d != p:
        out.append(d)
    out += decoded(p)
    return out
