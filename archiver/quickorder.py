"""Ordering helpers of the metadata fast path (quickmeta.py): lists real only where a wanted
page reads them, the order before an edit that moves articles, what a move changes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import overload

from archiver.model import Article


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


def moved(old: Article, new: Article) -> bool:
    """Whether an edit changes what orders and dates the article (its place in every list)."""
    return (old.published, old.archived, old.slug) != (new.published, new.archived, new.slug)


def in_place(old: Mapping[str, Article], new: Mapping[str, Article]) -> bool:
    """Whether the edited articles (new; old: as they were) keep their place, tags and source:
    the client index can then be updated from them alone."""
    return all(
        not moved(o, new[s]) and (o.tags, o.source) == (new[s].tags, new[s].source)
        for s, o in old.items()
    )


class Before:
    """The order before the edit, when an edited article moved (else nothing)."""

    def __init__(self, ordered: tuple[Article, ...] | None, moved: frozenset[str]) -> None:
        self.ordered, self.moved = ordered, moved


def sorted_articles(articles: dict[str, Article]) -> tuple[Article, ...]:
    """Every article, newest first (taxonomy.sort_articles)."""
    from archiver.taxonomy import sort_articles

    return sort_articles(articles.values())


def differ(before: Sequence[Article], after: Sequence[Article]) -> list[int]:
    """The indexes where two lists of the same articles hold different ones."""
    if before is after:
        return []
    return [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a.slug != b.slug]


def same_months(
    years: dict[int, dict[int, tuple[Article, ...]]],
    old: dict[str, Article],
    new: dict[str, Article],
) -> bool:
    """Whether the date archive had the very months (so year and month pages) it has now."""
    counts = {(y, m): len(a) for y, months in years.items() for m, a in months.items()}
    was = dict(counts)
    for slug, article in new.items():
        for version, step in ((article, -1), (old[slug], 1)):
            if dated(version):
                key = (version.sort_date.year, version.sort_date.month)
                was[key] = was.get(key, 0) + step
    return was.keys() == counts.keys() and all(n > 0 for n in was.values())


def dated(article: Article) -> bool:
    """Whether an article is in the date archive."""
    return article.published is not None or article.archived is not None
