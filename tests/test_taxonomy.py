"""Articles -> Archive: order, merged terms, unique slugs, dates, related articles, speed."""

from __future__ import annotations

import datetime as dt
import gc
import random
from collections import Counter
from typing import Any

import pytest

from archiver.model import Article, Term, term_key, term_slug
from archiver.taxonomy import (
    build_archive,
    by_month,
    group_terms,
    sort_articles,
    undated_articles,
)


def art(slug: str, day: int | None, title: str = "", **kw: Any) -> Article:
    published = dt.date(2024, 1, day) if day else None
    return Article(title=title or slug.title(), slug=slug, body="Body.", published=published, **kw)


def test_articles_newest_first_ties_by_slug() -> None:
    arts = [art("b", 5), art("a", 5), art("c", 9), art("old", None)]
    assert [a.slug for a in sort_articles(arts)] == ["c", "a", "b", "old"]


def test_terms_merge_by_case_and_accents_and_keep_most_common_spelling() -> None:
    arts = [
        art("a", 1, tags=("Économie", "Climate")),
        art("b", 2, tags=("economie",)),
        art("c", 3, tags=("Economie", "climate")),
        art("d", 4, tags=("Économie",)),
    ]
    archive = build_archive(arts)
    names = {t.name: [a.slug for a in v] for t, v in archive.tags.items()}
    assert names == {"Économie": ["d", "c", "b", "a"], "Climate": ["c", "a"]}


def test_a_name_repeated_in_one_article_counts_once() -> None:
    archive = build_archive([art("a", 1, tags=("Tag", "tag", "TAG"))])
    assert [len(v) for v in archive.tags.values()] == [1]


def test_term_slugs_are_unique_and_never_reserved() -> None:
    terms = group_terms([art("a", 1, tags=("C++", "C", "index", "page", "!!!"))], lambda a: a.tags)
    slugs = [t.slug for t in terms]
    assert len(set(slugs)) == len(slugs)
    assert "index" not in slugs and "page" not in slugs
    assert all(slugs)


def test_sources_and_authors() -> None:
    arts = [
        art("a", 1, source="Sample Gazette", authors=("Ann Lee", "Bo Ng")),
        art("b", 2, source="sample gazette", authors=("ann lee",)),
        art("c", 3),
    ]
    archive = build_archive(arts)
    assert [(t.name, len(v)) for t, v in archive.sources.items()] == [("Sample Gazette", 2)]
    assert sorted((t.slug, len(v)) for t, v in archive.authors.items()) == [
        ("ann-lee", 2),
        ("bo-ng", 1),
    ]


def test_years_months_and_undated() -> None:
    arts = [
        art("a", 3),
        Article(title="B", slug="b", body="", published=dt.date(2023, 11, 2)),
        Article(title="C", slug="c", body="", archived=dt.datetime(2022, 5, 1, tzinfo=dt.UTC)),
        Article(title="D", slug="d", body=""),
    ]
    archive = build_archive(arts)
    assert {
        y: {m: [a.slug for a in v] for m, v in ms.items()} for y, ms in archive.years.items()
    } == {
        2024: {1: ["a"]},
        2023: {11: ["b"]},
        2022: {5: ["c"]},
    }
    assert [a.slug for a in archive.undated] == ["d"]
    assert list(archive.years) == [2024, 2023, 2022]


def test_newer_and_older_neighbours() -> None:
    archive = build_archive([art("a", 1), art("b", 2), art("c", 3)])
    assert archive.newer == {"c": None, "b": "c", "a": "b"}
    assert archive.older == {"c": "b", "b": "a", "a": None}


def test_related_prefers_rare_shared_tags_then_title_words() -> None:
    arts = [
        art("target", 10, tags=("Common", "Rare"), title="Kelp forests recover"),
        art("rare", 1, tags=("Rare",), title="Unrelated words here"),
        art("common", 2, tags=("Common",), title="Another story"),
        art("words", 3, tags=(), title="Kelp forests elsewhere"),
        art("nothing", 4, tags=("Other",), title="Nothing shared"),
    ] + [art(f"filler{i}", 5 + (i % 3), tags=("Common",)) for i in range(6)]
    archive = build_archive(arts, related_count=3)
    related = archive.related["target"]
    assert related[0] == "rare"
    assert "nothing" not in related
    assert "target" not in related
    assert len(related) == 3
    assert "words" in build_archive(arts, related_count=20).related["target"]


def test_related_is_deterministic() -> None:
    arts = [art(f"a{i}", 1 + i % 28, tags=(f"t{i % 7}", f"u{i % 5}")) for i in range(200)]
    assert build_archive(arts).related == build_archive(list(reversed(arts))).related


def test_ten_thousand_articles_each_get_related_articles_that_share_a_tag() -> None:
    """At scale every related list is full and real (speed: bench/bench_build.py)."""
    arts = [
        Article(
            title=f"Story {i} about topic{i % 50} and place{i % 300}",
            slug=f"s{i:05d}",
            body="",
            published=dt.date(2015 + i % 10, 1 + i % 12, 1 + i % 28),
            source=f"Source {i % 4}",
            tags=(f"topic{i % 20}", f"person{i % 400}", f"country{i % 60}", f"org{i % 150}"),
        )
        for i in range(10_000)
    ]
    archive = build_archive(arts)
    by_slug = {a.slug: a for a in arts}
    assert len(archive.articles) == 10_000
    assert all(len(v) == 5 for v in archive.related.values())
    for slug, related in archive.related.items():
        assert slug not in related
        tags = set(by_slug[slug].tags)
        assert all(tags & set(by_slug[other].tags) for other in related), slug


def test_build_archive_leaves_the_garbage_collector_as_it_found_it() -> None:
    was = gc.isenabled()
    try:
        for enabled in (True, False):
            gc.enable() if enabled else gc.disable()
            archive = build_archive([art("a", 1, tags=("x",)), art("b", 2, tags=("x",))])
            assert [a.slug for a in archive.articles] == ["b", "a"]
            assert gc.isenabled() is enabled
            with pytest.raises(AttributeError):
                build_archive([None])  # type: ignore[list-item]
            assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def _reference_terms(ordered: list[Article]) -> list[tuple[Term, tuple[Article, ...]]]:
    """group_terms by its definition, article by article: each term's articles in order (once
    each), its name the spelling most articles give first (ties: the smallest), its slug the
    first free of slug, slug-2 ... in key order."""
    members: dict[str, list[Article]] = {}
    firsts: dict[str, list[str]] = {}
    for article in ordered:
        seen: set[str] = set()
        for name in article.tags:
            key = term_key(name)
            if key and key not in seen:
                seen.add(key)
                members.setdefault(key, []).append(article)
                firsts.setdefault(key, []).append(name)
    taken = {"index", "page"}
    out = []
    for key in sorted(members):
        counts = Counter(firsts[key])
        name = min(counts, key=lambda n: (-counts[n], n))
        slug, n = term_slug(name), 2
        while slug in taken:
            slug, n = f"{term_slug(name)}-{n}", n + 1
        taken.add(slug)
        out.append((Term(key=key, name=name, slug=slug), tuple(members[key])))
    return out


def _tags(rng: random.Random, spellings: list[str]) -> tuple[str, ...]:
    """Up to five names drawn from spellings (repeats allowed)."""
    return tuple(rng.choice(spellings) for _ in range(rng.randint(0, 5)))


@pytest.mark.parametrize("seed", range(40))
def test_group_terms_matches_its_definition(seed: int) -> None:
    """Spellings that differ in case or accents, names repeated within an article, names
    with no key, names whose slugs collide or are reserved."""
    spellings = [
        "Énergie", "energie", "ENERGIE", "Oceans", "oceans", "Océans", "Page", "index",
        "a", "A", "", "  ", "Ünïcode", "unicode", "Tag-1", "tag 1", "x", "X", "Index",
    ]  # fmt: skip
    rng = random.Random(seed)
    ordered = [
        Article(title=str(n), slug=f"s{n:03d}", body="", tags=_tags(rng, spellings))
        for n in range(rng.randint(1, 60))
    ]
    assert list(group_terms(ordered, lambda a: a.tags).items()) == _reference_terms(ordered)


def _dated_article(rng: random.Random, n: int) -> Article:
    """Undated, dated at the epoch, around month boundaries, before 1970, or archived only."""
    kind = rng.randrange(6)
    when: dt.date | dt.datetime | None = None
    if kind == 1:
        when = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    elif kind == 2:
        when = dt.datetime(2024, rng.randint(1, 12), 1, tzinfo=dt.UTC) - dt.timedelta(
            microseconds=rng.choice([0, 1])
        )
    elif kind == 3:
        when = dt.date(1969, 12, rng.randint(30, 31))
    elif kind == 4:
        when = dt.datetime(2023, 6, 30, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    archived = dt.datetime(2025, 1, 2, tzinfo=dt.UTC) if kind == 5 else None
    return Article(title=str(n), slug=f"s{n:03d}", body="", published=when, archived=archived)


@pytest.mark.parametrize("seed", range(30))
def test_months_and_undated_match_their_definition(seed: int) -> None:
    rng = random.Random(seed)
    ordered = sort_articles(_dated_article(rng, n) for n in range(rng.randint(0, 80)))
    years: dict[int, dict[int, list[Article]]] = {}
    for article in ordered:
        if article.published is not None or article.archived is not None:
            when = article.sort_date
            years.setdefault(when.year, {}).setdefault(when.month, []).append(article)
    expected = {y: {m: tuple(a) for m, a in months.items()} for y, months in years.items()}
    found = by_month(ordered)
    assert found == expected
    assert [list(m) for m in found.values()] == [list(m) for m in expected.values()]  # order
    undated = tuple(a for a in ordered if a.published is None and a.archived is None)
    assert undated_articles(ordered) == undated
