"""Articles -> Archive: sorted, grouped by tag/source/author and date, related, neighbours."""

from __future__ import annotations

import datetime as dt
import heapq
import math
import re
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from archiver.memory import no_gc
from archiver.model import Article, Term, as_datetime, term_key, term_slug

RESERVED_TERM_SLUGS = frozenset({"index", "page"})
"""Term slugs that would collide with the index page or pagination folders."""

RELATED_WINDOW = 40
"""Per shared tag, at most this many articles nearest in date are considered (keeps it linear)."""

MAX_WORD_DF = 100
"""Title words found in more articles than this carry too little signal to be used."""

_WORD = re.compile(r"\w{4,}")
_STOP = frozenset(
    "that this with from have were will what when where which their there about after "
    "says said over into more than been they them some could would should also just".split()
)

TermMap = dict[Term, tuple[Article, ...]]
_key = lru_cache(maxsize=1 << 16)(term_key)
cached_term_key = _key
"""term_key with a cache: names repeat across thousands of articles."""


@dataclass(frozen=True)
class Archive:
    """Everything the site shows, grouped and ordered; built once per build."""

    articles: tuple[Article, ...]
    """Newest first (sort_date descending, then slug)."""
    tags: TermMap
    sources: TermMap
    authors: TermMap
    years: dict[int, dict[int, tuple[Article, ...]]]
    """Year (newest first) -> month (1-12, newest first) -> articles; dated articles only."""
    undated: tuple[Article, ...]
    """Articles with neither a published nor an archived date."""
    related: dict[str, tuple[str, ...]]
    """Slug -> slugs of related articles, best first."""
    newer: dict[str, str | None]
    """Slug -> slug of the next newer article (None for the newest)."""
    older: dict[str, str | None]
    """Slug -> slug of the next older article (None for the oldest)."""
    by_slug: dict[str, Article]


def sort_articles(articles: Iterable[Article]) -> tuple[Article, ...]:
    """Newest first; equal dates ordered by slug so the order is total and deterministic."""
    by_slug = sorted(articles, key=lambda a: a.slug)
    return tuple(sorted(by_slug, key=lambda a: a.sort_date, reverse=True))


@no_gc()  # many long-lived containers are made here: full collections would rescan them
def build_archive(articles: Sequence[Article], *, related_count: int = 5) -> Archive:
    """Group and order articles for the site; linear-ish in the number of articles."""
    ordered = sort_articles(articles)
    slugs = [a.slug for a in ordered]
    return Archive(
        articles=ordered,
        tags=group_terms(ordered, lambda a: a.tags),
        sources=group_terms(ordered, lambda a: (a.source,) if a.source else ()),
        authors=group_terms(ordered, lambda a: a.authors),
        years=by_month(ordered),
        undated=undated_articles(ordered),
        related=related_articles(ordered, count=related_count),
        newer={s: (slugs[i - 1] if i > 0 else None) for i, s in enumerate(slugs)},
        older={s: (slugs[i + 1] if i + 1 < len(slugs) else None) for i, s in enumerate(slugs)},
        by_slug={a.slug: a for a in ordered},
    )


def group_terms(
    ordered: Sequence[Article], names_of: Callable[[Article], Iterable[str]]
) -> TermMap:
    """Merge names by term_key (case/accents); each term keeps the articles' order; unique slugs.

    A term's name is its spelling used by the most articles (ties: the smallest string).
    """
    by_name: dict[str, list[Article]] = {}  # grouped by spelling first: keys are then few
    for article in ordered:
        for name in names_of(article):
            found = by_name.get(name)
            if found is None:
                by_name[name] = [article]
            elif found[-1] is not article:  # a name given twice by one article counts once
                found.append(article)
    spelt: dict[str, list[str]] = {}
    for name in by_name:
        key = _key(name)
        if key:
            spelt.setdefault(key, []).append(name)
    position: dict[int, int] = {}
    taken: set[str] = set(RESERVED_TERM_SLUGS)
    out: TermMap = {}
    for key in sorted(spelt):
        names = spelt[key]
        if len(names) == 1:  # one spelling (almost every term)
            name, members = names[0], by_name[names[0]]
        else:
            if not position:
                position = {id(a): i for i, a in enumerate(ordered)}
            name, members = _spellings(key, names, by_name, names_of, position)
        slug = _unique(term_slug(name), taken)
        out[Term(key=key, name=name, slug=slug)] = tuple(members)
    return out


def _spellings(
    key: str,
    names: list[str],
    by_name: dict[str, list[Article]],
    names_of: Callable[[Article], Iterable[str]],
    position: dict[int, int],
) -> tuple[str, list[Article]]:
    """The name and articles of a term spelt several ways: every article once, in order;
    the name is the spelling most articles give first."""
    merged = {id(a): a for name in names for a in by_name[name]}
    members = sorted(merged.values(), key=lambda a: position[id(a)])
    first = [next(n for n in names_of(a) if _key(n) == key) for a in members]
    return _most_used(first), members


def _most_used(names: list[str]) -> str:
    """The name given most often (ties: the smallest)."""
    first = names[0]
    if names.count(first) == len(names):  # one spelling (almost every term)
        return first
    return min(Counter(names).items(), key=lambda kv: (-kv[1], kv[0]))[0]


def _unique(slug: str, taken: set[str]) -> str:
    """slug, or slug-2, slug-3 ... when taken (deterministic given the sorted key order)."""
    candidate, n = slug, 2
    while candidate in taken:
        candidate = f"{slug}-{n}"
        n += 1
    taken.add(candidate)
    return candidate


def by_month(ordered: Sequence[Article]) -> dict[int, dict[int, tuple[Article, ...]]]:
    """Year -> month -> articles (newest first), dated articles only.

    ordered is newest first (sort_articles), so each month's articles are one run of it,
    found by bisection; only the run holding the epoch (where undated articles sort) is
    filtered.
    """
    years: dict[int, dict[int, tuple[Article, ...]]] = {}
    start, end = 0, len(ordered)
    while start < end:
        when = ordered[start].sort_date
        first = dt.datetime(when.year, when.month, 1, tzinfo=dt.UTC).timestamp()
        stop = bisect_right(ordered, -first, lo=start, key=_newest_first)
        run = ordered[start:stop]
        if (when.year, when.month) == (_EPOCH.year, _EPOCH.month):
            run = [a for a in run if a.published is not None or a.archived is not None]
        if run:
            years.setdefault(when.year, {})[when.month] = tuple(run)
        start = stop
    return years


def undated_articles(ordered: Sequence[Article]) -> tuple[Article, ...]:
    """The articles with neither a published nor an archived date (ordered newest first:
    they sort at the epoch, in one run found by bisection)."""
    epoch = -_EPOCH.timestamp()
    run = ordered[bisect_left(ordered, epoch, key=_newest_first) : bisect_right(
        ordered, epoch, key=_newest_first
    )]  # fmt: skip
    return tuple(a for a in run if a.published is None and a.archived is None)


_EPOCH = as_datetime(None)
"""Where an undated article sorts."""


def _newest_first(article: Article) -> float:
    """A key ascending along newest-first order (for bisection)."""
    return -article.sort_date.timestamp()


def _features(article: Article) -> list[str]:
    """Tag keys ("t:...") and significant title words ("w:...") of an article."""
    tags = ["t:" + k for k in dict.fromkeys(_key(t) for t in article.tags) if k]
    words = {w for w in _WORD.findall(article.title.casefold()) if w not in _STOP}
    return tags + ["w:" + w for w in sorted(words)]


def related_articles(ordered: Sequence[Article], *, count: int = 5) -> dict[str, tuple[str, ...]]:
    """Related slugs by shared tags weighted by rarity (idf), plus shared title words.

    An inverted index over tags and title words; for each shared feature only the
    RELATED_WINDOW articles nearest in date are scored, so the cost stays linear.
    """
    features = [_features(a) for a in ordered]
    postings: dict[str, list[int]] = defaultdict(list)
    for index, feats in enumerate(features):
        for feature in feats:
            postings[feature].append(index)
    total = len(ordered) + 1
    weight = {
        f: math.log(total / len(p)) * (1.0 if f[0] == "t" else 0.35)
        for f, p in postings.items()
        if len(p) > 1 and (f[0] == "t" or len(p) <= MAX_WORD_DF)
    }
    out: dict[str, tuple[str, ...]] = {}
    for index, feats in enumerate(features):
        scores: dict[int, float] = defaultdict(float)
        for feature in feats:
            w = weight.get(feature)
            if w is None:
                continue
            for other in _window(postings[feature], index):
                scores[other] += w
        out[ordered[index].slug] = tuple(ordered[i].slug for i in _best(scores, index, count))
    return out


def _best(scores: dict[int, float], index: int, count: int) -> list[int]:
    """The count best-scoring candidates; ties go to the nearest in date, then the newer."""
    if not scores:
        return []
    floor = heapq.nlargest(count, scores.values())[-1]
    top = [(-s, abs(i - index), i) for i, s in scores.items() if s >= floor]
    return [i for _, _, i in sorted(top)[:count]]


def _window(posting: Sequence[int], index: int) -> list[int]:
    """The posting's entries nearest to index (itself excluded), at most RELATED_WINDOW."""
    if len(posting) <= RELATED_WINDOW + 1:
        return [i for i in posting if i != index]
    at = bisect_left(posting, index)
    half = RELATED_WINDOW // 2
    lo = max(0, min(at - half, len(posting) - RELATED_WINDOW - 1))
    return [i for i in posting[lo : lo + RELATED_WINDOW + 1] if i != index]
