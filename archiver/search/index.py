"""The Whoosh full-text index in ``.archiver/index``: schema, incremental updates, full rebuilds.

Beside Whoosh's own files the index folder holds ``archiver-index.json``: the schema version and,
per slug, a fingerprint of the indexed article. An update re-indexes the changed slugs, the
deleted ones and any whose fingerprint disagrees; a missing, out-of-date or unreadable index is
rebuilt from scratch with one notice line. A full rebuild bypasses Whoosh's SegmentWriter
(archiver.search.parallel, segment, postings: equivalent files, a fraction of the CPU); updates
use Whoosh's writer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import json
import os
import shutil
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from whoosh import fields, index, writing
from whoosh.util import fib

from archiver.config import Settings
from archiver.errors import ArchiverError, LockedError
from archiver.forked import BACKGROUND_NICE, Forked, failure
from archiver.model import Article, as_datetime, term_key
from archiver.paths import atomic_write_text
from archiver.report import Reporter, SilentReporter
from archiver.search.analysis import FastPositions
from archiver.search.analysis import FoldStemAnalyzer as FoldStemAnalyzer
from archiver.search.bodytext import body_text
from archiver.search.parallel import write_fresh
from archiver.search.segment import (
    COMPOUND,
    FreshSegmentWriter,
    TermsFunction,
    fast_writer_supported,
)

SCHEMA_VERSION = 3
META_NAME = "archiver-index.json"
INDEX_NAME = "MAIN"


class IndexMissingError(ArchiverError):
    """There is no usable search index yet."""


def _text(analyzer: FoldStemAnalyzer, *, stored: bool, boost: float = 1.0) -> fields.TEXT:
    """A phrase-capable text field using the fast positions format."""
    field = fields.TEXT(analyzer=analyzer, stored=stored, field_boost=boost)
    field.format = FastPositions(field_boost=boost)
    return field


def schema() -> fields.Schema:
    """The index schema (bump SCHEMA_VERSION whenever it changes)."""
    text = FoldStemAnalyzer()
    names = FoldStemAnalyzer(stemming=False)
    return fields.Schema(
        slug=fields.ID(unique=True, stored=True),
        title=_text(text, stored=True, boost=4.0),
        summary=_text(text, stored=True, boost=1.5),
        body=_text(text, stored=True),
        tags=fields.KEYWORD(commas=True, lowercase=True, scorable=True),
        source=fields.KEYWORD(commas=True, lowercase=True),
        authors=fields.TEXT(analyzer=names, stored=True),
        published=fields.DATETIME(sortable=True),
        date=fields.STORED,
        source_name=fields.STORED,
        tag_names=fields.STORED,
        url=fields.STORED,
        path=fields.STORED,
    )


def fast_fields(fields_: fields.Schema) -> dict[str, TermsFunction]:
    """Field name -> position_terms of its analyser, for fields the fresh writer analyses."""
    found: dict[str, TermsFunction] = {}
    for name in fields_.names():
        analyzer = getattr(fields_[name], "analyzer", None)
        if isinstance(analyzer, FoldStemAnalyzer):
            found[name] = analyzer.position_terms
    return found


def index_path(settings: Settings) -> Path:
    """The folder of the Whoosh index."""
    return (settings.root / settings.search.index_dir).resolve()


def article_page(slug: str) -> str:
    """Relative path of an article's page inside the site."""
    return f"articles/{slug}.html"


def _keywords(values: Sequence[str]) -> str:
    """Comma-joined identity keys (case- and accent-insensitive) for a KEYWORD field."""
    return ",".join(sorted({term_key(v).replace(",", " ") for v in values if term_key(v)}))


def document(article: Article) -> dict[str, Any]:
    """The Whoosh document for one article."""
    published = article.published
    return {
        "slug": article.slug,
        "title": article.title,
        "summary": article.summary or "",
        "body": body_text(article.body),
        "tags": _keywords(article.tags),
        "source": _keywords([article.source] if article.source else []),
        "authors": ", ".join(article.authors),
        "published": as_datetime(article.sort_date).replace(tzinfo=None),
        "date": published.isoformat() if published is not None else None,
        "source_name": article.source,
        "tag_names": list(article.tags),
        "url": article.url,
        "path": article_page(article.slug),
    }


def fingerprint(article: Article) -> str:
    """A short hash of everything the index stores about an article."""
    parts = (
        article.title,
        article.summary or "",
        article.body,
        "\x1f".join(article.tags),
        article.source or "",
        "\x1f".join(article.authors),
        article.sort_date.isoformat(),
        article.published.isoformat() if article.published else "",
        article.url or "",
    )
    data = "\x1e".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=10).hexdigest()


def _read_meta(folder: Path) -> dict[str, Any] | None:
    """The index's bookkeeping file, or None when it is missing or unreadable."""
    try:
        meta = json.loads((folder / META_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or not isinstance(meta.get("docs"), dict):
        return None
    return meta


def _write_meta(folder: Path, docs: Mapping[str, str], generation: int) -> None:
    """Record the schema version, the index generation and every indexed slug's fingerprint."""
    meta = {"schema": SCHEMA_VERSION, "generation": generation, "docs": dict(sorted(docs.items()))}
    atomic_write_text(folder / META_NAME, json.dumps(meta, sort_keys=True, separators=(",", ":")))


def _generation(folder: Path) -> int:
    """The newest Whoosh generation on disk (-1 when there is none); a directory listing only."""
    prefix = f"_{INDEX_NAME}_"
    numbers = [
        int(p.name[len(prefix) : -4])
        for p in folder.glob(f"{prefix}*.toc")
        if p.name[len(prefix) : -4].isdigit()
    ]
    return max(numbers, default=-1)


def _problem(folder: Path, meta: dict[str, Any] | None) -> str | None:
    """Why the existing index cannot be updated in place (None when it can), without opening it."""
    if not folder.is_dir() or _generation(folder) < 0:
        return "missing"
    if meta is None:
        return "its bookkeeping file is missing or unreadable"
    if meta.get("schema") != SCHEMA_VERSION:
        return "it was written by another version"
    if meta.get("generation") != _generation(folder):
        return "it is out of step with the articles (an earlier update did not finish)"
    return None


def update_index(
    settings: Settings,
    articles: Sequence[Article],
    *,
    changed: set[str],
    deleted: set[str],
    clean: bool,
    reporter: Reporter,
) -> None:
    """Bring the Whoosh index in line with articles, re-indexing only what changed."""
    folder = index_path(settings)
    meta = None if clean else _read_meta(folder)
    problem = None if clean else _problem(folder, meta)
    if not clean and problem is None and meta is not None:
        problem = _update(folder, articles, meta["docs"], changed, deleted)
        if problem is None:
            return
    if problem is not None:
        word = "creating it" if problem == "missing" else "rebuilding it"
        reporter.info(f"{folder}: search index {problem}; {word}")
    _rebuild(folder, articles)


class IndexJob:
    """update_index running in a forked child while the build goes on (a cold 10k rebuild is a
    third of a build's CPU time and needs only the articles, so it starts as soon as they are
    read). wait() replays the child's notices and turns its failure into one line, as an update
    in this process would; stop() abandons it (the old index stays, or the next build rebuilds).
    """

    def __init__(self, child: Forked, reporter: Reporter) -> None:
        self.child, self.reporter = child, reporter

    @classmethod
    def start(
        cls,
        settings: Settings,
        articles: Sequence[Article],
        *,
        changed: set[str],
        deleted: set[str],
        clean: bool,
        reporter: Reporter,
    ) -> IndexJob | None:
        """Fork the child; None where forking is unavailable (the caller updates in-process)."""

        def work() -> bytes:  # pragma: no cover - runs in the forked child
            notices = SilentReporter()
            update_index(
                settings, articles, changed=changed, deleted=deleted, clean=clean, reporter=notices
            )
            return json.dumps(notices.messages).encode("utf-8", "replace")

        child = Forked.start(work, group=True, nice=BACKGROUND_NICE)
        return None if child is None else cls(child, reporter)

    def wait(self) -> None:
        """Wait for the child; its notices go to the reporter, its failure is raised here."""
        code, data = self.child.wait()
        if code != 0:
            raise failure(code, data, "search index update")
        with contextlib.suppress(ValueError):
            for message in json.loads(data.decode("utf-8", "replace")):
                self.reporter.info(str(message))

    def stop(self) -> None:
        """Abandon the child (an error or Ctrl-C elsewhere in the build): end it and reap it."""
        self.child.stop(kill=True)  # the child and its helper process


def _writer(ix: Any, **kwargs: Any) -> Any:
    """A writer for an update, turning another process's lock into one clear line: the fresh
    writer (same files as Whoosh's, an order of magnitude less work to write a segment) where
    the index's codec allows, else Whoosh's."""
    try:
        if fast_writer_supported(ix):
            return FreshSegmentWriter(ix, fast_fields(ix.schema), updating=True, **kwargs)
        return ix.writer(**kwargs)
    except index.LockError:
        raise LockedError(
            f"{ix.storage.folder}: the search index is being written by another process"
        ) from None


MAX_SEGMENTS = 8
"""An update writes its few documents as a new segment; segments are merged only once there
are this many (merging on every commit rewrote all earlier edits' segments each time)."""


class _NeedArticles(Exception):
    """A merge needs the full article of a document, and the caller gave a slug-only stand-in."""


def _merge_policy(
    current: Mapping[str, Article], readded: set[str]
) -> Callable[[Any, list[Any]], list[Any]]:
    """Whoosh's merge policy, merging by indexing again: keep the segments as they are until
    there are MAX_SEGMENTS, then merge the ones MERGE_SMALL would merge by adding their live
    documents' articles (current) to the new segment. Whoosh's own merge copies them term by
    term: about a CPU-second for five one-article segments at 10,000 articles, against a
    twentieth of that. readded receives the slugs indexed again."""

    def merge(writer: Any, segments: list[Any]) -> list[Any]:
        if not _merging(segments):
            return writing.NO_MERGE(writer, segments)  # type: ignore[no-any-return]
        merged, kept = _small_segments(segments)
        slugs = [slug for segment in merged for slug in _live_slugs(writer, segment)]
        if any(slug not in current for slug in slugs):  # not expected: merge another time
            return segments
        if not _complete({slug: current[slug] for slug in slugs}):
            raise _NeedArticles("a merge needs the articles of its documents")
        for slug in slugs:
            writer.add_document(**document(current[slug]))
        readded.update(slugs)
        return kept

    return merge


def merge_due(settings: Settings) -> bool:
    """Whether the next update of the index will merge segments (False if it cannot be read)."""
    ix, _ = _open(index_path(settings))
    if ix is None:
        return False
    try:
        return _merging(ix._segments())
    finally:
        ix.close()


def _merging(segments: list[Any]) -> bool:
    """Whether a commit adding one segment to these merges some (see _merge_policy)."""
    return len(segments) + 1 >= MAX_SEGMENTS and len(_small_segments(segments)[0]) >= 2


def _complete(articles: Mapping[str, Article]) -> bool:
    """Whether every article is whole (the fast path may pass slug-only stand-ins)."""
    return all("title" in vars(article) for article in articles.values())


def _small_segments(segments: list[Any]) -> tuple[list[Any], list[Any]]:
    """(the segments MERGE_SMALL merges, the others): the smallest, up to the first point
    where they hold fewer documents than a Fibonacci bound (whoosh.writing.MERGE_SMALL)."""
    ordered = sorted(segments, key=lambda segment: segment.doc_count_all())
    total = 0
    for i, segment in enumerate(ordered):
        total += max(segment.doc_count_all(), 0)
        if i > 3 and total < fib(i + 5):
            return ordered[: i + 1], ordered[i + 1 :]
    return [], segments


def _live_slugs(writer: Any, segment: Any) -> list[str]:
    """The slugs of a segment's documents not deleted, in document order."""
    from whoosh.reading import SegmentReader

    reader = SegmentReader(writer.storage, writer.schema, segment)
    try:
        return [reader.stored_fields(docnum)["slug"] for docnum in reader.all_doc_ids()]
    finally:
        reader.close()


def _update(
    folder: Path,
    articles: Sequence[Article],
    indexed: Mapping[str, str],
    changed: set[str],
    deleted: set[str],
) -> str | None:
    """Re-index changed and unknown slugs and drop deleted ones in one commit (or say why not)."""
    current = {a.slug: a for a in articles}
    gone = (set(indexed) - set(current)) | (deleted & set(indexed))
    todo = sorted(s for s in current if s in changed or not indexed.get(s))
    ix, error = _open(folder)
    if ix is None:
        return f"it cannot be read ({error})"
    if not gone and not todo:
        ix.close()
        return None
    if _merging(ix._segments()) and not _complete(current):
        ix.close()  # a merge is due and needs whole articles: ask for them before any work
        raise _NeedArticles("a merge needs the articles of its documents")
    try:
        # No mark beforehand: a crash after the commit leaves the bookkeeping a generation
        # behind the index (_problem: rebuild), a crash before it leaves both as they were.
        writer = _writer(ix, compound=COMPOUND)
        readded: set[str] = set()
        try:
            for slug in sorted(gone):
                writer.delete_by_term("slug", slug)
            for slug in todo:
                writer.update_document(**document(current[slug]))
            writer.commit(mergetype=_merge_policy(current, readded))
        except BaseException:
            writer.cancel()
            raise
    finally:
        ix.close()
    final = {s: h for s, h in indexed.items() if s in current}
    final.update((s, fingerprint(current[s])) for s in (*todo, *readded))
    _write_meta(folder, final, _generation(folder))
    return None


def _rebuild(folder: Path, articles: Sequence[Article]) -> None:
    """Write a fresh index beside the old one, then swap it in."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _old_index_lock(folder):
        fresh = folder.with_name(folder.name + ".new")
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        write_fresh(fresh, schema(), articles, document, indexname=INDEX_NAME, fast_of=fast_fields)
        _write_meta(fresh, {a.slug: fingerprint(a) for a in articles}, _generation(fresh))
        old = folder.with_name(folder.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            os.replace(folder, old)
        os.replace(fresh, folder)
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def _old_index_lock(folder: Path) -> Iterator[None]:
    """Hold the existing index's write lock (if there is a readable index) during a rebuild."""
    ix, _ = _open(folder)
    if ix is None:
        yield
        return
    lock = ix.lock("WRITELOCK")
    if not lock.acquire(False):
        ix.close()
        raise LockedError(f"{folder}: the search index is being written by another process")
    try:
        yield
    finally:
        lock.release()
        ix.close()


def open_index(settings: Settings) -> Any:
    """Open the index for searching, or say clearly that there is none."""
    folder = index_path(settings)
    ix, _ = _open(folder)
    if ix is None:
        raise IndexMissingError(f"{folder}: no search index; run 'archiver build' first")
    return ix


def _open(folder: Path) -> tuple[Any, str]:
    """Open the index, or return (None, why); Whoosh's leaked handles on failure are closed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            return index.open_dir(str(folder), indexname=INDEX_NAME), ""
        except Exception as exc:  # any failure to open means missing or corrupt
            error = type(exc).__name__
        gc.collect()  # close the file Whoosh left open, while its warning is silenced
    return None, error


def publication_date(value: str | None) -> dt.date | dt.datetime | None:
    """The stored published value back as a date or datetime."""
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
    except ValueError:
        return None
