"""The metadata fast path: a title, tag, summary, source, author or date edit re-renders only
the pages that show the edited articles, byte-identical to a clean build.

It applies when every tag, source and author keeps its name and slug (none disappears or is
renamed; a new one may appear, its pages are new files, unless it takes another's slug), no
year or month page appears or disappears, and a date edit moves its article past at most
quickrelate.MAX_SHIFTED others (without base_url: the sitemap lists every page in article
order, and a new term's pages). Then the pages that can change are: the edited articles'
pages, their old and new neighbours' pages, the pages of articles whose related list changes
or shows an edited article, the home and term pages holding them or an article whose place
changed (every page of a term whose count changes, plus the term indexes then), the tag
feeds, the archive index and the old and new year and month pages, and the full feed. Each is
planned with the very functions of the full plan over an archive whose lists are real where
those pages read them; a page is written only when its input digest differs from the
manifest's, exactly as the normal build decides. Related lists are recomputed only where
they can change (quickrelate.py); the client search index is renumbered (quickclient.py).
Anything else returns None and the caller runs the normal incremental build.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from archiver.cache import open_cache
from archiver.links import paged
from archiver.model import Article, Term
from archiver.quick import _ANNOUNCE, pages_written
from archiver.quickchild import ClientResult, update_search_index
from archiver.quickclient import MovedClientJob
from archiver.quickorder import Before, Lazy, dated, differ, in_place, same_months, sorted_articles
from archiver.quickorder import moved as is_moved
from archiver.quickrelate import Order, relate
from archiver.quickstate import (
    Links,
    QuickState,
    external_digest,
    links_of,
    load_snapshot,
    pathless,
    remember,
    remembered,
    with_bodies,
)
from archiver.quickstate import _term_names as term_names
from archiver.quickterms import NAMES, Terms, link_files
from archiver.quickwords import load_words
from archiver.report import Reporter
from archiver.writer import body_pattern, body_placeholder, context_text

if TYPE_CHECKING:
    from archiver.pages import Contexts
    from archiver.quick import Edit, QuickBuild
    from archiver.render import PageSpec
    from archiver.taxonomy import Archive

KINDS = ("tags", "sources", "authors")
MAX_PAGES = 400
"""More pages that may change than this: the normal build."""


def run_meta(
    quick: QuickBuild,
    edit: Edit,
    scanned_ns: int,
    reporter: Reporter,
    on_rendered: Callable[[str], None] | None,
) -> tuple[int, int] | None:
    """The metadata fast path; (written, reused), or None when the normal build must run."""
    import secrets

    state = edit.state
    new = {p.article.slug: p.article for p in edit.parsed if p.article is not None}
    token = secrets.token_hex(8)
    if quick.whoosh is not None:  # the client standby works out the order itself: it can start
        early = MovedClientJob(quick.previous.quick, token, quick.previous.outputs)
        quick.whoosh.add_client(quick.settings, new, early, quick.standby, place=True)
    articles = remembered(quick.settings.state_path, state.token)
    lite = articles is None  # planning reads no body: they stay on disk
    if articles is None:
        articles = load_snapshot(quick.settings.state_path, state, bodies=False)
        if articles is not None and not _sized(articles, state):
            lite, articles = False, load_snapshot(quick.settings.state_path, state)
    if articles is None or articles.keys() != set(state.slugs.values()):
        return None
    old = {slug: articles[slug] for slug in new}
    moved = frozenset(s for s in new if is_moved(old[s], new[s]))
    if moved and quick.settings.base_url:
        return None  # the sitemap lists every page in article order (not planned here)
    before = sorted_articles(articles) if moved else None
    articles.update(new)
    plan = _Plan(quick, edit, articles, old, new, Before(before, moved))
    if not plan.prepare():
        return None
    ordered = None if in_place(plan.old, plan.new) else plan.ordered  # the client update's
    job = MovedClientJob(quick.previous.quick, token, quick.previous.outputs, ordered)
    child = quick.index_child(state, new, reporter, job)  # Whoosh's may have started already
    defer = child is None and bool(_ANNOUNCE)  # serve: search after the pages are announced
    searched, listed = articles, plan.ordered  # what in-process search updates read
    if child is None and lite:  # they need the bodies the planning snapshot left out
        full = with_bodies(quick.settings.state_path, state, plan.ordered)
        if full is None:
            return None
        searched, listed = {a.slug: a for a in full}, tuple(full)
    search: ClientResult | None = None
    try:
        if not plan.relate() or not quick.site_intact():  # while the children work
            return None
        specs = plan.specs()
        if specs is None:
            return None
        pages = plan.render(specs)
        if pages is None:
            return None
        if child is not None and not child.wait():
            return None
        search = child.client if child is not None else None
        if search is None and not defer:
            search = job.here(quick.settings, new, listed)
        if child is None and not defer:
            update_search_index(quick.settings, searched, set(new), reporter)
        quick.remember_parsed(edit, scanned_ns)
        quick._write(pages, plan.gone, on_rendered, pages.keys())
        if defer:  # a failure from here on leaves no manifest: the next build is a full one
            pages_written()  # the browser reloads while the search indexes are updated
            search = job.here(quick.settings, new, listed)
            update_search_index(quick.settings, searched, set(new), reporter)
        assert search is not None
        client_writes, produced = search
        quick._write(client_writes, set(state.search) - produced, None, ())
        if child is not None:
            child.finish()  # the client index state it saved after handing the files over
    finally:
        if child is not None:
            child.reap()
    gone = set(state.search) - produced | plan.gone
    writes = {**pages, **client_writes}
    stored = dict(state.edited)
    stored.update((slug, pickle.dumps(pathless(a), protocol=5)) for slug, a in new.items())
    links = dict(state.links)
    links.update(plan.links())
    embedding = dict(state.embedding)
    embedding.update(plan.embedding)
    saved = replace(
        state, embedding=embedding, search=tuple(sorted(produced)), edited=stored, links=links
    )
    sha_of = dict(quick.previous.articles)
    sha_of.update((p.article.slug, p.sha) for p in edit.parsed if p.article is not None)
    quick._save(edit, saved, token, scanned_ns, writes, gone, sha_of)
    if searched is not articles or not lite:  # never remember articles without bodies
        remember(quick.settings.state_path, saved.token, searched)
    return len(writes), len(quick.previous.outputs) - len(writes) - len(gone)


def _sized(articles: dict[str, Article], state: QuickState) -> bool:
    """Whether the pages can show every article without its body: the last full build
    recorded its size, and its summary unless it has its own (or it has a body)."""
    sizes, summaries = state.sizes, state.summaries
    return all(
        "body" in a.__dict__ or (s in sizes and (a.summary or s in summaries))
        for s, a in articles.items()
    )


class _Plan:
    """The new archive (lists real only where wanted) and the pages that may change."""

    def __init__(
        self,
        quick: QuickBuild,
        edit: Edit,
        articles: dict[str, Article],
        old: dict[str, Article],
        new: dict[str, Article],
        before: Before,
    ) -> None:
        self.quick, self.edit, self.state = quick, edit, edit.state
        self.settings = quick.settings
        self.articles, self.old, self.new, self.before = articles, old, new, before
        self.embedding: dict[str, tuple[str, str]] = {}
        self.related: dict[str, tuple[str, ...]] = {}
        self.changed_related: set[str] = set()
        self.showing: set[str] = set()
        self.fresh: set[str] = set()
        """Paths of the pages of new terms (new files)."""
        self.gone: set[str] = set()
        """Paths of the pages of terms that disappeared (removed files)."""

    # -- the archive ---------------------------------------------------------------------

    def prepare(self) -> bool:
        """Order and group; False when the edit is structural (normal build)."""
        from archiver.taxonomy import group_terms, sort_articles

        self.ordered = ordered = sort_articles(self.articles.values())
        self.position = {a.slug: i for i, a in enumerate(ordered)}
        before = self.before.ordered or ordered
        self.order = Order(
            ordered,
            self.position,
            before,
            {a.slug: i for i, a in enumerate(before)} if self.before.moved else self.position,
            self.before.moved,
        )
        self.terms: dict[str, dict[Term, tuple[Article, ...]]] = {}
        self.was: dict[str, dict[Term, tuple[Article, ...]]] = {}
        self.touched: dict[str, set[str]] = {}
        terms = Terms(self.settings, self.old, self.new, self.order.before_position)
        for kind, names in NAMES.items():
            now = group_terms(ordered, names)
            keys = terms.keys(names)
            was = terms.was(now, keys, names)
            if was is None:
                return False  # a term changed its name
            if len(was) < len(keys) or any(not a for a in was.values()):
                gone = terms.gone(kind, now, names, ordered)
                if gone is None:
                    return False  # a new term took a slug another had (or a lost one freed it)
                self.gone |= gone
            self.terms[kind], self.was[kind] = now, was
            self.touched[kind] = keys
        if self.order.shifted() is None:
            return False  # moved too far: too many related lists and pages to redo
        return set(self.state.embedding) <= {"feed.atom"}

    def relate(self) -> bool:
        """Related articles of every article whose list the edit can change (False: the
        normal build must run)."""
        count = self.settings.related_count
        state_dir, token = self.settings.state_path, self.state.snapshot
        found = relate(
            self.order, self.old, self.new, self.terms["tags"], self.state, count,
            lambda: load_words(state_dir, token),
        )  # fmt: skip
        if found is None:
            return False
        self.related, self.changed_related, self.showing = (
            found.related,
            found.changed,
            found.showing,
        )
        return True

    def archive(self) -> Archive | None:
        """The new archive: every list real where a wanted page reads it (None: a year or
        month page would appear or disappear)."""
        from archiver.taxonomy import Archive, by_month, undated_articles

        per, ordered = self.settings.per_page, self.ordered
        places = {self.position[s] for s in self.new}
        places.update(differ(self.order.before, ordered))  # articles that changed place
        self.home_pages = frozenset(i // per + 1 for i in places)
        years = by_month(ordered)
        dates = [a.sort_date for a in (*self.new.values(), *self.old.values()) if dated(a)]
        self.years = {d.year for d in dates}
        self.months = {(d.year, d.month) for d in dates}
        if self.order.moved and not same_months(years, self.old, self.new):
            return None
        lazy_years: dict[int, dict[int, Sequence[Article]]] = {}
        for year, months in years.items():
            lazy_years[year] = {
                m: a if year in self.years else Lazy(a, per, frozenset()) for m, a in months.items()
            }
        slugs = [a.slug for a in ordered]
        return Archive(
            articles=ordered,
            tags=self.terms["tags"],
            sources=self.terms["sources"],
            authors=self.terms["authors"],
            years=lazy_years,  # type: ignore[arg-type]
            undated=undated_articles(ordered),
            related=self.related,
            newer={s: (slugs[i - 1] if i > 0 else None) for i, s in enumerate(slugs)},
            older={s: (slugs[i + 1] if i + 1 < len(slugs) else None) for i, s in enumerate(slugs)},
            by_slug=self.articles,
        )

    # -- the pages -----------------------------------------------------------------------

    def specs(self) -> list[PageSpec] | None:
        """Every page that may change, planned exactly as the full plan plans it."""
        from archiver import render
        from archiver.render import PageSpec, make_contexts

        archive = self.archive()
        if archive is None:
            return None
        sha_of = dict(self.quick.previous.articles)
        sha_of.update((p.article.slug, p.sha) for p in self.edit.parsed if p.article is not None)
        self.sha_of = sha_of
        nonce = self.quick.nonce
        ctx = make_contexts(
            archive,
            self.settings,
            html_of=lambda a: body_placeholder(nonce, sha_of[a.slug]),
            originals=self.quick.originals,
        )
        self.ctx = ctx
        fresh = self.state.edited.keys() | self.new.keys()  # changed since the full build
        ctx._sizes.update((s, v) for s, v in self.state.sizes.items() if s not in fresh)
        ctx._summaries.update((s, v) for s, v in self.state.summaries.items() if s not in fresh)
        links = ctx.links
        pages: list[PageSpec] = []
        for slug in sorted(self._article_pages(archive)):
            path = links.file(f"articles/{slug}")
            pages.append(PageSpec(path, "article.html", ctx.article(self.articles[slug], path)))
        home = Lazy(archive.articles, self.settings.per_page, self.home_pages)
        listed = render._listing(ctx, "index", "index.html", home, kind="home", title="")
        pages += [listed[n - 1] for n in sorted(self.home_pages)]
        for kind, heading, label in render.TAXONOMIES:
            pages += self._taxonomy(ctx, kind, heading, label)
        wanted = {links.file("archive/index")}
        wanted |= {links.file(f"archive/{y}") for y in self.years}
        wanted |= {links.file(f"archive/{y}/{m:02d}") for y, m in self.months}
        pages += [s for s in render._archive_pages(ctx) if s.path in wanted]
        pages += [s for s in render._special_pages(ctx, self.settings) if s.path == "feed.atom"]
        if len(pages) > MAX_PAGES:
            return None  # e.g. a date moved across years: the normal build is as quick
        for spec in pages:
            if spec.path in self.state.embedding:
                self.embedding[spec.path] = (spec.template, context_text(spec.context))
        return pages

    def _article_pages(self, archive: Archive) -> set[str]:
        """Edited articles, their neighbours, articles whose related list changed or shows them."""
        slugs = set(self.new) | self.changed_related
        for slug in self.new:
            slugs.update(s for s in (archive.newer[slug], archive.older[slug]) if s)
        for slug in self.order.moved:  # its old neighbours are now each other's
            links = links_of(self.state, slug)
            assert links is not None  # every article of the last build has its links
            slugs.update(s for s in links[2:4] if s)
        slugs.update(s for s in self.showing if set(self.related[s]) & self.new.keys())
        for slug in slugs - self.related.keys():
            links = links_of(self.state, slug)
            assert links is not None  # every article of the last build has its links
            self.related[slug] = links[1]
        self.article_slugs = slugs
        return slugs

    def _taxonomy(self, ctx: Contexts, kind: str, heading: str, label: str) -> list[PageSpec]:
        """The index of a taxonomy and every page (and feed) of its touched terms."""
        from archiver import render

        touched = self.touched[kind]
        if not touched:
            return []
        terms = self.terms[kind]
        per = self.settings.per_page
        was = self.was[kind]
        index: list[PageSpec] = []
        counted = any(len(was[t]) != len(a) for t, a in terms.items() if t.key in touched)
        if counted or len(was) < len(touched):  # counts changed, or a term disappeared
            # counts changed: the index (names, counts, links of every term) is planned, the
            # pages of the other terms get empty lists and are dropped
            lazy = {t: Lazy(a, per, frozenset()) for t, a in terms.items()}
            index = render._taxonomy(ctx, lazy, kind, heading, label)[:1]  # type: ignore[arg-type]
        real: dict[Term, Sequence[Article]] = {}
        skip: set[str] = set()  # pages of a term that were not planned for real
        for term, members in terms.items():
            if term.key not in touched:
                continue
            if len(was[term]) != len(members):
                real[term] = members  # counts (and places) change on every page
                name = f"{kind}/{term.slug}"  # pages (and a new tag's feed) come or go
                before = max(1, -(-len(was[term]) // per)) if was[term] else 0
                after = max(1, -(-len(members) // per))
                files = link_files(self.settings, name, max(before, after))
                self.fresh.update(files[before:after])
                self.gone.update(files[after:before])
                self.fresh.update([f"{name}.atom"] if kind == "tags" and not before else [])
                continue
            places = [i for i, a in enumerate(members) if a.slug in self.new]
            places += differ(was[term], members)  # articles that changed place
            wanted = frozenset(i // per + 1 for i in places)
            real[term] = Lazy(members, per, wanted, feed=True)
            pages = range(1, -(-len(members) // per) + 1)
            name = f"{kind}/{term.slug}"
            skip.update(ctx.links.file(paged(name, n)) for n in pages if n not in wanted)
        planned = render._taxonomy(ctx, real, kind, heading, label)[1:]  # type: ignore[arg-type]
        return [*index, *(spec for spec in planned if spec.path not in skip)]

    def render(self, specs: list[PageSpec]) -> dict[str, tuple[str, bytes]] | None:
        """The pages whose input digest changed, rendered (None: an unknown page or template)."""
        quick, state, outputs = self.quick, self.state, self.quick.previous.outputs
        if not self.gone <= outputs.keys():
            return None
        todo: list[tuple[PageSpec, str, str]] = []
        for spec in specs:
            known = spec.path in outputs or spec.path in self.fresh
            if not known or spec.template not in state.templates:
                return None
            text = context_text(spec.context)
            digest = quick._digest(state, spec.template, text)
            if outputs.get(spec.path) != digest:
                todo.append((spec, text, digest))
        pattern = body_pattern(quick.nonce, text=True)
        needed: set[str] = set().union(*(pattern.findall(text) for _, text, _ in todo))
        bodies = {p.sha: p.html for p in self.edit.parsed if p.html is not None}
        cache = open_cache(self.settings.state_path)
        try:
            bodies.update(cache.bodies(needed - bodies.keys()))
        finally:
            cache.close()
        if not needed <= bodies.keys():
            return None
        renderer = quick._renderer(state)
        return {
            spec.path: (digest, renderer.render_bytes(spec, bodies)) for spec, _, digest in todo
        }

    def links(self) -> dict[str, bytes]:
        """The fast-path links of every article whose related list, neighbours or front
        matter changed."""
        ctx, out = self.ctx, {}
        slugs = set(self.new) | self.changed_related
        if self.order.moved:
            slugs |= self.article_slugs  # the old and new neighbours among them
        newer, older = ctx.archive.newer, ctx.archive.older
        for slug in slugs:
            article = self.articles[slug]
            old = links_of(self.state, slug)
            assert old is not None  # _relate read every one of them
            terms = old[4]
            if slug in self.new:
                terms = tuple(
                    (kind, term.key, term.name, term.slug)
                    for kind, names in term_names(article)
                    for name in names
                    if (term := ctx.term_of(kind, name)) is not None
                )
            digest = external_digest(article, (ctx.summary(article), ctx.size(article)[0]))
            links: Links = (digest, self.related[slug], newer[slug], older[slug], terms)
            out[slug] = pickle.dumps(links, protocol=pickle.HIGHEST_PROTOCOL)
        return out


__all__ = ["Lazy", "run_meta"]
