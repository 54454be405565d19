"""The client search index: encoding, sharding, safety of the JS payloads, determinism."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

from archiver.config import Settings
from archiver.model import Article, Page
from archiver.search.client import (
    client_pages,
    decode_ids,
    encode_ids,
    shard_counts,
)
from archiver.search.clientcache import CACHE_NAME
from archiver.search.tokenize import STOP_WORDS, plain_text, words

_CALL = re.compile(r'^window\.__archiverSearch\.add\("([a-z0-9-]+)",(.*)\);\n$', re.S)


def payloads(pages: list[Page]) -> dict[str, Any]:
    """Name -> decoded JSON data of every index file."""
    out: dict[str, Any] = {}
    for page in pages:
        match = _CALL.match(page.data.decode("utf-8"))
        assert match, page.path
        assert page.path == f"search/{match.group(1)}.js"
        out[match.group(1)] = json.loads(match.group(2))
    return out


def corpus(n: int) -> list[Article]:
    """n articles with a shared word, a unique word each, tags, sources and years."""
    return [
        Article(
            title=f"Report number {i} about harbour{i:04d}",
            slug=f"report-{i:04d}",
            body=f"The common word appears here. Unique token zq{i:04d}x. " * (1 + i % 4),
            summary="A summary with the </script><b>hostile</b> text\u2028and a separator.",
            published=dt.date(2015 + i % 5, 1 + i % 12, 1 + i % 28),
            source=["Alpha News", "Beta Post"][i % 2],
            tags=("Common", f"Group {i % 7}"),
        )
        for i in range(n)
    ]


@pytest.mark.parametrize(
    "ids", [[], [0], [0, 1, 2], [5, 31, 32, 33, 1023, 1024, 50_000], list(range(0, 600, 2))]
)
def test_encode_decode_round_trip(ids: list[int]) -> None:
    total = max(ids, default=0) + 1
    encoded = encode_ids(ids, total)
    assert decode_ids(encoded) == ids
    assert re.fullmatch(r"[!A-Za-z0-9+/]*", encoded)


def test_dense_lists_become_bitmaps() -> None:
    assert encode_ids(list(range(1000)), 1000).startswith("!")
    assert not encode_ids([3, 900], 1000).startswith("!")


def test_pages_are_safe_deterministic_and_complete(tmp_path: Path) -> None:
    articles = corpus(120)
    settings = Settings(root=tmp_path)
    pages = client_pages(articles, settings)
    assert [p.data for p in pages] == [p.data for p in client_pages(articles[::-1], settings)]
    for page in pages:
        text = page.data.decode("utf-8")
        assert "<" not in text and ">" not in text and "\u2028" not in text
    data = payloads(pages)
    meta = data["meta"]
    assert isinstance(meta, dict)
    assert meta["n"] == 120
    assert meta["stop"] == sorted(STOP_WORDS)
    assert meta["sources"] == ["Alpha News", "Beta Post"]
    assert [y[0] for y in meta["years"]] == [2019, 2018, 2017, 2016, 2015]
    assert sum(y[2] for y in meta["years"]) == 120
    terms = {k: v for name, d in data.items() if name.startswith("terms-") for k, v in d.items()}
    assert "the" not in terms and "the" in data["stop-000"]
    assert len(decode_ids(terms["common"][2])) + len(decode_ids(terms["common"][1])) == 120
    doc_ids = decode_ids(terms["zq0007x"][1] or terms["zq0007x"][2])
    assert len(doc_ids) == 1
    per = meta["per"]
    doc = data[f"docs-{doc_ids[0] // per:03d}"]["d"][doc_ids[0] % per]
    assert doc[0] == "report-0007" and doc[1] == "Report number 7 about harbour0007"
    assert "</script>" in doc[2]  # stored as text; escaped in the file, decoded by JSON
    first = meta["shards"]
    assert first == sorted(first)
    for number, start in enumerate(first):
        assert min(data[f"terms-{number:03d}"]) == start
    assert meta["url"] == ["articles/", ".html"]


def test_result_links_follow_pretty_urls(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path, pretty_urls=True)
    meta = payloads(client_pages(corpus(12), settings))["meta"]
    assert isinstance(meta, dict)
    assert meta["url"] == ["articles/", "/"]  # articles/<slug>/ is what a pretty site serves


def test_file_budget() -> None:
    assert sum(shard_counts(9496, 12_000_000, 2_500_000)) + 3 <= 9496 // 50
    terms, docs = shard_counts(10, 1000, 1000)
    assert terms >= 1 and docs >= 1


def test_words_and_plain_text() -> None:
    assert words("Russia’s Président, the U.S. and don't 2024 x") == [
        "russia",
        "president",
        "the",
        "and",
        "dont",
        "2024",
    ]
    assert plain_text("## Head\n\nSee [the *link*](http://x.org) and <b>bold</b>.") == (
        "Head\n\nSee the link and bold ."
    )


def test_cached_rebuilds_equal_fresh_builds(tmp_path: Path) -> None:
    articles = corpus(120)
    cached = Settings(root=tmp_path / "cached")
    client_pages(articles, cached)
    assert (cached.state_path / CACHE_NAME).is_file()
    edited = list(articles)
    edited[5] = dataclasses.replace(
        edited[5], title=edited[5].title + " volcano", body="Brand new zzword text. " * 3
    )
    moved = [dataclasses.replace(a, published=None) if i == 9 else a for i, a in enumerate(edited)]
    for version in (edited, edited, moved, moved[1:]):
        fresh = Settings(root=tmp_path / f"fresh{len(version)}{id(version)}")
        assert [(p.path, p.data) for p in client_pages(version, cached)] == [
            (p.path, p.data) for p in client_pages(version, fresh)
        ]
    terms = {
        k: v
        for name, d in payloads(client_pages(edited, cached)).items()
        if name.startswith("terms-")
        for k, v in d.items()
    }
    assert len(decode_ids(terms["zzword"][1])) == 1 and "zq0005x" not in terms


def test_damaged_cache_is_ignored(tmp_path: Path) -> None:
    articles = corpus(30)
    settings = Settings(root=tmp_path)
    expected = [p.data for p in client_pages(articles, settings)]
    (settings.state_path / CACHE_NAME).write_bytes(b"not a pickle")
    assert [p.data for p in client_pages(articles, settings)] == expected


def test_word_store_rows_are_only_used_for_the_right_fingerprint(tmp_path: Path) -> None:
    import sqlite3

    from archiver.search.clientcache import WORDS_NAME

    articles = corpus(40)
    cached = Settings(root=tmp_path / "cached")
    client_pages(articles, cached)
    edited = list(articles)
    edited[3] = dataclasses.replace(edited[3], body="Completely new qqword body. " * 3)
    db = sqlite3.connect(cached.state_path / WORDS_NAME)
    db.execute("UPDATE words SET mark = 'stale', weak = 'bogusword'")  # as if a build crashed
    db.commit()
    db.close()
    fresh = Settings(root=tmp_path / "fresh")
    expected = [(p.path, p.data) for p in client_pages(edited, fresh)]
    assert [(p.path, p.data) for p in client_pages(edited, cached)] == expected
    assert b"bogusword" not in b"".join(data for _, data in expected)
    (cached.state_path / WORDS_NAME).write_bytes(b"not a database")
    assert [(p.path, p.data) for p in client_pages(articles, cached)] == [
        (p.path, p.data) for p in client_pages(articles, Settings(root=tmp_path / "fresh2"))
    ]


def test_worker_processes_give_the_same_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import archiver.search.clientwords as clientwords

    articles = corpus(30)
    serial = [p.data for p in client_pages(articles, Settings(root=tmp_path / "serial"))]
    monkeypatch.setattr(clientwords, "POOL_MIN", 2)
    monkeypatch.setattr(clientwords.os, "cpu_count", lambda: 2)
    assert [p.data for p in client_pages(articles, Settings(root=tmp_path / "pool"))] == serial


def test_edited_pages_equal_a_full_computation_and_need_the_right_generation(
    tmp_path: Path,
) -> None:
    from archiver.search.client import client_pages_edited

    articles = corpus(60)
    cached = Settings(root=tmp_path / "cached")
    client_pages(articles, cached, generation="g1")
    edited = list(articles)
    for i, body in ((3, "Completely new qqword body. " * 3), (40, "Short.")):
        edited[i] = dataclasses.replace(edited[i], body=body)
    changes = {edited[i].slug: edited[i] for i in (3, 40)}
    assert client_pages_edited(changes, cached, generation="other", new_generation="g2") is None
    assert client_pages_edited(changes, cached, generation="", new_generation="g2") is None
    pages = client_pages_edited(changes, cached, generation="g1", new_generation="g2")
    assert pages is not None
    expected = [(p.path, p.data) for p in client_pages(edited, Settings(root=tmp_path / "fresh"))]
    assert [(p.path, p.data) for p in pages] == expected
    assert b"qqword" in b"".join(data for _, data in expected)
    # the saved state now belongs to g2: the next edit builds on it, the old token is refused
    again = {edited[5].slug: dataclasses.replace(edited[5], body="Another zzword text.")}
    assert client_pages_edited(again, cached, generation="g1", new_generation="g3") is None
    pages = client_pages_edited(again, cached, generation="g2", new_generation="g3")
    assert pages is not None
    edited[5] = again[edited[5].slug]
    expected = [(p.path, p.data) for p in client_pages(edited, Settings(root=tmp_path / "f2"))]
    assert [(p.path, p.data) for p in pages] == expected
    # an unknown slug is not an edit
    unknown = {"nope": dataclasses.replace(edited[0], slug="nope")}
    assert client_pages_edited(unknown, cached, generation="g3", new_generation="g4") is None


def test_edited_pages_use_this_process_state_only_for_its_own_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import archiver.search.clientcache as clientcache
    from archiver.search.client import client_pages_edited

    articles = corpus(30)
    cached = Settings(root=tmp_path / "cached")
    client_pages(articles, cached, generation="g1")
    (cached.state_path / CACHE_NAME).write_bytes(b"damaged")  # what this process saved is kept
    edited = list(articles)
    edited[7] = dataclasses.replace(edited[7], body="Fresh kiwiword body.")
    changes = {edited[7].slug: edited[7]}
    pages = client_pages_edited(changes, cached, generation="g1", new_generation="g2")
    assert pages is not None
    expected = [(p.path, p.data) for p in client_pages(edited, Settings(root=tmp_path / "fresh"))]
    assert [(p.path, p.data) for p in pages] == expected
    assert client_pages_edited(changes, cached, generation="g1", new_generation="g3") is None
    monkeypatch.setattr(clientcache, "_LAST", {})  # a fresh process reads the file it saved
    again = client_pages_edited(changes, cached, generation="g2", new_generation="g3")
    assert again is not None and [(p.path, p.data) for p in again] == expected


def test_precomputed_gap_codes_are_the_gap_codes() -> None:
    from archiver.search.clientcodec import _GAPS, _gap_code

    assert len(_GAPS) == 1 << 15
    assert all(_GAPS[g] == _gap_code(g) for g in range(1 << 15))


def test_two_edits_where_one_moves_a_word_the_other_keeps(tmp_path: Path) -> None:
    from archiver.search.client import client_pages_edited

    articles = corpus(20)
    cached = Settings(root=tmp_path / "cached")
    client_pages(articles, cached, generation="g1")
    edited = list(articles)
    # 'number' leaves article 3's title; article 11 is edited too but keeps 'number' as it was
    edited[3] = dataclasses.replace(edited[3], title="Three")
    edited[11] = dataclasses.replace(edited[11], title="Report number 11, eleven")
    changes = {edited[i].slug: edited[i] for i in (3, 11)}
    pages = client_pages_edited(changes, cached, generation="g1", new_generation="g2")
    assert pages is not None
    expected = [(p.path, p.data) for p in client_pages(edited, Settings(root=tmp_path / "fresh"))]
    assert [(p.path, p.data) for p in pages] == expected


def test_spliced_terms_files_equal_serialised_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit that keeps a terms file's terms replaces the changed entries in its previous
    bytes (accented and CJK words too); the files equal a clean build's, and the state read
    back from disk (split term lists) equals the state in memory."""
    import archiver.search.clientcache as clientcache
    import archiver.search.clientfiles as clientfiles
    from archiver.search.client import client_pages_edited
    from archiver.search.clientcache import load_state

    articles = corpus(80)
    for i in (2, 9, 30):
        extra = f" Café éclair naïve 日本語 zq{(i + 1):04d}x."
        articles[i] = dataclasses.replace(articles[i], body=articles[i].body + extra)
    cached = Settings(root=tmp_path / "cached")
    client_pages(articles, cached, generation="g1")
    spliced: list[bytes | None] = []
    real = clientfiles._spliced

    def spy(*args: Any) -> bytes | None:
        spliced.append(real(*args))
        return spliced[-1]

    monkeypatch.setattr(clientfiles, "_spliced", spy)
    monkeypatch.setattr(clientcache, "_LAST", {})  # read the state back from its file
    edited = list(articles)
    edited[9] = dataclasses.replace(edited[9], body=edited[9].body + " zq0002x Café zq0031x.")
    changes = {edited[9].slug: edited[9]}
    pages = client_pages_edited(changes, cached, generation="g1", new_generation="g2")
    assert pages is not None
    assert any(s is not None for s in spliced)
    fresh = Settings(root=tmp_path / "fresh")
    expected = [(p.path, p.data) for p in client_pages(edited, fresh, generation="g2")]
    assert [(p.path, p.data) for p in pages] == expected
    monkeypatch.setattr(clientcache, "_LAST", {})
    ours, theirs = load_state(cached.state_path), load_state(fresh.state_path)
    assert ours is not None and theirs is not None
    assert dataclasses.asdict(ours) == dataclasses.asdict(theirs)


@pytest.mark.parametrize(
    ("term", "lists"),
    [
        ("café", "AB !gG "),
        ("日本語", "  A"),
        ('we"ird<&>\u2028\\', "A B C"),
        ("x", ""),
        ("word2", "A  "),
        ("²", "A  "),
    ],
)
def test_a_terms_entry_is_its_json(term: str, lists: str) -> None:
    """_entry (spliced into a terms file) is exactly what serialising the file writes."""
    from archiver.search.clientfiles import _entry, js_payload

    whole = js_payload("terms-000", {term: lists.split(" ")})
    assert b"{" + _entry(term, lists) + b"}" in whole


def test_preloaded_state_is_used_without_reading_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """preload reads the state of the given build ahead of its use: load_state then returns it
    even when the file is gone; another build's token preloads nothing."""
    import archiver.search.clientcache as clientcache
    from archiver.search.clientcache import load_state, preload

    settings = Settings(root=tmp_path)
    client_pages(corpus(12), settings, generation="g1")
    monkeypatch.setattr(clientcache, "_LAST", {})
    assert not preload(settings.state_path, "other")
    assert not preload(settings.state_path, "")
    assert clientcache._LAST == {}
    assert preload(settings.state_path, "g1")
    (settings.state_path / CACHE_NAME).unlink()
    state = load_state(settings.state_path, "g1")
    assert state is not None and state.generation == "g1"
    assert load_state(settings.state_path) is None  # without the token: the file (gone)
