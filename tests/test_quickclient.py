"""quickclient: the client index renumbered after a date edit equals a full update's."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import pickle
import random
from pathlib import Path
from typing import Any

import pytest

from archiver.config import Settings
from archiver.model import Article
from archiver.quickclient import (
    _gaps_spliced,
    _moved_facets,
    _span,
    client_pages_moved,
    relist,
)
from archiver.search.clientcache import ClientState
from archiver.search.clientcodec import decode_ids, encode_ids


def naive(text: str, gone: set[int], added: list[int], total: int) -> str:
    """What relist must return: decode, drop, add, encode."""
    return encode_ids(sorted([d for d in decode_ids(text) if d not in gone] + added), total)


@pytest.mark.parametrize("seed", range(200))
def test_relist_equals_decode_change_encode(seed: int) -> None:
    rng = random.Random(seed)
    total = rng.choice([7, 60, 600, 9496, 40000])
    density = rng.choice([0.001, 0.05, 0.16, 0.17, 0.2, 0.6, 1.0])
    ids = [d for d in range(total) if rng.random() < density]
    text = encode_ids(ids, total)
    lo = rng.randrange(total)
    hi = min(total - 1, lo + rng.choice([0, 1, 5, 40, 3000]))
    inside = [d for d in ids if lo <= d <= hi]
    gone = set(rng.sample(inside, rng.randint(0, len(inside)))) if inside else set()
    free = [d for d in range(lo, hi + 1) if d not in ids or d in gone]
    added = sorted(rng.sample(free, rng.randint(0, min(len(free), 4))))
    assert relist(text, (lo, hi), gone, added, total) == naive(text, gone, added, total)
    if text and not text.startswith("!"):  # the splice alone, where it applies
        spliced = _gaps_spliced(text, (lo, hi), gone, added, total)
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
