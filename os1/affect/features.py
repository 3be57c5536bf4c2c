"""Word features for the emotion reader: tokens, explicit negation scope, and the bag of terms the model sees.

Shared by the trainer (scripts/train_emotions.py) and the runtime, so both featurise a message identically.

Negation is marked the classic way (Das & Chen 2001; Pang, Lee & Vaithyanathan 2002): after a negator, the
following words until the end of the clause carry a ``NOT_`` prefix, so "not happy" is the feature
``NOT_happy``, which the classifier learns apart from ``happy``. Two exceptions keep the reading from
flipping the wrong way:

* "can't stop crying", "couldn't help laughing", "won't quit": a negated persistence verb *affirms* what
  follows, so the scope closes at "stop"/"help"/"quit" and "crying" stays plain;
* "not only", "no doubt", "never mind", "no wonder", "not just": idioms that do not negate the clause;
* "couldn't be happier", "never been better", "can't be more proud": a negated comparative is a superlative.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

TOKEN = re.compile(r"\[name\]|[a-z0-9]+(?:'[a-z]+)?|[!?]+|[^\sa-z0-9]", re.UNICODE)
"""Lower-cased words (with an apostrophe suffix kept: "can't", "i'm"), runs of !/?, and any other single
character (emoji, punctuation). GoEmotions masks names as "[NAME]"."""

NEGATORS = frozenset(["not", "no", "never", "nothing", "nobody", "none", "nowhere", "neither", "nor", "cannot", "without", "hardly", "barely", "scarcely", "don't", "dont", "doesn't", "doesnt", "didn't", "didnt", "isn't", "isnt", "aren't", "arent", "wasn't", "wasnt", "weren't", "werent", "can't", "cant", "couldn't", "couldnt", "won't", "wont", "wouldn't", "wouldnt", "shouldn't", "shouldnt", "haven't", "havent", "hasn't", "hasnt", "hadn't", "hadnt", "ain't", "aint", "mustn't", "mightn't", "needn't", "n't"])

PERSIST = frozenset(["stop", "help", "quit", "resist", "wait", "believe", "stand", "handle", "take", "bear"])
"""After a negator these close the scope: "can't stop crying" is crying; "can't wait" is eagerness;
"can't believe/stand/handle/take/bear" carry their own meaning as a bigram."""

_IDIOMS = frozenset([("not", "only"), ("not", "just"), ("no", "doubt"), ("never", "mind"), ("no", "wonder"),
                     ("not", "sure"), ("no", "problem"), ("no", "worries")])
"""Negator + word pairs that do not negate the rest of the clause ("not sure" is its own feeling)."""

CLAUSE_END = frozenset([".", ",", ";", ":", "!", "?", "but", "though", "although", "however", "yet", "and",
                        "because", "cause", "so", "(", ")", '"', "…"])
SCOPE_MAX = 5
"""At most this many words are marked after one negator."""


def normalise(text: str) -> str:
    return (text.lower().replace("’", "'").replace("‘", "'").replace("`", "'")
            .replace("“", '"').replace("”", '"'))


def tokens(text: str) -> list[str]:
    """The tokens of a message (lower case; curly quotes straightened)."""
    return TOKEN.findall(normalise(text))


def negation_scope(toks: Sequence[str]) -> list[bool]:
    """For each token, whether it sits inside a negation scope."""
    out = [False] * len(toks)
    i = 0
    while i < len(toks):
        tok = toks[i]
        if tok in NEGATORS or tok.endswith("n't"):
            nxt = toks[i + 1] if i + 1 < len(toks) else ""
            if (tok, nxt) in _IDIOMS or nxt in PERSIST:
                i += 2
                continue
            modal = tok in _MODAL_NEG or (tok == "not" and i > 0 and toks[i - 1] in ("could", "can"))
            if modal and _comparative(toks, i + 1):
                i += 1
                continue
            j, marked = i + 1, 0
            while j < len(toks) and marked < SCOPE_MAX:
                t = toks[j]
                if t in CLAUSE_END or t[0] in "!?" or t in NEGATORS or t.endswith("n't"):
                    break
                out[j] = True
                marked += 1
                j += 1
            i = j
            continue
        i += 1
    return out


_MODAL_NEG = frozenset(["couldn't", "couldnt", "can't", "cant", "cannot", "never"])
"""Negators that turn a following comparative into a superlative; "don't feel better" stays negated."""
_BE = frozenset(["be", "been", "feel", "felt", "get", "have", "ever"])
_NOT_COMPARATIVE = frozenset(["never", "other", "over", "under", "after", "ever", "per", "her", "either", "neither",
                              "water", "paper", "matter", "number", "answer", "power", "offer", "order", "letter"])


def _comparative(toks: Sequence[str], j: int) -> bool:
    """Whether toks[j:] reads "(have) (ever) be(en) <comparative>" ("couldn't be happier", "never felt better")."""
    k = j
    while k < len(toks) and k < j + 3 and toks[k] in _BE:
        k += 1
    if k == j or k >= len(toks):
        return False
    w = toks[k]
    if w == "more" or w in ("better", "worse"):
        return True
    return len(w) > 4 and w.endswith("er") and w not in _NOT_COMPARATIVE


def terms(text: str) -> list[str]:
    """The bag of terms: unigrams (``NOT_`` inside a negation scope) and plain bigrams, deduplicated."""
    toks = tokens(text)
    scope = negation_scope(toks)
    out = {("NOT_" + t) if neg else t for t, neg in zip(toks, scope, strict=True)}
    out.update(f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False))
    return sorted(out)


def any_negated(text: str) -> bool:
    """Whether any word of the message sits in a negation scope."""
    return any(negation_scope(tokens(text)))
