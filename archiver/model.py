"""Plain, typed, immutable objects that cross between the stages."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

DateLike = dt.date | dt.datetime


@dataclass(frozen=True)
class Extracted:
    """What an extractor (text dump, HTML page, Markdown) found in one raw input."""

    title: str
    body: tuple[str, ...]
    """Markdown blocks (paragraphs, headings, lists), in reading order."""
    summary: str | None = None
    authors: tuple[str, ...] = ()
    credits: tuple[str, ...] = ()
    source: str | None = None
    published: DateLike | None = None
    url: str | None = None
    language: str | None = None
    tags: tuple[str, ...] = ()
    origins: Mapping[str, str] = field(default_factory=dict)
    """Where each metadata field came from, e.g. ``{"published": "json-ld"}``."""

    def to_article(self, slug: str, **fields: Any) -> Article:
        """The Article this extraction becomes (extra front matter fields by keyword)."""
        values: dict[str, Any] = {
            "title": self.title,
            "slug": slug,
            "body": "\n\n".join(self.body),
            "summary": self.summary,
            "published": self.published,
            "source": self.source,
            "authors": self.authors,
            "credits": self.credits,
            "url": self.url,
            "tags": self.tags,
            "language": self.language,
            "extracted": dict(self.origins),
        }
        values.update(fields)
        return Article(**values)


@dataclass(frozen=True)
class Article:
    """One article: its front matter fields and its Markdown body."""

    title: str
    slug: str
    body: str
    summary: str | None = None
    published: DateLike | None = None
    archived: dt.datetime | None = None
    source: str | None = None
    authors: tuple[str, ...] = ()
    credits: tuple[str, ...] = ()
    url: str | None = None
    tags: tuple[str, ...] = ()
    language: str | None = None
    source_file: str | None = None
    source_sha256: str | None = None
    also_seen: tuple[str, ...] = ()
    extracted: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Front matter keys archiver does not know, kept as they are."""
    path: Path | None = None
    """The content file this article was read from, when it came from disk."""

    @cached_property
    def sort_date(self) -> dt.datetime:
        """The date used to order articles: published, else archived, else the epoch.

        Computed once per article (sorting and grouping 10^4 articles ask for it ~10^5 times);
        the fields it follows from are frozen.
        """
        return as_datetime(self.published or self.archived)


@dataclass(frozen=True, order=True)
class Term:
    """A tag, source or author: a hashable value with a display name and a URL slug.

    Terms that differ only in case or accents are the same term (their key is equal).
    """

    key: str
    name: str = field(compare=False)
    slug: str = field(compare=False)

    @classmethod
    def of(cls, name: str) -> Term:
        """Make the term for a display name."""
        return cls(key=term_key(name), name=name, slug=term_slug(name))


@dataclass(frozen=True)
class Page:
    """One output file of the site: a relative POSIX path and its bytes."""

    path: str
    data: bytes


def term_key(name: str) -> str:
    """Identity of a tag/source/author name: case-, accent- and space-insensitive."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.split())


def term_slug(name: str) -> str:
    """URL slug of a term name; never empty (falls back to a short hash)."""
    import hashlib

    from slugify import slugify  # here: a build with nothing to do never needs it

    slug = slugify(name, max_length=80, word_boundary=True)
    if not slug:
        slug = "t-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]
    return slug


def as_datetime(value: DateLike | None) -> dt.datetime:
    """Normalise a date or datetime to an aware UTC datetime (naive values are taken as UTC)."""
    if value is None:
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    if not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)
