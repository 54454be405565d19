"""quickclient: the client index renumbered after a date edit equals a full update's."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import pickle
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from archiver.config import Settings
from archiver.model import Article
from archiver.quickclient import _moved_facets, _span, client_pages_moved
from archiver.search.clientcache import ClientState
from archiver.search.clientcodec import decode_ids, encode_ids
from archiver.search.clientsplice import gaps_spliced, relist


def naive(text: str, gone: set[int], added: list[int], total: int) -> str:
    """What relist must return: decode, drop, add, encode."""
    return encode_ids(sorted([d for d in decode_ids(text) if d not in gone] + added), total)


def _change(
    rng: random.Random, ids: list[int], total: int, widths: list[int], most: int
) -> tuple[tuple[int, int], set[int], list[int]]:
    """A random span of doc ids, some of its ids taken out and up to most free ones put in."""
    lo = rng.randrange(total)
    hi = min(total - 1, lo + rng.choice(widths))
    inside = [d for d in ids if lo <= d <= hi]
    gone = set(rng.sample(inside, rng.randint(0, len(inside)))) if inside else set()
    free = [d for d in range(lo, hi + 1) if d not in ids or d in gone]
    return (lo, hi), gone, sorted(rng.sample(free, rng.randint(0, min(len(free), most))))


@pytest.mark.parametrize("seed", range(200))
def test_relist_equals_decode_change_encode(seed: int) -> None:
    rng = random.Random(seed)
    total = rng.choice([7, 60, 600, 9496, 40000])
    density = rng.choice([0.001, 0.05, 0.16, 0.17, 0.2, 0.6, 1.0])
    ids = [d for d in range(total) if rng.random() < density]
    text = encode_ids(ids, total)
    (lo, hi), gone, added = _change(rng, ids, total, [0, 1, 5, 40, 3000], 4)
    assert relist(text, (lo, hi), gone, added, total) == naive(text, gone, added, total)
    if text and not text.startswith("!"):  # the splice alone, where it applies
        spliced = gaps_spliced(text, (lo, hi), gone, added, total)
        assert spliced in (None, naive(text, gone, added, total))


def test_relist_handles_empty_lists_and_large_gaps() -> None:
    assert relist("", (3, 5), set(), [4], 10) == encode_ids([4], 10)
    assert relist(encode_ids([2], 10), (2, 2), {2}, [], 10) == ""
    far = encode_ids([0, 70000], 80000)  # a gap of 2**15 or more
    assert relist(far, (0, 1), {0}, [1], 80000) == encode_ids([1, 70000], 80000)


def lite_corpus(n: int, rng: random.Random) -> list[Article]:
    """n articles with tags spelled in several ways, sources and dates (the facets' inputs)."""
    spellings = ["Germany", "germany", "GERMANY", "Berlin", "berlin", "Trade", "Ports", "Ports"]
    return [
        Article(
            title=f"Article {i}",
            slug=f"a-{i:03d}",
            body=f"Body {i}.",
            published=dt.date(2020, 1 + i % 12, 1 + rng.randrange(28)),
            source=rng.choice([None, "Alpha", "Beta"]),
            tags=tuple(rng.sample(spellings, rng.randint(0, 3))),
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("seed", range(40))
def test_moved_facets_equal_full_facets(seed: int) -> None:
    """The facets updated from the docs that moved or changed equal _facets over every doc."""
    from archiver.search import client

    rng = random.Random(seed)
    before = client.ordered(lite_corpus(rng.choice([5, 30, 80]), rng))
    key = hashlib.sha256(
        pickle.dumps([(a.source, a.tags) for a in before], protocol=pickle.HIGHEST_PROTOCOL)
    ).hexdigest()
    previous = ClientState(order=[a.slug for a in before], facets=(key, client._facets(before)))
    edited = {}
    for article in rng.sample(before, rng.randint(1, 2)):
        changes: dict[str, Any] = {}
        if rng.random() < 0.6:
            changes["published"] = article.published + dt.timedelta(days=rng.randint(-40, 40))
        if rng.random() < 0.6:
            changes["tags"] = tuple(rng.sample(["Germany", "germany", "Trade", "New"], 2))
        edited[article.slug] = dataclasses.replace(article, **changes)
    after = client.ordered([edited.get(a.slug, a) for a in before])
    changed = [a for s, a in edited.items() if a != next(b for b in before if b.slug == s)]
    state = ClientState(order=[a.slug for a in after])
    span = _span(state.order, previous.order, changed)
    got = _moved_facets(state, previous, after, span)
    full = hashlib.sha256(
        pickle.dumps([(a.source, a.tags) for a in after], protocol=pickle.HIGHEST_PROTOCOL)
    ).hexdigest()
    assert got is not None  # sources unchanged: it applies
    assert got == (full, client._facets(after))
    assert state.facets == got


def test_tag_edit_reads_no_other_articles_body(tmp_path: Path) -> None:
    """client_pages_moved after a tag edit reads only the edited article's body, and its files
    and state equal a clean update's."""
    from archiver.search import client
    from archiver.search.clientcache import load_state

    rng = random.Random(7)
    articles = client.ordered(lite_corpus(60, rng))
    settings = Settings(root=tmp_path / "a")
    client.client_pages(articles, settings, generation="one")
    edited = dataclasses.replace(articles[20], tags=("Brand new", *articles[20].tags))
    new = [edited if a.slug == edited.slug else a for a in articles]
    bodiless = [edited]
    for article in new:
        if article is not edited:
            copy = dataclasses.replace(article)
            del copy.__dict__["body"]  # as a planning snapshot's: reading it raises
            bodiless.append(copy)
    bodiless = client.ordered(bodiless)
    pages = client_pages_moved(
        bodiless, {edited.slug: edited}, settings, generation="one", new_generation="two"
    )
    assert pages is not None
    clean = Settings(root=tmp_path / "b")
    assert pages == client.client_pages(new, clean, generation="two")
    ours, theirs = load_state(settings.state_path), load_state(clean.state_path)
    assert ours is not None and theirs is not None
    assert dataclasses.asdict(ours) == dataclasses.asdict(theirs)


@pytest.mark.parametrize("seed", range(150))
def test_gap_splice_applies_whenever_the_result_stays_gap_coded(seed: int) -> None:
    """gaps_spliced (no whole-list decoding) equals the full computation, and declines only
    when the result is a bitmap: clustered lists with gaps of 1024 and more (three-character
    codes), spans of one doc to thousands."""
    rng = random.Random(seed)
    total = rng.choice([40, 700, 9496, 30000])
    ids: list[int] = []
    for _ in range(rng.randint(0, 4)):  # a few clusters of varying density
        start = rng.randrange(total)
        width = rng.randint(1, total - start)
        density = rng.choice([0.01, 0.05, 0.15, 0.5])
        ids += [d for d in range(start, start + width) if rng.random() < density]
    ids = sorted(set(ids))
    text = encode_ids(ids, total)
    if text.startswith("!"):
        ids = ids[:: rng.randint(4, 9)]
        text = encode_ids(ids, total)
    (lo, hi), gone, added = _change(rng, ids, total, [0, 3, 10, 200, 5000], 12)
    expected = naive(text, gone, added, total)
    if text.startswith("!"):
        assert relist(text, (lo, hi), gone, added, total) == expected
        return
    spliced = gaps_spliced(text, (lo, hi), gone, added, total)
    assert spliced == (None if expected.startswith("!") else expected)


def test_relist_of_gap_codes_decodes_no_whole_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small span of a long gap-coded list (or a bitmap) is changed without decoding it."""
    from archiver.search import clientsplice

    def refuse(text: str) -> list[int]:
        raise AssertionError(f"decoded a whole list of {len(text)} characters")

    monkeypatch.setattr(clientsplice, "decode", refuse)
    monkeypatch.setattr(clientsplice, "decode_ids", refuse)
    rng = random.Random(5)
    total = 9496
    for density in (0.02, 0.1, 0.16, 0.5):
        ids = [d for d in range(total) if rng.random() < density]
        text = encode_ids(ids, total)
        lo = 4000
        inside = [d for d in ids if lo <= d <= lo + 10]
        gone, added = set(inside[:1]), [lo + 10] if lo + 10 not in ids else []
        got = relist(text, (lo, lo + 10), gone, added, total)
        assert got == encode_ids(sorted([d for d in ids if d not in gone] + added), total)


def test_date_edit_decodes_no_term_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """client_pages_moved after a date edit decodes no term's lists whole, and its files and
    state equal a clean update's."""
    from archiver.search import client, clientsplice
    from archiver.search.clientcache import load_state

    rng = random.Random(11)
    vocabulary = [f"w{i}" for i in range(400)]
    articles = client.ordered(
        [
            dataclasses.replace(
                a, body=" ".join(rng.choices(vocabulary, weights=range(400, 0, -1), k=60))
            )
            for a in lite_corpus(300, rng)
        ]
    )
    settings = Settings(root=tmp_path / "a")
    client.client_pages(articles, settings, generation="one")
    previous = load_state(settings.state_path)
    assert previous is not None
    term_lists = {x for lists in previous.encoded.values() for x in lists.split(" ") if x}
    moved = articles[150]
    assert moved.published is not None
    edited = dataclasses.replace(moved, published=moved.published - dt.timedelta(days=2))
    new = client.ordered([edited if a.slug == edited.slug else a for a in articles])
    assert [a.slug for a in new] != [a.slug for a in articles]  # it moved
    decoded: list[str] = []  # by relist (the facets decode their tag lists)
    real = clientsplice.decode

    def spy(text: str) -> list[int]:
        if sys._getframe(1).f_code.co_name == "relist":
            decoded.append(text)
        return real(text)

    monkeypatch.setattr(clientsplice, "decode", spy)
    pages = client_pages_moved(
        new, {edited.slug: edited}, settings, generation="one", new_generation="two"
    )
    assert pages is not None
    assert len(term_lists) > 300  # long lists, gap-coded and bitmaps
    assert not decoded
    clean = Settings(root=tmp_path / "b")
    assert pages == client.client_pages(new, clean, generation="two")
    ours, theirs = load_state(settings.state_path), load_state(clean.state_path)
    assert ours is not None and theirs is not None
    assert dataclasses.asdict(ours) == dataclasses.asdict(theirs)


def test_the_client_standby_orders_articles_as_the_metadata_fast_path_does() -> None:
    """quickchild._order (the standby's own decision, made before the parent plans): the
    edited-only update (None) after a title edit; after a date or tag edit, every article
    newest first exactly as the fast path's plan orders them."""
    from archiver.quickchild import _order
    from archiver.taxonomy import sort_articles

    rng = random.Random(5)
    articles = {a.slug: a for a in lite_corpus(80, rng)}
    target = sorted(articles)[30]
    old = articles[target]
    assert old.published is not None
    edits = {
        "title": dataclasses.replace(old, title="Another title"),
        "date": dataclasses.replace(old, published=old.published - dt.timedelta(days=40)),
        "tag": dataclasses.replace(old, tags=(*old.tags, "Brand new")),
    }
    assert _order(articles, {target: edits["title"]}) is None
    for kind in ("date", "tag"):
        edited = {target: edits[kind]}
        expected = list(sort_articles({**articles, **edited}.values()))
        assert _order(articles, edited) == expected, kind
    moved = _order(articles, {target: edits["date"]})
    assert moved is not None and [a.slug for a in moved] != list(
        a.slug for a in sort_articles(articles.values())
    )
