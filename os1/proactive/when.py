"""When a reminder is for: a small, strict parser for the phrases people use, in the user's time zone.

Hand-written on purpose: dateparser reads "Sunday at 6" as a date in June, and a reminder at the wrong
time is worse than a question. So this understands a fixed grammar and says None to anything else:

- a day: today, tonight, tomorrow, the day after tomorrow, (next/this/on) Sunday, Dec 3, 3 December;
- a time: at 6, 6pm, 6:30 am, 18:00, noon, midnight, in the morning/afternoon/evening, tonight;
- a delay: in 20 minutes, in an hour, in half an hour, in 3 days, in 2 weeks;
- a repeat: every day (at 8), every morning, every weekday, every weekend, every Tuesday (and Friday),
  every other day, every 3 days, every week, every month; daily, weekly, monthly, on Tuesdays.

Rules: a bare hour ("at 6") is the next sensible one: today, the earlier of 6 am and 6 pm still ahead;
on another day 1-7 mean pm and 8-11 am; "am"/"pm" and a part of the day ("Sunday evening") decide.
Repeats are RFC 5545 rules (dateutil.rrule) over local wall-clock time, so "every day at 8" stays at 8
across daylight-saving changes; delays in minutes or hours are exact elapsed time; a wall time that a
DST change skips moves forward past the gap. The result is always after `now`, or None.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrulestr

from ..memory.timeparse import MONTHS, NUMBERS, WEEKDAYS

_DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
PART_HOURS = {"morning": 9, "afternoon": 15, "evening": 19, "night": 21, "tonight": 20}
DEFAULT_HOUR = 9
"""A day with no time ("remind me Friday to...") means the morning: early enough to act on it."""

_WD = r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|tues|weds|thurs)"
_MON = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
        r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_N = r"(?:\d{1,4}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|(?:a )?couple of|(?:a )?few)"
_PATTERNS: list[tuple[str, str]] = [
    ("rel", r"\bin (?:(?P<half>half an? hour)|(?P<n>" + _N + r") (?P<unit>minute|min|hour|hr|day|week|month)s?)\b"),
    ("rec", r"\b(?:every|each) (?P<other>other )?(?:(?P<k>\d{1,3}) (?P<kunit>day|week)s|(?P<unit>day|morning|afternoon|"
            r"evening|night|weekday|weekend|week|month)|(?P<wds>" + _WD + r"s?(?:(?:,| and|, and| &) " + _WD + r"s?)*))\b"),
    ("rec", r"\b(?P<ly>daily|weekly|monthly|nightly)\b"),
    ("rec", r"\bon (?P<wds>" + _WD + r"s(?:(?:,| and|, and) " + _WD + r"s)*)\b"),
    ("day", r"\b(?P<word>the day after tomorrow|today|tonight|tomorrow)\b"),
    ("day", r"\bthis (?P<part>morning|afternoon|evening)\b"),
    ("day", r"\b(?:on )?(?:(?P<which>next|this|coming|this coming) )?(?P<wd>" + _WD + r")\b(?!s)"),
    ("day", r"\b(?:on )?(?P<mon>" + _MON + r")\.? (?P<d>\d{1,2})(?:st|nd|rd|th)?\b(?:,? (?P<y>\d{4}))?"),
    ("day", r"\b(?:on )?(?:the )?(?P<d>\d{1,2})(?:st|nd|rd|th)? (?:of )?(?P<mon>" + _MON + r")\b(?:,? (?P<y>\d{4}))?"),
    ("time", r"(?:\b(?:at|by|around) |@ ?|\b)(?P<h>\d{1,2})(?::(?P<m>\d{2}))? ?(?P<ap>am|pm)\b"),
    ("time", r"(?:\b(?:at|by|around) |@ ?|\b)(?P<h>\d{1,2}):(?P<m>\d{2})\b"),
    ("time", r"\b(?:at|by|around) (?P<h>\d{1,2})\b(?! ?(?:minute|min|hour|hr|day|week|month|year|%|:\d))"),
    ("time", r"\b(?:at |by |around )?(?P<named>noon|midday|midnight)\b"),
    ("part", r"\b(?:in the (?P<part>morning|afternoon|evening)|at (?P<night>night))\b"),
    # "morning" on its own counts only next to a day ("tomorrow morning", "Sunday evening").
    ("lpart", r"(?<=[a-z] )(?P<part>morning|afternoon|evening|night)\b"),
]
_COMPILED = [(kind, re.compile(p)) for kind, p in _PATTERNS]
_GAP = re.compile(r"^[\s,]*(?:on|at|,)?[\s,]*$")


@dataclass(frozen=True, slots=True)
class When:
    """A moment (and, for repeats, a rule) that a phrase named."""

    at: datetime
    """The first time it is due, aware, in the user's zone; always after the `now` it was parsed at."""
    rule: str | None = None
    """For repeats: DTSTART (local wall time) plus an RFC 5545 RRULE, read by `next_after`."""
    phrase: str = ""
    """The words that said when (lower case)."""

    def describe(self, now: datetime) -> str:
        """In words: 'tomorrow at 6 pm', 'Sunday 30 November at 6 pm', 'every Tuesday at 9 am'."""
        local = self.at.astimezone(now.tzinfo)
        if self.rule:
            return f"{repeat_words(self.rule)} at {clock_words(local)} (next: {day_words(local, now)})"
        return f"{day_words(local, now)} at {clock_words(local)}"


def clock_words(when: datetime) -> str:
    if when.hour == 12 and when.minute == 0:
        return "noon"
    if when.hour == 0 and when.minute == 0:
        return "midnight"
    h = when.hour % 12 or 12
    return f"{h}{f':{when.minute:02d}' if when.minute else ''} {'am' if when.hour < 12 else 'pm'}"


def day_words(when: datetime, now: datetime) -> str:
    days = (when.date() - now.astimezone(when.tzinfo).date()).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if 1 < days < 7:
        return f"{when:%A}"
    return f"{when:%A} {when.day} {when:%B}" + (f" {when.year}" if when.year != now.year else "")


def repeat_words(rule: str) -> str:
    body = rule.split("RRULE:")[-1]
    parts = dict(p.split("=", 1) for p in body.split(";") if "=" in p)
    every = "every other" if parts.get("INTERVAL") == "2" else (f"every {parts['INTERVAL']}" if "INTERVAL" in parts else "every")
    plural = "INTERVAL" in parts and parts["INTERVAL"] != "2"
    if parts.get("FREQ") == "DAILY":
        return f"{every} {'days' if plural else 'day'}"
    if parts.get("FREQ") == "MONTHLY":
        day = int(parts.get("BYMONTHDAY", "1"))
        suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
        return f"{every} {'months' if plural else 'month'} on the {day}{suffix}"
    days = parts.get("BYDAY", "").split(",")
    if days == ["MO", "TU", "WE", "TH", "FR"]:
        return "every weekday"
    if days == ["SA", "SU"]:
        return "every weekend day"
    names = [f"{date(2024, 1, 1 + _DAY_CODES.index(d)):%A}" for d in days if d in _DAY_CODES]
    joined = " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{every} {'weeks on ' if plural else ''}{joined}"


def _later(a: datetime, b: datetime) -> bool:
    # In UTC: Python compares two datetimes of the same zone by wall time, ignoring DST's fold.
    return a.astimezone(UTC) > b.astimezone(UTC)


def localize(naive: datetime, zone: tzinfo) -> datetime:
    """Wall time in `zone`; a time skipped by a DST change moves forward past the gap."""
    return naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)


def next_after(rule: str, zone: tzinfo, after: datetime) -> datetime | None:
    """The first occurrence of a repeat rule strictly after `after`, in `zone` (None when it has ended)."""
    r = rrulestr(rule)
    cursor = after.astimezone(zone).replace(tzinfo=None)
    for _ in range(8):  # a DST fold can make a wall time come out at or before `after`: step on
        nxt = r.after(cursor, inc=False)
        if nxt is None:
            return None
        aware = localize(nxt, zone)
        if _later(aware, after):
            return aware
        cursor = nxt
    return None


def _weekday(word: str) -> int:
    w = word.rstrip("s") if word.endswith("s") and not word.endswith("ss") else word
    for name, i in WEEKDAYS.items():
        if name.startswith(w[:3]):
            return i
    raise ValueError(word)


def _month(word: str) -> int:
    return next(i for name, i in MONTHS.items() if name.startswith(word[:3]))


def _count(word: str) -> int:
    return int(word) if word.isdigit() else NUMBERS.get(word, NUMBERS.get(word.removesuffix(" of"), 2))


def _normalize(text: str) -> str:
    t = text.lower().replace("\u2019", "'")
    t = re.sub(r"\b([ap])\.m\.?", r"\1m", t)
    t = re.sub(r"\s*o'clock\b", "", t)
    return re.sub(r"\s+", " ", t).strip()


@dataclass(frozen=True, slots=True)
class _Part:
    kind: str
    start: int
    end: int
    m: re.Match[str]


def _scan(t: str) -> list[_Part]:
    found = [_Part(kind, m.start(), m.end(), m) for kind, rx in _COMPILED for m in rx.finditer(t)]
    found.sort(key=lambda p: (p.start, -(p.end - p.start)))
    parts: list[_Part] = []
    for p in found:  # keep the longest at each place, drop overlaps
        if not parts or p.start >= parts[-1].end:
            parts.append(p)
    return parts


def _clusters(t: str, parts: list[_Part]) -> list[list[_Part]]:
    out: list[list[_Part]] = []
    for p in parts:
        if out and _GAP.match(t[out[-1][-1].end:p.start]):
            out[-1].append(p)
        else:
            out.append([p])
    return out


def find_when(text: str, now: datetime) -> tuple[When, str] | None:
    """The time named in `text` and the text without it; None when there is none or it is unclear."""
    t = _normalize(text)
    clusters = _clusters(t, _scan(t))
    if not clusters:
        return None
    clusters = [c for c in clusters if any(p.kind != "lpart" for p in c)]
    if not clusters:
        return None
    best = max(clusters, key=len)  # the fullest description ("Sunday at 6" over a stray "Friday")
    if sum(len(c) == len(best) for c in clusters) > 1:
        return None  # "tomorrow … Friday": two equally good answers, so ask
    when = _resolve(best, now)
    if when is None:
        return None
    rest = (t[:best[0].start] + " " + t[best[-1].end:]).strip()
    return When(when.at, when.rule, t[best[0].start:best[-1].end].strip()), re.sub(r"\s+", " ", rest)


def parse_when(text: str, now: datetime) -> When | None:
    """`text` as a whole names a time ("Sunday at 6", "in 20 minutes"); None otherwise."""
    found = find_when(text, now)
    return found[0] if found is not None and not found[1].strip(" ,.!") else None


def _hour(m: re.Match[str]) -> tuple[int, int, str | None] | None:
    """(hour, minute, 'am'/'pm'/None) from a time match; None when out of range."""
    g = m.groupdict()
    if g.get("named"):
        return (0, 0, "am") if g["named"] == "midnight" else (12, 0, "pm")
    h, mi, ap = int(g["h"]), int(g.get("m") or 0), g.get("ap")
    if mi > 59 or h > 23 or (ap and not 1 <= h <= 12):
        return None
    if ap:
        return (h % 12 + (12 if ap == "pm" else 0), mi, ap)
    if h == 0 or h > 12 or (len(g["h"]) == 2 and g["h"].startswith("0")):  # 18:00, 07:30: a 24-hour clock
        return (h, mi, "24h")
    return (h, mi, None)


def _candidates(h: int, mi: int, ap: str | None, part: str | None, same_day: bool) -> list[time]:
    """The wall times a clock reading may mean, most likely first."""
    if ap is not None:
        return [time(h, mi)]
    if h == 12 and part is None:
        return [time(12, mi)]  # "at 12:30" is lunchtime; after midnight people say "12:30 am" or "00:30"
    if part in ("afternoon", "evening", "night", "tonight"):
        return [time(h % 12 + 12, mi)] if h != 12 else [time(0, mi)]
    if part == "morning":
        return [time(h % 12, mi)]
    am, pm = time(h % 12, mi), time(h % 12 + 12, mi)
    if same_day:
        return [am, pm]
    return [pm, am] if 1 <= h <= 7 else [am, pm]


def _resolve(cluster: list[_Part], now: datetime) -> When | None:
    kinds = ["part" if p.kind == "lpart" else p.kind for p in cluster]
    if any(kinds.count(k) > 1 for k in set(kinds)):
        return None  # two days or two times in one phrase: ask rather than guess
    by = {k: p.m for k, p in zip(kinds, cluster, strict=True)}
    zone = now.tzinfo or UTC
    today = now.date()
    clock = _hour(by["time"]) if "time" in by else None
    if "time" in by and clock is None:
        return None
    part = None
    if "part" in by:
        part = by["part"]["part"] or "night"
    day = by.get("day")
    if day is not None and day.groupdict().get("part"):
        part = day["part"]
    if day is not None and day.groupdict().get("word") == "tonight":
        part = "tonight"

    def at(d: date, t: time) -> datetime:
        return localize(datetime.combine(d, t), zone)

    def times(same_day: bool) -> list[time]:
        if clock is not None:
            return _candidates(*clock, part=part, same_day=same_day)
        return [time(PART_HOURS[part] if part else DEFAULT_HOUR, 0)]

    if "rel" in by:
        if "rec" in by:
            return None
        r = by["rel"]
        n, unit = (30, "minute") if r["half"] else (_count(r["n"]), r["unit"])
        if unit in ("minute", "min", "hour", "hr"):
            if day is not None or clock is not None or part is not None or n > 100_000:
                return None
            delta = timedelta(minutes=n) if unit.startswith("m") else timedelta(hours=n)
            return When((now.astimezone(UTC) + delta).astimezone(zone))
        if day is not None or n > 3650:
            return None
        target = today + relativedelta(**{unit + "s": n})
        t0 = times(False)[0] if (clock or part) else now.time().replace(second=0, microsecond=0)
        return _future(at(target, t0), now)

    if "rec" in by:
        if day is not None:
            return None
        return _repeat(by["rec"], now, times(False)[0], zone)

    if day is None:  # a time alone: the next time that clock reading comes round
        for d in (today, today + timedelta(days=1)):
            for t0 in times(d == today):
                if _later(at(d, t0), now):
                    return When(at(d, t0))
        return None
    g = day.groupdict()
    if g.get("word") == "tomorrow" or g.get("word") == "the day after tomorrow":
        d = today + timedelta(days=1 if g["word"] == "tomorrow" else 2)
        return _first(d, times(False), at, now)
    if g.get("word") in ("today", "tonight") or g.get("part"):
        return _first(today, times(True), at, now)
    if g.get("wd"):
        ahead = (_weekday(g["wd"]) - today.weekday()) % 7
        if g.get("which") == "next" and ahead == 0:
            ahead = 7
        found = _first(today + timedelta(days=ahead), times(ahead == 0), at, now)
        return found or _first(today + timedelta(days=ahead + 7), times(False), at, now)
    try:
        d = date(int(g["y"]) if g.get("y") else today.year, _month(g["mon"]), int(g["d"]))
    except ValueError:
        return None
    found = _first(d, times(d == today), at, now)
    if found is None and not g.get("y"):
        try:
            found = _first(d.replace(year=d.year + 1), times(False), at, now)
        except ValueError:  # 29 February
            return None
    return found


def _first(d: date, options: list[time], at: Callable[[date, time], datetime], now: datetime) -> When | None:
    for t0 in options:
        when = at(d, t0)
        if _later(when, now):
            return When(when)
    return None


def _future(when: datetime, now: datetime) -> When | None:
    return When(when) if _later(when, now) else None


def _repeat(m: re.Match[str], now: datetime, t0: time, zone: tzinfo) -> When | None:
    g = m.groupdict()
    unit, today = g.get("unit") or g.get("ly") or g.get("kunit"), now.date()
    interval = 2 if g.get("other") else int(g["k"]) if g.get("k") else 1
    if not 1 <= interval <= 365:
        return None
    if unit in ("morning", "afternoon", "evening", "night", "nightly") and t0 == time(DEFAULT_HOUR, 0):
        t0 = time(PART_HOURS["night" if unit == "nightly" else unit], 0)
    if g.get("wds"):
        wds = sorted({_weekday(w) for w in re.split(r",? and |, | & ", g["wds"])})
        rule = "FREQ=WEEKLY;BYDAY=" + ",".join(_DAY_CODES[w] for w in wds)
    elif unit in ("day", "daily", "morning", "afternoon", "evening", "night", "nightly"):
        rule = "FREQ=DAILY"
    elif unit == "weekday":
        rule = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    elif unit == "weekend":
        rule = "FREQ=WEEKLY;BYDAY=SA,SU"
    elif unit in ("week", "weekly"):
        rule = f"FREQ=WEEKLY;BYDAY={_DAY_CODES[today.weekday()]}"
    elif unit in ("month", "monthly"):
        rule = f"FREQ=MONTHLY;BYMONTHDAY={today.day}"
    else:
        return None
    if interval > 1:
        rule += f";INTERVAL={interval}"
    text = f"DTSTART:{today:%Y%m%d}T000000\nRRULE:{rule};BYHOUR={t0.hour};BYMINUTE={t0.minute};BYSECOND=0"
    first = next_after(text, zone, now)
    return When(first, text) if first is not None else None
