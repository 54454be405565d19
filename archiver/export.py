"""``archiver export``: the archive's metadata (and optionally text) as JSON Lines or CSV."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from archiver.model import Article, DateLike, as_datetime, term_key

FORMATS = ("jsonl", "csv")
LIST_FIELDS = ("authors", "credits", "tags", "also_seen")
FIELDS = (
    "slug",
    "title",
    "summary",
    "published",
    "archived",
    "source",
    "authors",
    "credits",
    "url",
    "tags",
    "language",
    "words",
    "page",
    "file",
    "source_file",
    "source_sha256",
    "also_seen",
)
CSV_SEPARATOR = "; "
_FORMULA_START = ("=", "+", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportFilter:
    """Which articles to export: every tag given (case/accent-insensitive) and a start date."""

    tags: tuple[str, ...] = ()
    since: dt.date | None = None

    def accepts(self, article: Article) -> bool:
        """Whether an article passes the filter."""
        if self.tags:
            keys = {term_key(tag) for tag in article.tags}
            if not all(term_key(tag) in keys for tag in self.tags):
                return False
        if self.since is not None:
            when = article.published or article.archived
            if when is None or as_datetime(when).date() < self.since:
                return False
        return True


def select(articles: Iterable[Article], where: ExportFilter) -> list[Article]:
    """Articles passing the filter, newest first (ties by slug), as on the site."""
    chosen = [a for a in articles if where.accepts(a)]
    chosen.sort(key=lambda a: a.slug)
    chosen.sort(key=lambda a: a.sort_date, reverse=True)
    return chosen


def record(article: Article, *, with_text: bool = False, root: str | None = None) -> dict[str, Any]:
    """One article's export record: plain JSON data (lists stay lists, dates ISO 8601)."""
    data: dict[str, Any] = {
        "slug": article.slug,
        "title": article.title,
        "summary": article.summary,
        "published": _iso(article.published),
        "archived": _iso(article.archived),
        "source": article.source,
        "authors": list(article.authors),
        "credits": list(article.credits),
        "url": article.url,
        "tags": list(article.tags),
        "language": article.language,
        "words": len(article.body.split()),
        "page": f"articles/{article.slug}.html",
        "file": _relative(article, root),
        "source_file": article.source_file,
        "source_sha256": article.source_sha256,
        "also_seen": list(article.also_seen),
    }
    if with_text:
        data["text"] = article_text(article.body)
    return data


def article_text(markdown_body: str) -> str:
    """Plain text of a Markdown body (archiver.markup when present, else the Markdown itself)."""
    try:
        from archiver.markup import plain_text
    except ImportError:
        return markdown_body.strip()
    text: str = plain_text(markdown_body)
    return text.strip()


def write_jsonl(records: Iterable[dict[str, Any]], out: TextIO) -> int:
    """Write one JSON object per line (UTF-8, sorted keys); returns the count."""
    count = 0
    for item in records:
        out.write(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n")
        count += 1
    return count


def write_csv(records: Iterable[dict[str, Any]], out: TextIO, *, with_text: bool = False) -> int:
    """Write CSV with a header; lists joined by '; '; spreadsheet formulas neutralised."""
    columns = [*FIELDS, "text"] if with_text else list(FIELDS)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for item in records:
        writer.writerow([csv_cell(item.get(column)) for column in columns])
        count += 1
    return count


def csv_cell(value: Any) -> str:
    """A CSV cell: lists joined, None empty, and a leading ' before formula-like text."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        value = CSV_SEPARATOR.join(str(v) for v in value)
    text = str(value)
    if text.startswith(_FORMULA_START) or (text.startswith("-") and not _is_number(text)):
        return "'" + text
    return text


def export(
    articles: Sequence[Article],
    out: TextIO,
    *,
    fmt: str = "jsonl",
    where: ExportFilter | None = None,
    with_text: bool = False,
    root: str | None = None,
) -> int:
    """Export the chosen articles in fmt ('jsonl' or 'csv') to out; returns how many."""
    chosen = select(articles, where or ExportFilter())
    records: Iterator[dict[str, Any]] = (record(a, with_text=with_text, root=root) for a in chosen)
    if fmt == "csv":
        return write_csv(records, out, with_text=with_text)
    if fmt == "jsonl":
        return write_jsonl(records, out)
    raise ValueError(f"unknown export format {fmt!r}")


def _iso(value: DateLike | None) -> str | None:
    """A date or datetime in ISO 8601 (as written in the front matter)."""
    return value.isoformat() if value is not None else None


def _relative(article: Article, root: str | None) -> str | None:
    """The content file of an article, relative to the archive root when possible."""
    if article.path is None:
        return None
    path = article.path.as_posix()
    if root and path.startswith(root.rstrip("/") + "/"):
        return path[len(root.rstrip("/")) + 1 :]
    return path


def _is_number(text: str) -> bool:
    """Whether text is a plain number (negative numbers are not formulas)."""
    try:
        float(text)
    except ValueError:
        return False
    return True
