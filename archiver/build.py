"""The build: content/ -> site/, incremental, parallel and atomic.

Read every content file (cached by stat and sha256 in .archiver/), stop here on --strict if any
is bad, group them, plan every page, hash each page's inputs, hard-link the pages whose inputs
did not change from the previous site, render the rest in a process pool into a sibling
temporary folder, add static files, kept originals and the search files, then swap it in.
A large Whoosh update (a cold build) runs in a forked, lower-priority child from the moment the
articles are read, and the pool tokenises the client index's words before it renders, so both
cores stay busy while this process groups, plans and builds the client index.

Two shortcuts come first: nothing changed (same inputs, intact site: nothing to do), and the
one-edit fast path (archiver/quick.py: only article bodies changed, so only the pages holding
those bodies are rendered and replaced in place, file by file, atomically).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archiver.cache import (
    CACHE_MODULES,
    DRAFT,
    Parsed,
    load_article,
    open_cache,
    parse_files,
    scan_content,
)
from archiver.config import Settings, output_overlap
from archiver.errors import BuildError
from archiver.manifest import (
    RACY_NS,
    Manifest,
    code_fingerprint,
    combine,
    config_fingerprint,
    digest_files,
    forget_manifest,
    layered_files,
    load_manifest,
    save_manifest,
    sha256_file,
)
from archiver.memory import no_gc
from archiver.model import Article
from archiver.paths import archive_lock
from archiver.quick import ARTICLE_TEMPLATE, QuickBuild
from archiver.quickchild import Standbys
from archiver.quickstate import record, save_state, search_module
from archiver.report import Reporter, SilentReporter
from archiver.theme import theme_dir
from archiver.writer import (
    Renderer,
    RenderError,
    SiteWriter,
    body_pattern,
    body_placeholder,
    clean_stale,
    context_text,
    foreign_output,
    init_worker,
    render_chunk,
    site_files,
)

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

    from archiver.render import PageSpec

__all__ = ["CACHE_MODULES", "BuildHooks", "BuildReport", "build_site"]

POOL_MIN = 64
"""Below this many files or pages, work in-process: starting a pool costs more."""
PARSE_CHUNK, RENDER_CHUNK, WORDS_CHUNK = 48, 96, 200
BACKGROUND_INDEX = 1000
"""A Whoosh update of at least this many articles runs in a forked child (search.index.IndexJob)
from the moment the articles are read, overlapping the rest of the build."""
BACKGROUND_CLIENT = 1000
"""In an archive of at least this many articles, a rebuild that changed few of them updates the
client index in a forked child (search.client.PagesJob) from the moment the articles are read."""
BACKGROUND_DELETE = 2000
"""An old site with more files than this is deleted by a detached process after the swap."""
_SHA_NAME = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class BuildReport:
    """What a build did; the CLI exits 1 when errors is not empty."""

    articles: int
    written: int
    reused: int
    deleted: int
    errors: tuple[str, ...]
    seconds: float
    output: Path


@dataclass(frozen=True)
class BuildHooks:
    """Optional callbacks for tools and tests: see pages rendered, act before the swap."""

    on_rendered: Callable[[str], None] | None = None
    before_swap: Callable[[Path], None] | None = None


@dataclass
class Content:
    """Everything read from the content folder."""

    articles: list[Article] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sha_of: dict[str, str] = field(default_factory=dict)
    """Article slug -> sha256 of its content file."""
    bodies: dict[str, str] = field(default_factory=dict)
    """Content sha256 -> body HTML, for the files parsed in this build."""
    stats: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    slug_of: dict[str, str] = field(default_factory=dict)
    """Content file -> slug of the article it holds."""


def build_site(
    settings: Settings,
    *,
    clean: bool = False,
    jobs: int | None = None,
    strict: bool = False,
    reporter: Reporter | None = None,
    hooks: BuildHooks | None = None,
) -> BuildReport:
    """Build the site: read everything, render what changed in parallel, swap it in atomically."""
    started = time.perf_counter()
    _check_folders(settings)
    with archive_lock(settings.state_path, "build"):
        clean_stale(settings.output_path, background=True)
        build = _Build(settings, clean, jobs or os.cpu_count() or 1, strict, reporter, hooks)
        report = build.run()
    return BuildReport(**{**report.__dict__, "seconds": time.perf_counter() - started})


def _check_folders(settings: Settings) -> None:
    """Refuse a missing content folder (a typo would build an empty site over the real one) and
    an output folder whose replacement would lose anything: one that is or holds the archive,
    content, state or templates, a file, or a folder of files archiver did not write."""
    content = settings.content_path
    if not content.is_dir():
        raise BuildError(
            f"{content}: no such content folder (give it with --content or content_dir in "
            "archiver.toml; 'archiver init' makes an archive); nothing was changed"
        )
    output = settings.output_path
    problem = output_overlap(settings) or foreign_output(
        output, lambda: load_manifest(settings.state_path).output == str(output)
    )
    if problem is not None:
        raise BuildError(f"{problem}; nothing was changed")


class _Build:
    """One build run; the steps below read top to bottom."""

    def __init__(
        self,
        settings: Settings,
        clean: bool,
        jobs: int,
        strict: bool,
        reporter: Reporter | None,
        hooks: BuildHooks | None,
    ) -> None:
        self.settings, self.clean, self.jobs, self.strict = settings, clean, jobs, strict
        self.reporter = reporter or SilentReporter()
        self.hooks = hooks or BuildHooks()
        self.output, self.state = settings.output_path, settings.state_path
        self.content_dir = settings.content_path
        previous = Manifest() if clean else load_manifest(self.state)
        self.previous = previous if previous.output == str(self.output) else Manifest()
        self.nonce = _nonce(self.state)
        self.pool: ProcessPoolExecutor | None = None
        self.writer: SiteWriter | None = None
        self.index_job: Any = None
        self.client_job: Any = None
        self.standby: Standbys | None = None
        self.reparsed = False
        """Every content file was parsed again (new parsing code): the search index too."""

    def run(self) -> BuildReport:
        """Skip everything when nothing changed; otherwise build and swap."""
        with no_gc():  # the fast paths make many long-lived objects and almost no garbage
            self.standby = None if self.clean else self._standby()
            try:
                scanned_ns = time.time_ns()
                stats = scan_content(self.content_dir)
                fingerprint = self._fingerprint()
                done = None if self.clean else self._fast(stats, scanned_ns, fingerprint)
            finally:
                if self.standby is not None:
                    self.standby.cancel()  # those not sent a job: not on the fast path
        if done is not None:
            return done
        self.writer = writer = SiteWriter(self.output, self.previous.outputs)
        try:
            return self._build(writer, stats, scanned_ns, fingerprint)
        except RenderError as exc:
            raise BuildError(f"{exc}; the previous site was left as it was") from None
        finally:
            for job in (self.index_job, self.client_job):
                if job is not None:
                    job.stop()
            self._stop_pool()
            writer.abort()

    def _standby(self) -> Standbys | None:
        """When the last build left a fast-path state, the search index children getting
        ready now for an edit the fast path may take (their imports and reads overlap the
        scan on the other core)."""
        if not self.previous.quick:
            return None
        previous = self.previous
        return Standbys.start(self.settings, self.reporter, previous.outputs, previous.quick)

    def _fingerprint(self) -> str:
        """Read the theme, originals and settings; the fingerprint of everything but content."""
        self.theme = layered_files(self.settings.path(self.settings.templates_dir), theme_dir())
        self.theme_digests = digest_files(self.theme)
        self.originals = _originals(self.content_dir)
        self.code = code_fingerprint(search=False)
        self.config = config_fingerprint(self.settings)
        return combine(
            code_fingerprint(),
            self.config,
            self.nonce,
            json.dumps([self.theme_digests, self.originals]),
        )

    def _fast(
        self, stats: dict[str, tuple[int, int]], scanned_ns: int, fingerprint: str
    ) -> BuildReport | None:
        """The no-change or one-edit report, or None when a (partial) full build must run."""
        if self._unchanged(stats, fingerprint, scanned_ns):
            return self._unchanged_report()
        return self._quick(stats, scanned_ns, fingerprint)

    def _build(
        self,
        writer: SiteWriter,
        stats: dict[str, tuple[int, int]],
        scanned_ns: int,
        fingerprint: str,
    ) -> BuildReport:
        """Read, plan, render, copy, index, swap."""
        from archiver.render import make_contexts, plan_contexts
        from archiver.taxonomy import build_archive, sort_articles

        content = self._read(stats, scanned_ns)
        self._stop_if_strict(content.errors)
        ordered = sort_articles(content.articles)
        token = secrets.token_hex(8)
        self._start_index(ordered, content.sha_of)
        words = self._start_words(content.articles, content.sha_of)
        self._start_client(ordered, token, words)
        archive = build_archive(content.articles, related_count=self.settings.related_count)
        ctx = make_contexts(
            archive,
            self.settings,
            html_of=lambda a: body_placeholder(self.nonce, content.sha_of[a.slug]),
            originals=frozenset(self.originals),
        )
        plan = self._plan(writer, plan_contexts(ctx))
        rendering = self._render(writer, plan.todo, content.bodies)
        self._copy_files(writer)
        search = self._search(writer, archive.articles, content.sha_of, token, words)
        state = record(archive, ctx, content.slug_of, plan.templates, plan.embedding, search, token)
        self._rendered(writer, rendering)
        if self.index_job is not None:
            self.index_job.wait()
            self.index_job = None
        errors = content.errors + writer.errors
        self._stop_if_strict(writer.errors)
        deleted = len(self.previous.outputs.keys() - writer.outputs.keys())
        if self.hooks.before_swap:
            self.hooks.before_swap(writer.tmp)
        forget_manifest(self.state)
        writer.swap(background=len(self.previous.outputs) > BACKGROUND_DELETE)
        save_state(self.state, state, content.articles)
        manifest = Manifest(
            output=str(self.output),
            fingerprint=fingerprint,
            scanned_ns=scanned_ns,
            content=content.stats,
            outputs=dict(sorted(writer.outputs.items())),
            articles=dict(sorted(content.sha_of.items())),
            errors=errors,
            article_count=len(content.articles),
            quick=state.token,
        )
        save_manifest(self.state, manifest)
        return BuildReport(
            len(content.articles), writer.written, writer.reused, deleted, tuple(errors), 0.0,
            self.output,
        )  # fmt: skip

    # -- nothing changed -----------------------------------------------------------------------

    def _unchanged(
        self, stats: dict[str, tuple[int, int]], fingerprint: str, scanned_ns: int
    ) -> bool:
        """Same code, config, templates, originals and content files, and the site is intact.

        Files written just before the last scan had to be hashed to be trusted; once they are
        confirmed unchanged the manifest records this scan's time, so the next build trusts
        their size and time again (a freshly ingested archive is hashed once, not every time).
        """
        previous = self.previous
        if previous.fingerprint != fingerprint or stats.keys() != previous.content.keys():
            return False
        hashed = False
        for rel, (mtime, size) in stats.items():
            old_mtime, old_size, sha = previous.content[rel]
            if (mtime, size) != (old_mtime, old_size):
                return False
            if mtime + RACY_NS >= previous.scanned_ns:
                if self._sha(rel) != sha:
                    return False
                hashed = True
        if site_files(self.output) != previous.outputs.keys():
            return False
        if hashed:
            save_manifest(self.state, replace(previous, scanned_ns=scanned_ns))
        return True

    def _unchanged_report(self) -> BuildReport:
        """The report of a build that had nothing to do (bad files are reported again)."""
        errors = tuple(self.previous.errors)
        self._stop_if_strict(list(errors))
        outputs = len(self.previous.outputs)
        return BuildReport(self.previous.article_count, 0, outputs, 0, errors, 0.0, self.output)

    # -- one edit ------------------------------------------------------------------------------

    def _quick(
        self, stats: dict[str, tuple[int, int]], scanned_ns: int, fingerprint: str
    ) -> BuildReport | None:
        """The one-edit fast path (archiver/quick.py), or None when it does not apply."""
        quick = QuickBuild(
            self.settings,
            self.previous,
            nonce=self.nonce,
            base=self.code + self.config,
            originals=self.originals.keys(),
            standby=self.standby,
        )
        edit = quick.find(stats, fingerprint, self._sha)
        if edit is None:
            return None
        self._stop_if_strict(list(self.previous.errors))
        try:
            done = quick.run(edit, scanned_ns, self.reporter, self.hooks.on_rendered)
        except RenderError as exc:
            raise BuildError(f"{exc}; the previous site was left as it was") from None
        if done is None:
            return None
        written, reused = done
        errors = tuple(self.previous.errors)
        count = self.previous.article_count
        return BuildReport(count, written, reused, 0, errors, 0.0, self.output)

    # -- reading -------------------------------------------------------------------------------

    def _read(self, stats: dict[str, tuple[int, int]], scanned_ns: int) -> Content:
        """Every content file, from the cache when its stat (or bytes) did not change."""
        cache = open_cache(self.state)
        try:
            rows = {} if self.clean else cache.rows()
            self.reparsed = cache.emptied
            known: dict[str, tuple[str, Article | None, str | None]] = {}
            touched: dict[str, tuple[int, int]] = {}
            todo: list[tuple[str, int, int]] = []
            for rel, (mtime, size) in stats.items():
                row = rows.get(rel)
                trusted = row is not None and (row.mtime_ns, row.size) == (mtime, size)
                if row is not None and not (trusted and mtime + RACY_NS < row.seen_ns):
                    trusted = self._sha(rel) == row.sha
                    touched.update({rel: (mtime, size)} if trusted else {})
                if row is not None and trusted:
                    known[rel] = (row.sha, load_article(row, self._path(rel)), row.error)
                else:
                    todo.append((rel, mtime, size))
            parsed = self._parse(todo)
            cache.store(parsed, scanned_ns)
            cache.touch(touched, scanned_ns)
            cache.prune(set(stats))
        finally:
            cache.close()
        content = Content(bodies={p.sha: p.html for p in parsed if p.html is not None})
        known.update({p.rel: (p.sha, p.article, p.error) for p in parsed})
        self._collect(content, known, stats)
        return content

    def _collect(
        self,
        content: Content,
        known: dict[str, tuple[str, Article | None, str | None]],
        stats: dict[str, tuple[int, int]],
    ) -> None:
        """Articles and error lines in file order; a second file with a taken slug is refused."""
        owner: dict[str, Path] = {}
        for rel, (mtime, size) in stats.items():
            sha, article, error = known[rel]
            content.stats[rel] = (mtime, size, sha)
            path = self._path(rel)
            if article is None and error == DRAFT:
                self.reporter.detail(f"{path}: {DRAFT}")
            elif article is None:
                content.errors.append(f"{path}: {error}")
            elif article.slug in owner:
                other = owner[article.slug]
                content.errors.append(
                    f"{path}: duplicate slug '{article.slug}' (also used by {other})"
                )
            else:
                owner[article.slug] = path
                content.articles.append(article)
                content.sha_of[article.slug] = sha
                content.slug_of[rel] = article.slug

    def _parse(self, todo: list[tuple[str, int, int]]) -> list[Parsed]:
        """Parse and render Markdown for new or changed files, in the pool when there are many."""
        if len(todo) < POOL_MIN or self.jobs == 1:
            return parse_files(self.content_dir, todo)
        pool = self._pool()
        chunks = [todo[i : i + PARSE_CHUNK] for i in range(0, len(todo), PARSE_CHUNK)]
        futures = [pool.submit(parse_files, self.content_dir, chunk) for chunk in chunks]
        return [item for items in _results(futures) for item in items]

    # -- planning and rendering ----------------------------------------------------------------

    def _plan(self, writer: SiteWriter, specs: Sequence[PageSpec]) -> _Plan:
        """Claim every page; link the unchanged ones; return the rest with the bodies they need.

        Pages other than article pages that embed bodies (the full feed) are kept with their
        contexts, for the one-edit fast path.
        """
        from archiver.render import make_environment

        templates = _TemplateDigests(make_environment(self.settings), self.theme_digests)
        pattern = body_pattern(self.nonce, text=True)
        plan = _Plan()
        base = self.code + self.config
        for spec in specs:
            text = context_text(spec.context)
            digest = hashlib.sha256(
                f"{base}{templates.of(spec.template)}{text}".encode()
            ).hexdigest()
            origin = f"{spec.template} ({spec.context.get('page', {}).get('title', spec.path)})"
            bodies = set(pattern.findall(text))
            if bodies and spec.template != ARTICLE_TEMPLATE:
                plan.embedding[spec.path] = (spec.template, text)
            if writer.claim(spec.path, digest, origin) and not writer.reuse(spec.path):
                plan.todo.append((spec, bodies))
        plan.templates = dict(templates.known)
        return plan

    def _render(
        self, writer: SiteWriter, todo: list[tuple[PageSpec, set[str]]], bodies: dict[str, str]
    ) -> Iterable[list[str]]:
        """Render the pages that changed: start chunks in the pool (in-process when few)."""
        needed = set().union(*(shas for _, shas in todo)) - bodies.keys()
        if needed:
            cache = open_cache(self.state)
            try:
                bodies = {**bodies, **cache.bodies(needed)}
            finally:
                cache.close()
        if len(todo) < POOL_MIN or self.jobs == 1:
            renderer = Renderer(self.settings, writer.tmp, self.nonce)
            return [renderer.render([s for s, _ in todo], bodies)]
        else:
            pool = self._pool()
            futures = []
            for start in range(0, len(todo), RENDER_CHUNK):
                chunk = todo[start : start + RENDER_CHUNK]
                wanted = set().union(*(shas for _, shas in chunk))
                specs = [spec for spec, _ in chunk]
                futures.append(pool.submit(render_chunk, specs, {s: bodies[s] for s in wanted}))
            done = _results(futures)
        return done

    def _rendered(self, writer: SiteWriter, done: Iterable[list[str]]) -> None:
        """Wait for the rendered pages and count them."""
        for paths in done:
            writer.written += len(paths)
            for path in paths:
                if self.hooks.on_rendered:
                    self.hooks.on_rendered(path)

    # -- other files ---------------------------------------------------------------------------

    def _copy_files(self, writer: SiteWriter) -> None:
        """The theme's static files (archive overrides first) and the kept originals."""
        for rel, path in self.theme.items():
            if not rel.startswith("static/"):
                continue
            if writer.claim(rel, self.theme_digests[rel], "theme") and not writer.reuse(rel):
                writer.copy(rel, path)
        originals = self.content_dir / "originals"
        for sha, name in self.originals.items():
            rel = f"originals/{sha}.txt"
            digest = combine("original", name, str((originals / name).stat().st_size))
            if writer.claim(rel, digest, f"original {name}") and not writer.reuse(rel):
                writer.copy(rel, originals / name)

    def _search(
        self,
        writer: SiteWriter,
        articles: Sequence[Article],
        sha_of: dict[str, str],
        token: str,
        words: list[tuple[list[str], Future[Any]]],
    ) -> list[str]:
        """Update the Whoosh index and write the client search files; returns their paths.

        token: the build's token, recorded in the client index state (see quick.py); words:
        the client index's words of changed articles, being computed in the pool."""
        index, client = search_module("index"), search_module("client")
        if index is not None and self.index_job is None:
            index.update_index(
                self.settings, articles, **self._index_changes(sha_of), reporter=self.reporter
            )
        paths: list[str] = []
        if client is not None:
            known = {
                slug: kinds
                for slugs, future in words
                for slug, kinds in zip(slugs, future.result(), strict=True)
            }
            if self.client_job is not None:
                pages, self.client_job = self.client_job.wait(), None
            else:
                pages = client.client_pages(articles, self.settings, generation=token, words=known)
            for page in pages:
                paths.append(page.path)
                digest = combine("search", hashlib.sha256(page.data).hexdigest())
                if writer.claim(page.path, digest, "search index") and not writer.reuse(page.path):
                    writer.write(page.path, page.data)
        return paths

    def _start_index(self, articles: Sequence[Article], sha_of: dict[str, str]) -> None:
        """Start a large Whoosh update in the background (articles: in the archive's order)."""
        index = search_module("index")
        if index is None or not hasattr(index, "IndexJob") or len(articles) < BACKGROUND_INDEX:
            return
        changes = self._index_changes(sha_of)
        if not changes["clean"] and len(changes["changed"]) + len(changes["deleted"]) < (
            BACKGROUND_INDEX
        ):
            return
        self.index_job = index.IndexJob.start(
            self.settings, articles, **changes, reporter=self.reporter
        )

    def _start_words(
        self, articles: Sequence[Article], sha_of: dict[str, str]
    ) -> list[tuple[list[str], Future[Any]]]:
        """Have the pool tokenise changed articles for the client index while this process
        plans (a cold build: all of them); [] when few changed (client_pages does it then)."""
        from archiver.search import clientwords

        changed = self._index_changes(sha_of)["changed"]
        if self.jobs == 1 or len(changed) < BACKGROUND_INDEX or search_module("client") is None:
            return []
        todo = [a for a in articles if a.slug in changed]
        pool = self._pool()
        chunks = [todo[i : i + WORDS_CHUNK] for i in range(0, len(todo), WORDS_CHUNK)]
        return [
            ([a.slug for a in chunk], pool.submit(clientwords.contribution_chunk, chunk))
            for chunk in chunks
        ]

    def _start_client(
        self, articles: Sequence[Article], token: str, words: list[tuple[list[str], Any]]
    ) -> None:
        """Start the client index update in a forked child while this process plans, when the
        pool is not tokenising for it (few articles changed) in an archive of at least
        BACKGROUND_CLIENT articles: the planning leaves a core free, and an order change (an
        article added, deleted or moved) re-encodes every term list. Not under serve (other
        threads alive: no fork) nor with --jobs 1."""
        client = search_module("client")
        if client is None or words or self.jobs == 1 or len(articles) < BACKGROUND_CLIENT:
            return
        if threading.active_count() > 1:
            return
        self.client_job = client.PagesJob.start(articles, self.settings, token)

    def _index_changes(self, sha_of: dict[str, str]) -> dict[str, Any]:
        """What update_index needs to know: changed and deleted slugs, and whether to rebuild."""
        previous = self.previous.articles
        return {
            "changed": {slug for slug, sha in sha_of.items() if previous.get(slug) != sha},
            "deleted": previous.keys() - sha_of.keys(),
            "clean": self.clean or not previous or self.reparsed,
        }

    # -- helpers -------------------------------------------------------------------------------

    def _stop_if_strict(self, errors: list[str]) -> None:
        """--strict: report the bad files and stop before anything is written."""
        if self.strict and errors:
            for line in errors:
                self.reporter.problem(line)
            raise BuildError(
                f"{len(errors)} problem(s) found; stopped (--strict), the site was not changed"
            )

    def _pool(self) -> ProcessPoolExecutor:
        """The worker pool, started on first use (each worker makes its own Jinja environment)."""
        if self.pool is None:
            from concurrent.futures import ProcessPoolExecutor

            assert self.writer is not None
            self.pool = ProcessPoolExecutor(
                max_workers=self.jobs,
                initializer=init_worker,
                initargs=(self.settings, self.writer.tmp, self.nonce),
            )
        return self.pool

    def _stop_pool(self) -> None:
        """Stop the workers (waiting for running chunks, dropping queued ones)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def _path(self, rel: str) -> Path:
        """The content file of a relative path."""
        return self.content_dir.joinpath(*rel.split("/"))

    def _sha(self, rel: str) -> str:
        """sha256 of a content file, or "" when it cannot be read."""
        try:
            return sha256_file(self._path(rel))
        except OSError:
            return ""


@dataclass
class _Plan:
    """What planning found: pages to render (with the bodies they need), and fast-path data."""

    todo: list[tuple[PageSpec, set[str]]] = field(default_factory=list)
    embedding: dict[str, tuple[str, str]] = field(default_factory=dict)
    templates: dict[str, str] = field(default_factory=dict)


class _TemplateDigests:
    """Digest of a template together with every template it extends, includes or imports."""

    def __init__(self, env: Any, digests: dict[str, str]) -> None:
        self.env, self.digests = env, digests
        self.known: dict[str, str] = {}

    def of(self, name: str) -> str:
        """The combined digest of name's template closure."""
        if name not in self.known:
            self.known[name] = combine(
                *(f"{n}={self.digests.get(n, '')}" for n in self._closure(name))
            )
        return self.known[name]

    def _closure(self, name: str) -> list[str]:
        """name and every template it refers to (all templates if a reference is dynamic)."""
        from jinja2 import meta

        seen: set[str] = set()
        stack = [name]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            source = self.env.loader.get_source(self.env, current)[0]
            for ref in meta.find_referenced_templates(self.env.parse(source)):
                if ref is None:
                    return sorted(n for n in self.digests if not n.startswith("static/"))
                stack.append(ref)
        return sorted(seen)


def _results(futures: list[Future[Any]]) -> Iterable[Any]:
    """Results in submission order; a failed chunk cancels the rest."""
    try:
        for future in futures:
            yield future.result()
    except BaseException:
        for future in futures:
            future.cancel()
        raise


def _originals(content_dir: Path) -> dict[str, str]:
    """Kept originals: sha256 -> file name (content/originals/<sha256>.<ext>), first by name."""
    try:
        names = sorted(os.listdir(content_dir / "originals"))
    except OSError:
        return {}
    found: dict[str, str] = {}
    for name in names:
        sha = name.split(".", 1)[0]
        if (
            len(sha) == 64
            and set(sha) <= _SHA_NAME
            and (content_dir / "originals" / name).is_file()
        ):
            found.setdefault(sha, name)
    return found


def _nonce(state_dir: Path) -> str:
    """This archive's secret marker for body placeholders (content cannot forge a placeholder)."""
    path = state_dir / "body-nonce"
    try:
        nonce = path.read_text(encoding="ascii").strip()
        if len(nonce) == 16 and set(nonce) <= _SHA_NAME:
            return nonce
    except (OSError, UnicodeDecodeError):
        pass
    from archiver.paths import atomic_write_text

    nonce = secrets.token_hex(8)
    state_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, nonce)
    return nonce
