"""Metadata in page text: stated dates and article URLs (names are in archiver.ingest.byline)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from functools import lru_cache

DateValue = dt.date | dt.datetime

_MONTH_NAMES = {
    1: "january jan janvier janv janvier januar jän enero ene janeiro gennaio januari leden ledna",
    2: "february feb février févr fevrier februar febrero febr fevereiro fev febbraio februari "
    "únor února",
    3: "march mar mars märz marz marzo março marco maart březen března",
    4: "april apr avril abril aprile duben dubna",
    5: "may mai mayo maio maggio mei květen května",
    6: "june jun juin juni junio junho giugno červen června",
    7: "july jul juillet juil juli julio julho luglio červenec července",
    8: "august aug août aout agosto augustus srpen srpna",
    9: "september sep sept septembre septiembre setembro settembre září",
    10: "october oct octobre oktober octubre outubro ottobre okt říjen října",
    11: "november nov novembre noviembre novembro novembre listopad listopadu",
    12: "december dec décembre decembre dezember diciembre dic dezembro dez dicembre prosinec "
    "prosince",
}
MONTHS = {name: num for num, names in _MONTH_NAMES.items() for name in names.split()}
_MONTH_RE = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))

_TZ_HOURS = {"utc": 0, "gmt": 0, "z": 0, "bst": 1, "cet": 1, "cest": 2, "ist": 5.5, "jst": 9,
             "est": -5, "edt": -4, "cst": -6, "cdt": -5, "mst": -7, "mdt": -6, "pst": -8,
             "pdt": -7, "aest": 10, "aedt": 11}  # fmt: skip
_US_ZONES = {"et": -5, "ct": -6, "mt": -7, "pt": -8}
_TIME = (
    r"(?P<h>\d{1,2})(?:[:.h](?P<mi>\d{2}))(?::(?P<s>\d{2}))?\s*(?P<ap>[ap]\.?m\.?)?"
    r"(?:\s*(?P<tz>utc|gmt|z|[ecmp][sd]t|[ecmp]t|bst|cest|cet|ist|jst|aedt|aest"
    r"|[+-]\d{2}:?\d{2})\b)?"
)
_YMD = re.compile(
    r"\b(?P<y>(?:19|20)\d{2})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})(?:[T ]" + _TIME + ")?", re.I
)
_MDY = re.compile(
    rf"\b(?P<mon>{_MONTH_RE})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d{{2}})\b"
    rf"(?:,?\s*(?:at\s+|um\s+|à\s+|-\s+|·\s+)?{_TIME})?",
    re.I,
)
_DMY = re.compile(
    rf"\b(?P<d>\d{{1,2}})(?:er|st|nd|rd|th|º)?(?:\.\s*|\s+)(?:de\s+)?(?P<mon>{_MONTH_RE})"
    rf"(?:\.\s*|,?\s+)(?:de\s+)?(?P<y>(?:19|20)\d{{2}})\b"
    rf"(?:,?\s*(?:at\s+|um\s+|às?\s+|a las\s+|-\s+|·\s+)?{_TIME})?",
    re.I,
)
_NUMERIC = re.compile(
    r"\b(?P<a>\d{1,2})(?P<sep>[./])(?P<b>\d{1,2})(?P=sep)(?P<y>(?:19|20)\d{2})\b"
    r"(?:,?\s*(?:at\s+|um\s+|à\s+|-\s+)?" + _TIME + ")?",
    re.I,
)
_TIME_ONLY = re.compile(_TIME, re.I)
_ANY_YEAR = re.compile(r"(?:19|20)\d\d")
_ANY_DIGIT = re.compile(r"\d")
_DATE_WORDS = re.compile(
    r"\b(published|updated|posted|last|modified|on|at|am|um|le|el|em|à|mis|jour|à jour|publié|"
    r"publicado|actualizado|veröffentlicht|aktualisiert|aktualizováno|publikováno|date|"
    r"mon|tue|wed|thu|fri|sat|sun|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"utc|gmt|[ecmp][sd]?t|de|the|of|a\.?m\.?|p\.?m\.?|\d+|st|nd|rd|th|h)\b",
    re.I,
)


def _zone(name: str | None, day: dt.date) -> dt.tzinfo | None:
    """A fixed-offset zone for a zone abbreviation or numeric offset (US zones follow DST)."""
    if not name:
        return None
    key = name.lower()
    if key in _TZ_HOURS:
        return dt.timezone(dt.timedelta(hours=_TZ_HOURS[key]))
    if key in _US_ZONES:
        return dt.timezone(dt.timedelta(hours=_US_ZONES[key] + (1 if _us_dst(day) else 0)))
    match = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", key)
    if match:
        minutes = int(match.group(2)) * 60 + int(match.group(3))
        return dt.timezone(dt.timedelta(minutes=minutes if match.group(1) == "+" else -minutes))
    return None


def _us_dst(day: dt.date) -> bool:
    """US daylight saving time: second Sunday of March to first Sunday of November."""
    start = dt.date(day.year, 3, 8 + (6 - dt.date(day.year, 3, 8).weekday()) % 7)
    end = dt.date(day.year, 11, 1 + (6 - dt.date(day.year, 11, 1).weekday()) % 7)
    return start <= day < end


def _with_time(day: dt.date, groups: dict[str, str | None]) -> dt.date | dt.datetime:
    """Combine a day with the time groups of a match, when a time was given."""
    if groups.get("h") is None or groups.get("mi") is None:
        return day
    hour, minute = int(groups["h"] or 0), int(groups["mi"] or 0)
    ampm = (groups.get("ap") or "").lower().replace(".", "")
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return day
    second = int(groups.get("s") or 0)
    return dt.datetime(
        day.year,
        day.month,
        day.day,
        hour,
        minute,
        min(second, 59),
        tzinfo=_zone(groups.get("tz"), day),
    )


def _day(year: str, month: int, day: str) -> dt.date | None:
    """A valid calendar day or None."""
    try:
        return dt.date(int(year), month, int(day))
    except ValueError:
        return None


_ASCII_MONTHS = frozenset(name for name in MONTHS if name.isascii())
_ASCII_LETTERS = re.compile(r"[a-z]+")


def _may_name_month(text: str) -> bool:
    """False when neither _MDY nor _DMY can match: an ASCII text none of whose letter runs is
    a month name (in a match the month is a whole letter run: a non-word character or a space
    stands on both sides of it; and an ASCII text only matches the ASCII month names)."""
    if not text.isascii():
        return True
    return not _ASCII_MONTHS.isdisjoint(_ASCII_LETTERS.findall(text.lower()))


def parse_date(text: str) -> dt.date | dt.datetime | None:
    """The first date stated in text (ISO, 'December 19, 2024 6:24pm EST', '24 July 2015', ...)."""
    found: list[tuple[int, dt.date | dt.datetime]] = []
    if _ANY_YEAR.search(text) is None:  # every date pattern holds a year
        return None
    patterns = (_YMD, _MDY, _DMY, _NUMERIC) if _may_name_month(text) else (_YMD, _NUMERIC)
    for pattern in patterns:
        match = pattern.search(text)
        if not match:
            continue
        groups = match.groupdict()
        if pattern is _YMD:
            day = _day(groups["y"], int(groups["mo"]), groups["d"])
        elif pattern is _NUMERIC:
            a, b = int(groups["a"]), int(groups["b"])
            day_n, month = (a, b) if groups["sep"] == "." or a > 12 else (b, a)
            day = _day(groups["y"], month, str(day_n))
        else:
            named = MONTHS.get(groups["mon"].lower())
            if named is None:  # matched case-insensitively but not a name (the long s of "ſept")
                continue
            day = _day(groups["y"], named, groups["d"])
        if day is None or not 1990 <= day.year <= 2100:
            continue
        value = _with_time(day, groups)
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = _time_elsewhere(text, day) or value
        found.append((match.start(), value))
    return min(found, key=lambda item: item[0])[1] if found else None


def _time_elsewhere(text: str, day: dt.date) -> dt.datetime | None:
    """A time written before the date ('Published 6:24 PM EST, Thu December 19, 2024')."""
    for match in _TIME_ONLY.finditer(text):
        if match.group("ap") or match.group("tz"):
            value = _with_time(day, match.groupdict())
            if isinstance(value, dt.datetime):
                return value
    return None


@lru_cache(maxsize=8192)
def is_date_line(line: str) -> bool:
    """True for a short line that is only a date with date words ('Updated on: 2024-12-19 ...')."""
    if len(line) > 120 or parse_date(line) is None:
        return False
    rest = _DATE_WORDS.sub(" ", strip_dates(line))
    return len(re.findall(r"\w{2,}", rest)) <= 2


_RELATIVE = re.compile(
    r"(?<!\w)(?:\d{1,3}\s*(?:h|hrs?|hours?|m|mins?|minutes?|d|days?|w|weeks?|months?|years?)"
    r"(?:\s+ago)?|(?:an?|one)\s+(?:hour|day|week|month|year)\s+ago|yesterday|today)(?!\w)"
    r"|(?<![\w.])@\w+",
    re.I,
)
"""Relative times ('8h', '1 day ago', 'Yesterday') and @handles next to a bare name."""


def without_dates(line: str) -> str:
    """The line without dates, times and trailing counts ('Sarah Lee March 9, 2017 13')."""
    text = _RELATIVE.sub(" ", strip_dates(line))
    text = re.sub(r"[\s·|•,–—-]+\d{1,6}$", "", text.strip())
    return " ".join(text.split()).strip(" ·|•,–—-")


def strip_dates(line: str) -> str:
    """The line with every date and time expression removed."""
    if _ANY_DIGIT.search(line) is None:  # every date and time pattern holds a digit
        return line
    for pattern in (_YMD, _MDY, _DMY, _NUMERIC, _TIME_ONLY):
        if (pattern is _MDY or pattern is _DMY) and not _may_name_month(line):
            continue  # checked on the line as the earlier patterns left it
        line = pattern.sub(" ", line)
    return line


_URL_LINE = re.compile(
    r"^(?:(?:url|source|link|original|permalink)\s*:\s*)?(https?://[^\s/]+/\S+)$", re.I
)


def find_url(lines: Iterable[str]) -> str | None:
    """The first line that is only an article address (with a path), e.g. 'https://x.com/a/b'."""
    for line in lines:
        if "://" not in line:  # the pattern needs it: most lines skip the regex
            continue
        match = _URL_LINE.match(line.strip())
        if match:
            return match.group(1).rstrip(".,;)")
    return None
