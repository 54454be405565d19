"""Choosing each metadata field of a saved page from the evidence, with the origin recorded."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from urllib.parse import urlsplit

from archiver.ingest.htmlmeta import PageMeta, collapse, parse_date
from archiver.ingest.htmlnames import clean_names, tidy_case
from archiver.model import term_key

Choice = tuple[str, str] | None
"""(value, origin) or None."""

_SEPARATORS = re.compile(r"\s+(?:[|\-–—·•:»«/~]|::)\s+|\s*(?:_|｜|\|)\s*(?=\S)")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "«": '"', "»": '"'})
_DATE_META = (
    "article:published_time",
    "og:published_time",
    "article:published",
    "datepublished",
    "published_time",
    "publish-date",
    "publish_date",
    "publishdate",
    "pubdate",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dc.date",
    "dcterms.created",
    "dcterms.issued",
    "citation_publication_date",
    "article.published",
    "date",
)
_AUTHOR_META = (
    "author",
    "article:author",
    "og:article:author",
    "dc.creator",
    "dcterms.creator",
    "parsely-author",
    "sailthru.author",
    "byl",
    "citation_author",
    "twitter:creator:name",
)
_TWO_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or"})


def norm(text: str) -> str:
    """Comparison key for titles: NFKC, quotes unified, case folded, whitespace collapsed."""
    return collapse(unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold())


def choose_source(meta: PageMeta, url: str | None) -> Choice:
    """The publisher: og:site_name, JSON-LD publisher or WebSite, else a hostname-derived name."""
    for value, origin in (
        (meta.meta.get("og:site_name"), "og:site_name"),
        (meta.jsonld.publisher, "json-ld"),
        (meta.jsonld.website, "json-ld"),
        (meta.meta.get("application-name"), "application-name"),
    ):
        if value and len(value) <= 80 and not value.lower().startswith("http"):
            return value, origin
    host = hostname(url)
    return (host, "hostname") if host else None


def hostname(url: str | None) -> str | None:
    """Registrable domain of a URL ('money.cnn.com' -> 'cnn.com'); None for non-http URLs."""
    if not url or not url.lower().startswith(("http://", "https://")):
        return None
    host = (urlsplit(url).hostname or "").lower().strip(".")
    labels = [label for label in host.split(".") if label]
    if len(labels) < 2 or host.replace(".", "").isdigit() or host.endswith(".example"):
        return None if len(labels) < 2 else ".".join(labels[-2:])
    keep = 3 if labels[-2] in _TWO_LEVEL and len(labels[-1]) == 2 and len(labels) > 2 else 2
    return ".".join(labels[-keep:])


def choose_title(meta: PageMeta, site: str | None) -> Choice:
    """The headline: h1 confirmed by og:title/JSON-LD/<title>, else metadata minus site name."""
    declared = [
        (meta.jsonld.headline, "json-ld"),
        (meta.meta.get("og:title"), "og:title"),
        (meta.meta.get("twitter:title"), "twitter:title"),
    ]
    known = [(v, o) for v, o in declared if v]
    sites = _site_names(meta, site)
    for h1 in meta.h1[:3]:
        key = norm(h1)
        for value, origin in known:
            if norm(strip_site(value, sites)) == key or norm(value) == key:
                return h1, f"h1+{origin}"
        if meta.title_tag and key and key in {norm(p) for p in _parts(meta.title_tag)}:
            return h1, "h1+title"
    for value, origin in known:
        return strip_site(value, sites), origin
    if meta.title_tag:
        return strip_site(meta.title_tag, sites, guess=True), "title"
    if meta.h1:
        return meta.h1[0], "h1"
    return None


def _site_names(meta: PageMeta, site: str | None) -> list[str]:
    """Every spelling of the site name the page gives (for stripping it from titles)."""
    names = [site, meta.meta.get("og:site_name"), meta.jsonld.publisher, meta.jsonld.website]
    names.append(meta.meta.get("application-name"))
    out = [n for n in names if n]
    host = hostname(meta.canonical)
    if host:
        out.append(host.split(".")[0])
    return out


def _parts(title: str) -> list[str]:
    """A title split at site-name separators (' | ', ' - ', ' — ', '_', ...)."""
    return [p for p in (collapse(x) for x in _SEPARATORS.split(title)) if p]


def strip_site(title: str, sites: list[str], *, guess: bool = False) -> str:
    """Drop a leading/trailing segment that is the site name (or, with guess, looks like one)."""
    parts = _parts(title)
    if len(parts) < 2:
        return collapse(title)
    keys = {_compact(s) for s in sites if s}
    keys.discard("")
    kept = list(parts)
    while len(kept) > 1 and _is_site(kept[-1], keys):
        kept.pop()
    while len(kept) > 1 and _is_site(kept[0], keys):
        kept.pop(0)
    if len(kept) == len(parts) and guess and len(parts[-1].split()) <= 3:
        longest = max(parts, key=len)
        if len(longest.split()) >= 3 or len(longest) >= 12:
            return longest if longest != parts[-1] else collapse(title)
    if len(kept) == len(parts):
        return collapse(title)
    return _rejoin(title, kept)


def _rejoin(title: str, kept: list[str]) -> str:
    """The original title text from the first to the last kept segment (separators kept)."""
    start = title.find(kept[0])
    end = title.rfind(kept[-1]) + len(kept[-1])
    if start < 0 or end <= start:
        return " - ".join(kept)
    return collapse(title[start:end])


def _compact(text: str) -> str:
    """Key for site-name comparison: alphanumerics only, no leading 'the', no TLD."""
    key = term_key(text)
    key = re.sub(r"^(?:the\s+|www\.)", "", key)
    key = re.sub(r"\.(?:com|org|net|co\.uk|fr|de|es|it|cz|jp|cn|br|ar|io)$", "", key)
    return re.sub(r"\W+", "", key)


def _is_site(part: str, keys: set[str]) -> bool:
    """True when a title segment names the site (equal to, or containing, a known name)."""
    key = _compact(part)
    if not key:
        return True
    return any(key == k or (len(k) >= 4 and k in key and len(part.split()) <= 4) for k in keys)


def choose_published(meta: PageMeta) -> tuple[dt.date | dt.datetime, str] | None:
    """The publication date stated in markup (JSON-LD, meta tags, <time>); never guessed."""
    candidates = [(meta.jsonld.published, "json-ld")]
    candidates += [(meta.meta.get(name), name) for name in _DATE_META]
    candidates += [(value, "time") for value in meta.times[:1]]
    parsed = [(p, origin) for value, origin in candidates if (p := parse_date(value)) is not None]
    if not parsed:
        return None
    best = parsed[0]
    if isinstance(best[0], dt.datetime) and _is_utc(best[0]):
        for other in parsed[1:]:
            when = other[0]
            local = isinstance(when, dt.datetime) and when.tzinfo and not _is_utc(when)
            if local and abs((when - best[0]).total_seconds()) < 120:  # type: ignore[operator]
                return other  # the same instant, written in the publisher's local time
    return best


def _is_utc(when: dt.datetime) -> bool:
    """True for aware datetimes at offset zero."""
    return when.tzinfo is not None and when.utcoffset() == dt.timedelta(0)


def choose_authors(
    meta: PageMeta,
    source: str | None,
    microdata: Callable[[], tuple[str, ...]],
    dom_byline: Callable[[], str | None],
) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
    """(authors, credits, origin) from JSON-LD, meta author, microdata, then the DOM byline."""
    credits: tuple[str, ...] = ()
    jsonld = meta.jsonld.authors
    people = [name for name, is_org in jsonld if not is_org]
    orgs = [name for name, is_org in jsonld if is_org]
    metas = [meta.meta[k] for k in _AUTHOR_META if k in meta.meta]
    metas = [m for m in metas if not m.lower().startswith(("http", "www.", "@"))]
    sources: list[tuple[Callable[[], list[str]], str]] = [
        (lambda: people, "json-ld"),
        (lambda: metas[:1], "meta-author"),
        (lambda: list(microdata()), "microdata"),
        (lambda: [b for b in [dom_byline()] if b], "byline"),
    ]
    for raw, origin in sources:
        publisher = None if origin == "json-ld" else source
        persons, found_orgs = clean_names(raw(), publisher)
        credits = credits or found_orgs
        if persons:
            extra = clean_names(orgs, source)[1]
            return tuple(tidy_case(p) for p in persons), extra or credits, origin
    return (), clean_names(orgs, source)[1] or credits, None


def choose_summary(meta: PageMeta) -> Choice:
    """The standfirst: og:description, meta description or JSON-LD description."""
    for value, origin in (
        (meta.meta.get("og:description"), "og:description"),
        (meta.meta.get("description"), "meta-description"),
        (meta.jsonld.description, "json-ld"),
        (meta.meta.get("twitter:description"), "twitter:description"),
    ):
        if value and len(value) >= 20:
            return value, origin
    return None


def choose_language(meta: PageMeta) -> Choice:
    """The declared language as a BCP 47 tag: <html lang>, og:locale, JSON-LD, content-language."""
    for value, origin in (
        (meta.lang, "html-lang"),
        (meta.meta.get("og:locale"), "og:locale"),
        (meta.jsonld.language, "json-ld"),
        (meta.meta.get("content-language"), "content-language"),
        (meta.meta.get("language"), "meta-language"),
    ):
        tag = bcp47(value)
        if tag:
            return tag, origin
    return None


def bcp47(value: str | None) -> str | None:
    """Normalise 'en_us' / 'EN-us' to 'en-US'; None for anything that is not a language tag."""
    if not value:
        return None
    match = re.match(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}|[A-Za-z]{4}|\d{3}))?\b", value.strip())
    if not match:
        return None
    lang, region = match.group(1).lower(), match.group(2)
    if not region:
        return lang
    return f"{lang}-{region.title() if len(region) == 4 else region.upper()}"
