"""When a question is about: 'yesterday', 'last week', 'in March', 'two days ago', '14 March' -> a time range.

Rules, all in the user's local time (`now.tzinfo`), ranges half-open [start, end):
- days run midnight to midnight; weeks Monday to Monday; months and years by the calendar;
- a month, weekday or date without a year is the most recent one that has begun ('in March' in
  February 2027 is March 2026; 'on Monday' on a Monday is a week ago);
- 'the past N days' and 'recently' (14 days) end now.
Only the past is understood (recall is about what was said): 'next week' and 'tomorrow' give None.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta

Range = tuple[datetime, datetime]

MONTHS = {m: i + 1 for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"])}
_MONTH_ABBR = {m[:3]: i for m, i in MONTHS.items()} | {"sept": 9}
WEEKDAYS = {d: i for i, d in enumerate(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])}
NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
           "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "couple of": 2, "a couple of": 2, "couple": 2,
           "few": 3, "a few": 3}
# Parts of a day, as (start hour, end hour); an end past 24 runs into the next day.
DAY_PARTS = {"morning": (5, 12), "afternoon": (12, 17), "evening": (17, 24), "night": (18, 29)}
RECENT_DAYS = 14

_MONTH_RE = r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_NUM_RE = r"(?P<n>\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|(?:a )?couple(?: of)?|(?:a )?few)"
_WEEKDAY_RE = r"(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday)"


def _month_number(word: str) -> int:
    return MONTHS.get(word) or _MONTH_ABBR[word[:4] if word.startswith("sept") else word[:3]]


def _count(word: str) -> int:
    return int(word) if word.isdigit() else NUMBERS[word]


class _Ctx:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self.today = now.date()

    def at(self, d: date, hour: int = 0) -> datetime:
        return datetime(d.year, d.month, d.day, tzinfo=self.now.tzinfo) + timedelta(hours=hour)

    def days(self, first: date, after: date) -> Range:
        return self.at(first), self.at(after)

    def day(self, d: date) -> Range:
        return self.days(d, d + timedelta(days=1))

    def week_of(self, d: date) -> Range:
        monday = d - timedelta(days=d.weekday())
        return self.days(monday, monday + timedelta(days=7))

    def month(self, year: int, month: int) -> Range:
        nxt = date(year + (month == 12), month % 12 + 1, 1)
        return self.days(date(year, month, 1), nxt)

    def year(self, year: int) -> Range:
        return self.days(date(year, 1, 1), date(year + 1, 1, 1))

    def months_back(self, n: int) -> tuple[int, int]:
        k = self.today.year * 12 + self.today.month - 1 - n
        return k // 12, k % 12 + 1

    def last_month_named(self, month: int) -> int:
        """The year of the most recent `month` that has begun."""
        return self.today.year if month <= self.today.month else self.today.year - 1

    def last_date(self, month: int, day: int) -> date | None:
        """The most recent `month`/`day` on or before today."""
        for year in range(self.today.year, self.today.year - 8, -1):  # 29 February: up to 8 years back
            try:
                d = date(year, month, day)
            except ValueError:
                continue
            if d <= self.today:
                return d
        return None

    def last_weekday(self, wd: int) -> date:
        """The most recent such weekday strictly before today."""
        back = (self.today.weekday() - wd) % 7 or 7
        return self.today - timedelta(days=back)


def _date(c: _Ctx, m: re.Match[str]) -> Range | None:
    month = _month_number(m["month"])
    day = int(m["day"])
    if m["year"]:
        try:
            return c.day(date(int(m["year"]), month, day))
        except ValueError:
            return None
    d = c.last_date(month, day)
    return c.day(d) if d else None


def _iso(c: _Ctx, m: re.Match[str]) -> Range | None:
    try:
        return c.day(date(int(m["y"]), int(m["m"]), int(m["d"])))
    except ValueError:
        return None


def _day_part(c: _Ctx, m: re.Match[str]) -> Range:
    base = c.today - timedelta(days=1) if m["which"] == "yesterday" else c.today
    start, end = DAY_PARTS[m["part"]]
    return c.at(base, start), c.at(base, end)


def _last_night(c: _Ctx, m: re.Match[str]) -> Range:
    start, end = DAY_PARTS["night"]
    return c.at(c.today - timedelta(days=1), start), c.at(c.today - timedelta(days=1), end)


def _tonight(c: _Ctx, m: re.Match[str]) -> Range:
    start, end = DAY_PARTS["night"]
    return c.at(c.today, start - 1), c.at(c.today, end)


def _ago(c: _Ctx, m: re.Match[str]) -> Range | None:
    n, unit = _count(m["n"]), m["unit"]
    vague = m["n"].endswith("few")
    if unit == "day":
        if vague:  # 'a few days ago': two to five days back
            return c.days(c.today - timedelta(days=5), c.today - timedelta(days=1))
        return c.day(c.today - timedelta(days=n))
    if unit == "week":
        if vague:
            return c.days(c.today - timedelta(weeks=5), c.today - timedelta(weeks=1))
        return c.week_of(c.today - timedelta(weeks=n))
    if unit == "month":
        if vague:
            y0, m0 = c.months_back(5)
            y1, m1 = c.months_back(1)
            return c.month(y0, m0)[0], c.month(y1, m1)[1]
        return c.month(*c.months_back(n))
    if vague:
        return c.year(c.today.year - 5)[0], c.year(c.today.year - 1)[1]
    return c.year(c.today.year - n)


def _past_n(c: _Ctx, m: re.Match[str]) -> Range:
    n = _count(m["n"]) if m["n"] else 1
    unit = {"day": 1, "week": 7, "month": 30, "year": 365}[m["unit"]]
    return c.at(c.today - timedelta(days=n * unit)), c.now


def _weekend(c: _Ctx, m: re.Match[str]) -> Range:
    this_sat = c.today - timedelta(days=c.today.weekday() - 5)
    sat = this_sat - timedelta(days=7) if m["which"] == "last" or c.today.weekday() < 5 else this_sat
    return c.days(sat, sat + timedelta(days=2))


def _weekday(c: _Ctx, m: re.Match[str]) -> Range:
    return c.day(c.last_weekday(WEEKDAYS[m["wd"]]))


def _month_year(c: _Ctx, m: re.Match[str]) -> Range:
    return c.month(int(m["year"]), _month_number(m["month"]))


def _month_named(c: _Ctx, m: re.Match[str]) -> Range:
    month = _month_number(m["month"])
    year = c.last_month_named(month)
    if m["which"] == "last" and year == c.today.year and month == c.today.month:
        year -= 1
    start, end = c.month(year, month)
    return (start, c.now) if m["which"] == "since" else (start, end)


def _year(c: _Ctx, m: re.Match[str]) -> Range | None:
    y = int(m["year"])
    if not 1900 <= y <= c.today.year:
        return None
    start, end = c.year(y)
    return (start, c.now) if m[0].startswith("since") else (start, end)


_RULES: list[tuple[str, Callable[[_Ctx, re.Match[str]], Range | None]]] = [
    (r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b", _iso),
    (rf"\b{_MONTH_RE}\.? (?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,? (?P<year>\d{{4}}))?", _date),
    (rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)? (?:of )?{_MONTH_RE}\b(?:,? (?P<year>\d{{4}}))?", _date),
    (r"\b(?P<which>yesterday|this|today) ?(?P<part>morning|afternoon|evening|night)\b", _day_part),
    (r"\blast night\b", _last_night),
    (r"\btonight\b", _tonight),
    (r"\b(?:the )?day before yesterday\b", lambda c, m: c.day(c.today - timedelta(days=2))),
    (r"\byesterday\b", lambda c, m: c.day(c.today - timedelta(days=1))),
    (r"\b(?:earlier )?today\b", lambda c, m: c.day(c.today)),
    (rf"\b{_NUM_RE} (?P<unit>day|week|month|year)s? ago\b", _ago),
    (rf"\b(?:the )?past (?:{_NUM_RE} )?(?P<unit>day|week|month|year)s?\b", _past_n),
    (rf"\b(?:the )?last {_NUM_RE} (?P<unit>day|week|month|year)s\b", _past_n),
    (r"\b(?:the )?week before last\b", lambda c, m: c.week_of(c.today - timedelta(weeks=2))),
    (r"\b(?P<which>last|this|the) weekend\b", _weekend),
    (r"\blast week\b", lambda c, m: c.week_of(c.today - timedelta(weeks=1))),
    (r"\bthis (?:past )?week\b", lambda c, m: c.week_of(c.today)),
    (r"\blast month\b", lambda c, m: c.month(*c.months_back(1))),
    (r"\bthis month\b", lambda c, m: c.month(c.today.year, c.today.month)),
    (r"\blast year\b", lambda c, m: c.year(c.today.year - 1)),
    (r"\bthis year\b", lambda c, m: c.year(c.today.year)),
    (rf"(?<!next )(?<!coming )\b(?:(?:last|this past|on|this) )?{_WEEKDAY_RE}\b(?!s)", _weekday),
    (rf"\b{_MONTH_RE},? (?P<year>\d{{4}})\b", _month_year),
    (rf"\b(?P<which>in|last|during|since|back in|this past|early|late|mid) {_MONTH_RE}\b", _month_named),
    (r"\b(?:in|during|since|back in|of) (?P<year>\d{4})\b", _year),
    # Not 'these days' or 'now': those ask what holds at present, not what was said lately.
    (r"\b(?:recently|lately)\b", lambda c, m: (c.at(c.today - timedelta(days=RECENT_DAYS)), c.now)),
]
_COMPILED = [(re.compile(p), fn) for p, fn in _RULES]


def time_range(query: str, now: datetime) -> Range | None:
    """The span of time `query` asks about, or None when it names none (or only the future)."""
    found = find_time(query, now)
    return found[0] if found else None


def find_time(query: str, now: datetime) -> tuple[Range, str] | None:
    """`time_range` plus the words that named it (lower case), so a search can leave them out."""
    q = re.sub(r"\s+", " ", query.lower().replace("\u2019", "'"))
    c = _Ctx(now)
    for pattern, fn in _COMPILED:
        m = pattern.search(q)
        if m is not None:
            span = fn(c, m)
            return (span, m[0].strip()) if span else None
    return None


def in_range(when: datetime | None, span: Range | None) -> bool:
    return when is not None and span is not None and span[0] <= when < span[1]
