"""quickrelate.relate: after a date (and tag/title) edit, every related list that changes is
recomputed, and recomputed exactly as taxonomy.related_articles computes it."""

from __future__ import annotations

import datetime as dt
import pickle
import random
from collections.abc import Callable, Collection
from pathlib import Path

import pytest

from archiver.model import Article
from archiver.quickrelate import Order, relate
from archiver.quickstate import QuickState
from archiver.quickwords import WordIndex, load_words, save_words
from archiver.taxonomy import group_terms, related_articles, sort_articles

TAGS = ("alpha", "beta", "gamma", "delta", "rare one", "rare two")
WORDS = ("harbour", "storm", "market", "summit", "grid", "treaty", "drought", "ballot")
START = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)


def article(rng: random.Random, n: int) -> Article:
    """A random article: few tags (so windows are clamped and scores tie often)."""
    tags = rng.sample(TAGS[:4], rng.randint(1, 2))
    if rng.random() < 0.05:
        tags.append(rng.choice(TAGS[4:]))
    title = " ".join(rng.sample(WORDS, 2)) + f" n{n:04d}"
    when = START + dt.timedelta(hours=rng.randint(0, 24 * 200))
    return Article(title=title, slug=f"s{n:04d}", body="", tags=tuple(tags), published=when)


def moved(rng: random.Random, old: Article) -> Article:
    """The article with its date moved by up to a few weeks (or, rarely, months), and
    sometimes its tags changed too."""
    assert old.published is not None
    span = 24 * (200 if rng.random() < 0.2 else 20)
    when = old.published + dt.timedelta(hours=rng.randint(-span, span))
    tags = old.tags if rng.random() < 0.7 else tuple(rng.sample(TAGS[:4], 2))
    return Article(title=old.title, slug=old.slug, body="", tags=tags, published=when)


def retitled(rng: random.Random, old: Article) -> Article:
    """The article with other title words (and sometimes its date moved too)."""
    base = moved(rng, old) if rng.random() < 0.3 else old
    title = " ".join(rng.sample(WORDS, rng.randint(1, 3))) + old.title[-6:]
    return Article(title=title, slug=old.slug, body="", tags=base.tags, published=base.published)


def check(
    articles: dict[str, Article],
    edited: dict[str, Article],
    count: int = 3,
    words: WordIndex | None = None,
    earlier: Collection[str] = (),
) -> int:
    """relate's answer against a full recomputation; the number of lists that changed.

    words: the title-word index relate reads (None: it scans the titles); earlier: articles
    fast builds edited since that index was saved."""
    before = sort_articles(articles.values())
    was = related_articles(before, count=count)
    state = QuickState("token", edited={slug: b"" for slug in earlier})
    for slug, near in was.items():
        state.links[slug] = pickle.dumps(("", near, None, None, ()))
    old = {s: articles[s] for s in edited}
    now = {**articles, **edited}
    ordered = sort_articles(now.values())
    expected = related_articles(ordered, count=count)
    position = {a.slug: i for i, a in enumerate(ordered)}
    order = Order(
        ordered,
        position,
        before,
        {a.slug: i for i, a in enumerate(before)},
        frozenset(s for s in edited if edited[s].published != old[s].published),
    )
    tags = group_terms(ordered, lambda a: a.tags)
    found = relate(order, old, edited, tags, state, count, lambda: words)
    assert found is not None
    for slug, near in found.related.items():
        assert near == expected[slug], slug
    changed = {s for s in expected if expected[s] != was[s]}
    assert changed == found.changed
    return len(changed)


# seeds 42 ... 164 break a tie differently only through the distance bands of the filter
@pytest.mark.parametrize("seed", [*range(24), 42, 43, 109, 113, 128, 164])
def test_related_lists_after_date_moves_match_a_full_recomputation(seed: int) -> None:
    rng = random.Random(seed)
    articles = {a.slug: a for a in (article(rng, n) for n in range(260))}
    slugs = sorted(articles)
    edited = {s: moved(rng, articles[s]) for s in rng.sample(slugs, 1 + seed % 3)}
    check(articles, edited)


@pytest.mark.parametrize(("edit", "least"), [(moved, 10), (retitled, 5)])
def test_edits_change_some_related_lists(
    edit: Callable[[random.Random, Article], Article], least: int
) -> None:
    """The property tests are not vacuous: moves and title edits do change related lists."""
    total = 0
    for seed in range(10):
        rng = random.Random(seed)
        articles = {a.slug: a for a in (article(rng, n) for n in range(260))}
        edited = {s: edit(rng, articles[s]) for s in rng.sample(sorted(articles), 2)}
        total += check(articles, edited)
    assert total > least


@pytest.mark.parametrize("seed", range(12))
def test_title_edits_read_the_saved_word_index_correctly(seed: int, tmp_path: Path) -> None:
    """Title (and date) edits with the index a full build saved: some articles were retitled
    by earlier fast builds after it was saved, so relate must correct it, not trust it."""
    rng = random.Random(seed)
    articles = {a.slug: a for a in (article(rng, n) for n in range(260))}
    save_words(tmp_path, "snap", list(articles.values()))
    earlier = rng.sample(sorted(articles), 5)  # fast edits after the save
    for slug in earlier:
        articles[slug] = retitled(rng, articles[slug])
    edited = {s: retitled(rng, articles[s]) for s in rng.sample(sorted(articles), 1 + seed % 3)}
    words = load_words(tmp_path, "snap")
    assert words is not None
    changed = check(articles, edited, words=words, earlier=earlier)
    assert check(articles, edited) == changed  # the same answer without the index
    assert load_words(tmp_path, "another snapshot") is None


def test_too_far_a_move_is_left_to_the_normal_build() -> None:
    rng = random.Random(1)
    articles = sort_articles(article(rng, n) for n in range(700))
    newest, oldest = articles[0], articles[-1]
    position = {a.slug: i for i, a in enumerate(articles)}
    assert oldest.published is not None
    edited = Article(
        title=newest.title, slug=newest.slug, body="", tags=newest.tags,
        published=oldest.published - dt.timedelta(days=1),
    )  # fmt: skip
    now = sort_articles([edited, *articles[1:]])
    order = Order(
        now, {a.slug: i for i, a in enumerate(now)}, articles, position, frozenset({edited.slug})
    )
    assert order.shifted() is None


@pytest.mark.parametrize(("was", "now"), [(10, 5), (5, 10), (12, 6)])
def test_a_move_past_a_tie_on_the_other_side_is_recomputed(was: int, now: int) -> None:
    """b's only candidates, x and c, score the same; x moves between nearer and farther than
    c (on b's other side) through articles b shares nothing with: the window of b keeps
    both, no related article is in the shifted block, yet b's list changes."""

    def at(place: int) -> dt.datetime:  # positions count newest first
        return START + dt.timedelta(days=100 - place)

    filler = {
        f"f{i:02d}": Article(title="ab", slug=f"f{i:02d}", body="", published=at(i))
        for i in range(40)
        if i not in (was, 20, 32)
    }
    rare = ("rare one",)
    x = Article(title="ab", slug="x", body="", tags=rare, published=at(was))
    b = Article(title="ab", slug="b", body="", tags=rare, published=at(20))
    c = Article(title="ab", slug="c", body="", tags=rare, published=at(32))
    articles = {**filler, "x": x, "b": b, "c": c}
    edited = {
        "x": Article(
            title="ab", slug="x", body="", tags=rare, published=at(now) + dt.timedelta(hours=1)
        )
    }
    assert check(articles, edited, count=1) >= 1


@pytest.mark.parametrize("seed", range(4))
def test_posting_sizes_are_the_built_postings_lengths(seed: int, tmp_path: Path) -> None:
    """Postings.size, which relate asks first (a word's posting of thousands is never built
    only to find it unused), is the length of the posting it would build, or 0."""
    from archiver.quickwords import Postings

    rng = random.Random(seed)
    articles = {a.slug: a for a in (article(rng, n) for n in range(260))}
    save_words(tmp_path, "snap", list(articles.values()))
    earlier = rng.sample(sorted(articles), 5)
    for slug in earlier:
        articles[slug] = retitled(rng, articles[slug])
    ordered = sort_articles(articles.values())
    position = {a.slug: i for i, a in enumerate(ordered)}
    tags = group_terms(ordered, lambda a: a.tags)
    for words in (load_words(tmp_path, "snap"), None):
        sizes = Postings(ordered, position, tags, words, earlier)
        built = Postings(ordered, position, tags, words, earlier)
        features = list(built)
        assert any(f.startswith("w:") for f in features) and any(f[0] == "t" for f in features)
        for feature in features:
            assert sizes.size(feature) == len(built[feature]) > 0, feature
            assert sizes.size(feature) == len(sizes[feature])  # once built, too
        for missing in ("t:nothing", "w:nothing", "x:alpha", "w:"):
            assert sizes.size(missing) == 0
