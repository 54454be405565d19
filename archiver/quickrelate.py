"""Related articles after a metadata edit, recomputed only where they can change.

taxonomy.related_articles scores, for each article, the articles inside a window of
RELATED_WINDOW + 1 entries around it in the posting list of each feature (tag keys and
significant title words) it has; ties go to the nearest in position, then the newer. So:

- a feature whose posting gains or loses an article changes its weight: every article having
  it is recomputed;
- an article that moves (its date changed) changes the windows that hold it before or after
  the move: the articles within reach of its old and new place in each posting it is in;
- the articles between a moved article's old and new place (the shifted block) are one
  position nearer to or farther from everything outside the block, which can reorder
  equally-scored candidates: the block itself is recomputed, and an article outside it when
  one of its candidates in the block lies about as far from it as one of its related articles
  (the only way a tie can break differently), or when a related article is in the block.

Every other article keeps its windows, weights and candidate order, hence its related list.
A recomputed list is compared with the one the last build recorded.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from math import log

from archiver.model import Article, Term
from archiver.quickstate import QuickState, links_of
from archiver.quickwords import Postings, WordIndex

MAX_SHIFTED = 600
"""More articles between a moved article's old and new place than this: the normal build."""


@dataclass
class Related:
    """The outcome: related lists (recomputed or recorded) and the pages that may show them."""

    related: dict[str, tuple[str, ...]] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)
    """Articles whose related list differs from the recorded one."""
    showing: set[str] = field(default_factory=set)
    """Articles whose related list may show an edited article."""


@dataclass
class Order:
    """The newest-first order before and after the edit."""

    ordered: tuple[Article, ...]
    position: dict[str, int]
    before: tuple[Article, ...]
    """The order before the edit (ordered itself when nothing moved)."""
    before_position: dict[str, int]
    moved: frozenset[str]
    """Edited articles whose date changed."""

    def shifted(self) -> list[tuple[int, int]] | None:
        """Per moved article, the span of new positions of the unmoved articles between its
        old and new place (inclusive; empty spans left out); None when too many."""
        moved = self.moved
        if not moved:
            return []
        unmoved = [a.slug for a in self.ordered if a.slug not in moved]
        was = [self.before_position[s] for s in unmoved]  # ascending: relative order is kept
        now = [self.position[s] for s in unmoved]
        spans, total = [], 0
        for slug in moved:
            a = bisect_left(was, self.before_position[slug])
            b = bisect_left(now, self.position[slug])
            lo, hi = min(a, b), max(a, b)
            total += hi - lo
            if hi > lo:
                spans.append((now[lo], now[hi - 1]))
        return None if total > MAX_SHIFTED else spans


def relate(
    order: Order,
    old: Mapping[str, Article],
    new: Mapping[str, Article],
    tags: Mapping[Term, Sequence[Article]],
    state: QuickState,
    count: int,
    words: Callable[[], WordIndex | None] = lambda: None,
) -> Related | None:
    """Related lists of the articles an edit can affect; None: the normal build must run.

    words: loads the title-word index the last full build saved (quickwords.load_words).
    """
    from archiver.taxonomy import _features

    out = Related()
    same = all((old[s].title, _features(old[s])) == (a.title, _features(a)) for s, a in new.items())
    if same and not order.moved:  # no feature, title or place changed: nothing to do
        return out
    spans = order.shifted()
    if spans is None:
        return None
    ordered, position = order.ordered, order.position
    postings = Postings(ordered, position, tags, words(), state.edited.keys() | new.keys())
    known: dict[int, list[str]] = {}

    def features_of(index: int) -> list[str]:
        """taxonomy._features of the article at index (computed once)."""
        if index not in known:
            known[index] = _features(ordered[index])
        return known[index]

    shift: dict[str, int] = defaultdict(int)  # posting length now minus before
    near: dict[str, set[str]] = {}
    before_features: dict[str, set[str]] = {}
    for slug in new:
        before, after = set(_features(old[slug])), set(features_of(position[slug]))
        before_features[slug] = before
        for feature in before ^ after:
            shift[feature] += 1 if feature in after else -1
        near[slug] = before | after
    # a feature unused for scoring before and after (too rare or too common) changes nothing
    changed = {
        f for f in shift if _used(f, _size(postings, f)) or _used(f, _size(postings, f) - shift[f])
    }
    affected = {position[s] for s in new}
    for feature in changed:
        affected.update(postings.get(feature, ()))
    kept = {slug: before_features[slug] & set(features_of(position[slug])) for slug in new}
    for slug in order.moved:
        affected.update(
            _moved_reach(order, slug, kept[slug], postings, before_features, new, state, count)
        )
    affected |= _shifted_affected(order, spans, postings, features_of, state)
    total = len(ordered) + 1
    weight: dict[str, float] = {}
    for index in sorted(affected):
        best = _score(index, features_of(index), postings, total, weight, count)
        out.related[ordered[index].slug] = tuple(ordered[i].slug for i in best)
    out.showing = _showing(position, ordered, near, postings)
    for slug in out.showing | set(out.related):
        links = links_of(state, slug)
        if links is None:
            return None
        if slug not in out.related:
            out.related[slug] = links[1]
        elif out.related[slug] != links[1]:
            out.changed.add(slug)
    return out


def _score(
    index: int,
    features: list[str],
    postings: Mapping[str, Sequence[int]],
    total: int,
    weight: dict[str, float],
    count: int,
) -> list[int]:
    """Positions of the related articles of the article at index, as related_articles finds."""
    from archiver.taxonomy import _best, _window

    scores: dict[int, float] = defaultdict(float)
    for feature in features:
        w = _weight(feature, postings, total, weight)
        if w is None:
            continue
        for other in _window(postings[feature], index):
            scores[other] += w
    return _best(scores, index, count)


def _showing(
    position: dict[str, int],
    ordered: Sequence[Article],
    near: dict[str, set[str]],
    postings: Mapping[str, Sequence[int]],
) -> set[str]:
    """Articles whose window on a used feature can reach an edited article (so whose page
    may show it as related: a window spans RELATED_WINDOW + 1 entries)."""
    showing: set[str] = set()
    for slug, around in near.items():
        showing.update(ordered[i].slug for i in _reach(postings, around, position[slug]))
    return showing


def _reach(postings: Mapping[str, Sequence[int]], features: set[str], at_index: int) -> list[int]:
    """Positions in the given postings within window reach of the place at_index takes."""
    from archiver.taxonomy import RELATED_WINDOW

    reach = RELATED_WINDOW + 2
    found: list[int] = []
    for feature in features:
        size = _size(postings, feature)
        if not (_used(feature, size) or _used(feature, size + 1)):
            continue
        posting = postings.get(feature, [])
        at = bisect_left(posting, at_index)
        found += posting[max(0, at - reach) : at + reach]
    return found


def _moved_reach(
    order: Order,
    slug: str,
    kept: set[str],
    postings: Mapping[str, Sequence[int]],
    before_features: dict[str, set[str]],
    new: Mapping[str, Article],
    state: QuickState,
    count: int,
) -> set[int]:
    """New positions of the articles whose related list the move of slug may change, among
    those near its old or new place in the posting of a feature it kept (one it gained or
    lost is a changed feature: everyone having it is recomputed anyway).

    Such an article keeps its candidates and their scores when its window on every such
    feature holds the same articles before and after (no weight changes: the posting keeps
    its length). Then only the moved article's distance changed (the shifted block's
    distances are _shifted_affected's business), which matters only when it was one of the
    related articles, or may now be: its new distance is about as short as the farthest one's.
    """
    from archiver.taxonomy import _window

    ordered, before, was = order.ordered, order.before, order.before_position
    position = order.position
    holding: set[int] = set()  # windows unchanged, holding the moved article
    found: set[int] = set()
    for feature in kept:
        size = _size(postings, feature)  # within len(new) of its length before the edit
        if not any(_used(feature, size + d) for d in range(-len(new), len(new) + 1)):
            continue  # unused before and after (old_posting's length is in that range)
        posting = postings.get(feature, ())
        members = [ordered[i].slug for i in posting if ordered[i].slug not in new]
        members += [s for s in new if feature in before_features[s]]
        old_posting = sorted(was[s] for s in members)
        if not (_used(feature, len(posting)) or _used(feature, len(old_posting))):
            continue
        near = set(_reach({feature: posting}, {feature}, position[slug]))
        near.update(
            position[before[i].slug] for i in _reach({feature: old_posting}, {feature}, was[slug])
        )
        for index in near - found:
            other = ordered[index].slug
            if other == slug:
                continue
            now = {ordered[i].slug for i in _window(posting, index)}
            then = {before[i].slug for i in _window(old_posting, was[other])}
            if now != then:
                found.add(index)
            elif slug in now:
                holding.add(index)
    for index in holding - found:
        links = links_of(state, ordered[index].slug)
        if links is None or slug in links[1] or len(links[1]) < count:
            found.add(index)
            continue
        places = [position.get(s) for s in links[1]]
        if any(at is None for at in places):
            found.add(index)
            continue
        farthest = max(abs(at - index) for at in places if at is not None)
        if abs(position[slug] - index) <= farthest + 2:
            found.add(index)
    return found


def _shifted_affected(
    order: Order,
    spans: list[tuple[int, int]],
    postings: Mapping[str, Sequence[int]],
    features_of: Callable[[int], list[str]],
    state: QuickState,
) -> set[int]:
    """Positions of the articles whose candidate order may change because the shifted block
    (between a moved article's old and new place) is one position nearer or farther."""
    from archiver.taxonomy import RELATED_WINDOW

    if not spans:
        return set()
    ordered, moved = order.ordered, order.moved
    slack = 2 * len(moved) + 2  # each move changes a distance by one at most
    found: set[int] = set()
    bands: dict[int, list[tuple[int, int]]] = defaultdict(list)  # outsider -> distance bands
    half = RELATED_WINDOW // 2
    for first, last in spans:
        block = range(first, last + 1)
        found.update(i for i in block if ordered[i].slug not in moved)
        features: set[str] = set()
        for index in block:
            features.update(features_of(index))
        for feature in features:
            if not _used(feature, _size(postings, feature)):
                continue
            posting = postings[feature]
            r1, r2 = bisect_left(posting, first), bisect_left(posting, last + 1)
            if r1 == r2:
                continue
            size = len(posting)
            for rank in range(max(0, r1 - RELATED_WINDOW - 2), min(size, r2 + RELATED_WINDOW + 2)):
                index = posting[rank]
                if first <= index <= last:
                    continue
                if size <= RELATED_WINDOW + 1:
                    lo, hi = 0, size
                else:
                    lo = max(0, min(rank - half, size - RELATED_WINDOW - 1))
                    hi = lo + RELATED_WINDOW + 1
                inside = [posting[r] for r in range(max(lo, r1), min(hi, r2))]
                if inside:
                    near_, far = sorted((abs(inside[0] - index), abs(inside[-1] - index)))
                    bands[index].append((near_, far))
    position = order.position
    for index, band in bands.items():
        if index in found:
            continue
        links = links_of(state, ordered[index].slug)
        if links is None:
            found.add(index)
            continue
        for slug in links[1]:
            at = position.get(slug)
            if at is None or slug in moved or any(f <= at <= la for f, la in spans):
                found.add(index)
                break
            distance = abs(at - index)
            if any(lo - slack <= distance <= hi + slack for lo, hi in band):
                found.add(index)
                break
    return found


def _used(feature: str, length: int) -> bool:
    """Whether taxonomy.related_articles scores a feature whose posting has this length."""
    from archiver.taxonomy import MAX_WORD_DF

    return length > 1 and (feature[0] == "t" or length <= MAX_WORD_DF)


def _weight(
    feature: str, postings: Mapping[str, Sequence[int]], total: int, cache: dict[str, float]
) -> float | None:
    """A feature's weight exactly as taxonomy.related_articles computes it (None: unused)."""
    if feature in cache:
        return cache[feature]
    size = _size(postings, feature)
    if not _used(feature, size):
        return None
    cache[feature] = value = log(total / size) * (1.0 if feature[0] == "t" else 0.35)
    return value


def _size(postings: Mapping[str, Sequence[int]], feature: str) -> int:
    """The length of a feature's posting (0: none), without building it where the mapping
    can tell (Postings: a word's posting of thousands is never built just to find it unused)."""
    if isinstance(postings, Postings):
        return postings.size(feature)
    return len(postings.get(feature, ()))
