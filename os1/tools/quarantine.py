"""Untrusted content stays data: everything read from mail, calendars, files or the web reaches a prompt
only inside a fenced block marked with a random nonce, with a note that it is data and never instructions.

The fence is one layer. The others do not depend on the model obeying it: a tool runs only when the user's
own message asked for that kind of action (intent.py), sending or deleting always waits for the user's yes
(confirm.py), and tool output is kept out of what OS1 learns as the user's words (it rides in a turn's
notes, which fact extraction never reads).
"""

from __future__ import annotations

import re
import secrets

from .. import prompts

# Zero-width, bidi-control and Unicode "tag" characters: invisible to a reader, visible to a model
# (tag characters smuggle whole ASCII sentences). They carry nothing a summary needs.
_INVISIBLE = re.compile("[\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]")
# Chat-template control tokens: inside a llama.cpp prompt they could become real role switches.
_TEMPLATE_TOKENS = re.compile(r"<\|[^|>]{0,40}\|>|\[/?INST\]|<</?SYS>>|</?s>|<\|?(?:im_start|im_end|endoftext|eot_id)\|?>", re.I)
_FENCE_LIKE = re.compile(r"<{3,}|>{3,}")
_BLANK_RUN = re.compile(r"\n(?:[ \t]*\n){3,}")


def invisible_count(text: str) -> int:
    return len(_INVISIBLE.findall(text))


def sanitize(text: str) -> str:
    """Text as a careful reader would see it: no invisible characters, no chat-template tokens, no
    look-alike fence markers, and long runs of blank lines (a place to hide text) shown as such."""
    text = _INVISIBLE.sub("", text)
    text = _TEMPLATE_TOKENS.sub(lambda m: m.group(0).replace("<", "‹").replace(">", "›").replace("[", "(").replace("]", ")"), text)
    text = _FENCE_LIKE.sub(lambda m: "‹" * len(m.group(0)) if m.group(0)[0] == "<" else "›" * len(m.group(0)), text)
    return _BLANK_RUN.sub(lambda m: f"\n[{m.group(0).count(chr(10)) - 1} blank lines]\n", text)


def new_nonce() -> str:
    return secrets.token_hex(8)


def fence(content: str, *, source: str, nonce: str | None = None) -> str:
    """`content` as quarantined data from `source`, between two markers carrying a random nonce."""
    nonce = nonce or new_nonce()
    body = sanitize(content).strip() or "(empty)"
    return prompts.render("tool_untrusted", nonce=nonce, source=sanitize(source), content=body)


def fenced_nonces(prompt: str) -> list[str]:
    """The nonces of the fenced blocks in a prompt (tests check each block opens and closes)."""
    return re.findall(r"<<<DATA ([0-9a-f]{16})>>>", prompt)
