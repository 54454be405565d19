"""The metadata fast path: a title, tag, summary, source or author edit re-renders only the
pages that show the edited articles, byte-identical to a clean build.

It applies when the edited articles keep their slug and dates (so the article order, the
neighbours, the date archive and the sitemap stay as they were) and every tag, source and
author keeps its name and slug (no term appears, disappears or is renamed). Then the pages
that can change are: the edited articles' pages, their neighbours' pages, the pages of articles
whose related list changes or shows an edited article, the home page(s) holding them, every
page of each term they gain, keep or lose (plus the term indexes and tag feeds), the archive
index and their year and month pages, and the full feed. Each is planned with the very
functions of the full plan over an archive whose lists are real where those pages read them;
a page is written only when its input digest differs from the manifest's, exactly as the
normal build decides. Related articles are recomputed only for the articles that share a
tag or title word whose posting the edit changed (every other score is unchanged).
Anything else returns None and the caller runs the normal incremental build.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from math import log
from typing import TYPE_CHECKING, overload

from archiver.cache import open_cache
from archiver.links import paged
from archiver.manifest import combine
from archiver.model import Article, Term
from archiver.quick import _ANNOUNCE, pages_written
from archiver.quickstate import (
    ClientJob,
    ClientResult,
    IndexChild,
    Links,
    external_digest,
    links_of,
    load_snapshot,
    pathless,
    remember,
    remembered,
    search_module,
    update_search_index,
)
from archiver.quickstate import _term_names as term_names
from archiver.report import Reporter
from archiver.writer import body_placeholder

if TYPE_CHECKING:
    from archiver.pages import Contexts
    from archiver.quick import Edit, QuickBuild
    from archiver.render import PageSpec
    from archiver.taxonomy import Archive

KINDS = ("tags", "sources", "authors")


class Lazy(Sequence[Article]):
    """A list of articles with its real length whose slices are real only on wanted pages.

    The full plan's functions read a list's length for counts and pagination; pages nobody
    wants then get empty lists (cheap), and are never written.
    """

    def __init__(
        self, items: tuple[Article, ...], per: int, wanted: frozenset[int], feed: bool = False
    ) -> None:
        self.items, self.per, self.wanted, self.feed = items, per, wanted, feed

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, key: int) -> Article: ...
    @overload
    def __getitem__(self, key: slice) -> Sequence[Article]: ...
    def __getitem__(self, key: int | slice) -> Article | Sequence[Article]:
        if not isinstance(key, slice):
            return self.items[key]
        if key.start is None:  # a feed's head
            return self.items[key] if self.feed else ()
        start = key.start
        if start % self.per == 0 and start // self.per + 1 in self.wanted:
            return self.items[key]
        return ()

    def __iter__(self) -> Iterator[Article]:
        return iter(())


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
    articles = remembered(quick.settings.state_path, state.token)
    if articles is None:
        articles = load_snapshot(quick.settings.state_path, state)
    if articles is None or articles.keys() != set(state.slugs.values()):
        return None
    old = {slug: articles[slug] for slug in new}
    if any(_moved(old[s], new[s]) for s in new):
        return None
    articles.update(new)
    plan = _Plan(quick, edit, articles, old, new)
    if not plan.prepare():
        return None
    token = secrets.token_hex(8)
    same_facets = all(
        (o.tags, o.source) == (new[s].tags, new[s].source) for s, o in old.items()
    )  # the client index can then be updated from the edited articles alone, in the child
    ordered = None if same_facets else plan.ordered
    job = ClientJob(quick.previous.quick, token, quick.previous.outputs, ordered)
    child = IndexChild.start(quick.settings, state, new, reporter, job)
    defer = child is None and bool(_ANNOUNCE)  # serve: search after the pages are announced
    search: ClientResult | None = None
    try:
        if not quick.site_intact():  # checked while the children work
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
            search = _client(quick, plan, token)
        if child is None and not defer:
            update_search_index(quick.settings, articles, set(new), reporter)
    finally:
        if child is not None:
            child.reap()
    quick.remember_parsed(edit, scanned_ns)
    quick._write(pages, set(), on_rendered, pages.keys())
    if defer:  # a failure from here on leaves no manifest: the next build is a full one
        pages_written()  # the browser reloads while the search indexes are updated
        search = _client(quick, plan, token)
        update_search_index(quick.settings, articles, set(new), reporter)
    assert search is not None
    client_writes, produced = search
    gone = set(state.search) - produced
    quick._write(client_writes, gone, None, ())
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
    remember(quick.settings.state_path, saved.token, articles)
    return len(writes), len(quick.previous.outputs) - len(writes) - len(gone)


def _moved(old: Article, new: Article) -> bool:
    """Whether an edit changes what orders and dates the article (its place in every list)."""
    return (old.published, old.archived, old.slug) != (new.published, new.archived, new.slug)


class _Plan:
    """The new archive (lists real only where wanted) and the pages that may change."""

    def __init__(
        self,
        quick: QuickBuild,
        edit: Edit,
        articles: dict[str, Article],
        old: dict[str, Article],
        new: dict[str, Article],
    ) -> None:
        self.quick, self.edit, self.state = quick, edit, edit.state
        self.settings = quick.settings
        self.articles, self.old, self.new = articles, old, new
        self.embedding: dict[str, tuple[str, str]] = {}
        self.related: dict[str, tuple[str, ...]] = {}
        self.changed_related: set[str] = set()

    # -- the archive ---------------------------------------------------------------------

    def prepare(self) -> bool:
        """Order, group and relate; False when the edit is structural (normal build)."""
        from archiver.taxonomy import group_terms, sort_articles

        self.ordered = ordered = sort_articles(self.articles.values())
        self.position = {a.slug: i for i, a in enumerate(ordered)}
        self.terms: dict[str, dict[Term, tuple[Article, ...]]] = {}
        self.was: dict[str, dict[Term, tuple[Article, ...]]] = {}
        self.touched: dict[str, set[str]] = {}
        for kind, names in _NAMES.items():
            now = group_terms(ordered, names)
            keys = set().union(*(_keys(a, names) for a in (*self.old.values(), *self.new.values())))
            keys.discard("")
            was = self._was(now, keys, names)
            if was is None:
                return False  # a term appeared, disappeared or changed its name (or slug)
            self.terms[kind], self.was[kind] = now, was
            self.touched[kind] = keys
        if not self._relate():
            return False
        return set(self.state.embedding) <= {"feed.atom"}

    def _was(
        self,
        now: dict[Term, tuple[Article, ...]],
        keys: set[str],
        names: Callable[[Article], Sequence[str]],
    ) -> dict[Term, tuple[Article, ...]] | None:
        """The edited articles' terms before the edit, as group_terms made them; None unless
        each still exists with the same name (then every slug is the same too: slugs follow
        from the sorted keys and the names alone)."""
        from archiver.taxonomy import cached_term_key

        by_key = {t.key: (t, members) for t, members in now.items()}
        was: dict[Term, tuple[Article, ...]] = {}
        for key in keys:
            if key not in by_key:
                return None  # the term disappeared
            term, members = by_key[key]
            kept = [a for a in members if a.slug not in self.new]
            kept += [self.old[s] for s in self.new if key in _keys(self.old[s], names)]
            if not kept:
                return None  # the term is new
            kept.sort(key=lambda a: self.position[a.slug])
            spellings: Counter[str] = Counter()
            for article in kept:  # group_terms counts each article's first spelling
                spellings[next(n for n in names(article) if cached_term_key(n) == key)] += 1
            if min(spellings.items(), key=lambda kv: (-kv[1], kv[0]))[0] != term.name:
                return None
            was[term] = tuple(kept)
        return was

    def _relate(self) -> bool:
        """Related articles of the edited ones and of every article sharing a changed feature."""
        from archiver.taxonomy import RELATED_WINDOW, _best, _features, _window

        count = self.settings.related_count
        ordered = self.ordered
        self.showing: set[str] = set()
        same = all(
            (self.old[s].title, _features(self.old[s])) == (a.title, _features(a))
            for s, a in self.new.items()
        )
        if same:  # no feature and no title changed: no related list and no lite either
            return True
        postings = self._postings()
        known: dict[int, list[str]] = {}

        def features_of(index: int) -> list[str]:
            """taxonomy._features of the article at index (computed once)."""
            if index not in known:
                known[index] = _features(ordered[index])
            return known[index]

        shift: dict[str, int] = defaultdict(int)  # posting length now minus before
        near: dict[str, set[str]] = {}
        for slug in self.new:
            before, after = set(_features(self.old[slug])), set(features_of(self.position[slug]))
            for feature in before ^ after:
                shift[feature] += 1 if feature in after else -1
            near[slug] = before | after
        # a feature unused for scoring before and after (too rare or too common) changes nothing
        changed = {
            f
            for f in shift
            if _used(f, len(postings.get(f, ()))) or _used(f, len(postings.get(f, ())) - shift[f])
        }
        affected = {self.position[s] for s in self.new}
        for feature in changed:
            affected.update(postings.get(feature, ()))
        total = len(ordered) + 1
        weight: dict[str, float] = {}
        for index in sorted(affected):
            scores: dict[int, float] = defaultdict(float)
            for feature in features_of(index):
                w = _weight(feature, postings, total, weight)
                if w is None:
                    continue
                for other in _window(postings[feature], index):
                    scores[other] += w
            self.related[ordered[index].slug] = tuple(
                ordered[i].slug for i in _best(scores, index, count)
            )
        # pages that may show an edited article as related: those sharing a used feature
        # with it whose window can reach it (a window spans RELATED_WINDOW + 1 entries)
        reach = RELATED_WINDOW + 2
        showing: set[str] = set()
        for slug, around in near.items():
            at_slug = self.position[slug]
            for feature in around:
                posting = postings.get(feature, [])
                if not (_used(feature, len(posting)) or _used(feature, len(posting) + 1)):
                    continue
                at = bisect_left(posting, at_slug)
                showing.update(ordered[i].slug for i in posting[max(0, at - reach) : at + reach])
        for slug in showing | set(self.related):
            links = links_of(self.state, slug)
            if links is None:
                return False
            if slug not in self.related:
                self.related[slug] = links[1]
            elif self.related[slug] != links[1]:
                self.changed_related.add(slug)
        self.showing = showing
        return True

    def _postings(self) -> dict[str, list[int]]:
        """Feature -> ascending positions of the articles having it, as related_articles
        indexes them: tag keys from the grouped tags, significant title words from a scan."""
        from archiver.taxonomy import _STOP, _WORD

        position = self.position
        postings: dict[str, list[int]] = {
            "t:" + term.key: [position[a.slug] for a in members]
            for term, members in self.terms["tags"].items()
        }
        words: dict[str, list[int]] = defaultdict(list)
        for index, article in enumerate(self.ordered):
            for word in set(_WORD.findall(article.title.casefold())) - _STOP:
                words["w:" + word].append(index)
        postings.update(words)
        return postings

    def archive(self) -> Archive:
        """The new archive: every list real where a wanted page reads it."""
        from archiver.taxonomy import Archive, by_month

        per, ordered = self.settings.per_page, self.ordered
        homes = frozenset(self.position[s] // per + 1 for s in self.new)
        self.home_pages = homes
        years = by_month(ordered)
        self.years = {self.articles[s].sort_date.year for s in self.new if _dated(self.new[s])}
        self.months = {
            (d.year, d.month) for s in self.new if _dated(a := self.new[s]) for d in (a.sort_date,)
        }
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
            undated=tuple(a for a in ordered if not _dated(a)),
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
        for spec in pages:
            if spec.path in self.state.embedding:
                self.embedding[spec.path] = (spec.template, json.dumps(spec.context))
        return pages

    def _article_pages(self, archive: Archive) -> set[str]:
        """Edited articles, their neighbours, articles whose related list changed or shows them."""
        slugs = set(self.new) | self.changed_related
        for slug in self.new:
            slugs.update(s for s in (archive.newer[slug], archive.older[slug]) if s)
        slugs.update(s for s in self.showing if set(self.related[s]) & self.new.keys())
        for slug in slugs - self.related.keys():
            links = links_of(self.state, slug)
            assert links is not None  # every article of the last build has its links
            self.related[slug] = links[1]
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
        if any(len(was[t]) != len(a) for t, a in terms.items() if t.key in touched):
            # counts changed: the index (names, counts, links of every term) is planned, the
            # pages of the other terms get empty lists and are dropped
            lazy = {t: Lazy(a, per, frozenset()) for t, a in terms.items()}
            index = render._taxonomy(ctx, lazy, kind, heading, label)[:1]  # type: ignore[arg-type]
        real: dict[Term, Sequence[Article]] = {}
        skip: set[str] = set()  # pages of a term that were not planned for real
        for term, members in terms.items():
            if term.key not in touched:
                continue
            if [a.slug for a in was[term]] != [a.slug for a in members]:
                real[term] = members  # counts (and places) change on every page
                continue
            places = [i for i, a in enumerate(members) if a.slug in self.new]
            wanted = frozenset(i // per + 1 for i in places)
            real[term] = Lazy(members, per, wanted, feed=True)
            pages = range(1, -(-len(members) // per) + 1)
            name = f"{kind}/{term.slug}"
            skip.update(ctx.links.file(paged(name, n)) for n in pages if n not in wanted)
        planned = render._taxonomy(ctx, real, kind, heading, label)[1:]  # type: ignore[arg-type]
        return [*index, *(spec for spec in planned if spec.path not in skip)]

    def render(self, specs: list[PageSpec]) -> dict[str, tuple[str, bytes]] | None:
        """The pages whose input digest changed, rendered (None: an unknown page or template)."""
        from archiver.writer import body_pattern

        quick, state, outputs = self.quick, self.state, self.quick.previous.outputs
        todo: list[tuple[PageSpec, str, str]] = []
        for spec in specs:
            if spec.path not in outputs or spec.template not in state.templates:
                return None
            text = json.dumps(spec.context, sort_keys=True, separators=(",", ":"))
            digest = quick._digest(state, spec.template, text)
            if outputs[spec.path] != digest:
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
        """The fast-path links of every article whose related list or front matter changed."""
        ctx, out = self.ctx, {}
        for slug in set(self.new) | self.changed_related:
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
            links: Links = (digest, self.related[slug], old[2], old[3], terms)
            out[slug] = pickle.dumps(links, protocol=pickle.HIGHEST_PROTOCOL)
        return out


def _client(
    quick: QuickBuild, plan: _Plan, token: str
) -> tuple[dict[str, tuple[str, bytes]], set[str]]:
    """The client index files that changed, and all of them.

    The edited-only update is valid while the edited articles keep their tags and source
    (dates are unchanged here); otherwise every article goes through the (cached) full one.
    """
    client = search_module("client")
    writes: dict[str, tuple[str, bytes]] = {}
    produced: set[str] = set()
    if client is None:
        return writes, produced
    pages = None
    if all(
        (o.tags, o.source) == (plan.new[s].tags, plan.new[s].source) for s, o in plan.old.items()
    ):
        pages = client.client_pages_edited(
            plan.new, quick.settings, generation=quick.previous.quick, new_generation=token
        )
    if pages is None:
        pages = client.client_pages(plan.ordered, quick.settings, generation=token)
    for page in pages:
        produced.add(page.path)
        digest = combine("search", hashlib.sha256(page.data).hexdigest())
        if quick.previous.outputs.get(page.path) != digest:
            writes[page.path] = (digest, page.data)
    return writes, produced


_NAMES: dict[str, Callable[[Article], Sequence[str]]] = {
    "tags": lambda a: a.tags,
    "sources": lambda a: (a.source,) if a.source else (),
    "authors": lambda a: a.authors,
}


def _keys(article: Article, names: Callable[[Article], Sequence[str]]) -> set[str]:
    """The term keys an article's names belong to."""
    from archiver.taxonomy import cached_term_key

    return {cached_term_key(n) for n in names(article)}


def _dated(article: Article) -> bool:
    """Whether an article is in the date archive."""
    return article.published is not None or article.archived is not None


def _used(feature: str, length: int) -> bool:
    """Whether taxonomy.related_articles scores a feature whose posting has this length."""
    from archiver.taxonomy import MAX_WORD_DF

    return length > 1 and (feature[0] == "t" or length <= MAX_WORD_DF)


def _weight(
    feature: str, postings: dict[str, list[int]], total: int, cache: dict[str, float]
) -> float | None:
    """A feature's weight exactly as taxonomy.related_articles computes it (None: unused)."""
    if feature in cache:
        return cache[feature]
    posting = postings[feature]
    if not _used(feature, len(posting)):
        return None
    cache[feature] = value = log(total / len(posting)) * (1.0 if feature[0] == "t" else 0.35)
    return value


__all__ = ["Lazy", "run_meta"]
