"""Plain-data template contexts (JSON-serialisable) for each kind of page; see render.py."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from archiver.cite import citation_text, csl_json
from archiver.config import Settings
from archiver.links import Links, atom_date, date_info, root_of
from archiver.markup import plain_text, read_minutes, summarise, text_size
from archiver.model import Article, Term
from archiver.taxonomy import Archive, cached_term_key

Context = dict[str, Any]
_SHA256 = re.compile(r"[0-9a-f]{64}")
_WEB_URL = re.compile(r"https?://[^\s<>\"']+", re.I)


def web_url(url: str | None) -> str:
    """The URL if it is a plain http(s) address, else "" (front matter is not trusted)."""
    return url if url and _WEB_URL.fullmatch(url) else ""


def shown_summary(article: Article) -> str:
    """The summary lists and feeds show: the article's own, else the start of its text."""
    return article.summary or summarise(plain_text(article.body[:1500]))


def article_size(article: Article) -> tuple[int, int]:
    """(reading time in minutes, word count) of an article's body."""
    words, cjk = text_size(article.body)
    return read_minutes(words, cjk), words + cjk


@dataclass
class Contexts:
    """Builds page contexts; caches the per-article pieces that many pages share."""

    archive: Archive
    settings: Settings
    html_of: Callable[[Article], str]
    originals: Collection[str] = ()
    links: Links = field(init=False)
    _items: dict[str, Context] = field(default_factory=dict, init=False)
    _lites: dict[str, Context] = field(default_factory=dict, init=False)
    _sizes: dict[str, tuple[int, int]] = field(default_factory=dict, init=False)
    _summaries: dict[str, str] = field(default_factory=dict, init=False)
    _entries: dict[str, Context] = field(default_factory=dict, init=False)
    _site: Context = field(default_factory=dict, init=False)
    _nav: Context = field(default_factory=dict, init=False)
    _tag_terms: dict[str, Term] = field(default_factory=dict, init=False)
    _source_terms: dict[str, Term] = field(default_factory=dict, init=False)
    _author_terms: dict[str, Term] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.links = links = Links(pretty=s.pretty_urls, base_url=s.base_url)
        self._site = {
            "title": s.title,
            "description": s.description,
            "language": s.language,
            "base_url": s.base_url,
        }
        self._nav = {
            "home": links.href("index"),
            "tags": links.href("tags/index"),
            "sources": links.href("sources/index"),
            "authors": links.href("authors/index"),
            "archive": links.href("archive/index"),
            "search": "search.html",
            "feed": "feed.atom",
            "style": "static/style.css",
            "icon": "static/favicon.svg",
        }
        self._tag_terms = {t.key: t for t in self.archive.tags}
        self._source_terms = {t.key: t for t in self.archive.sources}
        self._author_terms = {t.key: t for t in self.archive.authors}

    # -- shared pieces ---------------------------------------------------------------------

    def common(self, path: str, title: str, kind: str, **extra: Any) -> Context:
        """Keys every HTML page has: site, root, nav, page (see render.py)."""
        s, links = self.settings, self.links
        root = root_of(path)
        if kind == "404" and s.base_url:
            root = s.base_url.rstrip("/") + "/"
        own = extra.pop("href", None)
        page = {
            "path": path,
            "title": title,
            "kind": kind,
            "lang": extra.pop("lang", None) or s.language,
            "description": extra.pop("description", None) or s.description,
            "canonical": links.absolute(own) if own else "",
            "feed": extra.pop("feed", ""),
            **extra,
        }
        return {"site": self._site, "root": root, "nav": self._nav, "page": page}

    def term_of(self, kind: str, name: str) -> Term | None:
        """The tag/source/author a name belongs to (None when the archive has no such term)."""
        table = {"tags": self._tag_terms, "sources": self._source_terms}.get(
            kind, self._author_terms
        )
        return table.get(cached_term_key(name))

    def term_link(self, kind: str, name: str) -> Context | None:
        """{name, href} of the tag/source/author page a name belongs to."""
        term = self.term_of(kind, name)
        if term is None:
            return None
        return {"name": term.name, "href": self.links.href(f"{kind}/{term.slug}")}

    def summary(self, article: Article) -> str:
        """The article's summary, else the start of its text."""
        if article.summary:
            return article.summary
        cached = self._summaries.get(article.slug)
        if cached is None:
            cached = self._summaries[article.slug] = shown_summary(article)
        return cached

    def size(self, article: Article) -> tuple[int, int]:
        """(reading time in minutes, word count) of an article's body (cached)."""
        cached = self._sizes.get(article.slug)
        if cached is None:
            cached = self._sizes[article.slug] = article_size(article)
        return cached

    def item(self, article: Article) -> Context:
        """A list entry: title, href, summary, date, source, reading time (cached)."""
        cached = self._items.get(article.slug)
        if cached is None:
            source = self.term_link("sources", article.source) if article.source else None
            cached = {
                **self.lite(article),
                "summary": self.summary(article),
                "source": source,
                "reading_time": self.size(article)[0],
            }
            self._items[article.slug] = cached
        return cached

    def lite(self, article: Article) -> Context:
        """A short reference: title, href, date (cached)."""
        cached = self._lites.get(article.slug)
        if cached is None:
            cached = {
                "title": article.title,
                "href": self.links.href(f"articles/{article.slug}"),
                "date": date_info(article.published or article.archived),
            }
            self._lites[article.slug] = cached
        return cached

    # -- article ---------------------------------------------------------------------------

    def article(self, article: Article, path: str) -> Context:
        """Context of an article page."""
        href = self.links.href(f"articles/{article.slug}")
        lang = article.language or self.settings.language
        summary = self.summary(article)
        archive = self.archive
        by_slug = archive.by_slug
        newer, older = archive.newer.get(article.slug), archive.older.get(article.slug)
        data: Context = {
            "title": article.title,
            "slug": article.slug,
            "summary": article.summary or "",
            "lang": lang,
            "url": web_url(article.url),
            "source": self.term_link("sources", article.source) if article.source else None,
            "authors": [
                self.term_link("authors", a) or {"name": a, "href": ""} for a in article.authors
            ],
            "credits": list(article.credits),
            "tags": [self.term_link("tags", t) or {"name": t, "href": ""} for t in article.tags],
            "published": date_info(article.published),
            "archived": date_info(article.archived),
            "reading_time": self.size(article)[0],
            "html": self.html_of(article),
            "related": [self.lite(by_slug[s]) for s in archive.related.get(article.slug, ())],
            "newer": self.lite(by_slug[newer]) if newer else None,
            "older": self.lite(by_slug[older]) if older else None,
            "provenance": self._provenance(article),
            "sample": article.extra.get("sample") is True,
            "csl": csl_json(article, self.settings),
            "citation": citation_text(article, self.settings),
        }
        data["jsonld"] = self._jsonld(article, data, summary, href)
        data["og"] = self._opengraph(article, summary, href)
        return {
            **self.common(
                path, article.title, "article", href=href, lang=lang, description=summary
            ),
            "article": data,
        }

    def _provenance(self, article: Article) -> Context:
        """Where the article came from: source file, checksum, kept original, duplicates."""
        sha = article.source_sha256 or ""
        kept = bool(_SHA256.fullmatch(sha)) and sha in self.originals
        return {
            "source_file": article.source_file or "",
            "sha256": sha,
            "original": f"originals/{sha}.txt" if kept else "",
            "also_seen": list(article.also_seen),
        }

    def _jsonld(self, article: Article, data: Context, summary: str, href: str) -> Context:
        """schema.org NewsArticle (rendered with |tojson, never by string building)."""
        ld: Context = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": article.title,
            "description": summary,
            "inLanguage": data["lang"],
            "keywords": [t["name"] for t in data["tags"]],
            "wordCount": self.size(article)[1],
        }
        if data["published"]:
            ld["datePublished"] = data["published"]["iso"]
        if article.authors:
            ld["author"] = [{"@type": "Person", "name": a} for a in article.authors]
        if article.source:
            ld["publisher"] = {"@type": "Organization", "name": article.source}
        if data["url"]:
            ld["isBasedOn"] = data["url"]
        if self.settings.base_url:
            ld["url"] = self.links.absolute(href)
        return ld

    def _opengraph(self, article: Article, summary: str, href: str) -> list[Context]:
        """OpenGraph <meta property content> pairs, in a fixed order."""
        og = [
            {"property": "og:type", "content": "article"},
            {"property": "og:title", "content": article.title},
            {"property": "og:description", "content": summary},
            {"property": "og:site_name", "content": self.settings.title},
        ]
        if self.settings.base_url:
            og.append({"property": "og:url", "content": self.links.absolute(href)})
        if article.published:
            og.append(
                {"property": "article:published_time", "content": atom_date(article.published)}
            )
        if article.source:
            og.append({"property": "article:section", "content": article.source})
        og.extend({"property": "article:tag", "content": t} for t in article.tags)
        return og

    # -- feeds -----------------------------------------------------------------------------

    def feed(
        self, path: str, title: str, articles: tuple[Article, ...], *, full: bool, alternate: str
    ) -> Context:
        """Atom feed context: absolute links with base_url, else relative to the feed file."""
        links, root = self.links, root_of(path)
        chosen = articles[: self.settings.feed_size]
        entries = []
        for article in chosen:
            href = links.href(f"articles/{article.slug}")
            entry = {
                **self._entry(article),
                "link": links.external(href, root),
                "content": self.html_of(article) if full else "",
            }
            entries.append(entry)
        return {
            "site": {"title": self.settings.title, "description": self.settings.description},
            "feed": {
                "title": title,
                "id": self._urn(f"feed:{path}"),
                "updated": atom_date(chosen[0].sort_date if chosen else None),
                "self": links.external(path, root),
                "alternate": links.external(alternate, root),
                "entries": entries,
            },
        }

    def _entry(self, article: Article) -> Context:
        """The link-independent part of an article's Atom entry (cached: many feeds share it)."""
        cached = self._entries.get(article.slug)
        if cached is None:
            cached = self._entries[article.slug] = {
                "title": article.title,
                "id": self._urn(f"article:{article.slug}"),
                "updated": atom_date(article.sort_date),
                "published": atom_date(article.published) if article.published else "",
                "summary": self.summary(article),
                "authors": list(article.authors),
                "categories": list(article.tags),
            }
        return cached

    def _urn(self, name: str) -> str:
        """A stable id (independent of base_url, so moving the site keeps feed ids)."""
        return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.settings.title}\n{name}"))
