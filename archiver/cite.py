"""Citation data for one article: CSL-JSON (the format Zotero, Pandoc and citeproc read)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from archiver.model import Article, DateLike

if TYPE_CHECKING:
    from archiver.config import Settings

_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "di", "da", "dos", "du", "la", "le", "ter"}
)
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})
_ORG_WORDS = frozenset(
    {"press", "news", "staff", "agency", "reuters", "desk", "service", "editors", "team"}
)


def csl_json(article: Article, settings: Settings) -> dict[str, Any]:
    """The CSL-JSON item of an article (plain JSON data; keys sorted when dumped)."""
    item: dict[str, Any] = {
        "id": article.slug,
        "type": "article-newspaper",
        "title": article.title,
    }
    if article.source:
        item["container-title"] = article.source
        item["publisher"] = article.source
    names = [csl_name(name) for name in article.authors]
    if names:
        item["author"] = names
    if article.published is not None:
        item["issued"] = _date_parts(article.published)
    if article.archived is not None:
        item["accessed"] = _date_parts(article.archived)
    if article.url:
        item["URL"] = article.url
    if article.summary:
        item["abstract"] = article.summary
    language = article.language or settings.language
    if language:
        item["language"] = language
    if article.tags:
        item["keyword"] = ", ".join(article.tags)
    archived_copy = archive_url(article, settings)
    if archived_copy:
        item["archive"] = settings.title
        item["archive_location"] = archived_copy
    return item


def csl_json_text(article: Article, settings: Settings) -> str:
    """The CSL-JSON item as text that is safe inside an HTML ``<script>`` element."""
    text = json.dumps([csl_json(article, settings)], ensure_ascii=False, sort_keys=True, indent=2)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def citation_text(article: Article, settings: Settings) -> str:
    """A short APA-like reference (authors, date, title, source, URL) for "Cite this"."""
    item = csl_json(article, settings)
    parts: list[str] = []
    names = [_display_name(n) for n in item.get("author", [])]
    if names:
        joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + ", & " + names[-1]
        parts.append(joined if joined.endswith(".") else joined + ".")
    if article.published is not None:
        parts.append(f"({article.published.isoformat()[:10]}).")
    parts.append(f"{article.title}.")
    if article.source:
        parts.append(f"{article.source}.")
    if article.url:
        parts.append(article.url)
    return " ".join(parts)


def csl_name(name: str) -> dict[str, str]:
    """Split a person's display name into CSL family/given parts; organisations stay literal."""
    words = name.split()
    if len(words) < 2 or any(w.casefold().strip(".,") in _ORG_WORDS for w in words):
        return {"literal": name}
    suffix = ""
    if words[-1].casefold().rstrip(",") in _SUFFIXES and len(words) > 2:
        suffix = words.pop().rstrip(",")
        words[-1] = words[-1].rstrip(",")
    start = len(words) - 1
    while start > 1 and words[start - 1].casefold() in _PARTICLES:
        start -= 1
    out = {"family": " ".join(words[start:]), "given": " ".join(words[:start])}
    if suffix:
        out["suffix"] = suffix
    return out


def archive_url(article: Article, settings: Settings) -> str | None:
    """The absolute address of the archived copy, when the site has a base_url."""
    if not settings.base_url:
        return None
    page = f"articles/{article.slug}/" if settings.pretty_urls else f"articles/{article.slug}.html"
    return settings.base_url.rstrip("/") + "/" + page


def _date_parts(value: DateLike) -> dict[str, list[list[int]]]:
    """A date as CSL ``{"date-parts": [[y, m, d]]}`` (the calendar date as written)."""
    return {"date-parts": [[value.year, value.month, value.day]]}


def _display_name(name: dict[str, str]) -> str:
    """A CSL name back as 'Family, G.' (or the literal)."""
    if "literal" in name:
        return name["literal"]
    initials = " ".join(part[0] + "." for part in name["given"].replace(".", ". ").split())
    return f"{name['family']}, {initials}".rstrip(", ")
