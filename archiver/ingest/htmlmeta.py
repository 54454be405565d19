"""Page metadata of a saved HTML page: JSON-LD, OpenGraph, meta tags, <time>, canonical, lang."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml.html import HtmlElement

ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "reviewnewsarticle",
        "backgroundnewsarticle",
        "blogposting",
        "liveblogposting",
        "socialmediaposting",
        "scholarlyarticle",
        "techarticle",
        "report",
        "posting",
        "review",
    }
)
PAGE_TYPES = frozenset({"webpage", "itempage", "aboutpage", "collectionpage"})
ORG_TYPES = frozenset({"organization", "newsmediaorganization", "corporation", "website"})
_ISO = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?"
)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T?(\d{2})(\d{2})(\d{2})?)?$")
_SPACE = re.compile(r"\s+")


@dataclass
class JsonLd:
    """What the page's JSON-LD says about its article (first article-like node wins)."""

    kind: str | None = None
    headline: str | None = None
    description: str | None = None
    authors: list[tuple[str, bool]] = field(default_factory=list)
    """(name, is_organisation) pairs."""
    published: str | None = None
    modified: str | None = None
    publisher: str | None = None
    website: str | None = None
    language: str | None = None
    url: str | None = None


@dataclass
class PageMeta:
    """Raw metadata evidence read from the page's markup (nothing chosen yet)."""

    meta: dict[str, str]
    """Lower-cased meta name/property/itemprop -> first non-empty content."""
    jsonld: JsonLd
    title_tag: str | None
    h1: tuple[str, ...]
    canonical: str | None
    lang: str | None
    times: tuple[str, ...]
    """``datetime`` values of <time> elements marked as the publication date, then others."""


def collapse(text: str | None) -> str:
    """Collapse runs of whitespace to one space and strip."""
    return " ".join(text.split()) if text else ""


def read_meta(tree: HtmlElement) -> PageMeta:
    """Collect every metadata clue from a parsed page before content extraction mutates it."""
    meta: dict[str, str] = {}
    for node in tree.iter("meta"):
        key = node.get("property") or node.get("name") or node.get("itemprop") or ""
        value = collapse(node.get("content"))
        key = key.strip().lower()
        if key and value and key not in meta:
            meta[key] = value
    title_node = tree.find(".//title")
    title_tag = collapse(title_node.text_content()) if title_node is not None else None
    h1 = tuple(t for t in (collapse(h.text_content()) for h in tree.iter("h1")) if t)
    canonical = None
    for link in tree.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            canonical = link.get("href", "").strip()
            break
    root = tree.getroottree().getroot()
    lang = collapse(root.get("lang") or root.get("xml:lang")) or None
    return PageMeta(
        meta=meta,
        jsonld=read_jsonld(tree),
        title_tag=title_tag or None,
        h1=h1,
        canonical=canonical,
        lang=lang,
        times=_times(tree),
    )


def _times(tree: HtmlElement) -> tuple[str, ...]:
    """<time datetime> values: publication-marked ones first, then those inside <article>/header."""
    marked: list[str] = []
    other: list[str] = []
    for node in tree.iter("time"):
        value = (node.get("datetime") or "").strip()
        if not value:
            continue
        hint = " ".join(
            (node.get(a) or "") for a in ("itemprop", "class", "id", "pubdate", "data-testid")
        ).lower()
        if "pubdate" in node.attrib or "publish" in hint or "datepublished" in hint:
            marked.append(value)
        elif "modif" not in hint and "update" not in hint and _in_article(node):
            other.append(value)
    return tuple(marked + other)


def _in_article(node: HtmlElement) -> bool:
    """True when the node sits in <article>, <header> or <main> and not in <footer>/<aside>."""
    found = False
    for parent in node.iterancestors():
        if parent.tag in ("footer", "aside", "nav"):
            return False
        if parent.tag in ("article", "header", "main"):
            found = True
    return found


def itemprop_authors(tree: HtmlElement) -> tuple[str, ...]:
    """Names marked up with microdata ``itemprop=author`` (the name child when there is one)."""
    names: list[str] = []
    for node in tree.xpath('//*[@itemprop="author" or @itemprop="creator"]'):
        if node.tag == "meta":
            continue
        inner = node.xpath('.//*[@itemprop="name"]')
        text = inner[0].get("content") or inner[0].text_content() if inner else node.text_content()
        text = collapse(text)
        if text and text not in names:
            names.append(text)
    return tuple(names[:6])


# ---------------------------------------------------------------- JSON-LD


def read_jsonld(tree: HtmlElement) -> JsonLd:
    """Parse every ld+json script and keep the first article-like node's fields."""
    result = JsonLd()
    nodes: list[dict[str, Any]] = []
    for script in tree.iter("script"):
        if "ld+json" not in (script.get("type") or "").lower():
            continue
        data = _load_json(script.text or "")
        if data is not None:
            nodes.extend(_walk(data))
    article = _pick(nodes, ARTICLE_TYPES) or _pick(nodes, PAGE_TYPES)
    if article is not None:
        _fill(result, article)
    for node in nodes:
        types = _types(node)
        if result.website is None and "website" in types:
            result.website = _name(node.get("name"))
        if result.publisher is None and types & ORG_TYPES - {"website"}:
            result.publisher = _name(node.get("name"))
    return result


def _load_json(text: str) -> Any:
    """json.loads tolerant of CDATA wrappers, HTML comments and stray control characters."""
    text = text.strip()
    for junk in ("<![CDATA[", "]]>", "<!--", "-->", "//"):
        if text.startswith(junk):
            text = text[len(junk) :]
        if text.endswith(junk):
            text = text[: -len(junk)]
    try:
        return json.loads(text, strict=False)
    except ValueError:
        try:
            return json.loads(re.sub(r",\s*([}\]])", r"\1", text), strict=False)
        except ValueError:
            return None


def _walk(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every typed dict node in a JSON-LD document (lists, @graph and mainEntity included)."""
    if depth > 6:
        return
    if isinstance(data, list):
        for item in data:
            yield from _walk(item, depth + 1)
    elif isinstance(data, dict):
        if "@type" in data:
            yield data
        for key in ("@graph", "mainEntity", "mainEntityOfPage", "itemListElement"):
            if isinstance(data.get(key), dict | list):
                yield from _walk(data[key], depth + 1)


def _types(node: dict[str, Any]) -> set[str]:
    """Lower-cased @type values of a node (schema.org prefixes dropped)."""
    raw = node.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return {str(v).rsplit("/", 1)[-1].lower() for v in values if isinstance(v, str)}


def _pick(nodes: list[dict[str, Any]], kinds: frozenset[str]) -> dict[str, Any] | None:
    """The first node of one of the given types that has a headline or name."""
    for node in nodes:
        if _types(node) & kinds and (node.get("headline") or node.get("name")):
            return node
    return None


def _name(value: Any) -> str | None:
    """A display name out of a string, a {name: ...} node or a list of them."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name") or value.get("legalName")
        if isinstance(value, list):
            value = value[0] if value else None
    if isinstance(value, str):
        return collapse(value) or None
    return None


def _fill(result: JsonLd, node: dict[str, Any]) -> None:
    """Copy an article node's fields into ``result``."""
    types = _types(node)
    result.kind = sorted(types)[0] if types else None
    result.headline = _name(node.get("headline")) or _name(node.get("name"))
    result.description = _name(node.get("description"))
    result.published = _name(node.get("datePublished")) or _name(node.get("dateCreated"))
    result.modified = _name(node.get("dateModified"))
    result.publisher = _name(node.get("publisher"))
    result.language = _name(node.get("inLanguage"))
    url = node.get("url") or node.get("mainEntityOfPage")
    result.url = _name(url) if not isinstance(url, dict) else _name(url.get("@id"))
    authors = node.get("author") or node.get("creator") or []
    for author in authors if isinstance(authors, list) else [authors]:
        name = _name(author)
        if isinstance(author, dict) and not name:
            parts = [author.get(k) for k in ("givenName", "familyName")]
            name = collapse(" ".join(p for p in parts if isinstance(p, str))) or None
        if name:
            is_org = isinstance(author, dict) and bool(_types(author) & ORG_TYPES)
            result.authors.append((name, is_org))


# ---------------------------------------------------------------- dates


def parse_date(value: str | None) -> dt.date | dt.datetime | None:
    """An ISO-8601-like date or timestamp as written (local time kept); None if implausible."""
    if not value:
        return None
    value = value.strip()
    match = _ISO.search(value) or _COMPACT.match(value)
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) if g else None for g in match.groups()[:6])
    assert year is not None and month is not None and day is not None
    if not 1991 <= year <= dt.date.today().year + 1:
        return None
    try:
        if hour is None or minute is None:
            return dt.date(year, month, day)
        zone = match.group(7) if match.re is _ISO else None
        return dt.datetime(year, month, day, hour, minute, second or 0, tzinfo=_zone(zone))
    except ValueError:
        return None


def _zone(text: str | None) -> dt.tzinfo | None:
    """A fixed offset for 'Z', '+02', '+0200' or '+02:00'; None when absent."""
    if not text:
        return None
    if text == "Z":
        return dt.UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 14 or minutes > 59:
        return None
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
