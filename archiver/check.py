"""``archiver check``: everything that can be wrong with an archive, as (file, reason) lines."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import json
import multiprocessing
import os
import re
import shlex
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from archiver.config import Settings
from archiver.content import (
    ORIGINALS,
    LoadResult,
    article_from_mapping,
    content_files,
    parse_article,
)
from archiver.errors import ContentError
from archiver.linkcheck import check_site_links
from archiver.model import Article, term_key
from archiver.report import Reporter

Problem = tuple[str, str]
_Read = tuple[Path, Article | None, str | None, str | None]
_CHUNK = 500
PARALLEL_MIN = 1000
"""Archives with at least this many content files are checked in worker processes."""
INDEX_META = "archiver-index.json"
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)(?:\r?\n)?^(?:---|\.\.\.)[ \t]*\r?$\n?", re.S | re.M)
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


def check_archive(settings: Settings, *, reporter: Reporter | None = None) -> CheckReport:
    """Run every check on an archive; never raises for per-file problems."""
    notes: list[str] = []
    files = content_files(settings.content_path)
    site = settings.output_path
    pool_or_none = _process_pool() if len(files) >= PARALLEL_MIN else contextlib.nullcontext()
    with pool_or_none as pool:
        loaded = load_for_check(files, reporter, pool)
        link_report = check_site_links(site, pool) if site.is_dir() else None
    problems = list(loaded.problems)
    problems += check_fields(loaded.articles)
    problems += check_tag_variants(loaded.articles, settings.content_path)
    problems += check_originals(loaded.articles, settings.content_path)
    pages = links = 0
    if link_report is not None:
        problems += link_report.problems
        pages, links = link_report.pages, link_report.links
    else:
        notes.append(f"{site}: not built yet; links not checked (run archiver build)")
    index_problem, index_note = check_search_index(settings, loaded, site.is_dir())
    problems += index_problem
    notes += index_note
    counts = {"files": len(files), "articles": len(loaded.articles), "pages": pages}
    counts["links"] = links
    return CheckReport(tuple(problems), tuple(notes), counts)


def load_for_check(
    files: Sequence[Path], reporter: Reporter | None = None, pool: Executor | None = None
) -> Loaded:
    """Read and validate every content file; bad files and duplicate slugs become problems."""
    chunks = [list(files[i : i + _CHUNK]) for i in range(0, len(files), _CHUNK)]
    results: Iterable[list[_Read]]
    if pool is not None and len(chunks) > 1:
        results = pool.map(_read_chunk, chunks)
    else:
        results = map(_read_chunk, chunks)
    if reporter is not None:
        results = reporter.progress(results, len(chunks), "Checking content")
    articles: list[Article] = []
    digests: dict[str, str] = {}
    problems: list[Problem] = []
    owner: dict[str, Path] = {}
    for chunk in results:
        for path, article, digest, problem in chunk:
            if article is None or digest is None:
                problems.append((str(path), problem or "unreadable"))
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
        except yaml.YAMLError:
            data = None
        if isinstance(data, dict) and data:
            body = text.lstrip("\ufeff")[match.end() :]
            fields = {str(k): v for k, v in data.items()}
            return article_from_mapping(fields, body.strip("\n") + "\n", path)
    return parse_article(text, path)


def _read_chunk(paths: list[Path]) -> list[_Read]:
    """Read a batch of content files (runs in a worker process); bodies are not sent back."""
    out: list[_Read] = []
    for path, article, digest, problem in map(read_for_check, paths):
        if article is not None:
            article = replace(article, body="…" if article.body.strip() else "")
        out.append((path, article, digest, problem))
    return out


def _process_pool() -> Executor:
    """A small pool of fresh worker processes (spawned: safe next to threads)."""
    workers = max(1, min(os.cpu_count() or 1, 4))
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


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
    for article in articles:
        for tag in article.tags:
            spellings[term_key(tag)][tag] += 1
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


def check_originals(articles: Sequence[Article], content_dir: Path) -> list[Problem]:
    """Originals that are missing or whose bytes no longer match the sha256 in their name."""
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
    with ThreadPoolExecutor(max_workers=4) as pool:
        digests = dict(zip(wanted, pool.map(_sha256_file, wanted.values()), strict=True))
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
    make = getattr(_search_module(), "fingerprint", None)
    if make is not None:
        return str(make(article))
    return hashlib.sha256(data).hexdigest()


@functools.cache
def _search_module() -> Any:
    """archiver.search.index, or None when it cannot be imported."""
    try:
        return importlib.import_module("archiver.search.index")
    except ImportError:
        return None


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
