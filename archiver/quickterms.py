"""Terms (tags, sources, authors) around a metadata edit, for the fast path (quickmeta.py):
the edited articles' terms as they were, and the pages of terms that appear or disappear."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from archiver.config import Settings
from archiver.links import paged
from archiver.model import Article, Term

NAMES: dict[str, Callable[[Article], Sequence[str]]] = {
    "tags": lambda a: a.tags,
    "sources": lambda a: (a.source,) if a.source else (),
    "authors": lambda a: a.authors,
}
"""Each taxonomy's names of an article (as taxonomy.build_archive groups them)."""


class Terms:
    """The edited articles' terms before and after the edit."""

    def __init__(
        self,
        settings: Settings,
        old: Mapping[str, Article],
        new: Mapping[str, Article],
        before_position: Mapping[str, int],
    ) -> None:
        self.settings, self.old, self.new, self.before_position = (
            settings,
            old,
            new,
            before_position,
        )

    def keys(self, names: Callable[[Article], Sequence[str]]) -> set[str]:
        """The term keys of the edited articles, before and after the edit."""
        found: set[str] = set()
        for article in (*self.old.values(), *self.new.values()):
            found |= _keys(article, names)
        found.discard("")
        return found

    def was(
        self,
        now: dict[Term, tuple[Article, ...]],
        keys: set[str],
        names: Callable[[Article], Sequence[str]],
    ) -> dict[Term, tuple[Article, ...]] | None:
        """The edited articles' terms before the edit, as group_terms made them (a new term:
        no article); None unless each still exists with the same name (then every slug is the
        same too, unless a new term takes one: slugs follow from the sorted keys and names)."""
        from archiver.taxonomy import cached_term_key

        by_key = {t.key: (t, members) for t, members in now.items()}
        was: dict[Term, tuple[Article, ...]] = {}
        for key in keys:
            if key not in by_key:
                if self.settings.base_url:
                    return None  # the sitemap lists its pages (it is not planned here)
                continue  # the term disappeared: gone() finds its pages
            term, members = by_key[key]
            kept = [a for a in members if a.slug not in self.new]
            kept += [self.old[s] for s in self.new if key in _keys(self.old[s], names)]
            if not kept:  # a new term: its pages are new files
                if self.settings.base_url:
                    return None  # the sitemap would list them (it is not planned here)
                was[term] = ()
                continue
            kept.sort(key=lambda a: self.before_position[a.slug])
            spellings: Counter[str] = Counter()
            for article in kept:  # group_terms counts each article's first spelling
                spellings[next(n for n in names(article) if cached_term_key(n) == key)] += 1
            if min(spellings.items(), key=lambda kv: (-kv[1], kv[0]))[0] != term.name:
                return None
            was[term] = tuple(kept)
        return was

    def gone(
        self,
        kind: str,
        now: dict[Term, tuple[Article, ...]],
        names: Callable[[Article], Sequence[str]],
        ordered: Sequence[Article],
    ) -> set[str] | None:
        """The pages of the terms that disappeared; None unless every term that existed
        before the edit and still does keeps its slug."""
        from archiver.taxonomy import group_terms

        before = group_terms([self.old.get(a.slug, a) for a in ordered], names)
        slugs = {t.key: t.slug for t in before}
        if any(slugs.get(t.key, t.slug) != t.slug for t in now):
            return None
        kept, per, gone = {t.key for t in now}, self.settings.per_page, set()
        for term, members in before.items():
            if term.key not in kept:
                name = f"{kind}/{term.slug}"
                count = max(1, -(-len(members) // per))
                gone.update(link_files(self.settings, name, count))
                gone.update([f"{name}.atom"] if kind == "tags" else [])
        return gone


def link_files(settings: Settings, name: str, count: int) -> list[str]:
    """The files of a paginated list of count pages."""
    from archiver.links import Links

    links = Links(pretty=settings.pretty_urls, base_url=settings.base_url)
    return [links.file(paged(name, n)) for n in range(1, count + 1)]


def _keys(article: Article, names: Callable[[Article], Sequence[str]]) -> set[str]:
    """The term keys an article's names belong to."""
    from archiver.taxonomy import cached_term_key

    return {cached_term_key(n) for n in names(article)}
