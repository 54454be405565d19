"""Cross-document boilerplate evidence from saved HTML pages: visible text lines keyed by site.

Pass 1 of ingest counts, for every page of a batch, the distinct lines a reader sees (scripts,
styles and the head left out), each key prefixed with the page's site (the host of its canonical
or og:url address). A line that recurs on three pages of the same site (a promo box, a membership
appeal, a "Read more" strip that trafilatura kept inside the article) is the site's chrome, and
pass 2 drops the Markdown blocks whose plain text is such a line. Keying by site keeps a
syndicated story published by several sites from counting as boilerplate.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Sequence
from urllib.parse import urlsplit

from archiver.ingest.boilerplate import MAX_KEY_CHARS, line_keys, normalise_line

SITE_SEP = "\x1f"
"""Separates a site from a line in a key (never part of a normalised line)."""
HEAD_CHARS = 65_536
"""The canonical and og:url tags are looked for in this much of the page's start."""
EATEN_SHARE = 0.3
"""Repetition evidence is ignored on a page where it would remove this share of the prose."""

_HIDDEN = re.compile(
    r"<!--(?:.*?-->|.*)|<(script|style|noscript|template|svg|head|title)\b(?:.*?</\1\s*>|.*)",
    re.S | re.I,
)
_BLOCK_TAG = re.compile(
    r"</?(?:p|div|li|ul|ol|h[1-6]|br|hr|tr|td|th|table|section|article|header|footer|nav|"
    r"aside|main|blockquote|figure|figcaption|dd|dt|dl|form|button|label|option|select|pre|"
    r"address|details|summary|caption|center|iframe|body|html)\b[^>]*>",
    re.I,
)
_TAG = re.compile(r"<[^>]*>")
_LINK_OR_META = re.compile(r"<(?:link|meta)\b[^>]*>", re.I)
_ATTR = re.compile(r"""([a-zA-Z][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_SAVED_FROM = re.compile(
    r"<!--\s*(?:saved from url=\(\d+\)|Page saved with SingleFile\s+url:)\s*(\S+)", re.I
)
_WORD = re.compile(r"[^\W\d_]{2}")
_MD_PREFIX = re.compile(r"^\s*(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)+")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_MARK = re.compile(r"\\(?=[\\`*_{}\[\]()#+\-.!<>])|\*\*|__|(?<!\w)[*_]|[*_](?!\w)")


def visible_text(page: str) -> str:
    """The text a reader sees on a page, one line per block (tags stripped, entities decoded)."""
    text = _BLOCK_TAG.sub("\n", _HIDDEN.sub("\n", page))
    text = html.unescape(_TAG.sub("", text))
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


def site_of(page: str) -> str:
    """The host of a page's canonical, og:url or saved-from address, lower case without
    'www.'; '' when the page names none (it then gives no cross-document evidence)."""
    canonical = og_url = ""
    for match in _LINK_OR_META.finditer(page, 0, HEAD_CHARS):
        attrs = _attributes(match.group(0))
        if not canonical and "canonical" in attrs.get("rel", "").lower().split():
            canonical = attrs.get("href", "")
        elif not og_url and attrs.get("property", "").lower() == "og:url":
            og_url = attrs.get("content", "")
    saved = _SAVED_FROM.search(page, 0, HEAD_CHARS)
    for address in (canonical, og_url, saved.group(1) if saved else ""):
        host = _host(address)
        if host:
            return host
    return ""


def page_keys(page: str) -> tuple[str, ...]:
    """The distinct site-keyed visible lines of a page (what pass 1 counts); none without a site."""
    site = site_of(page)
    if not site:
        return ()
    prefix = site + SITE_SEP
    keys = (key for key in line_keys(visible_text(page)) if _WORD.search(key))
    return tuple(sorted(prefix + key for key in keys))


def plain_line(markdown_line: str) -> str:
    """The visible text of a Markdown line (block markers, link targets and emphasis removed)."""
    text = _MD_LINK.sub(r"\1", _MD_PREFIX.sub("", markdown_line))
    return html.unescape(_MD_MARK.sub("", text)).strip()


def repeated_on_site(site: str, markdown_line: str, repeated: Collection[str]) -> bool:
    """True when the line's visible text recurs on pages of the same site (headings, table
    rows and lines without a word are the text's structure, never chrome evidence)."""
    if markdown_line.lstrip().startswith(("|", "#")):
        return False
    text = plain_line(markdown_line)
    if len(text) > MAX_KEY_CHARS or not _WORD.search(text):
        return False
    return site + SITE_SEP + normalise_line(text) in repeated


def drop_repeated(blocks: Sequence[str], site: str, repeated: Collection[str]) -> list[str]:
    """Drop blocks (or lines of multi-line blocks) that recur across the site's pages, unless
    that would remove much of the prose (a re-scrape of a page the archive already has)."""
    if not site or not repeated:
        return list(blocks)
    kept: list[str] = []
    eaten = prose = 0
    fenced = False
    for block in blocks:
        if fenced or block.startswith(("```", "    ")):  # code is the text's own, never chrome
            fenced ^= block.count("```") % 2 == 1
            kept.append(block)
            continue
        lines = block.split("\n")
        keep = [line for line in lines if not repeated_on_site(site, line, repeated)]
        if len(block) >= 80:
            prose += len(block)
            eaten += len(block) - sum(len(line) for line in keep)
        if keep:
            kept.append("\n".join(keep).strip())
    if prose and eaten > EATEN_SHARE * prose:
        return list(blocks)
    return [block for block in kept if block]


def _attributes(tag: str) -> dict[str, str]:
    """The attributes of one start tag, names lower-cased, values entity-decoded."""
    found: dict[str, str] = {}
    for match in _ATTR.finditer(tag):
        name = match.group(1).lower()
        value = next((v for v in match.group(2, 3, 4) if v is not None), "")
        found.setdefault(name, html.unescape(value).strip())
    return found


def _host(address: str) -> str:
    """The host of an absolute http(s) address, lower case without 'www.'; '' otherwise."""
    try:
        parts = urlsplit(address)
        host = parts.hostname or ""
    except ValueError:
        return ""
    if parts.scheme.lower() not in {"http", "https"}:
        return ""
    return host.removeprefix("www.")
