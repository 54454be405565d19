"""The fresh-index writer gives the same index as Whoosh's writer, file for file, query by query."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from whoosh import index as windex
from whoosh import query as wquery
from whoosh.qparser import FuzzyTermPlugin, MultifieldParser, QueryParser
from whoosh.util.numeric import byte_to_length, length_to_byte

from archiver import markup
from archiver.content import load_articles
from archiver.model import Article
from archiver.search import postings
from archiver.search.bodytext import body_text, strip_emphasis
from archiver.search.index import INDEX_NAME, document, fast_fields, schema
from archiver.search.parallel import write_fresh as write_split
from archiver.search.segment import write_fresh

REPO = Path(__file__).resolve().parent.parent
FILLER = "river bank flood sensor council budget harbour ferry battery library seed"


def synthetic() -> list[Article]:
    """Edge cases: accents, CJK, stop words only, empty fields, no dates, long and repeated."""
    many = [
        Article(
            title=f"Harbour report {n}",
            slug=f"harbour-{n:03d}",
            body=f"{FILLER} number{n % 7} " * (1 + n % 5),
            published=dt.date(2020, 1, 1) + dt.timedelta(days=n) if n % 3 else None,
            source="Port Gazette" if n % 2 else "Harbour Times",
            tags=("Harbour", f"Tag {n % 4}"),
            authors=("Åsa Öberg",) if n % 5 == 0 else (),
        )
        for n in range(300)  # > 2 posting blocks of 128 for the common terms
    ]
    long_body = " ".join(f"w{i % 300} the river" for i in range(3000))  # positions > 4096
    return [
        *many,
        Article(title="Café crème à Zürich", slug="cafe", body="Ça coûte 3 € — naïve façade."),
        Article(title="東京の天気", slug="tokyo", body="今日は晴れ。明日は雨でしょう。"),
        Article(title="The and of", slug="stops", body="it is what it is", summary=""),
        Article(title="Empty body", slug="empty", body="", summary=None, source=None),
        Article(title="Long river text", slug="long", body=long_body, summary="river " * 300),
        Article(
            title="Dated datetime",
            slug="dated",
            body="**Bold** _em_ __strong__ `code` [link](http://x.example) ![alt](i.png)",
            published=dt.datetime(2021, 3, 4, 5, 6, tzinfo=dt.UTC),
            url="https://example.org/a",
        ),
    ]


def corpus() -> list[Article]:
    """The sample content, the build fixtures and the synthetic articles."""
    found = list(load_articles(REPO / "content").articles)
    found += load_articles(REPO / "tests" / "fixtures" / "site_content").articles
    assert len(found) >= 15
    return [*found, *synthetic()]


def whoosh_index(folder: Path, docs: list[dict[str, Any]], *, compound: bool = True) -> Any:
    """The index as Whoosh's own SegmentWriter writes it."""
    folder.mkdir()
    ix = windex.create_in(str(folder), schema(), indexname=INDEX_NAME)
    writer = ix.writer(compound=compound)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()
    return ix


def fresh_index(folder: Path, docs: list[dict[str, Any]], *, compound: bool = True) -> Any:
    """The index as the fresh writer writes it."""
    folder.mkdir()
    fields = schema()
    write_fresh(
        folder, fields, docs, indexname=INDEX_NAME, fast=fast_fields(fields), compound=compound
    )
    return windex.open_dir(str(folder), indexname=INDEX_NAME)


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    return [document(a) for a in corpus()]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, docs: list[dict[str, Any]]) -> Iterator[Any]:
    """(Whoosh-written index, fresh-written index) of the same documents."""
    root = tmp_path_factory.mktemp("pair")
    theirs, ours = whoosh_index(root / "whoosh", docs), fresh_index(root / "fresh", docs)
    yield theirs, ours
    theirs.close()
    ours.close()


def segment_files(folder: Path) -> dict[str, bytes]:
    """Segment files by their name without the random segment id (TOC and lock left out)."""
    out = {}
    for path in folder.iterdir():
        if path.suffix != ".toc" and "WRITELOCK" not in path.name:
            out[path.name.split(".", 1)[1]] = path.read_bytes()
    return out


def test_files_are_byte_identical_with_whooshs_pickle_protocol(
    tmp_path: Path, docs: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postings, "BLOCK_PROTOCOL", 2)
    whoosh_index(tmp_path / "whoosh", docs, compound=False).close()
    fresh_index(tmp_path / "fresh", docs, compound=False).close()
    theirs, ours = segment_files(tmp_path / "whoosh"), segment_files(tmp_path / "fresh")
    assert sorted(ours) == sorted(theirs)
    assert {"trm", "pst", "_stored.col", "_body_len.col", "published.col"} <= set(ours)
    for name in theirs:
        assert ours[name] == theirs[name], name


def test_every_term_and_posting_decodes_the_same(pair: tuple[Any, Any]) -> None:
    theirs, ours = pair
    with theirs.reader() as a, ours.reader() as b:
        assert a.doc_count_all() == b.doc_count_all()
        assert list(a.all_terms()) == list(b.all_terms())
        assert [a.stored_fields(n) for n in range(a.doc_count_all())] == [
            b.stored_fields(n) for n in range(b.doc_count_all())
        ]
        fmt = theirs.schema["body"].format
        for field, text in a.all_terms():
            ta, tb = a.term_info(field, text), b.term_info(field, text)
            stats = ("weight", "doc_frequency", "min_length", "max_length", "max_weight")
            assert [getattr(ta, s)() for s in stats] == [getattr(tb, s)() for s in stats]
            ma, mb = a.postings(field, text), b.postings(field, text)
            assert list(ma.items_as("weight")) == list(mb.items_as("weight"))
            if field in ("title", "summary", "body"):
                pa = a.postings(field, text).items_as("positions")
                assert list(pa) == list(b.postings(field, text).items_as("positions"))
        assert fmt is not None
        for field in ("title", "body", "tags"):
            assert a.field_length(field) == b.field_length(field)
            assert a.max_field_length(field) == b.max_field_length(field)
            lengths = [a.doc_field_length(n, field) for n in range(a.doc_count_all())]
            assert lengths == [b.doc_field_length(n, field) for n in range(b.doc_count_all())]


QUERIES = [
    "river",
    "harbour report",
    "river OR ferry",
    "harbour NOT number3",
    '"flood sensor"',
    '"river bank flood"',
    "harb*",
    "batery~",
    "café",
    "zurich",
    "東京の天気",
    "title:harbour",
    "tags:harbour",
    "source:'port gazette'",
    "authors:asa",
    "number3",
    "the",
    "w17 river",
]


@pytest.mark.parametrize("text", QUERIES)
def test_queries_give_identical_hits_and_scores(pair: tuple[Any, Any], text: str) -> None:
    theirs, ours = pair
    parser = MultifieldParser(["title", "summary", "body", "tags", "authors"], theirs.schema)
    parser.add_plugin(FuzzyTermPlugin())
    query = parser.parse(text)
    with theirs.searcher() as a, ours.searcher() as b:
        for kwargs in ({}, {"sortedby": "published", "reverse": True}):
            ha = [(h["slug"], h.score) for h in a.search(query, limit=None, **kwargs)]
            hb = [(h["slug"], h.score) for h in b.search(query, limit=None, **kwargs)]
            assert ha == hb
            assert bool(ha) == (text != "the")
        assert a.search(query).scored_length() == b.search(query).scored_length()


def test_filters_and_date_ranges_match(pair: tuple[Any, Any]) -> None:
    theirs, ours = pair
    dates = QueryParser("published", theirs.schema).parse("published:[20200301 to 20200601]")
    tag = wquery.Term("tags", "tag 2")
    with theirs.searcher() as a, ours.searcher() as b:
        for q, flt in ((wquery.Term("body", "river"), tag), (dates, None)):
            ha = [h["slug"] for h in a.search(q, filter=flt, limit=None, sortedby="published")]
            hb = [h["slug"] for h in b.search(q, filter=flt, limit=None, sortedby="published")]
            assert ha == hb
            assert ha


def test_update_after_a_fresh_write_works(tmp_path: Path, docs: list[dict[str, Any]]) -> None:
    ix = fresh_index(tmp_path / "ix", docs[:40])
    writer = ix.writer()
    writer.update_document(**{**docs[0], "title": "Completely different zebra"})
    writer.commit()
    with ix.searcher() as s:
        hits = s.search(QueryParser("title", ix.schema).parse("zebra"))
        assert [h["slug"] for h in hits] == [docs[0]["slug"]]
        assert s.doc_count() == 40
    ix.close()


def test_length_bytes_round_trip() -> None:
    assert all(length_to_byte(byte_to_length(b)) == b for b in range(256))


EMPHASIS = ["a____b", "a_____b", "x__y___z_", "~~~", "~~~~~", "**_*`__~", "_~~_", "* `x`"]


@pytest.mark.parametrize("text", EMPHASIS)
def test_strip_emphasis_equals_markup_pattern(text: str) -> None:
    assert strip_emphasis(text) == markup._EMPHASIS.sub("", text)


LINE_MARKS = [
    "---",
    "   * * *\nText after a rule.",
    "Plain\n\t_ _ _\nmore",
    "    - four blanks: not a list",
    "1. first\n2) second\n  3. third",
    "Text\n>quote\n## Heading\n+ plus item",
    "No marks at all, just words - with a dash and 3 digits 123.",
    "~~~\nfenced\n~~~\nand [ref]: http://example.org/x title",
    "Line\n \t-* rule mixing marks",
]
"""Bodies for body_text's shortcuts: each markup line pattern matching, nearly matching, or not."""


def test_body_text_shortcuts_skip_only_patterns_that_cannot_match() -> None:
    from archiver.search.bodytext import _may_mark_lines

    for body in LINE_MARKS:
        can = bool(markup._LINE_MARK.search(body) or markup._RULE.search(body))
        assert can <= _may_mark_lines(body), body
    assert not _may_mark_lines("Words only.\nMore words, 12 here.")
    assert _may_mark_lines("12. a numbered line")


def test_body_text_equals_markup_plain_text() -> None:
    bodies = [a.body for a in corpus()] + EMPHASIS
    bodies.append("# Head\n\n> quote *it*\n\n- a\n- b\n\n```\ncode\n```\n\n[x]: http://y\n\n---\n")
    bodies += LINE_MARKS
    for body in bodies:
        assert body_text(body) == markup.plain_text(body, paragraphs=True)


def test_position_terms_agree_with_the_token_stream() -> None:
    analyzer = schema()["body"].analyzer
    for article in corpus()[:40]:
        text = body_text(article.body)
        terms = analyzer.position_terms(text)
        tokens = [(t.text, t.pos) for t in analyzer(text, positions=True)]
        assert tokens == [(term, pos) for pos, term in enumerate(terms) if term is not None]


def test_two_process_split_gives_the_same_hits_and_scores(
    tmp_path: Path, pair: tuple[Any, Any]
) -> None:
    theirs, _ = pair
    folder = tmp_path / "split"
    folder.mkdir()
    write_split(
        folder, schema(), corpus(), document, indexname=INDEX_NAME, fast_of=fast_fields, split=True
    )
    assert not (tmp_path / "split.part").exists()
    ix = windex.open_dir(str(folder), indexname=INDEX_NAME)
    assert len(ix._segments()) == 2
    # separate files, read in place (a compound file's parts are opened as in-memory copies)
    assert not list(folder.glob("*.seg")) and len(list(folder.glob("*.trm"))) == 2
    parser = MultifieldParser(["title", "summary", "body", "tags", "authors"], theirs.schema)
    parser.add_plugin(FuzzyTermPlugin())
    with theirs.searcher() as a, ix.searcher() as b:
        assert [a.stored_fields(n) for n in range(a.doc_count_all())] == [
            b.stored_fields(n) for n in range(b.doc_count_all())
        ]
        for text in QUERIES:
            query = parser.parse(text)
            for kwargs in ({"limit": None}, {"limit": 5}, {"sortedby": "published"}):
                ha = [(h["slug"], h.score) for h in a.search(query, **kwargs)]
                assert ha == [(h["slug"], h.score) for h in b.search(query, **kwargs)], text
    ix.close()
