"""Terminal search over the Whoosh index: parse, filter, sort, and cut highlighted snippets."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from whoosh import qparser
from whoosh import query as wq
from whoosh.qparser.dateparse import DateParserPlugin

from archiver.config import Settings
from archiver.errors import ArchiverError
from archiver.model import term_key
from archiver.search.index import FoldStemAnalyzer, open_index, publication_date
from archiver.search.tokenize import excerpt, fold

DEFAULT_FIELDS = ("title", "summary", "body", "authors")
ALIASES = {"tags": ["tag"], "authors": ["author", "by"], "published": ["date"]}
FIELDS = ("title", "summary", "body", "tags", "source", "authors", "published", "slug")
SORTS = ("relevance", "date")
_SPACE_RUN = re.compile(r"\s+")
_WORDS = re.compile(r"[^\W_]+")
_ANALYZER = FoldStemAnalyzer()
TEXT_FIELDS = frozenset({"title", "summary", "body"})
_FIELD_REF = re.compile(r"(?<![\w\"'])([A-Za-z_]\w*):(?=\S)")

Segment = tuple[str, bool]
"""A piece of snippet text and whether it matched the query."""


class QuerySyntaxError(ArchiverError):
    """The query cannot be understood; the message says why in one line."""

    exit_code = 2


@dataclass(frozen=True)
class Hit:
    """One search result."""

    title: str
    slug: str
    path: str
    """Page path relative to the site root, e.g. ``articles/<slug>.html``."""
    published: dt.date | dt.datetime | None
    source: str | None
    score: float
    snippet: tuple[Segment, ...]
    tags: tuple[str, ...] = ()
    authors: str = ""
    url: str | None = None

    def snippet_text(self, mark: Callable[[str], str] | None = None) -> str:
        """The snippet as one string; ``mark`` (e.g. click.style bold) wraps matched pieces."""
        return "".join(mark(t) if (m and mark) else t for t, m in self.snippet)

    def to_json(self) -> dict[str, Any]:
        """Plain data for ``--json`` output (dates as ISO strings, snippet as plain text)."""
        data = asdict(self)
        data["published"] = self.published.isoformat() if self.published else None
        data["snippet"] = self.snippet_text()
        data["matches"] = [t for t, m in self.snippet if m]
        data["tags"] = list(self.tags)
        return data


def snippet(text: str, terms: frozenset[str], width: int = 240) -> tuple[Segment, ...]:
    """A window of text around the first matched words, split into (text, is_match) pieces."""
    flat = _SPACE_RUN.sub(" ", text).strip()
    spans: list[tuple[int, int]] = []
    for m in _WORDS.finditer(flat):
        if spans and m.start() > spans[0][0] + width:
            break
        if _stem_of(m.group()) in terms:
            spans.append((m.start(), m.end()))
    if not spans:
        return ((excerpt(flat, width), False),) if flat else ()
    first = spans[0][0]
    start = 0 if first < width // 4 else flat.rfind(" ", 0, first - width // 4) + 1
    end = min(len(flat), start + width)
    if end < len(flat):
        end = max(flat.rfind(" ", start, end), spans[0][1])
    out: list[Segment] = [("…", False)] if start > 0 else []
    pos = start
    for s, e in spans:
        if s < pos or e > end:
            continue
        if s > pos:
            out.append((flat[pos:s], False))
        out.append((flat[s:e], True))
        pos = e
    if end > pos:
        out.append((flat[pos:end], False))
    if end < len(flat):
        out.append(("…", False))
    return tuple(out)


def _stem_of(word: str) -> str:
    """The indexed form of one word (folded and stemmed, like the index's analyser)."""
    return _ANALYZER.stem_word(fold(word).replace("\u2019", "'"))


def check_syntax(text: str) -> None:
    """Refuse queries Whoosh would silently misread: unknown fields, unbalanced quotes/brackets."""
    if not text.strip():
        raise QuerySyntaxError("empty query: give at least one word to search for")
    if text.count('"') % 2:
        raise QuerySyntaxError(f"unbalanced double quote in query: {text}")
    depth = 0
    for ch in re.sub(r'"[^"]*"', "", text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            break
    if depth != 0:
        raise QuerySyntaxError(f"unbalanced parenthesis in query: {text}")
    known = set(FIELDS) | {a for names in ALIASES.values() for a in names}
    for match in _FIELD_REF.finditer(re.sub(r'"[^"]*"', "", text)):
        if match.group(1).lower() not in known and not match.group(1).isdigit():
            raise QuerySyntaxError(
                f"unknown field '{match.group(1)}:' in query (fields: {', '.join(sorted(known))})"
            )


def _errors(q: wq.Query) -> Iterator[str]:
    """Error messages Whoosh attached to parts of a parsed query."""
    error = getattr(q, "error", None)
    if error:
        yield str(error)
    for child in q.children():
        yield from _errors(child)


def make_parser(schema: Any) -> Any:
    """The query parser (costly to set up: build once per open index)."""
    parser = qparser.MultifieldParser(list(DEFAULT_FIELDS), schema=schema)
    parser.add_plugin(qparser.FuzzyTermPlugin())
    parser.add_plugin(qparser.GtLtPlugin())
    parser.add_plugin(DateParserPlugin(free=False))
    parser.add_plugin(qparser.FieldAliasPlugin(ALIASES))
    return parser


def parse(schema: Any, text: str, parser: Any = None) -> wq.Query:
    """Parse Whoosh query language (AND/OR/NOT, phrases, field:value, prefix*, fuzzy~, dates)."""
    check_syntax(text)
    parser = parser or make_parser(schema)
    try:
        q = parser.parse(text)
    except Exception as exc:  # Whoosh raises assorted errors on odd input
        raise QuerySyntaxError(f"cannot parse query {text!r}: {exc}") from None
    problems = list(_errors(q))
    if problems:
        raise QuerySyntaxError(f"bad query {text!r}: {problems[0]}")
    if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        raise QuerySyntaxError(f"nothing to search for in {text!r} (only very common words?)")
    return q


def _day(value: dt.date, end: bool) -> dt.datetime:
    """Naive UTC datetime at the start (or end) of a day, matching the index."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    clock = dt.time.max if end else dt.time.min
    return dt.datetime.combine(value, clock)


def _filters(
    tag: str | None,
    source: str | None,
    author: str | None,
    since: dt.date | None,
    until: dt.date | None,
    schema: Any,
) -> list[wq.Query]:
    """Query objects for the filter flags."""
    out: list[wq.Query] = []
    if tag:
        out.append(wq.Term("tags", term_key(tag).replace(",", " ")))
    if source:
        out.append(wq.Term("source", term_key(source).replace(",", " ")))
    if author:
        names = [t.text for t in schema["authors"].analyzer(author)]
        if not names:
            raise QuerySyntaxError(f"no searchable words in author {author!r}")
        out.append(wq.And([wq.Term("authors", n) for n in names]))
    if since or until:
        start = _day(since, end=False) if since else None
        end = _day(until, end=True) if until else None
        out.append(wq.DateRange("published", start, end))
    return out


class SearchIndex:
    """An open Whoosh index answering many queries (open once, query fast)."""

    def __init__(self, settings: Settings) -> None:
        self._ix = open_index(settings)
        self._searcher = self._ix.searcher()
        self._parser = make_parser(self._ix.schema)

    def close(self) -> None:
        """Release the index files."""
        self._searcher.close()
        self._ix.close()

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def search(
        self,
        query: str,
        *,
        tag: str | None = None,
        source: str | None = None,
        author: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        sort: str = "relevance",
        limit: int = 10,
    ) -> list[Hit]:
        """Run one query; see :func:`search`."""
        if sort not in SORTS:
            raise QuerySyntaxError(f"unknown sort {sort!r} (use {' or '.join(SORTS)})")
        if limit < 1:
            raise QuerySyntaxError("limit must be at least 1")
        schema = self._ix.schema
        q = parse(schema, query, self._parser)
        extra = _filters(tag, source, author, since, until, schema)
        if extra:
            q = wq.And([q, *extra])
        if not self._searcher.up_to_date():  # an update since it was opened: open it again
            self._searcher.close()  # (Whoosh's refresh() fails on an empty index's reader)
            self._searcher = self._ix.searcher()
        options: dict[str, Any] = {"limit": limit}
        if sort == "date":
            options.update(sortedby="published", reverse=True)
        results = self._searcher.search(q, **options)
        terms = frozenset(_query_terms(q, self._searcher.reader()))
        return [_hit(h, terms, sort == "relevance") for h in results]


def search(
    settings: Settings,
    query: str,
    *,
    tag: str | None = None,
    source: str | None = None,
    author: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    sort: str = "relevance",
    limit: int = 10,
) -> list[Hit]:
    """Search the Whoosh index; results carry the page path and a highlighted snippet."""
    with SearchIndex(settings) as index:
        return index.search(
            query,
            tag=tag,
            source=source,
            author=author,
            since=since,
            until=until,
            sort=sort,
            limit=limit,
        )


def _query_terms(q: wq.Query, reader: Any) -> Iterator[str]:
    """Indexed words a query looks for in the text fields (prefix and fuzzy terms expanded)."""
    if isinstance(q, wq.Not):
        return
    if not q.is_leaf():
        for child in q.children():
            yield from _query_terms(child, reader)
        return
    if q.field() not in TEXT_FIELDS:
        return
    if isinstance(q, wq.MultiTerm):
        for text in itertools.islice(q._btexts(reader), 200):
            yield text.decode("utf-8") if isinstance(text, bytes) else str(text)
    elif isinstance(q, wq.Phrase):
        yield from q.words
    elif isinstance(getattr(q, "text", None), str):
        yield q.text


def _hit(result: Any, terms: frozenset[str], scored: bool) -> Hit:
    """Turn one Whoosh hit into a Hit with its snippet."""
    stored = result.fields()
    cut = snippet(stored.get("body") or "", terms)
    if not any(m for _, m in cut) and stored.get("summary"):
        cut = snippet(stored["summary"], terms)
    return Hit(
        title=stored.get("title", ""),
        slug=stored["slug"],
        path=stored.get("path") or f"articles/{stored['slug']}.html",
        published=publication_date(stored.get("date")),
        source=stored.get("source_name"),
        score=float(result.score or 0.0) if scored else 0.0,
        snippet=cut,
        tags=tuple(stored.get("tag_names") or ()),
        authors=stored.get("authors", ""),
        url=stored.get("url"),
    )
