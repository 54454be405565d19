"""Metadata in page text: bylines, credit lines, publishers, stated dates and article URLs."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
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
    rf"\b(?P<d>\d{{1,2}})(?:er|st|nd|rd|th|º)?\.?\s+(?:de\s+)?(?P<mon>{_MONTH_RE})\.?,?\s+"
    rf"(?:de\s+)?(?P<y>(?:19|20)\d{{2}})\b"
    rf"(?:,?\s*(?:at\s+|um\s+|à\s+|a las\s+|-\s+|·\s+)?{_TIME})?",
    re.I,
)
_NUMERIC = re.compile(
    r"\b(?P<a>\d{1,2})(?P<sep>[./])(?P<b>\d{1,2})(?P=sep)(?P<y>(?:19|20)\d{2})\b"
    r"(?:,?\s*(?:at\s+|um\s+|à\s+|-\s+)?" + _TIME + ")?",
    re.I,
)
_TIME_ONLY = re.compile(_TIME, re.I)
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


def parse_date(text: str) -> dt.date | dt.datetime | None:
    """The first date stated in text (ISO, 'December 19, 2024 6:24pm EST', '24 July 2015', ...)."""
    found: list[tuple[int, dt.date | dt.datetime]] = []
    for pattern in (_YMD, _MDY, _DMY, _NUMERIC):
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
            day = _day(groups["y"], MONTHS[groups["mon"].lower()], groups["d"])
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
    rest = _DATE_WORDS.sub(" ", _strip_dates(line))
    return len(re.findall(r"\w{2,}", rest)) <= 2


def without_dates(line: str) -> str:
    """The line without dates, times and trailing counts ('Sarah Lee March 9, 2017 13')."""
    text = re.sub(r"[\s·|•,–—-]+\d{1,6}$", "", _strip_dates(line).strip())
    return " ".join(text.split()).strip(" ·|•,–—-")


def _strip_dates(line: str) -> str:
    """The line with every date and time expression removed."""
    for pattern in (_YMD, _MDY, _DMY, _NUMERIC, _TIME_ONLY):
        line = pattern.sub(" ", line)
    return line


# ---------------------------------------------------------------- names

_ORG_WORDS = re.compile(
    r"\b(press|associated|reuters|afp|dpa|ansa|efe|agency|agence|agencia|news|newsroom|staff|"
    r"service|services|network|times|post|journal|tribune|inc|ltd|corp|llc|radio|tv|media|wire|"
    r"editors?|editorial|desk|team|bureau|redaktion|rédaction|redacción|redação|correspondents?|"
    r"contributors?|writers?|company|group|foundation|institute|university|online|daily|magazine)"
    r"\b",
    re.I,
)
_ROLES = re.compile(
    r"\s*[,|/–—-]\s*(senior |chief |staff |contributing |special |political |foreign |former )*"
    r"(reporter|correspondent|writer|editor|columnist|contributor|journalist|photographer|"
    r"analyst|producer|author|journaliste|redakteur|redakteurin|periodista|jornalista)\b.*$",
    re.I,
)
_BY_PREFIX = re.compile(
    r"^(?:(?:written|posted|reported|words|story|text|photos?|reporting|report|published)\s+by|by|"
    r"par|von|por|di|door|av|af|de|autor(?:a|in)?\s*:|author\s*:|text\s*:|texte\s*:)\s+",
    re.I,
)
_SPLIT = re.compile(
    r"\s*(?:,|;|\band\b|&|\bet\b|\bund\b|\by\b|\be\b|\ben\b|\boch\b|\ba\b)\s*", re.I
)
_NAME_WORD = re.compile(r"^(?:[A-ZÀ-ÖØ-ÞĀ-Ž][\w.'’-]*|[a-z]{1,3}|[A-Z]\.(?:[A-Z]\.)*)$")
_CUT = re.compile(
    r"@|\b(?:updated|published|follow|posted|reviewed|edited|photographs?|illustrations?|"
    r"mis à jour|publié|aktualisiert|actualizado)\b",
    re.I,
)
_UI_WORDS = frozenset(
    "share tweet email e-mail buy now view photos photo sign up follow more save image close done "
    "credit reviewed edited updated tags print reblog comments comment login menu search home "
    "video videos subscribe newsletter".split()
)
_INNER_BY = re.compile(r"^(?:\S+\s+){0,5}?(?:by|par|von|por)\s+(?P<rest>\S.*)$", re.I)
_POSSESSIVE = re.compile(r"^(?P<source>.{2,60}?)['’]s?\s+(?P<rest>.+)$")


_CREDENTIALS = re.compile(
    r",?\s+\b(?:MA|MD|PhD|Ph\.D\.|MPH|RN|MS|MSc|BSc|DO|DDS|JD|MBA|FACP|RD|LCSW)\b\.?", re.I
)
_NOT_AUTHOR = re.compile(
    r"^(?:\S+\s+)?(?:reviewed|edited|illustrat\w*|photos?|photographs?|images?|video|"
    r"translated|fact[- ]checked)\s+by\b",
    re.I,
)


def clean_authors(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split byline strings into person names and organisations (e.g. 'The Associated Press')."""
    persons: list[str] = []
    orgs: list[str] = []
    for raw in names:
        text = re.sub(r"\([^)]{0,40}\)", " ", _strip_dates(raw.strip()))
        text = _CREDENTIALS.sub("", text)
        for part in _SPLIT.split(_ROLES.sub("", _BY_PREFIX.sub("", text.strip()))):
            name = _tidy_name(part)
            if not name:
                continue
            target = orgs if _ORG_WORDS.search(name) else persons
            if name in target:
                continue
            if target is orgs or (looks_like_name(name) and not is_not_person(name)):
                target.append(name)
    return persons, orgs


def _tidy_name(part: str) -> str:
    """A name with dates, e-mail addresses, URLs and stray punctuation removed."""
    part = _strip_dates(part)
    part = re.sub(r"(?<![\w.])@\w+|https?://\S+|\S+@\S+\.\w+", " ", part)
    part = _CUT.split(part)[0]
    part = re.sub(r"\s+", " ", part).strip(" .,:;|-–—·•()[]\"'")
    if part.isupper() and len(part) > 3:
        part = part.title()
    return part


def looks_like_name(text: str) -> bool:
    """True for 1-5 capitalised words such as 'Timothy H.J. Nerozzi' or 'Jean de La Fontaine'."""
    words = text.split()
    if not 1 <= len(words) <= 5 or len(text) > 60:
        return False
    if not any(ch.isupper() for ch in words[0][:1]) or not words[-1][:1].isupper():
        return False
    return all(_NAME_WORD.match(word) for word in words)


_NAME_PARTICLES = frozenset(
    "de da do dos das di du del della la le el al van von der den des ten ter y e bin ibn "
    "an he ma su na lo ha dan will can more said son ben".split()
)
"""Stop words that are also parts of names ('Jean de La Fontaine', 'Jack Ma', 'Dan Goodin')."""


@lru_cache(maxsize=1)
def _function_words() -> frozenset[str]:
    """Stop words of the shipped languages that never occur in person names."""
    from archiver.ingest.textfeatures import stop_words

    return stop_words() - _NAME_PARTICLES


@lru_cache(maxsize=4096)
def is_not_person(name: str) -> bool:
    """True for capitalised phrases that are not people: places, countries, organisations and
    stop phrases of the entity gazetteer ('Middle East', 'São Paulo'), or a phrase with a
    function word ('On Recent Events')."""
    from archiver.ingest.gazetteer import key_of, load_gazetteer

    words = name.split()
    if any(w.casefold() in _function_words() for w in words if len(w) > 1):
        return True
    return key_of(name) in load_gazetteer().lookup


@dataclass(frozen=True)
class Credit:
    """Names found in a byline or credit line."""

    authors: tuple[str, ...] = ()
    credits: tuple[str, ...] = ()
    source: str | None = None


_CREDIT = re.compile(
    r"^(?P<names>.{3,300}?)\s+(?:contributed|contributes)\s+(?:to\s+this\s+(?:report|story|article)"
    r"|reporting|additional reporting)\b.{0,80}$",
    re.I,
)
_REPORTING_BY = re.compile(
    r"^(?:additional\s+)?(?:reporting|writing|editing)\s+by\s+(?P<names>.{3,200}?)\.?$", re.I
)


_REPORTING_WORDS = ("additional", "reporting", "writing", "editing")


def parse_credit_line(line: str) -> Credit | None:
    """Names in 'Fox News' X, Y and The Associated Press contributed to this report.' and kin."""
    text = line.strip()
    low = text[:300].lower()
    match = None
    if "contribut" in low:
        match = _CREDIT.match(text)
    if match is None and len(text) <= 220 and low.startswith(_REPORTING_WORDS):
        match = _REPORTING_BY.match(text)
    if not match:
        return None
    names = match.group("names")
    source = None
    possessive = _POSSESSIVE.match(names)
    if possessive and looks_like_org(possessive.group("source")):
        source, names = possessive.group("source").strip(), possessive.group("rest")
    names = re.split(r";\s*(?:editing|writing)\s+by\b", names, flags=re.I)[0]
    persons, orgs = clean_authors([names])
    return Credit(authors=tuple(persons), credits=tuple(orgs), source=source)


def looks_like_org(text: str) -> bool:
    """True for a short capitalised publisher name ('Fox News', 'Capital Wire', 'CNN')."""
    words = text.split()
    return 1 <= len(words) <= 5 and all(
        w[:1].isupper() or w[:1].isdigit() or w in ("of", "the", "&") for w in words
    )


_PIPE = re.compile(r"\s+[|·•]\s+")


@lru_cache(maxsize=8192)
def parse_byline(line: str, *, bare_names: bool = False) -> Credit | None:
    """Authors (and a publisher after '|') in 'By X and Y | Site' / 'Par X'; None if no byline."""
    text = line.strip().lstrip("/-–—·•* ")
    if len(text) > 200 or not text or _NOT_AUTHOR.match(text):
        return None
    parts = _PIPE.split(text)
    lead = next((p for p in parts if _BY_PREFIX.match(p)), None)
    if lead is None and len(text) <= 100:
        inner = _INNER_BY.match(text)
        lead = "by " + inner.group("rest") if inner else None
    if lead is None:
        if not bare_names or len(parts) > 1 or text.endswith((".", "!", "?", ":")):
            return None
        return _bare_names(text)
    persons, orgs = clean_authors([lead])
    others = [p for p in parts if p is not lead and not is_date_line(p)]
    source = others[0].strip() if others and looks_like_org(others[0]) else None
    if not persons and not orgs:
        return None
    return Credit(authors=tuple(persons), credits=tuple(orgs), source=source)


def _bare_names(text: str) -> Credit | None:
    """A line that is only person names ('Ana Lopez and Bo Li'), never interface words."""
    if not text[:1].isupper() or not all(looks_like_name(p) for p in _SPLIT.split(text) if p):
        return None
    persons, orgs = clean_authors([text])
    if not persons or orgs or any(len(p.split()) < 2 for p in persons):
        return None
    if any(w.casefold() in _UI_WORDS for p in persons for w in p.split()):
        return None
    return Credit(authors=tuple(persons))


_URL_LINE = re.compile(
    r"^(?:(?:url|source|link|original|permalink)\s*:\s*)?(https?://[^\s/]+/\S+)$", re.I
)


def find_url(lines: Iterable[str]) -> str | None:
    """The first line that is only an article address (with a path), e.g. 'https://x.com/a/b'."""
    for line in lines:
        match = _URL_LINE.match(line.strip())
        if match:
            return match.group(1).rstrip(".,;)")
    return None


_COPYRIGHT = re.compile(
    r"^(?:©|\(c\)|copyright)\s*(?:©\s*)?(?:\d{4}\s*)?(?P<name>[^.|]{3,60}?)[.|]", re.I
)
_AGENCIES = re.compile(r"\b(associated press|reuters|afp|agence france|dpa|getty|ap)\b", re.I)


def source_from_copyright(line: str) -> str | None:
    """The publisher named in '© 2024 Metro Daily. All rights reserved.' (not news agencies)."""
    match = _COPYRIGHT.match(line.strip())
    if not match:
        return None
    name = re.sub(r"\s*\b(19|20)\d{2}$", "", match.group("name").strip(" ,"))
    if _AGENCIES.search(name) or not looks_like_org(name):
        return None
    return name
