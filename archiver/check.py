"""``archiver check``: everything that can be wrong with an archive, as (file, reason) lines."""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import re
import shlex
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from archiver.checkcache import CheckCache, load_cache, save_cache, stat_key
from archiver.checkio import LazyPool, fast_parse, from_build_cache
from archiver.checkio import load_fast as load_fast  # re-exported for the CLI
from archiver.config import Settings
from archiver.content import (
    ORIGINALS,
    content_files,
    is_draft,
)
from archiver.errors import ContentError
from archiver.linkcheck import check_site_links
from archiver.model import Article, term_key
from archiver.report import Reporter

Problem = tuple[str, str]
_Read = tuple[Path, Article | None, str | None, str | None]
_CHUNK = 500
PARALLEL_MIN = 1000
"""At least this many content files to parse are parsed in worker processes."""
BUILD_CACHE_MIN = 100
"""At least this many content files to parse are first looked up in the build's cache."""
INDEX_META = "archiver-index.json"
_SHA = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class CheckReport:
    """What ``check`` found: problems as (file, reason), notes, and how much was looked at."""

    problems: tuple[Problem, ...]
    notes: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "ok": self.ok,
            "problems": [{"file": f, "reason": r} for f, r in self.problems],
            "notes": list(self.notes),
            "counts": dict(sorted(self.counts.items())),
        }


@dataclass(frozen=True)
class Loaded:
    """Articles read for checking, with the search-index fingerprint of each (by slug)."""

    articles: tuple[Article, ...]
    digests: dict[str, str]
    problems: tuple[Problem, ...]


def check_archive(
    settings: Settings, *, reporter: Reporter | None = None, use_cache: bool = True
) -> CheckReport:
    """Run every check on an archive; never raises for per-file problems.

    Facts about files that did not change since the last run come from the check cache in the
    build-state folder (see archiver.checkcache); use_cache=False reads everything again.
    """
    notes: list[str] = []
    cache = load_cache(settings.state_path) if use_cache else None
    files = content_files(settings.content_path)
    site = settings.output_path
    with LazyPool() as pool, ThreadPoolExecutor(max_workers=1) as side:
        # the link check runs beside the content check: both keep the worker processes busy
        job = side.submit(check_site_links, site, pool, cache=cache) if site.is_dir() else None
        loaded = load_for_check(files, reporter, pool, cache=cache, settings=settings)
        link_report = job.result() if job is not None else None
    problems = list(loaded.problems)
    if not settings.content_path.is_dir():
        problems.append((str(settings.content_path), "no such content folder"))
    problems += check_fields(loaded.articles)
    problems += check_tag_variants(loaded.articles, settings.content_path)
    problems += check_originals(loaded.articles, settings.content_path, cache)
    pages = links = 0
    if link_report is not None:
        problems += link_report.problems
        pages, links = link_report.pages, link_report.links
    else:
        notes.append(f"{site}: not built yet; links not checked (run archiver build)")
    index_problem, index_note = check_search_index(settings, loaded, site.is_dir())
    problems += index_problem
    notes += index_note
    if cache is not None:
        save_cache(settings.state_path, cache)
    counts = {"files": len(files), "articles": len(loaded.articles), "pages": pages}
    counts["links"] = links
    return CheckReport(tuple(problems), tuple(notes), counts)


def load_for_check(
    files: Sequence[Path],
    reporter: Reporter | None = None,
    pool: Executor | None = None,
    *,
    cache: CheckCache | None = None,
    settings: Settings | None = None,
) -> Loaded:
    """Read and validate every content file; bad files and duplicate slugs become problems.

    Files unchanged since the last check come from the cache; the others from the build's
    content cache when their bytes are the ones it parsed, else they are parsed (in the pool
    when there are many).
    """
    keys = {path: stat_key(path) for path in files}
    done: dict[Path, _Read] = {}
    for path in files:
        known = cache.get("content", str(path), keys[path]) if cache is not None else None
        if known is not None:
            done[path] = (path, *known)
    todo = [path for path in files if path not in done]
    if settings is not None and len(todo) >= BUILD_CACHE_MIN:
        parsed = from_build_cache(settings.state_path, settings.content_path, todo)
        for path, (article, sha) in parsed.items():
            done[path] = _without_body((path, article, _fingerprint(article, sha), None))
        todo = [path for path in todo if path not in done]
    for read in _read_all(todo, reporter, pool):
        done[read[0]] = read
    if cache is not None:
        for path in files:
            cache.put("content", str(path), keys[path], done[path][1:])
    return _collect(done[path] for path in files)


def _read_all(
    paths: Sequence[Path], reporter: Reporter | None, pool: Executor | None
) -> Iterable[_Read]:
    """Read and parse content files, in the pool when there are many."""
    chunks = [list(paths[i : i + _CHUNK]) for i in range(0, len(paths), _CHUNK)]
    results: Iterable[list[_Read]]
    if pool is not None and len(paths) >= PARALLEL_MIN and len(chunks) > 1:
        results = pool.map(_read_chunk, chunks)
    else:
        results = map(_read_chunk, chunks)
    if reporter is not None:
        results = reporter.progress(results, len(chunks), "Checking content")
    return [item for chunk in results for item in chunk]


def _collect(reads: Iterable[_Read]) -> Loaded:
    """Articles in file order; unreadable files and second users of a slug are problems."""
    articles: list[Article] = []
    digests: dict[str, str] = {}
    problems: list[Problem] = []
    owner: dict[str, Path] = {}
    for path, article, digest, problem in reads:
        if article is None or digest is None:
            problems.append((str(path), problem or "unreadable"))
        elif is_draft(article):
            continue
        elif article.slug in owner:
            reason = f"duplicate slug '{article.slug}' (also used by {owner[article.slug]})"
            problems.append((str(path), reason))
        else:
            owner[article.slug] = path
            digests[article.slug] = digest
            articles.append(article)
    return Loaded(tuple(articles), digests, tuple(problems))


def read_for_check(path: Path) -> _Read:
    """Read one content file: (path, article, search fingerprint, problem)."""
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return path, None, None, "not valid UTF-8"
    except OSError as exc:
        return path, None, None, f"cannot read: {exc.strerror}"
    try:
        article = fast_parse(text, path)
    except ContentError as exc:
        return path, None, None, exc.message
    return path, article, current_fingerprint(article, data), None


def _read_chunk(paths: list[Path]) -> list[_Read]:
    """Read a batch of content files (runs in a worker process); bodies are not sent back."""
    return [_without_body(read) for read in map(read_for_check, paths)]


def _without_body(read: _Read) -> _Read:
    """A read result with the body cut to one character (only its emptiness is checked)."""
    path, article, digest, problem = read
    if article is not None:
        article = replace(article, body="…" if article.body.strip() else "")
    return path, article, digest, problem


def check_fields(articles: Iterable[Article]) -> list[Problem]:
    """Schema checks beyond types: address format, checksum format, empty text.

    Bodies may be shortened to one character by the loader: only emptiness is tested.
    """
    problems: list[Problem] = []
    for article in articles:
        where = str(article.path)
        if article.url and not article.url.startswith(("http://", "https://")):
            problems.append((where, f"'url' must be an http(s) address, not {article.url!r}"))
        if article.source_sha256 and not _SHA.fullmatch(article.source_sha256):
            problems.append((where, "'source_sha256' must be 64 lowercase hex digits"))
        if not article.body.strip():
            problems.append((where, "no article text after the front matter"))
    return problems


def check_tag_variants(articles: Iterable[Article], content_dir: Path) -> list[Problem]:
    """Tags spelled differently only in case or accents, with the merge that fixes them."""
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    keys: dict[str, str] = {}
    for article in articles:
        for tag in article.tags:
            key = keys.get(tag)
            if key is None:
                key = keys[tag] = term_key(tag)
            spellings[key][tag] += 1
    problems: list[Problem] = []
    for key in sorted(spellings):
        counter = spellings[key]
        if len(counter) < 2:
            continue
        ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
        listed = ", ".join(f"'{name}' ({n})" for name, n in ranked)
        command = shlex.join(["archiver", "tags", "merge", *(name for name, _ in ranked)])
        problems.append(
            (str(content_dir), f"tags differ only in case or accents: {listed}; fix: {command}")
        )
    return problems


def check_originals(
    articles: Sequence[Article], content_dir: Path, cache: CheckCache | None = None
) -> list[Problem]:
    """Originals that are missing or whose bytes no longer match the sha256 in their name.

    With a cache, an original whose stat data did not change is not hashed again.
    """
    kept = _originals_by_sha(content_dir / ORIGINALS)
    problems: list[Problem] = []
    wanted: dict[str, Path] = {}
    for article in articles:
        sha = article.source_sha256
        if not sha or not _SHA.fullmatch(sha):
            continue
        if sha not in kept:
            problems.append(
                (str(article.path), f"original {sha[:12]}… is missing from {ORIGINALS}/")
            )
        else:
            wanted[sha] = kept[sha]
    digests = original_digests(wanted, cache)
    for sha, path in sorted(wanted.items()):
        if digests[sha] is None:
            problems.append((str(path), "cannot read the kept original"))
        elif digests[sha] != sha:
            reason = "sha256 does not match its name: the kept original was changed or corrupted"
            problems.append((str(path), reason))
    return problems


def check_search_index(
    settings: Settings, loaded: Loaded, site_built: bool
) -> tuple[list[Problem], list[str]]:
    """Compare the search index's content fingerprint with the content as it is now."""
    index_dir = settings.root / settings.search.index_dir
    recorded = recorded_fingerprint(settings)
    if recorded is None:
        if site_built:
            return [(str(index_dir), "search index missing; run archiver build")], []
        return [], [f"{index_dir}: search index not built yet"]
    current = loaded.digests
    changed = sorted(s for s in current if s in recorded and recorded[s] != current[s])
    added = sorted(s for s in current if s not in recorded)
    removed = sorted(s for s in recorded if s not in current)
    if not (changed or added or removed):
        return [], []
    parts = [
        f"{len(items)} {label}"
        for items, label in ((changed, "changed"), (added, "new"), (removed, "deleted"))
        if items
    ]
    sample = ", ".join((changed + added + removed)[:3])
    reason = f"search index out of date ({', '.join(parts)}: {sample}); run archiver build"
    return [(str(index_dir), reason)], []


def recorded_fingerprint(settings: Settings) -> dict[str, str] | None:
    """slug -> fingerprint of each article when it was last indexed; None without an index.

    Asks ``archiver.search.index.index_fingerprint(settings)`` when the search package has it,
    else reads the ``docs`` table of ``<index_dir>/archiver-index.json`` directly.
    """
    search = _search_module()
    reader = getattr(search, "index_fingerprint", None)
    if reader is not None:
        result: dict[str, str] | None = reader(settings)
        return result
    path = settings.root / settings.search.index_dir / INDEX_META
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    docs = data.get("docs") if isinstance(data, dict) else None
    if not isinstance(docs, dict):
        return None
    return {str(k): str(v) for k, v in docs.items()}


def current_fingerprint(article: Article, data: bytes) -> str:
    """What the search index should have recorded for an article as it is now.

    ``archiver.search.index.fingerprint(article)`` when available, else the sha256 of the file.
    """
    return _fingerprint(article, None, data)


def _fingerprint(article: Article, sha: str | None, data: bytes = b"") -> str:
    """current_fingerprint, given the file's sha256 (or its bytes to hash)."""
    make = getattr(_search_module(), "fingerprint", None)
    if make is not None:
        return str(make(article))
    return sha or hashlib.sha256(data).hexdigest()


@functools.cache
def _search_module() -> Any:
    """archiver.search.index, or None when it cannot be imported."""
    try:
        return importlib.import_module("archiver.search.index")
    except ImportError:
        return None


def original_digests(wanted: dict[str, Path], cache: CheckCache | None) -> dict[str, str | None]:
    """sha256 of each wanted original (None: unreadable), from the cache when unchanged."""
    keys = {sha: stat_key(path) for sha, path in wanted.items()}
    digests: dict[str, str | None] = {}
    for sha, path in wanted.items():
        known = cache.get("originals", str(path), keys[sha]) if cache is not None else None
        if known is not None:
            digests[sha] = known
    todo = [sha for sha in wanted if sha not in digests]
    with ThreadPoolExecutor(max_workers=4) as pool:
        digests.update(zip(todo, pool.map(_sha256_file, [wanted[s] for s in todo]), strict=True))
    if cache is not None:
        for sha in todo:
            if digests[sha] is not None:
                cache.put("originals", str(wanted[sha]), keys[sha], digests[sha])
    return digests


def _originals_by_sha(folder: Path) -> dict[str, Path]:
    """sha256 -> kept original file, listing the folder once."""
    if not folder.is_dir():
        return {}
    out: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        stem = path.name.split(".", 1)[0]
        if _SHA.fullmatch(stem) and path.is_file():
            out.setdefault(stem, path)
    return out


def _sha256_file(path: Path) -> str | None:
    """sha256 of a file's bytes, or None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()
