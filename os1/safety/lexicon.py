"""The risk screen's vocabulary: cues of risk, and the frames that explain a cue away.

Hand-written because no library screens chat messages for suicide risk offline in a few
milliseconds: the published classifiers are large transformer models (too slow for every message on
a 2-core laptop) and keyword lists alone fire on idioms. Every cue here was written against the
development split of the evaluation set (bench/data/safety_eval.jsonl); the held-out split was
written first and is only measured, never tuned on (bench/RESULTS.md).

Text reaching these patterns is normalised by `screen.normalize`: lower case, straight quotes,
one sentence per line. Patterns never cross a line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

Category = Literal["ideation", "hopelessness", "plan", "means", "self_harm", "farewell", "slang", "topic"]


@dataclass(frozen=True, slots=True)
class Cue:
    """One way of saying something that signals risk."""

    name: str
    category: Category
    pattern: re.Pattern[str]
    weight: float = 1.0
    """1.0 is enough alone; 0.5 needs another cue in the same message."""
    act: bool = False
    """It tells of something done (died, jumped, killed myself): a game, a story or the past explains it."""
    completed: bool = False
    """About someone else, a death that already happened: grief or news, not someone to help now."""
    about_self_only: bool = False
    """Means nothing when said of someone else (e.g. 'where I'm going')."""
    needs: re.Pattern[str] | None = None
    """Counts only if this also appears in the same sentence."""
    keys: tuple[str, ...] = ()
    """Substrings one of which every match contains: a fast test that skips sentences the pattern cannot match."""


def _c(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# Reflexives and possessives: who the act is done to.
_SELF = r"(?:myself|my ?self|himself|herself|themselves|themself|yourself|oneself|urself)"
_OWN_LIFE = r"(?:my|his|her|their|your|one'?s) (?:own )?li(?:fe|ves)"
_WANT = (r"(?:want|wants|wanted|wanting|wanna|wish|wishes|wished|wishing|need|needs|hope|hopes|ready|deserve|deserves"
         r"|decided|decide|plan|plans|planned|planning|tempted|longing|long|pray|praying|feel like|feels like|felt like"
         r"|rather just|should just|thinking (?:about|of)|think(?:s)? about|thought about|thoughts? (?:of|about)"
         r"|fantasi[sz](?:e|es|ing) about|dream(?:s|ing)? (?:of|about)|urges? to|close to|scared of how much i want)")
_WILL = (r"(?:want|wants|wanted|wanting|wanna|wish|wishes|wished|need|needs|going|gonna|goin|plan|plans|planning|planned"
         r"|ready|decided|deserve|tempted|trying|try|tried|tries|about|will|'ll|ll|might|may|could|should|gotta"
         r"|thinking (?:about|of)|think(?:s)? about|thought(?:s)? (?:about|of)|considering|consider|considered"
         r"|urges? to|close to|scared (?:i'?ll|i will|i might)|imagine|imagining|picture|picturing|researching|googling"
         r"|looking up|looked up|keep|keeps)")
_PILLS = (r"(?:pills?|tablets?|meds|medications?|tylenol|paracetamol|acetaminophen|ibuprofen|advil|aspirin|insulin"
          r"|antidepressants?|sleeping pills|sleeping tablets|xanax|valium|oxy\w*|codeine|morphine|opioids?|fentanyl"
          r"|benzos?|lithium|sertraline|prozac|zoloft|heroin|painkillers?)")
_HIGH = r"(?:bridge|building|roof|rooftop|balcony|cliff|tower|parking (?:garage|deck|structure)|overpass|window|ledge|skyscraper)"
_BODY = r"(?:arms?|wrists?|legs?|thighs?|skin|stomach|hips?|ankles?|chest|hands?|body)"

CUES: tuple[Cue, ...] = (
    # Ideation -----------------------------------------------------------------------------------
    Cue("want to die", "ideation", _c(
        rf"\b{_WANT}(?: to| of| about)?(?: just| really| actually| kinda| kind of| sort of)?"
        r" (?:die|dying|be dead|being dead|not be alive|not being alive|not exist|not existing|stop existing|cease to exist"
        r"|just disappear forever|go to sleep forever|sleep forever|join (?:him|her|them))\b"
        r"|\b(?:wish|wishes|wished|wishing|hope|hopes) (?:i|he|she|they) (?:would|could|was|were|'d|had)(?: just)?"
        r" (?:die|be dead|dead|died|stop existing|not exist|cease to exist|not wake up|never wake up)\b")),
    Cue("kill oneself", "ideation", _c(
        rf"\b(?:kill(?:ing|ed|s)?|k[i1!*]ll|off(?:ing|ed)?|hang(?:ing|ed|s)?|shoot(?:ing|s)?|shot|stab(?:bing|bed|s)?"
        rf"|poison(?:ing|ed|s)?|drown(?:ing|ed|s)?|suffocat(?:e|ing|ed)|end(?:ing|ed|s)?|unaliv(?:e|ing|ed|es)|neck(?:ing|ed)?"
        rf"|top(?:ping|ped|s)?|do(?:ing)?) {_SELF}\b"
        r"(?! (?:in|with|at|on|over|for|trying|working|studying|laughing|out|off|up|to sleep|to finish|to make|to get)\b)"),
        act=True),
    Cue("end life", "ideation", _c(
        rf"\b(?:end|ends|ending|ended|take|takes|taking|took|taken) {_OWN_LIFE}\b"
        r"|\b(?:end|ends|ending|ended) it all\b|\bcommit(?:s|ting|ted)? suicide\b"), act=True),
    Cue("end it", "ideation", _c(
        r"\b(?:i|i'?ll|i will|gonna|going to|goin to|want to|wanna|to|should|might|just|finally|night i|day i|he'?ll|she'?ll|about|of"
        r"|they'?ll|he|she|they|close to|about to) (?:just )?end(?:ing|s)? (?:it|things|everything)"
        r"(?! (?:with|for|between|early|on|off|soon with|now with|here with|already with)\b)(?: (?:all|tonight|today|now|soon"
        r"|this (?:week|weekend)|for good))?\b(?!-)")),
    Cue("suicidal", "ideation", _c(
        r"\bsuicidal\b|\bsuicid(?:e|al) (?:thoughts?|ideation|feelings?|urges?|plans?|attempts?)\b"
        r"|\b(?:thoughts?|thinking|thought|thinks|think) (?:of|about) suicide\b|\bconsider(?:ing|ed)? suicide\b"
        r"|\b(?:attempt(?:ed|ing)?|tried|try|trying) (?:to commit )?suicide\b|\bsuicide attempt\b|\b(?:my|his|her) (?:own )?suicide\b")),
    Cue("what if I told you", "ideation", _c(
        r"\bwhat (?:if|would you (?:say|do) if) i (?:told you|said) i\b.{0,30}\b(?:die|dead|kill|suicid|end (?:it|my)|alive)")),
    Cue("still alive", "ideation", _c(
        r"\b(?:disappointed|sad|upset|angry|annoyed|mad|sorry) (?:that )?i'?m still (?:alive|here|breathing)\b"
        r"|\bwake up (?:disappointed|sad|upset)\b[^\n]{0,30}\b(?:alive|here)\b")),
    # Hopelessness and being a burden ------------------------------------------------------------
    Cue("better off without me", "hopelessness", _c(
        r"\bbetter off (?:without (?:me|him|her|them)|if (?:i|he|she|they) (?:just |simply )?(?:was|were|wasn'?t|weren'?t|died|disappeared|left)"
        r"|(?:with )?(?:me|him|her|them) (?:dead|gone)|dead|when i'?m gone)\b"
        r"|\b(?:happier|easier|relieved|better|lighter) (?:for (?:everyone|everybody|them|you all) )?(?:without (?:me|him|her)|if (?:i|he|she)"
        r" (?:was|were|wasn'?t|weren'?t|died|disappeared) ?(?:gone|dead|here|around|alive|anymore)?)\b"
        r"|\bworld (?:would|will|'d) be (?:better|happier) (?:off )?without (?:me|him|her|them)\b")),
    Cue("nobody would miss me", "hopelessness", _c(
        r"\b(?:no ?one|nobody|noone|no one)(?: would| will|'d)?(?: even| really)? (?:miss|notice|care|mourn)\b"
        r"[^\n]{0,40}\b(?:me|gone|died|dead|disappeared|if i|if she|if he)\b"
        r"|\b(?:wouldn'?t|won'?t) (?:even )?(?:miss|notice) (?:me|if i)\b")),
    Cue("no reason to live", "hopelessness", _c(
        r"\b(?:no|any|a|zero|the) (?:reason|point)s? (?:for me |left )?(?:to|in|of) (?:live|living|keep (?:going|living|trying)|go(?:ing)? on"
        r"|stay(?:ing)? alive|be(?:ing)? alive|be(?:ing)? here|exist(?:ing)?|life|continue|carry on|wake up)\b"
        r"|\bwhat'?s the point (?:of|in) (?:living|life|going on|being alive|existing|anything|even trying|staying alive|waking up|me)\b"
        r"|\b(?:nothing|no ?one|nobody|no reason)(?: left)?(?: for (?:me|him|her))? to live for\b"
        r"|\b(?:don'?t|doesn'?t|can'?t|cannot|do not|does not) see (?:the|any) (?:point|reason) (?:in|of|to|for) "
        r"(?:living|being alive|life|going on|anything|existing|being here|staying)\b"
        r"|\bno point (?:in |of )?(?:living|being alive|going on|existing|life)\b")),
    Cue("life not worth living", "hopelessness", _c(
        r"\b(?:life|it|living)(?: is|'s|s)? (?:not|isn'?t|no longer|never) (?:even )?worth (?:living|it anymore)\b"
        r"|\bisn'?t worth living\b")),
    Cue("tired of living", "hopelessness", _c(
        r"\b(?:tired|sick|exhausted|weary) of (?:living|being alive|life|existing|being here|waking up|this life|it all)\b"
        r"|\b(?:give|gave|giving|given) up on (?:life|living|myself|everything)\b"
        r"|\b(?:done|finished) with (?:life|living|this life|being alive|existing)\b")),
    Cue("can't go on", "hopelessness", _c(
        r"\b(?:can'?t|cannot|can not|couldn'?t) (?:go on|keep going|keep living|carry on|continue living|do life|keep doing life"
        r"|live like this|survive this|stay alive|bear (?:it|this|living) anymore)\b"
        r"|\b(?:hard|difficult|impossible|struggle|struggling|hardly) to keep (?:going|living|myself alive)\b(?! with)")),
    Cue("don't want to live", "hopelessness", _c(
        r"\b(?:don'?t|doesn'?t|dont|do not|does not|didn'?t) (?:really |even )?(?:(?:think|know if|feel like|believe) (?:i|he|she) )?(?:want to|wanna) "
        r"(?:live|be alive|exist|wake up(?! (?:to|next to|beside|early|at|before)\b)|be here|be around|go on|keep (?:going|living)"
        r"|see tomorrow)\b(?! (?:in|at|with|near|there|on|for|without|alone|forever|until|through|past|if it|if i)\b)")),
    Cue("wish never born", "hopelessness", _c(
        r"\b(?:wish|wished|wishing|wishes)(?: that)? (?:i|he|she)(?:'d| had| was| were| could)? (?:never|not) (?:been born|be born|born|exist|existed)\b"
        r"|\b(?:wish|wished|wishing) (?:i|he|she) (?:didn'?t|did not|could) (?:exist|stop existing|not exist|disappear|just disappear)\b"
        r"|\bwish (?:i|he|she) (?:was|were|had been) (?:never born|dead|gone)\b")),
    Cue("never wake up", "hopelessness", _c(
        r"\b(?:sleep|sleeping) and (?:never|not) wake up\b|\b(?:hope|hopes|wish|wishes|praying|pray) (?:i|he|she) (?:don'?t|doesn'?t|never|won'?t) wake up\b"
        r"|\b(?:don'?t|not) (?:want|wanna) to wake up\b(?! (?:to|next to|beside|early|at|before)\b)|\bnot wake up (?:tomorrow|again|in the morning)\b|\bto not wake up\b")),
    Cue("want it to stop forever", "hopelessness", _c(
        r"\b(?:want|wants|need|wish)(?: for)? (?:it|everything|the pain|this|all of it|it all) to (?:stop|end|be over)"
        r",? (?:forever|permanently|for good|for ever)\b|\b(?:end|stop) (?:the pain|it|everything),? (?:forever|permanently|for good)\b")),
    Cue("no way out", "hopelessness", _c(
        r"\bno (?:other )?way out\b|\b(?:don'?t|can'?t) see (?:a|any) (?:future|way forward|way out) (?:for (?:myself|me))?\b"
        r"|\bno future for me\b")),
    Cue("disappear for good", "hopelessness", _c(
        r"\b(?:disappear|disappeared|vanish|vanished)(?: and never come back| for good| forever| permanently| from (?:this|the) world)\b")),
    Cue("burden", "hopelessness", _c(
        r"\bburden (?:to|on|for) (?:everyone|everybody|my family|all of them|the people|them all|you all|those)\b"
        r"|\bwaste of (?:space|oxygen|air|skin)\b"), weight=0.5),
    Cue("can't do this anymore", "hopelessness", _c(
        r"\b(?:can'?t|cannot) (?:do|take|handle) (?:this|it|any of this) anymore\b|\bwant (?:it|everything) to stop\b"
        r"|\b(?:done|finished) with (?:everything|it all|all of it)\b"), weight=0.5),
    Cue("deserve pain", "hopelessness", _c(
        r"\bi deserve (?:to (?:be hurt|hurt|suffer|feel pain|die|bleed)|it|the pain|pain)\b"), weight=0.5),
    # Plans and means ----------------------------------------------------------------------------
    Cue("how many pills", "means", _c(
        rf"\bhow (?:many|much)\b[^\n]{{0,50}}\b(?:would it take|(?:it )?would take|does it take|will it take|to die|to kill|would kill|to overdose|to od"
        r"|would be (?:fatal|lethal|enough)|is (?:fatal|lethal)|to not wake up|before (?:you|i|someone) die|to be fatal|to be lethal)\b"
        rf"|\b\d+ {_PILLS}(?: \w+)? (?:enough|be enough|to die|would kill)\b")),
    Cue("lethal dose", "means", _c(
        r"\b(?:lethal|fatal|deadly|toxic) (?:dose|amount|overdose|quantity)\b|\bhow much [^\n]{0,30}\b(?:fatal|lethal)\b")),
    Cue("painless way", "means", _c(
        r"\b(?:painless|easiest|quickest|fastest|best|surest|least painful|quick|easy|peaceful|simplest|cleanest|most effective)"
        r" (?:way|ways|method|methods) (?:to|of) (?:die|dying|kill|end|suicide|commit|off|go)\b"
        rf"|\b(?:ways|way|how|methods?) to (?:kill {_SELF}|die|commit suicide|end {_OWN_LIFE}|overdose|od|hang {_SELF})\b")),
    Cue("noose", "means", _c(r"\bnoose\b|\btie a (?:noose|hangman'?s knot)\b|\bi'?m (?:going|gonna) (?:to )?rope\b")),
    Cue("jump from height", "plan", _c(
        rf"\b(?:jump|jumping|jumped|leap|leaping|throw (?:my|him|her)self|throwing (?:my|him|her)self|yeet(?:ing)? (?:my|him|her)self)"
        rf" (?:off|from|out of|of) (?:a |the |my |this |that |his |her )?(?:[\w-]+ ){{0,2}}{_HIGH}\b(?! for\b)"
        rf"|\b{_HIGH}\b[^\n]{{0,25}}\b(?:high enough|tall enough) to (?:jump|die|kill)\b"
        rf"|\btallest {_HIGH}\b"), act=True),
    Cue("going to jump", "plan", _c(
        r"\b(?:going to|gonna|about to|want(?:s)? to|threaten(?:ing|ed|s)? to|plan(?:s|ning)? to|says? (?:he|she|they)'?s? (?:going to|gonna)) jump\b"),
        needs=_c(rf"\b{_HIGH}s?\b|\bedge\b")),
    Cue("on the edge", "plan", _c(
        rf"\b(?:standing|sitting|stood|sat|i'?m|she'?s|he'?s) (?:on|at) (?:the |a |top of the )?(?:edge|ledge|railing|tracks|{_HIGH})"
        r"(?! (?:of (?:my|your|his|her|the) seat|deck|garden|bar|party|terrace|restaurant)\b)"),
        needs=_c(r"\b(?:right now|now|tonight|about to|going to|gonna|jump|end|die|look(?:ing)? down|edge|ledge|railing)\b")),
    Cue("in front of a train", "plan", _c(
        r"\b(?:step|stepping|stepped|walk|walking|throw (?:my|him|her)self|jump|jumping|lie|lying|lay) (?:down )?in front of"
        r" (?:a |the |an )?(?:train|bus|truck|car|traffic|lorry|subway)\b")),
    Cue("drive off the road", "plan", _c(
        r"\b(?:drive|driving|drove|crash|crashing|steer|steering|swerve|swerving|veer|veering)(?: my| the| his| her)?(?: car)?"
        r" (?:off|into) (?:a |the |an |oncoming )?(?:road|bridge|cliff|median|tree|wall|traffic|river|lake|pole|barrier|truck)\b")),
    Cue("stockpiling pills", "plan", _c(
        rf"\b(?:stockpil\w+|sav(?:e|ed|ing) up|hoard\w*|collect(?:ing|ed)|sav(?:ing|ed)|stash(?:ing|ed)?|saved)\b[^\n]{{0,30}}\b{_PILLS}\b"
        rf"|\benough {_PILLS}\b[^\n]{{0,20}}\b(?:saved|to do it|to die|to end|stashed)\b"
        rf"|\b{_PILLS} (?:saved|stashed) up\b")),
    Cue("took all the pills", "plan", _c(
        rf"\b(?:took|swallowed|taken|take|taking|ate|downed)\b (?:a bunch of|all (?:of )?(?:my|the|his|her)|a whole (?:bottle|pack|box) of"
        rf"|the whole (?:bottle|pack|box)|too many|a handful of|all|a load of|loads of|a lot of|like \d+|\d+) ?(?:my |the |his |her |of )?"
        rf"(?:\w+ )?{_PILLS}\b(?:,? like all of them| on purpose)?|\boverdos(?:e|ed|ing)\b[^\n]{{0,50}}\bon purpose\b"),
        act=True),
    Cue("overdose", "plan", _c(
        r"\b(?:want|wanna|going|gonna|plan|planning|thinking about|tempted|about|trying|try|tried|how) to (?:overdose|od)\b"
        r"|\boverdos(?:e|ing|ed) on (?:my|his|her|their) (?:pills|meds|medication|\w+ pills)\b"
        r"|\bhow to overdose\b")),
    Cue("gun on myself", "plan", _c(
        r"\b(?:use|using|turn|turning|point|pointing|put|putting) (?:it|the gun|a gun|the pistol|his gun|my gun) (?:on|to|against) "
        r"(?:myself|my head|my temple|himself|his head|herself|her head)\b|\bgun to (?:my|his|her) head\b"
        r"|\b(?:has|have|had|got|holding|loaded) (?:his|her|my|the|a) (?:gun|pistol|rifle) out\b")),
    Cue("picked the date", "plan", _c(
        r"\b(?:picked|chosen|chose|set|pick|choose|decided on) (?:a|the|my) (?:date|day|night|time)(?! (?:for|to|of|with)\b)"),
        about_self_only=True),
    Cue("have a plan", "plan", _c(
        r"\b(?:have|has|got|made|make|making|came up with) (?:a|the) plan (?:to|for how to|of how to|on how to) (?:kill|end|die|do it|commit)\b"
        r"|\b(?:know|knows|figured out|figure out|decided|worked out|planned) (?:exactly )?(?:how|when|where) (?:i'?d|i'?ll|i would|i will|i'?m going to"
        r"|he'?d|she'?d|he'?ll|she'?ll|to) (?:do it|end it|kill|die|go through with it)\b")),
    Cue("blade to the skin", "plan", _c(
        r"\b(?:knife|blade|razor|gun)\b[^\n]{0,30}\b(?:against|to) (?:my|his|her) (?:wrists?|throat|skin|arm|head)\b"), weight=0.5),
    Cue("ominous", "plan", _c(
        r"\bthink about (?:just )?doing it\b|\bi know what i'?m (?:going to|gonna) do\.?$|\bi know what i (?:have|need) to do\.?$"),
        weight=0.5),
    Cue("rope", "plan", _c(r"\b(?:bought|have|got|hid|hidden|keep) (?:a |the )?rope\b"), weight=0.5, about_self_only=True),
    # Self-harm ---------------------------------------------------------------------------------
    Cue("hurt oneself", "self_harm", _c(
        rf"\b(?:hurt(?:ing|s)?|harm(?:ing|ed|s)?|cut(?:ting|s)?|burn(?:ing|ed|t|s)?|scratch(?:ing|ed|es)?|hit(?:ting|s)?|punch(?:ing|ed|es)?"
        rf"|starv(?:e|ing|ed|es)|bruis(?:e|ing|ed)|carv(?:e|ing|ed)|bit(?:e|ing)|slap(?:ping|ped)?) {_SELF}\b"
        r"(?! (?:off|out|some slack|short|up|laughing|at (?:the )?gym|to sleep|a break)\b)"), act=True),
    Cue("self-harm", "self_harm", _c(
        r"\bself[- ]?harm(?:ing|ed|s)?\b|\bself[- ]?injur(?:y|e|ing|ed|ies)\b|\bself[- ]?mutilat\w*\b"
        rf"|\b(?:cut|cutting|cuts|burn|burning|burned|scratch|scratching|scratched|carve|carving|carved|slit|slitting|slice|slicing)"
        rf" (?:my|his|her|their) {_BODY}\b|\bcutting again\b|\bstarted cutting\b|\b(?:cut|cutting) again\b"
        r"|\bslit (?:my|his|her) wrists?\b"), act=True),
    Cue("urge to cut", "self_harm", _c(
        r"\b(?:urges?|want|wanna|wanting|need|craving|tempted|itching) to (?:cut|self[- ]?harm|sh|hurt|harm|burn|bleed)\b(?! (?:back|down|costs?|the|my hair|it|a|some|corners|class|ties|him|her|them)\b)"
        r"|\b(?:urges?|thoughts|feelings?) (?:to (?:cut|self[- ]?harm|die) )?(?:are|is|have been|came|come|coming) back\b"
        r"|\b(?:want|wanting|tempted|urge) to (?:do it|start) again\b")),
    Cue("relapse", "self_harm", _c(
        r"\brelaps(?:e|ed|ing)\b[^\n]{0,25}\b(?:self[- ]?harm|sh|cut|cutting|cut again|hurt myself|burn)\b"
        r"|\b(?:self[- ]?harm|sh|cutting) relapse\b")),
    Cue("until it bleeds", "self_harm", _c(
        r"\buntil (?:it|they|i|my \w+) (?:bleeds?|bled|bleed|hurts?|hurt|goes quiet|go quiet|stops?|feel something|bruise)\b"
        r"|\bon purpose\b"), weight=0.5),
    Cue("head banging", "self_harm", _c(r"\b(?:bang|banging|hit|hitting|slam|slamming) (?:my|his|her) head (?:against|into|on)\b"), weight=0.5),
    Cue("blade hidden", "self_harm", _c(
        r"\b(?:blades?|razors?|razor blades?|sharpener)\b[^\n]{0,40}\b(?:for when|hidden|hide|in my room|in (?:her|his) room|under my)\b"),
        weight=0.5),
    Cue("for when it gets bad", "self_harm", _c(r"\bfor when it gets (?:bad|too much|really bad|worse)\b"), weight=0.5),
    # Farewell ----------------------------------------------------------------------------------
    Cue("goodbye forever", "farewell", _c(
        r"\b(?:goodbye|good bye|farewell|bye) (?:forever|for good|for ever|everyone forever)\b"
        r"|\bthis is (?:my |the )?(?:goodbye|farewell)\b(?! (?:for|to) (?:now|the|a|today|tonight|this|my|our|summer|winter)\b)"
        r"|\b(?:my|this is the|this will be the|this is my) last (?:message|goodbye|time (?:we|i|you) (?:talk|speak|hear))\b"
        r"|\b(?:say|saying|said) goodbye to (?:everyone|everybody|people|the people|all my)\b"
        r"|\bmy last (?:night|day) (?:alive|on earth|here)\b"
        r"|\bthis is (?:my|her|his|their) last (?:night|day)\b(?! (?:in|at|of|before|with|here in|on|as)\b)"
        r"|\b(?:signing|logging|checking) off (?:for good|forever|for ever|permanently)\b"
        r"|\bdecided (?:that )?(?:today|tonight|tomorrow|this \w+|next \w+|\w+day) (?:is|will be) my last (?:day|night)\b"
        r"(?! (?:at|of|in|on|with|before|working|as|off)\b)")),
    Cue("won't be around", "farewell", _c(
        r"\b(?:won'?t|will not|wont) be (?:around|here|alive)(?: for)? (?:much longer|anymore|after (?:tonight|today|this)|tomorrow|long)\b"
        r"|\byou (?:won'?t|will not|wont) (?:hear from|see) me (?:again|anymore|after)\b"
        r"|\b(?:by the time|when|once) (?:you|anyone|someone|they|people|my \w+) (?:read|reads|find|finds|see|sees) this\b"
        r"|\b(?:after|when|once) i'?m gone\b|\bwhere i'?m going\b|\bi'?ll be gone (?:by|soon|tomorrow|tonight)\b"
        r"|\b(?:this much|much) longer\b[^\n]{0,20}\b(?:deal|have to|around)\b"
        r"|\b(?:won'?t|wont) have to deal with (?:this|it|me) (?:much )?(?:longer|anymore)\b"
        r"|\bnot (?:going to|gonna) be (?:around|here|alive) (?:by (?:christmas|easter|spring|summer|autumn|fall|winter|new year|the end"
        r"|then|my birthday|next (?:year|month|week))|much longer|for (?:much )?longer|for long|to see)\b"), about_self_only=False),
    Cue("giving things away", "farewell", _c(
        r"\b(?:giv(?:e|ing|en)|gave) away (?:all )?(?:my|his|her|their) (?:stuff|things|belongings|possessions|everything)\b"
        r"|\b(?:giv(?:e|ing|en)|gave) away (?:everything|all (?:my|his|her) \w+)\b"
        r"|\b(?:giv(?:e|ing|en)|gave) (?:my|his|her) [^\n]{0,40} to (?:my|his|her) \w+\b[^\n]{0,20}\bwon'?t need\b"),
        needs=None),
    Cue("affairs in order", "farewell", _c(
        r"\b(?:put|putting|got|get|getting|have|has) (?:everything|my affairs|things|it all|all my affairs) in order\b"),
        weight=0.5, about_self_only=True),
    Cue("someone for my pet", "farewell", _c(
        r"\b(?:take|taking) care of my (?:cat|dog|pets?|kids|children|plants?|fish|bird|rabbit)\b"
        r"|\bmake sure (?:someone|you|somebody) (?:feeds?|takes? care of|looks? after|walks?) my\b"
        r"|\bmy (?:cat|dog|pets?|kids?|fish|bird|rabbit) (?:will|can|should) (?:go|stay|live) (?:to|with)\b"),
        weight=0.5, about_self_only=True),
    Cue("if anything happens to me", "farewell", _c(
        r"\bif (?:anything|something) (?:happens|should happen|were to happen) to me\b"), weight=0.5, about_self_only=True),
    Cue("goodbye letters", "farewell", _c(
        r"\b(?:suicide|goodbye|farewell|last) (?:note|letter|message|video)s?\b"
        r"|\b(?:wrote|writing|write|written|left|leaving) (?:the |my )?(?:notes?|letters?) (?:for|to) (?:my|everyone|everybody|all)\b"
        r"[^\n]{0,40}(?:\bfind\b|\bgone\b|\bpick the\b|\bsorry\b)"), act=True),
    Cue("tell them I'm sorry", "farewell", _c(
        r"\b(?:please |can you |could you )tell (?:my|them|her|him) (?:\w+ )?(?:that )?(?:i'?m sorry|i love)\b"
        r"|\btell my (?:mom|mum|dad|mother|father|family|parents|kids|sister|brother|wife|husband) (?:that )?i'?m sorry\b"
        r"|\bif (?:anyone|anybody|they|people) asks?,? tell them i'?m sorry\b"
        r"|\btell (?:my|them|her|him)\b[^\n]{0,50}\b(?:none of this is on (?:him|her|them|you)|(?:it'?s|it is|it was) ?n[o']?t (?:his|her|their|your) fault)\b"),
        about_self_only=True),
    Cue("they'll find them", "farewell", _c(r"\bthey'?ll find (?:them|it|me|the (?:notes?|letters?))\b|\bthey'?ll understand (?:one day|someday|eventually|why)\b"),
        weight=0.5, about_self_only=True),
    Cue("letters to family", "farewell", _c(
        r"\b(?:wrote|writing|write|written|left|leaving) (?:the |my )?(?:notes?|letters?) (?:for|to) (?:my )?(?:family|parents|kids|children"
        r"|mom|dad|mum|wife|husband|loved ones|everyone|everybody|friends|best friend|people i love)\b"), weight=0.5, act=True, about_self_only=True),
    Cue("thank you for everything", "farewell", _c(
        r"\bthank(?:s| you) for (?:everything|listening to me all this time|always being there|all you(?:'ve| have) done)\b"), weight=0.5),
    Cue("want to say goodbye", "farewell", _c(r"\b(?:want|wanted|needed|need) to say goodbye\b(?! (?:for|before i (?:go|leave)|to (?:the|my|our)))"),
        weight=0.5, about_self_only=True),
    Cue("when I do it", "plan", _c(
        r"\b(?:tonight|tomorrow|today|this weekend|(?:mon|tues|wednes|thurs|fri|satur|sun)day)(?:'s| is) (?:when|the night|the day)"
        r" (?:i'?m (?:going to|gonna) |i'?ll |i will |i )?do it\b"), about_self_only=True),
    Cue("stop existing", "ideation", _c(
        r"\b(?:going to|gonna|want to|wanna|will|'ll|ready to|decided to|plan to|planning to) (?:just )?stop existing\b")),
    # Slang -------------------------------------------------------------------------------------
    Cue("slang", "slang", _c(
        r"\bkms\b|\bkmsl\b|\bunaliv(?:e|ing|ed)\b|\bself[- ]?delet(?:e|ing|ion|ed)\b|\bsewer ?slide\b|\bsewerslid\w*|\bcommit (?:die|toaster bath|neck rope)\b"
        r"|\bctb\b|\b(?:gonna|going to|want to|wanna|will|might|'ll|ll) rope\b|\bneck (?:my|him|her)self\b|\bcommit self[- ]?(?:delete|die)\b"
        r"|\b(?:yeet|launch) (?:my|him|her)self (?:off|out|in front)\b|\bdo (?:my|him|her)self in\b")),
    # Topic alone: weak, and explained away by any frame ----------------------------------------
    Cue("suicide", "topic", _c(r"\bsuicide\b|\boverdos(?:e|ing)\b"), weight=0.5),
)

_PILL_KEYS = ("pill", "tablet", "meds", "medication", "tylenol", "paracetamol", "acetaminophen", "ibuprofen", "advil", "aspirin",
              "insulin", "antidepressant", "xanax", "valium", "oxy", "codeine", "morphine", "opioid", "fentanyl", "benzo", "lithium",
              "sertraline", "prozac", "zoloft", "heroin", "painkiller")
_KEYS: dict[str, tuple[str, ...]] = {
    "want to die": ("die", "dying", "dead", "alive", "exist", "disappear", "sleep forever", "join", "wake up"),
    "kill oneself": ("sel",), "end life": ("life", "lives", "it all", "suicide"), "end it": ("end",), "suicidal": ("suicid",),
    "what if I told you": ("what if", "what would you"), "still alive": ("still", "wake up"),
    "better off without me": ("better", "happier", "easier", "relieved", "lighter"),
    "nobody would miss me": ("miss", "notice", "care", "mourn"), "no reason to live": ("reason", "point", "live for"),
    "life not worth living": ("worth",),
    "tired of living": ("tired of", "sick of", "exhausted of", "weary of", "give up", "gave up", "giving up", "given up", "done with",
                        "finished with"),
    "can't go on": ("can't", "cant", "cannot", "can not", "couldn", "to keep"), "don't want to live": ("n't", "dont", " not "),
    "wish never born": ("wish",), "never wake up": ("wake up",), "want it to stop forever": ("forever", "permanently", "for good"),
    "no way out": ("way out", "future", "way forward"), "disappear for good": ("disappear", "vanish"),
    "burden": ("burden", "waste of"), "can't do this anymore": ("anymore", "stop", "done with", "finished with"),
    "deserve pain": ("deserve",), "how many pills": ("how m", "enough", "would kill", "to die"),
    "lethal dose": ("lethal", "fatal", "deadly", "toxic"), "painless way": ("way", "how", "method"), "noose": ("noose", "rope"),
    "jump from height": ("jump", "leap", "throw", "yeet", "high enough", "tall enough", "tallest"), "going to jump": ("jump",),
    "on the edge": ("edge", "ledge", "railing", "tracks", "bridge", "roof", "balcony", "cliff", "tower", "parking", "overpass",
                    "window", "building", "skyscraper"),
    "in front of a train": ("in front of",), "drive off the road": ("off", "into"), "stockpiling pills": _PILL_KEYS,
    "took all the pills": (*_PILL_KEYS, "overdos"), "overdose": ("overdos", " od"),
    "gun on myself": ("gun", "pistol", "rifle", "it on", "it to", "it against"),
    "picked the date": ("picked", "chosen", "chose", "set ", "pick ", "choose", "decided on"),
    "have a plan": ("plan", "know", "figure", "decided", "worked out"), "blade to the skin": ("knife", "blade", "razor", "gun"),
    "ominous": ("doing it", "i know what"), "rope": ("rope",), "hurt oneself": ("sel",),
    "self-harm": ("self", "harm", "injur", "cut", "burn", "scratch", "carv", "slit", "slic"),
    "urge to cut": ("urge", "want", "wanna", "need", "crav", "tempt", "itch", "back", "again"), "relapse": ("relaps",),
    "until it bleeds": ("until", "on purpose"), "head banging": ("head",), "blade hidden": ("blade", "razor", "sharpener"),
    "for when it gets bad": ("for when",), "goodbye forever": ("goodbye", "good bye", "farewell", "bye", "last", " off "),
    "won't be around": ("won't", "wont", "will not", "by the time", "when ", "once ", "gone", "where i", "longer", "not going to be",
                        "not gonna be"),
    "giving things away": ("away",), "affairs in order": ("in order",),
    "someone for my pet": ("take care of", "taking care of", "make sure", "my cat", "my dog", "my pet", "my kid", "my fish",
                           "my bird", "my rabbit"),
    "if anything happens to me": ("happen",), "goodbye letters": ("note", "letter", "message", "video"), "tell them I'm sorry": ("tell",),
    "they'll find them": ("they'll", "theyll"), "letters to family": ("note", "letter"), "thank you for everything": ("thank",),
    "want to say goodbye": ("goodbye",), "when I do it": ("do it",), "stop existing": ("stop existing",),
    "slang": ("kms", "unaliv", "delet", "sewer", "commit", "ctb", "rope", "neck", "yeet", "launch", "do my", "do him", "do her"),
    "suicide": ("suicide", "overdos"),
}
CUES = tuple(replace(c, keys=_KEYS[c.name]) for c in CUES)
__all__ = ["CUES", "Category", "Cue"]
