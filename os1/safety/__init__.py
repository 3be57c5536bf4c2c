"""Safety: the risk screen on every message, the crisis protocol, honesty, and the events the user can see.

- `screen`: risk to the user ('crisis') or to someone they mention ('concern'): the rules, locally, in ~0.2 ms.
- `assess`: the rules, then a semantic head on the message's embedding (shared with the emotion reading).
- `plan_turn` / `SafetyPlan`: what the model is told, what is shown, the reviewed fallback reply.
- `resources_for`: crisis lines by country (bundled TOML plus the user's own file, OS1_LOCALE).
- `check_reply`: the model's reply in a risk turn, checked before it is shown.
- `read_honesty`: "are you human?", goodbyes, and leaning on OS1 in place of people.
- `SafetyEvents`: each event, recorded where the user can see it (`os1 safety`, GET /api/v1/safety/events).
"""

from .assessment import assess
from .events import SafetyEvent, SafetyEvents
from .honesty import HonestyReading, read_honesty
from .protocol import SafetyPlan, plan_turn
from .reply_check import ReplyCheck, check_reply
from .resources import USER_FILE_NAME, CrisisResources, resources_for
from .screen import screen

__all__ = ["USER_FILE_NAME", "CrisisResources", "HonestyReading", "ReplyCheck", "SafetyEvent", "SafetyEvents",
           "SafetyPlan", "assess", "check_reply", "plan_turn", "read_honesty", "resources_for", "screen"]
