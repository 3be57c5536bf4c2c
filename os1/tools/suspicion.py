"""A local detector for content that tries to instruct an AI, and for phishing. No model call.

Its findings are OS1's own and sit outside the fenced data in the prompt, in the tool's result and in
the API, so a message cannot talk its way out of being flagged. Benign mail full of imperatives for a
person ("please sign and return by Friday", "call me when you land") is not flagged: the AI rules look
for text addressed to an AI, role markers, hidden text and requests for the mailbox, memory or secrets;
the phishing rules need a credential or payment lure, or two weaker signs together.

Hand-written rules: no maintained library detects prompt injection offline without a model, and these
are auditable. The AI rules also run on what unmask.py finds behind disguises (look-alike letters, digits
for letters, base64/hex/rot13). bench/data/injection/ measures them: messages.jsonl was written beside the
first rules; fresh_blind.jsonl was written later without looking at them (first look: 18/40 attacks
flagged, 1/18 benign), and the rules marked "fresh set" below were added from what it missed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlparse

from .quarantine import invisible_count
from .unmask import views


def _rx(p: str) -> re.Pattern[str]:
    return re.compile(p, re.I | re.S)


_WHO = r"(?:ai|a\.i\.|assistant|ai assistant|ai agent|ai model|chatbot|bot|language model|llm|agent|model)"
_ASK_VERB = (r"(?:reply|respond|send|e-?mail|forward|delete|ignore|add|remove|reveal|share|tell|write|execute|run|change|"
             r"include|paste|append|print|apply|decode|remember|call|cancel|output|disable|follow|summari[sz]e)")
_MAIL_THING = r"(?:e-?mails?|mail|messages|inbox|mailbox|correspondence|contact list|contacts|calendar|agenda)"

_AI_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("asks to ignore earlier instructions", _rx(r"\b(?:ignore|disregard|forget|override|bypass)\b.{0,30}\b(?:previous|prior|above|earlier|all|any|your|the)\b.{0,20}\b(?:instructions?|prompts?|rules|directives|guidelines|messages|context)\b")),
    ("speaks to an AI assistant", _rx(r"\b(?:dear|hey|hi|hello|attention|note to|message (?:to|for)|instructions? for|if you are|to the|as an?)\s+(?:the\s+)?(?:ai|a\.i\.|assistant|ai assistant|chatbot|bot|language model|llm|agent|os1|copilot|gpt|claude|samantha)\b")),
    ("speaks to an AI assistant", _rx(r"\b(?:ai|assistant|language model|llm|agent)s?\b(?: that is)? (?:reading|processing|summari[sz]ing|handling) (?:this|these)\b")),
    ("speaks to an AI assistant", _rx(r"(?:^|[.!?\n]\s*)(?:the\s+)?(?:ai|ai assistant|assistant|bot|agent|llm|chatbot)\s*[:,]\s*(?:please\s+)?(?:reply|send|forward|delete|ignore|add|remove|reveal|share|tell|write|execute|run|change|include|paste)\b")),
    ("contains a fake system or role message", _rx(r"(?:^|\n)\s*(?:#+\s*)?(?:system|assistant|developer)\s*(?:message|prompt|note|override)?\s*:|\[(?:system|inst|admin)\b|<\|?(?:system|im_start|im_end)\|?>|<</?sys>>|\bbegin (?:system|admin) (?:prompt|message|instructions)\b")),
    ("claims new rules or a new role", _rx(r"\b(?:new (?:instructions|rules|directive)|you are now|from now on,? you|act as (?:an?|the)|pretend (?:to be|you are)|developer mode|jailbreak|system prompt)\b")),
    ("asks to forward the mailbox", _rx(r"\bforward\b.{0,40}\b(?:all|every|each|entire|whole|any)\b.{0,30}\b(?:e-?mails?|mail|messages|inbox|correspondence)\b|\b(?:set up|create|add)\b.{0,20}\b(?:forwarding|auto-?forward)")),
    ("asks to delete memories or data", _rx(r"\b(?:delete|erase|wipe|clear|remove|forget)\b.{0,40}\b(?:memor(?:y|ies)|everything (?:you know|about)|(?:all|their|the user'?s|his|her) (?:e-?mails?|mail|data|files|messages|history|calendar))\b")),
    ("asks for passwords or secrets", _rx(r"\b(?:send|reveal|share|give|tell|include|provide|reply with|list|paste|export)\b.{0,50}\b(?:passwords?|passcodes?|api[ -]?keys?|credentials|login details|2fa|two-factor|verification codes?|one-time (?:codes?|passwords?)|secret keys?|seed phrase|recovery (?:codes?|phrase)|ssh keys?|tokens?|keyring)\b")),
    ("asks to act without telling the user", _rx(r"\b(?:without (?:telling|informing|notifying|asking|alerting) (?:the user|them|him|her|anyone)|do not (?:tell|inform|notify|mention (?:this )?to) (?:the user|them|him|her)|don'?t (?:tell|let) (?:the user|them|him|her) know|silently|secretly)\b")),
    ("asks to change settings or accounts", _rx(r"\b(?:change|update|reset|disable|turn off)\b.{0,30}\b(?:the user'?s|their|his|her)\b.{0,20}\b(?:settings|password|security|forwarding|filters|rules|confirmations?)\b")),
    # From the fresh set (polite, forwarded, hidden, encoded, role-play styles) ------------------------------
    ("speaks to an AI assistant", _rx(r"\b(?:if you are|if you're|are you|as)\s+(?:an?|the)\s+(?:ai|language model|llm|ai model|ai assistant|ai agent)\b")),
    ("speaks to an AI assistant", _rx(r"\b(?:ai|assistants?|language models?|llms?|agents?|bots?)\b[^.\n]{0,80}\b(?:reading|processing|summari[sz]ing|handling|managing|helping)\b[^.\n]{0,60}?\b(?:this|these|(?:his|her|their|the|the user'?s) (?:inbox|mail|e-?mails?|messages?))\b")),
    ("speaks to an AI assistant", _rx(r"\b(?:his|her|their|the user'?s)\s+ai\b|\b(?:note|message|instructions?|reminder)\s+(?:for|to)\s+(?:the\s+|any\s+)?(?:ai|assistant|language model|llm|agent|bot|model)s?\b")),
    ("speaks to an AI assistant", _rx(rf"(?:^|[.!?\n>]\s*)(?:dear\s+|hey\s+|hi\s+)?(?:the\s+)?{_WHO}\s*[:,]\s*(?:please\s+)?(?:\w+\s+){{0,3}}?{_ASK_VERB}\b")),
    ("asks to forward the mailbox", _rx(rf"\b(?:forward|send|pass along|pass on|share|e-?mail|copy)\b[^.\n]{{0,40}}\b(?:copies of|all|every|each|entire|whole|recent|latest|(?:his|her|their|the user'?s|\w+'s)(?:\s+\w+){{0,3}}?)\s+(?:of\s+)?(?:his\s+|her\s+|their\s+|the\s+)?{_MAIL_THING}\b[^.\n]{{0,60}}\bto\s+\S+@\S+")),
    ("asks to forward the mailbox", _rx(r"\bforward(?:_\w+|\s+(?:the|his|her|their|the user'?s)\s+(?:inbox|mailbox))\b")),
    ("asks to delete memories or data", _rx(r"\b(?:delet|eras|wip|clear|remov|forget)\w*(?:\s+out)?\b.{0,30}\bmemor(?:y|ies)\b|\bdelete_\w+")),
    ("asks to change the calendar", _rx(r"\b(?:cancel|delete|remove|clear)\b[^.\n]{0,20}\b(?:all|every)\b[^.\n]{0,20}\b(?:events?|meetings?|appointments?)\b|\badd\b[^.\n]{0,40}\bto (?:all|every)\b[^.\n]{0,30}\bevents?\b")),
    ("asks for passwords or secrets", _rx(r"\b(?:append|print|dump|output|attach|forward|e-?mail|post|write)\b.{0,50}\b(?:passwords?|api[ -]?keys?|credentials|keyring|tokens?|secret keys?|system prompt)\b")),
    ("asks to act without telling the user", _rx(r"\bwithout (?:confirming|confirmation|checking|approval|permission|asking (?:for )?(?:confirmation|permission))\b|\bno need to (?:check|ask) (?:with )?(?:him|her|them|the user)\b|\b(?:you )?don'?t need to ask\b|\bno confirmation (?:is )?(?:needed|required)\b|\bconfirmations? (?:are|is) (?:disabled|off)\b|\bdon'?t mention (?:it|this)\b")),
    ("contains a fake system or role message", _rx(r"\[(?:system|inst|admin|assistant|developer|tool|tool_call|function_call)\]|\"role\"\s*:\s*\"(?:system|developer|tool|assistant)\"|\b(?:tool_call|function_call|send_email|forward_email)\b")),
    ("pretends the data has ended", _rx(r"#{2,}\s*end of (?:the )?(?:e-?mail|message|data|content)\s*#{2,}|</?untrusted>|\bend of (?:the )?(?:quarantined|untrusted) (?:content|data)\b")),
    ("asks to change what OS1 remembers", _rx(r"\b(?:remember|memori[sz]e|store|save|keep in mind)\b[^.\n]{0,40}\b(?:as a (?:permanent )?fact|permanent(?:ly)?|forever|in your memory)\b")),
    ("asks to decode and follow hidden instructions", _rx(r"\b(?:decode|decipher|decrypt|unscramble|apply rot-?13|rot-?13)\b[^.\n]{0,60}\b(?:follow|do (?:what|as) it says|obey|execute|carry (?:it )?out|act on)\b|\b(?:hex|base64|encoded|rot-?13|cipher)\b[^.\n]{0,40}\b(?:is|are) your (?:real |true |actual )?(?:instructions?|task|orders?)\b")),
    ("claims new rules or a new role", _rx(r"\b(?:has|have|with) no (?:rules|restrictions|limits|filters)\b|\bnever asks? for (?:confirmation|permission)\b")),
)
# Other languages: words addressed to an AI together with an action on the mailbox, memory or secrets.
_OTHER_ADDRESS = _rx(r"\b(?:asistente|assistente|assistant ia|l'assistant|ki-?assistent(?:in)?|inteligencia artificial|intelig[eê]ncia artificial|"
                     r"intelligence artificielle|intelligenza artificiale|künstliche intelligenz)\b|アシスタント|人工知能")
_OTHER_ACTION = _rx(r"\b(?:reenv[ií]a\w*|transf[eè]re\w*|weiterleit\w*|inoltra\w*|encaminh\w*|supprime\w*|lösch\w*|borra\w*|cancella\w*|apag\w*|"
                    r"contraseñas?|mot de passe|passw(?:o|ö)rt\w*|zugangsdaten|senhas?|ignor(?:a|ar|ez|iere|ieren)|invia\w*|env[ií]a\w*|"
                    r"sin (?:pedir|preguntar)|sans (?:demander|le dire)|ohne (?:nachzufragen|zu fragen)|senza chiedere|sem (?:pedir|perguntar))\b|"
                    r"転送|無視|パスワード|確認は不要")
_NEGATED = re.compile(r"\b(?:never|not|don'?t|do not|won'?t|will not|shouldn'?t)\b[^.\n]{0,20}$", re.I)
_SPACE_RUN = re.compile(r"[ \t\u00a0]{80,}\S")

_CREDENTIAL_LURE = _rx(r"\b(?:verify|confirm|update|validate|re-?activate|unlock|restore)\b.{0,30}\b(?:your )?(?:account|password|identity|payment|billing|card|details|information|login|mailbox)\b|\b(?:enter|provide|submit)\b.{0,20}\b(?:your )?(?:password|credentials|card number|ssn|social security)\b")
_THREAT = _rx(r"\b(?:will be|has been|have been|is being)\b.{0,15}\b(?:suspended|locked|closed|deactivated|disabled|terminated|deleted|limited)\b|\bunusual (?:sign-?in|activity|login)\b|\bfinal (?:notice|warning)\b|\blegal action\b")
_URGENT = _rx(r"\b(?:within (?:24|48|12) hours|immediately|urgent(?:ly)?|act now|right away|as soon as possible|today only|expires? today)\b")
_PAYMENT_LURE = _rx(r"\b(?:gift ?cards?|itunes cards?|google play cards?|steam cards?|wire (?:the )?(?:transfer|money)|western union|moneygram|bitcoin|crypto(?:currency)? wallet|processing fee|release (?:the|your) (?:funds|package|inheritance))\b")
_PHONE = _rx(r"(?:\+?\d[\d ().-]{8,}\d)")
_CALLBACK_BAIT = _rx(r"\b(?:refund|renew(?:al|ed)|subscription|invoice|charged|order #|order number|norton|mcafee|geek squad|paypal|antivirus|tech support|support team|cancel(?:lation)?|dispute)\b")
_CALL = _rx(r"\b(?:call|dial|phone|ring|contact)\b")
_BRANDS = ("paypal", "amazon", "apple", "microsoft", "google", "netflix", "bank", "chase", "wells fargo", "irs",
           "dhl", "fedex", "ups", "usps", "norton", "mcafee", "geek squad", "facebook", "instagram")


@dataclass(frozen=True, slots=True)
class Suspicion:
    """What the detector found in one piece of content."""

    instructs_ai: bool = False
    phishing: bool = False
    reasons: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        return self.instructs_ai or self.phishing

    def warning(self, what: str = "This message") -> str | None:
        """One sentence for people and for the prompt (outside the fenced data), or None."""
        if not self.flagged:
            return None
        kinds = [k for k, on in (("tries to give instructions to an AI", self.instructs_ai),
                                 ("looks like phishing", self.phishing)) if on]
        return f"{what} {' and '.join(kinds)} ({'; '.join(self.reasons[:4])})."


def inspect(text: str, *, hidden: Sequence[str] = (), sender: str = "", links: Sequence[tuple[str, str]] = ()) -> Suspicion:
    """Look at `text` (what a reader sees), `hidden` parts (HTML comments, invisible elements), the sender
    ('Name <addr>') and `links` ((shown text, target URL) pairs)."""
    reasons: list[str] = []
    everything = "\n".join([text, *hidden])
    for reason in _ai_findings(everything):
        if reason not in reasons:
            reasons.append(reason)
    disguised = [r for v in views(everything) for r in _ai_findings(v) if r not in reasons]
    if disguised:
        reasons.append("hides its words (look-alike letters, invisible characters, digits for letters or an encoding)")
        reasons.extend(dict.fromkeys(disguised))
    if _OTHER_ADDRESS.search(everything) and _OTHER_ACTION.search(everything):
        reasons.append("speaks to an AI assistant (in another language)")
    hidden_words = [h for h in hidden if len(re.findall(r"[A-Za-z]{2,}", h)) >= 4]
    if hidden_words:
        reasons.append("has hidden text (HTML comments or invisible elements)")
    if re.search(r"\n(?:[ \t]*\n){10,}\s*\S", text) or _SPACE_RUN.search(text):
        reasons.append("has text hidden after many blank lines")
    if invisible_count(everything) >= 5:
        reasons.append("has invisible characters")
    # Hidden text alone is common in marketing mail; it counts when it also carries an AI rule.
    instructs_ai = any(r for r in reasons if r not in ("has hidden text (HTML comments or invisible elements)",
                                                        "has text hidden after many blank lines",
                                                        "has invisible characters"))

    phish: list[str] = []
    if _PAYMENT_LURE.search(everything):
        phish.append("asks for payment by gift card, wire or crypto")
    if _CALL.search(everything) and _PHONE.search(everything) and _CALLBACK_BAIT.search(everything):
        phish.append("asks you to call a number about a charge, refund or renewal")
    weak = []
    if _CREDENTIAL_LURE.search(everything):
        weak.append("asks you to verify an account or enter details")
    if _THREAT.search(everything):
        weak.append("threatens to close or lock an account")
    if _URGENT.search(everything):
        weak.append("pressures you to act fast")
    mismatch = _link_mismatch(links)
    if mismatch:
        weak.append(mismatch)
    spoof = _spoofed_sender(sender)
    if spoof:
        weak.append(spoof)
    if len(weak) >= 2 or (weak and phish):
        phish.extend(weak)
    phishing = bool(phish)
    return Suspicion(instructs_ai, phishing, tuple(reasons if instructs_ai else []) + tuple(phish))


def _ai_findings(text: str) -> list[str]:
    found = []
    for reason, rx in _AI_RULES:
        for m in rx.finditer(text):
            # "Never share your password with anyone" warns a person; it asks nothing of an AI.
            if reason == "asks for passwords or secrets" and _NEGATED.search(text[max(0, m.start() - 30):m.start()]):
                continue
            found.append(reason)
            break
    return found


def _domain(url: str) -> str:
    host = urlparse(url if "//" in url else f"//{url}").hostname or ""
    return host.lower().removeprefix("www.")


def _link_mismatch(links: Sequence[tuple[str, str]]) -> str | None:
    for shown, target in links:
        shown_dom = _domain(shown.strip()) if re.match(r"^\s*(?:https?://)?[\w.-]+\.[a-z]{2,}(?:/\S*)?\s*$", shown, re.I) else ""
        target_dom = _domain(target)
        if shown_dom and target_dom and not (target_dom == shown_dom or target_dom.endswith("." + shown_dom)):
            return f"a link shows {shown_dom} but goes to {target_dom}"
    return None


def _spoofed_sender(sender: str) -> str | None:
    m = re.match(r"\s*\"?([^\"<]*)\"?\s*<([^>]+)>", sender)
    if not m:
        return None
    name, addr = m.group(1).lower(), m.group(2).lower()
    domain = addr.rsplit("@", 1)[-1]
    for brand in _BRANDS:
        key = brand.replace(" ", "")
        if brand in name and key not in domain.replace("-", ""):
            return f"the sender calls itself {brand.title()} but writes from {domain}"
        if key not in domain and re.sub(r"[0-9]", lambda d: {"0": "o", "1": "l", "3": "e", "5": "s"}.get(d.group(0), d.group(0)), domain).find(key) >= 0:
            return f"the sender's domain {domain} imitates {brand.title()}"
    return None
