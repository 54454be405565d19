"""Helpers that make ``archiver check`` fast: a lazily started process pool, and read-only use
of the build's content cache (articles the build already parsed from the very same bytes)."""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import multiprocessing
import os
import pickle
import re
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import yaml

from archiver.content import (
    YAML_VALUE_ERRORS,
    LoadResult,
    article_from_mapping,
    content_files,
    is_draft,
    parse_article,
)
from archiver.errors import ContentError
from archiver.model import Article

_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)(?:\r?\n)?^(?:---|\.\.\.)[ \t]*\r?$\n?", re.S | re.M)
P = ParamSpec("P")
T = TypeVar("T")
BUILD_CACHE = "content-cache.sqlite"
_BUILD_CACHE_MODULES = ("model", "content", "markup", "cache")
"""archiver.cache.CACHE_MODULES when it cannot be read (a different list only means no reuse)."""


class LazyPool(Executor):
    """A pool of fresh worker processes, started only when the first job is submitted."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or max(1, min(os.cpu_count() or 1, 4))
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Run fn(*args, **kwargs) in a worker (spawned: safe next to threads)."""
        with self._lock:  # check submits from two threads
            if self._pool is None:
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
            pool = self._pool
        return pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop the workers, if any were started."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def from_build_cache(
    state_dir: Path, content_dir: Path, paths: Sequence[Path]
) -> dict[Path, tuple[Article, str]]:
    """(article, sha256) of each content file the build parsed from exactly its current bytes.

    The cache is opened read-only and used only when it was written by the current code; each
    file is read and hashed, so a changed file is never taken from it.
    """
    db = _open_read_only(state_dir / BUILD_CACHE)
    if db is None:
        return {}
    by_rel: dict[str, Path] = {}
    for path in paths:
        with contextlib.suppress(ValueError):
            by_rel[path.relative_to(content_dir).as_posix()] = path
    found: dict[Path, tuple[Article, str]] = {}
    try:
        rels = sorted(by_rel)
        for start in range(0, len(rels), 500):
            chunk = rels[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT rel, sha, article FROM files WHERE rel IN ({marks})"
            for rel, sha, blob in db.execute(query, chunk):
                path = by_rel[rel]
                article = _verified(path, sha, blob)
                if article is not None:
                    found[path] = (article, sha)
    except sqlite3.Error:
        return found
    finally:
        db.close()
    return found


def _verified(path: Path, sha: str, blob: bytes | None) -> Article | None:
    """The cached article when the file's bytes still hash to sha, else None."""
    if blob is None:
        return None  # the build could not parse it: parse it here for the exact reason
    try:
        if hashlib.sha256(path.read_bytes()).hexdigest() != sha:
            return None
        article: Any = pickle.loads(blob)  # our own build state, never published
    except Exception:  # unreadable file or a pickle from other code: parse it instead
        return None
    if not isinstance(article, Article):
        return None
    return article if article.path == path else replace(article, path=path)


def _open_read_only(path: Path) -> sqlite3.Connection | None:
    """The build's content cache, when present and written by the current code."""
    if not path.is_file():
        return None
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        row = db.execute("SELECT value FROM meta WHERE key='code'").fetchone()
    except sqlite3.Error:
        return None
    if row is None or row[0] != _build_cache_key():
        db.close()
        return None
    return db


def _build_cache_key() -> str:
    """The code key the build stores in its content cache (see archiver.cache.open_cache)."""
    from archiver.manifest import code_fingerprint

    modules = _BUILD_CACHE_MODULES
    with contextlib.suppress(Exception):
        modules = tuple(importlib.import_module("archiver.cache").CACHE_MODULES)
    return code_fingerprint(modules, search=False)


def load_fast(content_dir: Path) -> LoadResult:
    """Like archiver.content.load_articles (same articles and lines), parsed with libyaml."""
    articles: list[Article] = []
    errors: list[str] = []
    seen: dict[str, Path] = {}
    for path in content_files(content_dir):
        try:
            article = fast_parse(path.read_bytes().decode("utf-8"), path)
        except UnicodeDecodeError:
            errors.append(f"{path}: not valid UTF-8")
            continue
        except OSError as exc:
            errors.append(f"{path}: cannot read: {exc.strerror}")
            continue
        except ContentError as exc:
            errors.append(f"{path}: {exc.message}")
            continue
        if is_draft(article):
            continue
        if article.slug in seen:
            errors.append(
                f"{path}: duplicate slug '{article.slug}' (also used by {seen[article.slug]})"
            )
            continue
        seen[article.slug] = path
        articles.append(article)
    return LoadResult(tuple(articles), tuple(errors))


def fast_parse(text: str, path: Path) -> Article:
    """parse_article with libyaml when it is available (same result, several times faster)."""
    loader: type[yaml.CSafeLoader] | None = getattr(yaml, "CSafeLoader", None)
    match = _FRONT.match(text.lstrip("\ufeff")) if loader is not None else None
    if match is not None and loader is not None:
        try:
            data = yaml.load(match.group(1), Loader=loader)  # libyaml's safe_load
        except (yaml.YAMLError, *YAML_VALUE_ERRORS):
            data = None  # parse_article below gives the reason
        if isinstance(data, dict) and data:
            body = text.lstrip("\ufeff")[match.end() :]
            fields = {str(k): v for k, v in data.items()}
            return article_from_mapping(fields, body.strip("\n") + "\n", path)
    return parse_article(text, path)
