"""The content cache in .archiver/: content file -> parsed Article and body HTML, so unchanged
files are neither parsed nor rendered from Markdown again."""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archiver.errors import ContentError
from archiver.model import Article
from archiver.paths import ORIGINALS

CACHE_NAME = "content-cache.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    rel TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL,
    sha TEXT NOT NULL, seen_ns INTEGER NOT NULL, article BLOB, error TEXT
);
CREATE TABLE IF NOT EXISTS bodies (sha TEXT PRIMARY KEY, html TEXT NOT NULL);
"""
MARKDOWN_SUFFIXES = (".md", ".markdown")
CACHE_MODULES = ("model", "content", "markup", "cache")
"""The modules whose code shapes a cached article or body; editing one empties the cache."""


DRAFT = "a draft (draft: true, published: false or status: draft), not published"
"""Parsed.error of a draft: no article, and no problem either (the build skips it quietly)."""


@dataclass(frozen=True)
class Parsed:
    """One content file after reading: its article (or the reason it is bad) and body HTML."""

    rel: str
    mtime_ns: int
    size: int
    sha: str
    article: Article | None
    html: str | None
    error: str | None


@dataclass(frozen=True)
class Row:
    """What the cache remembers about one content file (the article is still pickled)."""

    mtime_ns: int
    size: int
    sha: str
    seen_ns: int
    article: bytes | None
    error: str | None


def scan_content(content_dir: Path) -> dict[str, tuple[int, int]]:
    """Every article file (as content.content_files selects them) -> (mtime_ns, size), sorted."""
    found: list[tuple[tuple[str, ...], int, int]] = []

    def walk(folder: str, parts: tuple[str, ...]) -> None:
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                if name.startswith((".", "_")) or (not parts and name == ORIGINALS):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    walk(entry.path, (*parts, name))
                elif name.lower().endswith(MARKDOWN_SUFFIXES) and entry.is_file():
                    st = entry.stat()
                    found.append(((*parts, name), st.st_mtime_ns, st.st_size))

    if content_dir.is_dir():
        walk(str(content_dir), ())
    found.sort()
    return {"/".join(parts): (mtime, size) for parts, mtime, size in found}


def parse_files(
    content_dir: Path,
    items: list[tuple[str, int, int]],
    known: Mapping[str, str] | None = None,
) -> list[Parsed]:
    """Read, validate and render a chunk of content files (runs in worker processes).

    known: body Markdown -> its HTML, rendered before (a front matter edit renders nothing).
    """
    return [parse_file(content_dir, rel, mtime, size, known) for rel, mtime, size in items]


def parse_file(
    content_dir: Path, rel: str, mtime_ns: int, size: int, known: Mapping[str, str] | None = None
) -> Parsed:
    """One content file -> Parsed; every problem becomes the error reason, never an exception."""
    from archiver import content  # here: a build with nothing to do never parses

    path = content_dir.joinpath(*rel.split("/"))
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Parsed(rel, mtime_ns, size, "", None, None, f"cannot read: {exc.strerror}")
    sha = hashlib.sha256(data).hexdigest()
    try:
        article = content.parse_article(data.decode("utf-8"), path)
        if content.is_draft(article):
            return Parsed(rel, mtime_ns, size, sha, None, None, DRAFT)
        html = None if known is None else known.get(article.body)
        if html is None:
            from archiver.markup import render_markdown

            html = render_markdown(article.body)
        return Parsed(rel, mtime_ns, size, sha, article, html, None)
    except UnicodeDecodeError:
        reason = "not valid UTF-8"
    except ContentError as exc:
        reason = exc.message
    except (RecursionError, ValueError, TypeError, AttributeError) as exc:
        reason = f"cannot read article: {type(exc).__name__}: {exc}"
    return Parsed(rel, mtime_ns, size, sha, None, None, reason)


class ContentCache:
    """SQLite file of parsed articles and body HTML, keyed by content file and its sha256."""

    def __init__(self, state_dir: Path, key: str, *, clean: bool = False) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / CACHE_NAME
        try:
            self.db = self._open(key, clean)
        except sqlite3.DatabaseError:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            self.db = self._open(key, True)

    def _open(self, key: str, clean: bool) -> sqlite3.Connection:
        """Open (creating if needed) and empty it when the code that fills it has changed."""
        db = sqlite3.connect(self.path, isolation_level=None)
        db.execute("PRAGMA synchronous=OFF")
        db.executescript(_SCHEMA)
        stored = db.execute("SELECT value FROM meta WHERE key='code'").fetchone()
        self.emptied = clean or stored is None or stored[0] != key
        """Whether it started empty: every article is parsed again, perhaps differently."""
        if self.emptied:
            db.executescript("BEGIN; DELETE FROM files; DELETE FROM bodies; COMMIT;")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('code', ?)", (key,))
        return db

    def rows(self) -> dict[str, Row]:
        """Everything remembered, by content file."""
        query = "SELECT rel, mtime_ns, size, sha, seen_ns, article, error FROM files"
        return {r[0]: Row(*r[1:]) for r in self.db.execute(query)}

    def rows_of(self, rels: Iterable[str]) -> dict[str, Row]:
        """What is remembered about the given content files (those the cache holds)."""
        query = (
            "SELECT rel, mtime_ns, size, sha, seen_ns, article, error FROM files"
            " WHERE rel IN ({marks})"
        )
        return {r[0]: Row(*r[1:]) for r in self._select_in(query, rels)}

    def bodies(self, shas: Iterable[str]) -> dict[str, str]:
        """Body HTML of the given content sha256s (those the cache holds)."""
        query = "SELECT sha, html FROM bodies WHERE sha IN ({marks})"
        return {sha: html for sha, html in self._select_in(query, shas)}

    def _select_in(self, query: str, keys: Iterable[str]) -> Iterator[Any]:
        """The rows of a ``... IN ({marks})`` query for keys, 500 at a time (SQLite's limit
        on bound variables)."""
        wanted = sorted(set(keys))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            yield from self.db.execute(query.format(marks=",".join("?" * len(chunk))), chunk)

    def store(self, parsed: Iterable[Parsed], seen_ns: int) -> None:
        """Remember freshly read files (and their body HTML) in one transaction."""
        with self._transaction():
            for item in parsed:
                blob = pickle.dumps(item.article, protocol=5) if item.article else None
                self.db.execute(
                    "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (item.rel, item.mtime_ns, item.size, item.sha, seen_ns, blob, item.error),
                )
                if item.html is not None:
                    self.db.execute(
                        "INSERT OR REPLACE INTO bodies VALUES (?, ?)", (item.sha, item.html)
                    )

    def touch(self, stats: dict[str, tuple[int, int]], seen_ns: int) -> None:
        """Record new stat data for files whose bytes were verified unchanged."""
        with self._transaction():
            self.db.executemany(
                "UPDATE files SET mtime_ns=?, size=?, seen_ns=? WHERE rel=?",
                [(m, s, seen_ns, rel) for rel, (m, s) in stats.items()],
            )

    def prune(self, keep: set[str]) -> None:
        """Forget files that are gone and bodies no file uses any more."""
        gone = [rel for (rel,) in self.db.execute("SELECT rel FROM files") if rel not in keep]
        if not gone:
            return
        with self._transaction():
            self.db.executemany("DELETE FROM files WHERE rel=?", [(rel,) for rel in gone])
            self.db.execute("DELETE FROM bodies WHERE sha NOT IN (SELECT sha FROM files)")

    def _transaction(self) -> contextlib.AbstractContextManager[None]:
        """BEGIN ... COMMIT on this cache's database, rolled back on any error."""
        return transaction(self.db)

    def close(self) -> None:
        """Close the database."""
        self.db.close()


def open_cache(state_dir: Path) -> ContentCache:
    """The content cache of a build-state folder, keyed by the code of CACHE_MODULES."""
    from archiver.manifest import code_fingerprint

    return ContentCache(state_dir, code_fingerprint(CACHE_MODULES, search=False))


@contextlib.contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    """BEGIN ... COMMIT on an autocommit connection, rolled back on any error."""
    db.execute("BEGIN")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def load_article(row: Row, path: Path) -> Article | None:
    """Unpickle a cached article (the cache is our own file in .archiver/, never published)."""
    if row.article is None:
        return None
    article: Article = pickle.loads(row.article)
    if article.path != path:
        from dataclasses import replace

        article = replace(article, path=path)
    return article
