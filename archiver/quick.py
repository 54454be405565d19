"""The one-edit fast path: re-render only the pages that hold a changed article's body.

It applies when only existing content files changed (none added or removed; the same code,
config, templates and originals: an equal build fingerprint) and every changed file still holds
a good article with the same slug whose *external* digest is unchanged. The external digest
covers everything any other page shows about an article: every front matter field (title,
dates, tags, source, authors, summary, url ...) plus what lists and feeds derive from the body
(the summary shown when there is none, the reading time). Then no list, tag, archive, related
or neighbour page can change; only the article's own page and the pages that embed its body
(the full-content feed) are rendered again, plus the search indexes. The normal build records
what this needs in the build state (QuickState: per article its digest, related articles,
neighbours and terms; the pages embedding bodies with their contexts).

Writing differs from the normal path: every page is rendered into memory first (a render error
changes nothing), then each changed file is replaced atomically (temporary file + rename) in
the live site; there is no sibling tree and no swap. The manifest is removed before the first
replacement and saved after the last, so a crash in between makes the next build a full one.
Anything else returns None and the caller runs the normal incremental build.

In a fresh process nothing needs every article: the pages read the few articles they show from
the content cache, the client index updates from the edited articles (its state must carry the
previous build's token), and the Whoosh update runs in a forked child (quickchild.IndexChild)
while this process renders. Each falls back to the article snapshot when it cannot show that
its shortcut gives the same bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import pickle
import secrets
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archiver.cache import Parsed, open_cache, parse_files
from archiver.config import Settings
from archiver.errors import BuildError
from archiver.manifest import RACY_NS, Manifest, combine, forget_manifest, save_manifest
from archiver.model import Article, Term
from archiver.paths import atomic_write, safe_join
from archiver.quickchild import (
    ClientJob,
    ClientResult,
    IndexChild,
    Standbys,
    update_search_index,
)
from archiver.quickstate import (
    QuickState,
    all_articles,
    external_digest,
    links_of,
    load_state,
    pathless,
    remember,
    remembered,
    save_state,
    search_module,
)
from archiver.report import Reporter
from archiver.writer import Renderer, body_placeholder, site_files

if TYPE_CHECKING:
    from archiver.render import PageSpec
    from archiver.taxonomy import Archive

QUICK_MAX = 20
"""More changed files than this go through the normal build."""
ARTICLE_TEMPLATE = "article.html"


@dataclass
class Edit:
    """A change the fast path can take: the changed files, read and checked."""

    parsed: list[Parsed]
    touched: dict[str, tuple[int, int, str]]
    """Content files whose stat changed but whose bytes did not."""
    state: QuickState
    meta: bool = False
    """Some front matter (or what lists show of a body) changed: archiver/quickmeta.py."""


_RENDERERS: dict[Path, tuple[Any, Renderer]] = {}
"""The fast path's renderer (Jinja environment with compiled templates), by state folder."""


_ANNOUNCE: list[Callable[[], None]] = []
"""Callbacks told when a fast build's pages are in place (archiver serve: reload now)."""


@contextlib.contextmanager
def announcing(callback: Callable[[], None]) -> Iterator[None]:
    """While active, a fast build in this process writes its pages first, calls callback,
    then updates the Whoosh index (and saves the manifest last): the browser need not wait
    for the index. A failed index update leaves no manifest, so the next build is a full one.
    """
    _ANNOUNCE.append(callback)
    try:
        yield
    finally:
        _ANNOUNCE.remove(callback)


def pages_written() -> None:
    """Tell the announcing callbacks that the pages of a fast build are in place."""
    for callback in list(_ANNOUNCE):
        callback()


class QuickBuild:
    """Finds out whether the fast path applies (find), then renders and writes (run)."""

    def __init__(
        self,
        settings: Settings,
        previous: Manifest,
        *,
        nonce: str,
        base: str,
        originals: Collection[str],
        standby: Standbys | None = None,
    ) -> None:
        """standby: the search index children forked at the start of the build."""
        self.settings, self.previous, self.nonce, self.base = settings, previous, nonce, base
        self.standby = standby
        self.originals = frozenset(originals)
        self.content_dir, self.output = settings.content_path, settings.output_path
        self.whoosh: IndexChild | None = None
        """A metadata edit's Whoosh update, forked as soon as the edit is known (index_child)."""

    def find(
        self, stats: dict[str, tuple[int, int]], fingerprint: str, sha: Callable[[str], str]
    ) -> Edit | None:
        """The changed files when the fast path applies to them, else None."""
        previous = self.previous
        if not previous.quick or previous.fingerprint != fingerprint:
            return None
        if stats.keys() != previous.content.keys():
            return None
        todo: list[tuple[str, int, int]] = []
        touched: dict[str, tuple[int, int, str]] = {}
        for rel, (mtime, size) in stats.items():
            old_mtime, old_size, old_sha = previous.content[rel]
            if (mtime, size) == (old_mtime, old_size) and mtime + RACY_NS < previous.scanned_ns:
                continue
            digest = sha(rel)
            if digest == old_sha:
                touched[rel] = (mtime, size, digest)
            elif len(todo) >= QUICK_MAX:
                return None
            else:
                todo.append((rel, mtime, size))
        state = load_state(self.settings.state_path)
        if state is None or state.token != previous.quick:
            return None
        parsed = parse_files(self.content_dir, todo, self._known_bodies([r for r, _, _ in todo]))
        meta = False
        for item in parsed:
            slug = state.slugs.get(item.rel)
            if item.article is None or item.html is None or item.article.slug != slug:
                return None
            if previous.articles.get(slug) != previous.content[item.rel][2]:
                return None  # the file did not own its slug (a duplicate)
            links = links_of(state, slug)
            if links is None:
                return None
            meta = meta or links[0] != external_digest(item.article)
        return Edit(parsed, touched, state, meta)

    def _known_bodies(self, rels: list[str]) -> dict[str, str]:
        """Body Markdown -> HTML of the changed files as the last build read them (from the
        content cache): an edit of the front matter alone need not render the body again."""
        cache = open_cache(self.settings.state_path)
        try:
            rows = cache.rows_of(rels)
            was = {
                row.sha: row.article
                for rel, row in rows.items()
                if row.article is not None and row.sha == self.previous.content[rel][2]
            }
            html = cache.bodies(was)
        finally:
            cache.close()
        return {pickle.loads(was[sha]).body: text for sha, text in html.items()}

    def remember_parsed(self, edit: Edit, scanned_ns: int) -> None:
        """Put the edited files' parses and the touched files' times in the content cache."""
        cache = open_cache(self.settings.state_path)
        try:
            cache.store(edit.parsed, scanned_ns)
            cache.touch({rel: (m, s) for rel, (m, s, _) in edit.touched.items()}, scanned_ns)
        finally:
            cache.close()

    def site_intact(self) -> bool:
        """Whether the site folder holds exactly the files the last build wrote (True when the
        Whoosh child came from the standby: it checked, and its wait says so)."""
        whoosh = None if self.standby is None else self.standby.whoosh
        if whoosh is not None and whoosh.sent:
            return True
        return site_files(self.output) == self.previous.outputs.keys()

    def run(
        self,
        edit: Edit,
        scanned_ns: int,
        reporter: Reporter,
        on_rendered: Callable[[str], None] | None = None,
    ) -> tuple[int, int] | None:
        """Render into memory, update search, replace the changed files; (written, reused).

        In a fresh process (no articles remembered) the Whoosh update, which needs every
        article, runs in a forked child while this process renders the pages from the few
        articles they show and updates the client index from the edited articles alone.
        """
        if edit.meta:
            from archiver.quickmeta import run_meta

            if remembered(self.settings.state_path, edit.state.token) is None:
                # a fresh process: the Whoosh update needs nothing but the edited articles,
                # so it starts before the planning that needs every article
                self.whoosh = IndexChild.start(
                    self.settings, edit.state, _edited(edit), reporter, standby=self.standby
                )
            try:
                return run_meta(self, edit, scanned_ns, reporter, on_rendered)
            finally:
                if self.whoosh is not None:  # not taken: the normal build runs after it ends
                    self.whoosh.reap()
                    self.whoosh = None
        token = secrets.token_hex(8)
        edited = _edited(edit)
        articles = self._remembered(edit, edited)
        child = None
        if articles is None:
            job = ClientJob(self.previous.quick, token, self.previous.outputs)
            child = IndexChild.start(
                self.settings, edit.state, edited, reporter, job, standby=self.standby
            )
            if child is None:  # no fork here: everything in this process
                articles = self._articles(edit)
                if articles is None:
                    return None
        defer = child is None and articles is not None and bool(_ANNOUNCE)
        search: ClientResult | None = None
        try:
            if not self.site_intact():  # checked while the children work
                return None
            shown = articles if articles is not None else self._shown(edit, edited)
            if shown is None:
                shown = articles = self._articles(edit)
            if shown is None:
                return None
            sha_of = dict(self.previous.articles)
            sha_of.update((slug, p.sha) for p in edit.parsed for slug in _slug_of(p))
            pages, embedding = self._render(edit, shown, sha_of)
            writes = {path: (digest, data) for path, (digest, data) in pages.items()}
            if child is not None:
                if not child.wait():
                    return None  # the child could not read the snapshot: normal build
            elif articles is not None and not defer:
                self._index(articles, set(edited), reporter)
            search = child.client if child is not None else None
            if search is None and not defer:  # the child's did not apply (or no child)
                search = self._client(edit, edited, articles, token)
                if search is None:
                    return None
            self.remember_parsed(edit, scanned_ns)
            self._write(writes, set(), on_rendered, pages.keys())
            if defer:  # a failure from here on leaves no manifest: the next build is a full one
                pages_written()  # the browser reloads while the search indexes are updated
                search = self._client(edit, edited, articles, token)
                if search is None:
                    raise BuildError("search index update failed: article snapshot unusable")
                assert articles is not None
                self._index(articles, set(edited), reporter)
            assert search is not None
            client_writes, produced = search
            gone = set(edit.state.search) - produced
            self._write(client_writes, gone, None, ())
            if child is not None:
                child.finish()  # the client index state it saved after handing the files over
        finally:
            if child is not None:
                child.reap()
        writes.update(client_writes)
        stored = dict(edit.state.edited)
        stored.update((slug, pickle.dumps(pathless(a), protocol=5)) for slug, a in edited.items())
        state = replace(
            edit.state, embedding=embedding, search=tuple(sorted(produced)), edited=stored
        )
        self._save(edit, state, token, scanned_ns, writes, gone, sha_of)
        if articles is not None:
            remember(self.settings.state_path, state.token, articles)
        return len(writes), len(self.previous.outputs) - len(writes) - len(gone)

    def index_child(
        self, state: QuickState, edited: dict[str, Article], reporter: Reporter, job: ClientJob
    ) -> IndexChild | None:
        """The search index children of a metadata edit: the Whoosh update started early
        (run), or now, plus the client index update job."""
        child, self.whoosh = self.whoosh, None
        if child is None:
            return IndexChild.start(
                self.settings, state, edited, reporter, job, standby=self.standby
            )
        return child.add_client(self.settings, edited, job, self.standby)

    # -- steps -----------------------------------------------------------------------------

    def _remembered(self, edit: Edit, edited: dict[str, Article]) -> dict[str, Article] | None:
        """Every article, when this process remembers the last build's (archiver serve)."""
        articles = remembered(self.settings.state_path, edit.state.token)
        if articles is None:
            return None
        articles.update(edited)
        return articles if articles.keys() == set(edit.state.slugs.values()) else None

    def _articles(self, edit: Edit) -> dict[str, Article] | None:
        """Every article by slug: the snapshot, then fast-path edits, then this edit's files.

        Articles from the snapshot carry no content path (the search stage does not read it).
        """
        return all_articles(self.settings.state_path, edit.state, _edited(edit))

    def _shown(self, edit: Edit, edited: dict[str, Article]) -> dict[str, Article] | None:
        """The articles the changed pages show (themselves, related, neighbours), read from the
        content cache: each file is unchanged since the last build (find() checked its stat or
        bytes against the manifest) and its cached row is verified to hold those very bytes."""
        wanted: set[str] = set()
        for slug in edited:
            links = links_of(edit.state, slug)
            if links is None:
                return None
            _, near, up, down, _ = links
            wanted.update(s for s in (*near, up, down) if s is not None and s not in edited)
        rel_of = {slug: rel for rel, slug in edit.state.slugs.items() if slug in wanted}
        if rel_of.keys() != wanted:
            return None
        cache = open_cache(self.settings.state_path)
        try:
            rows = cache.rows_of(rel_of.values())
        finally:
            cache.close()
        shown = dict(edited)
        for slug, rel in rel_of.items():
            row = rows.get(rel)
            if row is None or row.article is None or row.sha != self.previous.content[rel][2]:
                return None
            article = pathless(pickle.loads(row.article))
            if article.slug != slug:
                return None
            shown[slug] = article
        return shown

    def _render(
        self, edit: Edit, articles: dict[str, Article], sha_of: dict[str, str]
    ) -> tuple[dict[str, tuple[str, bytes]], dict[str, tuple[str, str]]]:
        """The changed articles' pages and the pages embedding their bodies, in memory."""
        from archiver.render import PageSpec, make_contexts
        from archiver.writer import body_pattern, context_text

        state = edit.state
        changed = [(p, p.article) for p in edit.parsed if p.article is not None]
        archive = _mini_archive([a.slug for _, a in changed], articles, state)
        ctx = make_contexts(
            archive,
            self.settings,
            html_of=lambda a: body_placeholder(self.nonce, sha_of[a.slug]),
            originals=self.originals,
        )
        specs: list[tuple[PageSpec, str]] = []
        for _, article in changed:
            path = ctx.links.file(f"articles/{article.slug}")
            spec = PageSpec(path, ARTICLE_TEMPLATE, ctx.article(article, path))
            specs.append((spec, context_text(spec.context)))
        old = {self.previous.content[p.rel][2]: p.sha for p, _ in changed}
        embedding = dict(state.embedding)
        for path, (template, raw) in state.embedding.items():
            updated = raw
            for before, after in old.items():
                updated = updated.replace(
                    body_placeholder(self.nonce, before), body_placeholder(self.nonce, after)
                )
            if updated != raw:
                embedding[path] = (template, updated)
                spec = PageSpec(path, template, json.loads(updated))
                specs.append((spec, context_text(spec.context)))
        pattern = body_pattern(self.nonce, text=True)
        needed = set().union(*(pattern.findall(text) for _, text in specs))
        bodies = {p.sha: p.html for p, _ in changed if p.html is not None}
        cache = open_cache(self.settings.state_path)
        try:
            bodies.update(cache.bodies(needed - bodies.keys()))
        finally:
            cache.close()
        renderer = self._renderer(state)
        pages: dict[str, tuple[str, bytes]] = {}
        for spec, text in specs:
            digest = self._digest(state, spec.template, text)
            pages[spec.path] = (digest, renderer.render_bytes(spec, bodies))
        return pages, embedding

    def _renderer(self, state: QuickState) -> Renderer:
        """A renderer, reused across fast builds in this process while the templates (and
        everything else the fingerprint covers) stay the same: compiled templates are kept."""
        key = (self.previous.fingerprint, self.nonce, tuple(sorted(state.templates.items())))
        cached = _RENDERERS.get(self.settings.state_path)
        if cached is not None and cached[0] == key:
            return cached[1]
        renderer = Renderer(self.settings, self.output, self.nonce)
        _RENDERERS.clear()
        _RENDERERS[self.settings.state_path] = (key, renderer)
        return renderer

    def _digest(self, state: QuickState, template: str, text: str) -> str:
        """A page's input digest, exactly as the normal build computes it."""
        data = f"{self.base}{state.templates.get(template, '')}{text}"
        return hashlib.sha256(data.encode()).hexdigest()

    def _index(self, articles: dict[str, Article], changed: set[str], reporter: Reporter) -> None:
        """Update the Whoosh index in this process."""
        update_search_index(self.settings, articles, changed, reporter)

    def _client(
        self,
        edit: Edit,
        edited: dict[str, Article],
        articles: dict[str, Article] | None,
        token: str,
    ) -> tuple[dict[str, tuple[str, bytes]], set[str]] | None:
        """The client index files that changed, and all of them (None: snapshot unusable).

        The client index is updated from the edited articles alone (valid only while its saved
        state belongs to the previous build); failing that, from every article (loading the
        snapshot when they are not at hand).
        """
        client = search_module("client")
        writes: dict[str, tuple[str, bytes]] = {}
        produced: set[str] = set()
        if client is None:
            return writes, produced
        pages = client.client_pages_edited(
            edited, self.settings, generation=self.previous.quick, new_generation=token
        )
        if pages is None:
            if articles is None:
                articles = self._articles(edit)
                if articles is None:
                    return None
            from archiver.taxonomy import sort_articles

            ordered = sort_articles(articles.values())
            pages = client.client_pages(ordered, self.settings, generation=token)
        for page in pages:
            produced.add(page.path)
            digest = combine("search", hashlib.sha256(page.data).hexdigest())
            if self.previous.outputs.get(page.path) != digest:
                writes[page.path] = (digest, page.data)
        return writes, produced

    def _write(
        self,
        writes: Mapping[str, tuple[str, bytes]],
        gone: set[str],
        on_rendered: Callable[[str], None] | None,
        rendered: Collection[str],
    ) -> None:
        """Replace each changed file atomically (the manifest is gone meanwhile)."""
        forget_manifest(self.settings.state_path)
        for path, (_, data) in sorted(writes.items()):
            target = safe_join(self.output, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, data)
            if on_rendered is not None and path in rendered:
                on_rendered(path)
        for path in sorted(gone):
            with contextlib.suppress(FileNotFoundError):
                safe_join(self.output, path).unlink()

    def _save(
        self,
        edit: Edit,
        state: QuickState,
        token: str,
        scanned_ns: int,
        writes: Mapping[str, tuple[str, bytes]],
        gone: set[str],
        sha_of: dict[str, str],
    ) -> None:
        """The new fast-path state, then the manifest that points at it."""
        previous = self.previous
        content = dict(previous.content)
        content.update(edit.touched)
        content.update({p.rel: (p.mtime_ns, p.size, p.sha) for p in edit.parsed})
        outputs = {p: d for p, d in previous.outputs.items() if p not in gone}
        outputs.update({path: digest for path, (digest, _) in writes.items()})
        state.token = token
        save_state(self.settings.state_path, state)
        manifest = replace(
            previous,
            scanned_ns=scanned_ns,
            content=content,
            outputs=dict(sorted(outputs.items())),
            articles=dict(sorted(sha_of.items())),
            quick=state.token,
        )
        save_manifest(self.settings.state_path, manifest)


def _edited(edit: Edit) -> dict[str, Article]:
    """The articles of an edit's changed files, by slug."""
    return {p.article.slug: p.article for p in edit.parsed if p.article is not None}


def _slug_of(parsed: Parsed) -> tuple[str, ...]:
    """The slug of a parsed file's article (none when it is bad)."""
    return () if parsed.article is None else (parsed.article.slug,)


def _mini_archive(slugs: list[str], articles: dict[str, Article], state: QuickState) -> Archive:
    """Just enough of the archive for the changed articles' own pages (same answers as the
    full one: related, neighbours and terms come from the last full plan)."""
    from archiver.taxonomy import Archive

    by_slug: dict[str, Article] = {}
    terms: dict[str, dict[Term, tuple[Article, ...]]] = {"tags": {}, "sources": {}, "authors": {}}
    related, newer, older = {}, {}, {}
    for slug in slugs:
        links = links_of(state, slug)
        assert links is not None  # find() checked every changed article
        _, near, up, down, names = links
        related[slug], newer[slug], older[slug] = near, up, down
        for other in (slug, *near, up, down):
            if other is not None:
                by_slug[other] = articles[other]
        for kind, key, name, term_slug in names:
            terms[kind][Term(key=key, name=name, slug=term_slug)] = ()
    return Archive(
        articles=tuple(by_slug.values()),
        tags=terms["tags"],
        sources=terms["sources"],
        authors=terms["authors"],
        years={},
        undated=(),
        related=related,
        newer=newer,
        older=older,
        by_slug=by_slug,
    )
