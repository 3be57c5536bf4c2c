"""The risk screen's frames: idioms blanked before the cues run, and the context that explains a cue away.

Hand-written with the cues (lexicon.py), against the development split of the evaluation set. Text
reaching these patterns is normalised by `screen.normalize` (lower case, one sentence a line).
"""

from __future__ import annotations

import re


def _c(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


IDIOM_KEYS = ("kill", "die", "dying", "dead", "death", "murder", "shoot", "slack", "off", "beat", "throw", "jump", "end", "overdos",
              " od", "suicide", "drown", "deceased")

# Idioms: removed before the cues run (the sentence keeps its length, so offsets stay right).
IDIOMS = _c(
    r"\b(?:is|are|was|were|'s|'re|s|re|been|keeps?|kept) (?:literally |absolutely |honestly |actually |slowly |just )?killing (?:me|my \w+|us|him|her|it)\b"
    r"|\bkill(?:ing|ed)? it\b|\bkill(?:ing|ed)? (?:time|the (?:lights?|engine|music|process|vibe|mood)|two birds|some time|a process)\b"
    r"|\bkill (?:for|some)\b|\bkill me now\b|\bshoot me(?: now)?\b|\b(?:could|'d|would|will|gonna|going to) (?:literally |just )?(?:murder|kill) (?:a|an|for|some)\b"
    r"|\b(?:die|died|dying|dies) (?:for|of|from) (?:a |an |the |some |this |that |boredom|embarrassment|laughing|laughter|thirst|hunger|heat|cringe|shame|curiosity|envy|jealousy|excitement|happiness)\w*"
    r"|\b(?:to die for|die happy|died laughing|dying laughing|die laughing|dying to|dying of|dying for|die hard|diehard|die-hard)\b"
    r"|\b(?:dead|deathly) (?:tired|serious|on|set|wrong|last|ahead|end|center|centre|simple|easy|quiet|silent)\b"
    r"|\b(?:scared|bored|sick|worried|frightened|freezing|frozen|tickled|loved|beaten|talked|done) to death\b"
    r"|(?<!wish i )(?<!wishing i )\b(?:could|can) (?:just |literally |honestly )?die\b(?! (?:tonight|now|today))|\brather die than\b|\bover my dead body\b"
    r"|\b(?:i'?m|im|i am) (?:literally |actually |so |lowkey )?(?:dead|deceased|dying)\b(?=[^\n]{0,20}(?:lol|lmao|haha|😂|💀|hilarious|funny|\.|!|$))"
    r"|\b(?:phone|battery|laptop|car|plant|plants|computer|tv|charger|engine|mouse|kindle|headphones|fish|tomatoes|flowers|garden|conversation|vibe|party) "
    r"(?:is |are |was |keeps |just )?(?:died|dying|dead|die)\b"
    r"|\bcut(?:ting)? (?:myself|me|yourself|him|her) (?:some |a little )?slack\b|\bcut(?:ting)? (?:myself|me) off\b"
    r"|\bbeat(?:ing)? (?:myself|yourself|himself|herself) up\b|\bthrow(?:ing)? (?:myself|yourself) into\b"
    r"|\bjump(?:ed|ing)? out of my skin\b|\bjump off a bridge for\b|\bend(?:ed|ing)? (?:it|things) with\b"
    r"|\b(?:kill|killing|killed) (?:my|your|his|her) (?:brother|sister|mom|dad|mum|boss|roommate|husband|wife|kids?|son|daughter|boyfriend|girlfriend|partner)\b"
    r"(?! (?:and|then) (?:myself|me)\b)|\b(?:mom|mum|dad|boss|wife|husband|she|he|they)(?:'s| is| are|'re| will|'ll) (?:going to |gonna )?kill (?:me|us)\b"
    r"|\bkill(?:s|ed)? (?:me|us) (?:when|if|for)\b|\b(?:the )?killing floor\b|\b(?:overdos(?:e|ed|ing)|od'?d?) on (?:chocolate|sugar|candy|netflix|tv|coffee|caffeine|cake|pizza|anime|love|cuteness|memes)\b"
    r"|\bsuicide (?:squad|doors?|bomb\w*|run|sprints?|drills?|mission|pact game|king)\b|\bdrowning in (?:emails?|work|paperwork|laundry|debt|homework)\b"
)

# Frames: context that explains a cue away. Checked on the cue's sentence (and where said, its neighbours).
NEGATION = _c(
    r"\b(?:not|never|no longer|don'?t|dont|doesn'?t|didn'?t|won'?t|wouldn'?t|isn'?t|aren'?t|wasn'?t|nor|without|stopped|no more|no)"
    r"(?: (?:really|ever|actually|at all|even|any|going to|gonna|have|having|had|feel|feeling|felt|want|wanting|plan to|planning to"
    r"|planning on|thinking about|think about|intend to|intending to|going|thoughts?|urges?|of|to|about|be|been|get|getting|do|doing"
    r"|like|seriously|currently|right now|the)){0,5} *$")
ASKED = _c(r"\b(?:asked|asks|asking) (?:me |us )?(?:if|whether)\b(?![^\n]*\b(?:said yes|say yes|admitted|told (?:her|him|them) yes)\b)")
NOT_A_NEGATION = _c(
    r"\b(?:not|never|don'?t) (?:saying|gonna lie|going to lie|lie|kidding|joking|sure|know|understand|care|mean to sound)\b[^\n]*$"
    r"|\bi (?:can'?t|couldn'?t) stop\b[^\n]*$")
REPORTING = _c(
    r"\b(?:said|says|saying|say|told (?:me|us|him|her|them|everyone|his|her)|tells (?:me|us|people)|texted|texts|messaged|wrote|writes|written"
    r"|posted|posts|keeps? saying|kept saying|mentioned|admitted|confessed|threatened|threatens|joking about|jokes about|joked about"
    r"|talking about|talks about|talked about|sent me|sends me|screamed|yelled|cried|whispered)\b")
THIRD_SUBJECT = _c(
    r"\b(?:he|she|they|him|her|them|he'?s|she'?s|they'?re|hes|shes|someone|somebody|anyone|anybody|people|person|who|whom|kids?|teens?"
    r"|teenagers?|child|children|student|students|patient|client|friend|friends|buddy|mate|bf|gf|boyfriend|girlfriend|partner"
    r"|husband|wife|spouse|ex|son|daughter|sons|daughters|brother|sister|sibling|twin|mom|mum|mother|dad|father|parents?|grandma"
    r"|grandmother|grandpa|grandfather|granddad|uncle|aunt|cousin|nephew|niece|roommate|flatmate|housemate|coworker|colleague"
    r"|classmate|neighbou?r|boss|member|guy|girl|man|woman|lady|dude|character|protagonist|villain|hero|heroine|narrator"
    r"|sim|npc|player|players|paladin|actor|singer|musician|celebrity|stranger|user|poster|his|her|their|baby|toddler|men|women"
    r"|guys|girls|boys|farmers|veterans|soldiers|members|users)\b")
REAL_PERSON = _c(
    r"\b(?:friend|friends|buddy|mate|bf|gf|boyfriend|girlfriend|partner|husband|wife|spouse|ex|son|daughter|brother|sister|sibling|twin"
    r"|mom|mum|mother|dad|father|parents?|grandma|grandmother|grandpa|grandfather|granddad|uncle|aunt|cousin|nephew|niece|roommate"
    r"|flatmate|housemate|coworker|colleague|classmate|neighbou?r|boss|student|patient|client|kid|teenager|child|member)s?\b")
FICTIONAL_PERSON = _c(r"\b(?:character|protagonist|villain|hero|heroine|narrator|sim|npc|player|paladin|avatar)s?\b")
FIRST_SUBJECT = _c(r"\b(?:i|i'?m|im|i'?ve|ive|i'?d|i'?ll|me|myself|my life|mine|we|we'?re|us)\b")
ACCIDENT = _c(
    r"\b(?:accident(?:ally|al)?|by accident|shaving|chopping|cooking|baking|slipped|tripped|fell|falling|paper cut|stove|oven|pan"
    r"|iron|kettle|gym|lifting|deadlift\w*|squats?|workout|playing|basketball|football|soccer|hockey|tennis|skiing|skating"
    r"|climbing|hiking|running|bike|biking|door|don'?t ask|sprain\w*|ankle|clumsy|on the (?:stove|oven|grill|pan|iron|edge|corner)"
    r"|while (?:\w+ing)|with (?:a|the) (?:knife|door|ball|racket|hammer|bat|stick|scissors))\b")
PURPOSE = _c(r"\b(?:on purpose|deliberately|intentionally|to punish|because i deserve|to feel (?:something|better|the pain))\b")
FICTION = _c(
    r"\b(?:game|games|gaming|level|levels|boss|bosses|respawn\w*|npc|quest|campaign|d&d|dnd|dungeon|raid|lives|minecraft|fortnite"
    r"|elden ring|dark souls|zelda|sims?|among us|league|valorant|overwatch|roblox|gta|stardew|paraglider|lynels?|player|players"
    r"|character|characters|protagonist|villain|hero|heroine|narrator|novel|book|books|(?<!\d )(?<!\d-)story|stories|short story|fanfic|fan fiction"
    r"|chapter|poem|screenplay|script|movie|movies|film|films|show|series|episode|season|scene|act|opera|play|musical|sitcom"
    r"|documentary|anime|manga|comic|plot|fiction|romeo|juliet|hamlet|tragedy|tragic|at the end|in the end|book club|reading)\b")
STRONG_NEWS = _c(
    r"\b(?:news|article|articles|report|reports|reported|study|studies|research|researchers|statistics|stats|rates?|cdc|survey|data"
    r"|documentary|podcast|headlines?|newspaper|according to|percent|decade|awareness|prevention)\b")
NEWS = _c(
    r"\b(?:news|article|articles|report|reports|reported|study|studies|research|researchers|statistics|stats|rates?|cdc|government"
    r"|police|senator|bill|law|funding|documentary|podcast|headlines?|newspaper|paper|according to|percent|awareness|prevention"
    r"|campaign|celebrity|famous|actor|musician|singer|rapper|star|hotline|helpline|crisis line|lifeline|988|nets|historical"
    r"|war|veterans|farmers|teenagers|men|women)\b")
LYRICS = _c(r"\b(?:song|songs|lyrics?|sing|singing|sang|chorus|verse|album|band|track|playlist|listening to|humming|stuck in my head|cover(?:ing)?|tune|the line)\b")
DISTANT_PAST = _c(
    r"\b(?:(?:(?:\d+|a few|few|several|many|two|three|four|five|six|seven|eight|nine|ten|twenty|a couple of|a couple) )?(?:years?|decades?) ago"
    r"|when i was (?:\d+|a (?:kid|teen|teenager|child|student)|young|younger|little|(?:in|at) (?:high school|college|uni|university|school"
    r"|my (?:teens|twenties|20s|30s)))"
    r"|as a (?:teen|teenager|kid|child)|in (?:high school|college|university|my (?:teens|twenties|20s|thirties|30s))"
    r"|back (?:then|in (?:the day|\d{4}|my|high school|college|uni|university|school))|used to|(?:in|from) (?:19|20)\d\d|old (?:journals?|diar(?:y|ies))|at my lowest|at the time"
    r"|(?:\d+|\w+) (?:days?|weeks?|months?|years?) (?:clean|free|sober)|clean (?:for|from|since)|(?:self[- ]?harm|sh)[- ]free"
    r"|haven'?t [^\n]{0,40}\bin (?:over |more than |almost |nearly )?(?:a|an|\d+|two|three|four|five|six|several|many) (?:years?|months?)|no longer|not anymore|anymore\.? (?:i'?m|now)|a different life|a long time ago|long ago|in the past|once upon|scars?)\b")
RECOVERY = _c(
    r"\b(?:better now|got me help|(?:things|life|it|everything)(?:'s| is| are) (?:so |very )?different now|(?:much |so much )?better place|doing (?:well|better|good|great|okay|ok) (?:now|these days|today)|got help|getting help"
    r"|therapy (?:really )?helped|saved (?:me|my life)|glad i'?m (?:still )?(?:here|alive)|grateful i (?:survived|am alive|'?m alive|made it)"
    r"|i survived|surviving|survivor|recovered|recovery|in recovery|stable|i'?m (?:okay|ok|fine|safe) now|things are (?:so much )?better"
    r"|it got better|life (?:is|got) better|proud of how far|actually like my life|i haven'?t in|haven'?t (?:since|in years)"
    r"|(?:\d+|\w+) (?:days?|weeks?|months?|years?) (?:clean|free)|faded|have two kids now|changed my life)\b")
# An anniversary of recovery ("four years free of self-harm today", "two years since my last suicidal thought"): the past
# even when the sentence says "today" (issue 9, fourth pass).
ANNIVERSARY = _c(
    r"\b(?:\d+|a|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|several|many|a few) (?:days?|weeks?|months?|years?)"
    r" (?:clean|free|sober|since (?:my|i|the) (?:last|attempt|tried|was)|without (?:self[- ]?harm|cutting|an attempt))\b")
RECENT = _c(
    r"\b(?:again|last night|yesterday|tonight|today|this (?:morning|afternoon|evening|week|weekend|month)|right now|rn|just now|earlier"
    r"|lately|recently|these days|back now|it'?s back|they'?re back|relaps\w*)\b")
QUOTE = _c(r"\"[^\"\n]{1,200}\"")
# An everyday goodbye: "goodbye for tonight", "bye, talk tomorrow!", "night, off to bed". Written for issue 9's
# known false alarm ("Goodbye for tonight"): a farewell that names when you will talk again is no farewell.
# Used only to hold back the semantic head on short messages (assessment.rules_veto), never to explain a rule hit.
EVERYDAY_GOODBYE = _c(
    r"\b(?:good ?bye|bye(?: bye)?|good ?night|night(?: night)?|nite|see (?:you|ya|u)|later|ttyl|cya|signing off|logging off"
    r"|(?:i'?m |i have to |i gotta |gotta |need to )?(?:go|going|off|heading|headed)(?: to (?:bed|sleep))?)\b[^\n]{0,40}"
    r"\b(?:for (?:now|tonight|today|the (?:day|night|evening|weekend))|tomorrow|tmrw|tmr|later|soon|in the morning|after (?:work|school|class|dinner)"
    r"|next (?:week|time)|on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|to (?:bed|sleep)|gotta sleep|my bus|my train)\b")


__all__ = ["IDIOMS", "IDIOM_KEYS"]
