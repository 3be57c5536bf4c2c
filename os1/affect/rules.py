"""Two explicit rules on top of the classifier's probabilities: negated feelings, and sarcastic praise.

The classifier already sees negation (``NOT_`` word features, os1/affect/features.py) and reads "I'm not
happy at all" or "I can't stop crying" right on its own. What it learned from GoEmotions is weaker for a
feeling that is named only to be denied ("I'm not sad anymore", "I wasn't scared at all", "I don't hate
it"), and it cannot know sarcastic praise: GoEmotions' raters labelled "Great, another article from ..."
as admiration, so the model does too. Both rules only ever *lower* probabilities (plus raising neutral or
annoyance in their place), fire on narrow patterns, and are measured on dev by bench/emotion_bench.py.

Negated feeling. A feeling word sits right after a negator, with at most a few filler words between ("not
happy", "don't feel sad", "no longer angry", "wasn't scared at all"), and no word of the same family is
affirmed elsewhere in the message. Then that family's labels are damped (x0.25), and neutral rises to what
they lost. Not for counterfactuals ("I wish I wasn't so anxious"), nor "can't stop crying" (features.py).

Sarcastic praise. The message opens with a bare word of praise and a break ("Oh great, ...", "Perfect.
...", "Just what I needed, ...", "Lucky me, ...", "Yeah, right, ..."), and what follows is a setback
("another Monday", "late again", "broke down") or reads negative. Then the praise is ironic: the reading
is that of the rest with its positive labels damped; if the rest names no feeling of its own, annoyance
(disapproval for "yeah right") at least 0.8.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from .features import NEGATORS, negation_scope, tokens

Probs = dict[str, float]

POSITIVE_LABELS = frozenset(["admiration", "amusement", "approval", "caring", "desire", "excitement", "gratitude",
                             "joy", "love", "optimism", "pride", "relief"])
"""GoEmotions' positive group (Demszky et al. 2020)."""
NEGATIVE_LABELS = frozenset(["anger", "annoyance", "disappointment", "disapproval", "disgust", "embarrassment",
                             "fear", "grief", "nervousness", "remorse", "sadness"])
"""GoEmotions' negative group."""

FAMILIES: Mapping[str, frozenset[str]] = {
    "joy": frozenset(["joy", "excitement", "love", "admiration", "approval", "pride", "optimism", "relief",
                      "gratitude"]),
    "fun": frozenset(["amusement", "joy", "excitement"]),
    "sadness": frozenset(["sadness", "grief", "disappointment", "remorse"]),
    "fear": frozenset(["fear", "nervousness"]),
    "anger": frozenset(["anger", "annoyance", "disgust", "disapproval"]),
    "negative": NEGATIVE_LABELS,
    "surprise": frozenset(["surprise"]),
    "confusion": frozenset(["confusion"]),
}
"""Which labels a denied feeling word takes away."""
TAKES_UP: Mapping[str, str] = {"negative": "approval"}
"""What rises in a denied family's place (else neutral): "not bad", "not wrong" are mild approval, as GoEmotions'
raters label them."""

_CUES: dict[str, str] = {}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _cue(family: str, words: str) -> None:
    for w in words.split():
        _CUES[w] = family


_cue("joy", "happy glad joyful excited exciting thrilled delighted great good nice love like enjoy enjoying enjoyed "
     "proud hopeful optimistic grateful thankful impressed pleased satisfied content cheerful awesome amazing "
     "wonderful fantastic excellent")
_cue("fun", "fun funny amused amusing hilarious")
_cue("sadness", "sad unhappy depressed depressing down upset crying cry lonely heartbroken miserable disappointed "
     "disappointing sorry gloomy hopeless devastated hurt hurting")
_cue("fear", "scared afraid anxious nervous worried worrying terrified frightened panicking panicked stressed tense "
     "scary")
_cue("anger", "angry mad annoyed annoying furious hate hated pissed irritated frustrated bitter resentful disgusted "
     "offended")
_cue("negative", "bad terrible awful horrible wrong worse worst sucks")
_cue("surprise", "surprised shocked surprising")
_cue("confusion", "confused confusing")

FILLERS = _words("""i i'm im it it's its that's be been being am is are was were feel feeling felt really very so
too that at all even a bit any more longer particularly exactly remotely get getting gonna going to seem seems
look looks sound sounds that much as quite all that anymore""")
"""Words that may stand between a negator and the feeling it denies ("don't feel so sad")."""
MAX_FILLERS = 3
_COUNTERFACTUAL = frozenset(["wish", "wished", "wishing", "if only", "hope", "hoping"])
DAMP = 0.25


def tightly_negated(toks: Sequence[str]) -> set[int]:
    """Indices of feeling words denied by a negator a few filler words before them."""
    broad = negation_scope(toks)
    out: set[int] = set()
    for i, tok in enumerate(toks):
        if not (tok in NEGATORS or tok.endswith("n't")):
            continue
        if any(t in _COUNTERFACTUAL for t in toks[max(0, i - 3):i]):
            continue
        j, fillers = i + 1, 0
        while j < len(toks) and toks[j] not in _CUES and toks[j] in FILLERS and fillers < MAX_FILLERS:
            j, fillers = j + 1, fillers + 1
        if j < len(toks) and toks[j] in _CUES and broad[j]:
            out.add(j)
    return out


def negated_families(text: str) -> list[str]:
    """The feeling families that are named in the message only to be denied."""
    toks = tokens(text)
    denied = tightly_negated(toks)
    broad = negation_scope(toks)
    negated = {_CUES[toks[j]] for j in denied}
    affirmed_labels: set[str] = set()
    for j, t in enumerate(toks):
        if t in _CUES and j not in denied and not broad[j]:
            affirmed_labels |= FAMILIES[_CUES[t]]
    return sorted(f for f in negated if not (FAMILIES[f] & affirmed_labels))


def apply_negation(text: str, probs: Mapping[str, float]) -> tuple[Probs, list[str]]:
    """Damp the families the message denies; neutral (approval for "not bad") takes up what they lose."""
    out = dict(probs)
    families = negated_families(text)
    for family in families:
        lost = 0.0
        for label in FAMILIES[family] & out.keys():
            lost = max(lost, out[label] * (1 - DAMP))
            out[label] *= DAMP
        heir = TAKES_UP.get(family, "neutral")
        if heir in out:
            out[heir] = max(out[heir], lost)
    return out, [f"negated:{f}" for f in families]


_PRAISE = (r"great|wonderful|perfect|fantastic|lovely|awesome|brilliant|terrific|super|nice|fabulous|splendid|"
           r"marvell?ous|excellent|yay|amazing|just great|just perfect|just wonderful|"
           r"just what i (?:needed|wanted)|exactly what i (?:needed|wanted)|lucky me|thanks a lot|"
           r"how (?:nice|lovely|wonderful|fun)|oh joy|oh goody|what a (?:great|lovely|wonderful|perfect) (?:start|day|way)")
_OPENER = re.compile(
    rf"^\W*(?:(?:oh|well|just|wow|ah+|gee|so)\W+)*(?P<praise>{_PRAISE}|(?P<disbelief>yeah,? right|sure,? right))"
    r"\s*(?:[,.!…:;]+|\s[-–—]+)\s*(?P<rest>\S.*)$", re.S)
SETBACKS = _words("""again another yet more still now monday mondays late stuck broke broken breaks lost ruined
cancelled canceled delayed failed fail fails flat rain raining traffic redo extra overtime sick bill bills fired dumped
crashed spilled forgot forgotten missed dead died leaking leaked tax taxes homework meeting meetings deadline
deadlines work shift traffic queue line wait waiting hours""")


def sarcastic_rest(text: str) -> tuple[str, bool] | None:
    """(the words after an opening of bare praise, whether the opening is "yeah right"), or None."""
    m = _OPENER.match(text.strip().lower().replace("’", "'"))
    if m is None:
        return None
    return m.group("rest"), m.group("disbelief") is not None


def apply_sarcasm(text: str, probs: Mapping[str, float], read_rest: Callable[[str], Mapping[str, float]],
                  valence: Callable[[Mapping[str, float]], float]) -> tuple[Probs, list[str]]:
    """If the message is sarcastic praise, the reading of what follows the praise, soured."""
    found = sarcastic_rest(text)
    if found is None:
        return dict(probs), []
    rest, disbelief = found
    rest_probs = dict(read_rest(rest))
    v = valence(rest_probs)
    setback = any(t in SETBACKS for t in tokens(rest))
    if not disbelief and (v >= 0.15 or not (setback or v < -0.15)):
        return dict(probs), []
    for label in POSITIVE_LABELS & rest_probs.keys():
        rest_probs[label] *= DAMP
    target = "disapproval" if disbelief else "annoyance"
    if disbelief or v > -0.15:  # the rest names no feeling of its own: the sarcasm is the feeling
        rest_probs[target] = max(rest_probs.get(target, 0.0), 0.8)
    return rest_probs, ["sarcasm"]
