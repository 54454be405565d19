"""Byline cleaning for saved HTML: raw author strings -> person names and organisation credits."""

from __future__ import annotations

import re
from collections.abc import Iterable

from archiver.model import term_key

_PREFIX = re.compile(
    r"^(?:(?:written|posted|reported|reporting|story|words|text|edited|compiled|published)\s+)?"
    r"(?:by|par|por|von|door|av|di|from)\s*[:\-–—]?\s+",
    re.I,
)
_LEAD_WORDS = re.compile(r"^(?:by|author|authors|autor|auteur|writer)\s*[:\-–—]\s*", re.I)
_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+|\S+@\S+\.\w+|(?<!\w)@\w+")
_SPLIT = re.compile(
    r"\s*(?:[,;|/•·]|\s(?:and|&|und|et|y|e|with|mit|avec|con)\s|\s&\s|\band\b)\s*", re.I
)
_DATE_TAIL = re.compile(
    r"\s*(?:[-–—|,]\s*)?(?:\b(?:updated|published|posted|on|le|am|el)\b.*\d.*|"
    r"\b(?:updated|published|posted)\b.*|"
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d.*|\d.*)$",
    re.I,
)
_CUT = re.compile(
    r"\s*\b(?:edited|reviewed|illustrated|illustrations?|photographs?|photos?|video|graphics|"
    r"produced|fact-checked|translated|additional reporting)\s+(?:by|de|par|von)\b.*$",
    re.I,
)
_WITH = re.compile(r"\(\s*(?:avec|with|mit|con|com)\s+", re.I)
_JUNK = frozenset(
    """follow email e-mail author username user admin administrator anonymous unknown authors
    share twitter facebook linkedin instagram updated
    published posted comments comment view profile more read subscribe contact bio about
    see all posts articles stories latest staff contributor contributors correspondent
    reporter writer editor editors columnist producer photographer senior chief associate
    special guest news desk the of in at for on""".split()
)
_ROLES = frozenset(
    """reporter correspondent writer editor columnist contributor producer photographer
    analyst staff intern researcher journalist""".split()
)
_ORG_WORDS = frozenset(
    """news press associated reuters afp agency agencies media newsroom desk team editors
    editorial inc inc. ltd llc corp corporation organization organisation institute university
    association society council committee department ministry government works magazine online
    times post daily wire bureau
    network group company tv radio foundation wikipedia blog journal herald tribune gazette
    staff service services partners contributors projects""".split()
)


def clean_names(
    raw: Iterable[str], publisher: str | None = None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split raw byline strings into (person names, organisation credits), cleaned and deduped.

    Without a publisher (e.g. for JSON-LD ``Person`` nodes) a name equal to the site's is kept.
    """
    persons: list[str] = []
    orgs: list[str] = []
    publisher_key = term_key(publisher or "")
    for text in raw:
        for piece in _pieces(text):
            kind = classify(piece, publisher_key)
            target = persons if kind == "person" else orgs if kind == "org" else None
            if target is not None and term_key(piece) not in {term_key(n) for n in target}:
                target.append(piece)
    persons = [p for p in persons if not any(p != q and p in q for q in persons)]
    return tuple(persons), tuple(orgs)


def _pieces(text: str) -> list[str]:
    """Cut a byline into candidate names (prefixes, URLs, dates and roles removed)."""
    text = " ".join(_URL.sub(" ", text).split())
    text = _WITH.sub(", ", _CUT.sub("", text))
    text = _LEAD_WORDS.sub("", text)
    text = _PREFIX.sub("", text)
    out: list[str] = []
    for piece in _SPLIT.split(text):
        piece = _PREFIX.sub("", piece.strip(" .:-–—()[]\"'"))
        piece = _drop_role(_DATE_TAIL.sub("", piece).strip(" .:-–—,"))
        if piece:
            out.append(piece)
    return out


def classify(name: str, publisher_key: str = "") -> str:
    """'person', 'org' or 'junk' for one cleaned candidate name."""
    words = name.split()
    lowered = [w.lower().strip(".,") for w in words]
    key = term_key(name)
    if not words or any(ch.isdigit() for ch in name) or len(name) > 60:
        return "junk"
    if publisher_key and (key == publisher_key or key in publisher_key.split(" ")):
        return "org"
    if set(lowered) & _ORG_WORDS or ".com" in key or key.endswith((".org", ".net")):
        return "org"
    if all(w in _JUNK for w in lowered):
        return "junk"
    if len(words) > 5:
        return "junk"
    if _is_cjk(name):
        return "person" if 2 <= len(name) <= 8 else "junk"
    if not any(w[:1].isupper() for w in words):
        return "junk"
    if len(words) == 1 and len(name) < 3:
        return "junk"
    return "person"


def _is_cjk(text: str) -> bool:
    """True when the text is mostly CJK characters (names there have no spaces)."""
    cjk = sum(1 for ch in text if "\u3040" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af")
    return cjk * 2 > len(text)


def tidy_case(name: str) -> str:
    """Title-case an ALL-CAPS name ('NATALIYA VASILYEVA' -> 'Nataliya Vasilyeva')."""
    letters = [ch for ch in name if ch.isalpha()]
    if len(letters) > 3 and all(ch.isupper() for ch in letters):
        return " ".join(w.capitalize() if len(w) > 2 else w for w in name.split())
    return name


def _drop_role(name: str) -> str:
    """Cut a job title off a name ('Ben Silverman Games Editor' -> 'Ben Silverman')."""
    words = name.split()
    for index, word in enumerate(words):
        if word.lower().strip(".,") in _ROLES:
            before = words[:index]
            if len(before) >= 3 and len(before[-1].strip(".")) > 1:
                before = before[:-1]
            return " ".join(before)
    return name
