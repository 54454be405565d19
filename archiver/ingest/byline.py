"""Names in page text: bylines, credit lines, bio lines and publishers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from archiver.ingest.metadata import MONTHS, is_date_line, strip_dates

_ORG_WORDS = re.compile(
    r"\b(press|associated|reuters|afp|dpa|ansa|efe|agency|agence|agencia|news|newsroom|staff|"
    r"service|services|network|times|post|journal|tribune|inc|ltd|corp|llc|radio|tv|media|wire|"
    r"editors?|editorial|desk|team|bureau|redaktion|rédaction|redacción|redação|correspondents?|"
    r"contributors?|writers?|company|group|foundation|institute|university|online|daily|magazine)"
    r"\b",
    re.I,
)
_ROLES = re.compile(
    r"\s*[,|/–—-]\s*(?:(senior |chief |staff |contributing |special |political |foreign |former )*"
    r"(reporter|correspondent|writer|editor|columnist|contributor|journalist|photographer|"
    r"analyst|producer|author|journaliste|redakteur|redakteurin|periodista|jornalista)\b|"
    r"(senior|chief|staff|deputy|managing|executive|associate|principal|lead)\s+\w+).*$",
    re.I,
)
_WITH = re.compile(r"\((?:avec|with|mit|con|com|met)\s+([^)]{3,80})\)", re.I)
_SIDE_ROLE = re.compile(
    r"(?:,|\band\b|&|\bet\b)?\s*[^,()]*?\((?:photo\w*|pictures?|images?|illustrat\w*|"
    r"video\w*|graphics?|fotos?)\)",
    re.I,
)
_CAPS_LEAD = re.compile(r"^((?:[A-ZÀ-Þ][A-ZÀ-Þ.'’-]+\s+){1,3}[A-ZÀ-Þ][A-ZÀ-Þ'’-]+)\s+[A-Z][a-z]")
_MONTH_DAY = re.compile(
    r"\s(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?\s+\d", re.I
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
    "video videos subscribe newsletter resize text font size print".split()
)
_INNER_BY = re.compile(r"^(?:\S+\s+){0,5}?(?:by|par|von|por)\s+(?P<rest>\S.*)$", re.I)
_POSSESSIVE = re.compile(r"^(?P<source>.{2,60}?)['’]s?\s+(?P<rest>.+)$")


_CREDENTIALS = re.compile(
    r",?\s+\b(?:MA|MD|PhD|Ph\.D\.|MPH|RN|MS|MSc|BSc|DO|DDS|JD|MBA|FACP|RD|LCSW)\b\.?", re.I
)
_NOT_AUTHOR = re.compile(
    r"^(?:\S+\s+)?(?:reviewed|edited|illustrat\w*|photos?|photographs?|images?|video|"
    r"translated|fact[- ]checked|powered|sponsored|designed|developed|funded|supported)\s+by\b",
    re.I,
)


def clean_authors(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split byline strings into person names and organisations (e.g. 'The Associated Press')."""
    persons: list[str] = []
    orgs: list[str] = []
    for raw in names:
        text = _WITH.sub(r", \1", _SIDE_ROLE.sub("", raw.strip()))
        text = re.sub(r"\([^)]{0,40}\)", " ", strip_dates(text))
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
    part = _MONTH_DAY.split(strip_dates(part))[0]
    part = re.sub(r"(?<![\w.])@\w+|https?://\S+|\S+@\S+\.\w+", " ", part)
    part = re.split(r"\d", part)[0]  # names hold no digits: 'Lucas Nolan22 Dec', '8h ago'
    caps = _CAPS_LEAD.match(part)
    if caps:  # 'GILLIAN MOHNEY Good Morning America'
        part = caps.group(1)
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


def credit_lines(texts: Sequence[str]) -> dict[int, Credit]:
    """parse_credit_line of each text, by index; one lower-cased scan of all the texts skips
    those that hold none of the words a credit line needs."""
    found = {}
    joined = "\n".join(texts).lower()
    if joined.count("\n") == len(texts) - 1:  # no text with a line break: find the candidates
        candidates = _credit_candidates(joined)
    else:
        lowered = [text.lower() for text in texts]
        candidates = [
            index
            for index, low in enumerate(lowered)
            if "contribut" in low or low.lstrip().startswith(_REPORTING_WORDS)
        ]
    for index in candidates:
        credit = parse_credit_line(texts[index])
        if credit is not None:
            found[index] = credit
    return found


def _credit_candidates(joined: str) -> list[int]:
    """Indexes of the lines of a lower-cased text that hold 'contribut' or start (after
    whitespace) with one of _REPORTING_WORDS, by substring search instead of a line loop."""
    found: set[int] = set()
    for word in ("contribut", *_REPORTING_WORDS):
        at = joined.find(word)
        while at >= 0:
            start = joined.rfind("\n", 0, at) + 1
            if word == "contribut" or not joined[start:at].strip():
                found.add(joined.count("\n", 0, at))
            at = joined.find(word, at + 1)
    return sorted(found)


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


_GLUED = re.compile(r"[a-zß-ÿ]{4,}[A-ZÀ-Þ]")
"""Menu items run together by the dump ('NoticiasSociedadPolítica'): no person is named so."""


def _bare_names(text: str) -> Credit | None:
    """A line that is only person names ('Ana Lopez and Bo Li'), never interface words."""
    if not text[:1].isupper() or re.search(r"\w['’]s\b", text):  # "Today's Paper"
        return None
    if _GLUED.search(text):
        return None
    text = " ".join(re.sub(r"\([^)]{0,20}\)", " ", text).split())  # 'Richard (R.J.) Eskow'
    if not all(looks_like_name(p) for p in _SPLIT.split(text) if p):
        return None
    persons, orgs = clean_authors([text])
    if not persons or orgs or any(len(p.split()) < 2 for p in persons):
        return None
    if any(w.casefold() in _UI_WORDS for p in persons for w in p.split()):
        return None
    return Credit(authors=tuple(persons))


_COPYRIGHT = re.compile(
    r"^(?:©|\(c\)|copyright)\s*(?:©\s*)?(?:\d{4}\s*)?(?P<name>[^.|]{3,60}?)[.|]", re.I
)
COPYRIGHT_START = frozenset("©(cC")
"""The first characters of a line source_from_copyright can match."""
_AGENCIES = re.compile(r"\b(associated press|reuters|afp|agence france|dpa|getty|ap)\b", re.I)


def source_from_copyright(line: str) -> str | None:
    """The publisher named in '© 2024 Metro Daily. All rights reserved.' (not news agencies)."""
    stripped = line.strip()
    if stripped[:1] not in COPYRIGHT_START:  # the pattern's possible first characters
        return None
    match = _COPYRIGHT.match(stripped)
    if not match:
        return None
    name = re.sub(r"\s*\b(19|20)\d{2}$", "", match.group("name").strip(" ,"))
    if _AGENCIES.search(name) or not looks_like_org(name):
        return None
    return name


_BIO = re.compile(
    r"^(?P<name>(?:[A-ZÀ-Þ][\w.'’-]*\s+){1,3}[A-ZÀ-Þ][\w'’-]+)\s+"
    r"(?:is|was|covers|writes)\s+(?:an?\s+|the\s+)?(?:[\w-]+\s+){0,4}?"
    r"(?:reporter|correspondent|writer|editor|columnist|contributor|journalist|historian|"
    r"author|critic|producer|blogger|freelance\w*|staff|founder|professor|analyst|"
    r"researcher|engineer|developer|designer)\b"
)


def parse_bio(line: str) -> Credit | None:
    """The author in a bio line ('Ana Lopez is a reporter for The Post, covering ...')."""
    if len(line) > 600 or not line[:1].isupper():
        return None
    match = _BIO.match(line)
    if match is None:
        return None
    name = match.group("name")
    if not looks_like_name(name) or is_not_person(name):
        return None
    return Credit(authors=(name,))
