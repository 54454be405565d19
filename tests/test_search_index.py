"""The Whoosh index: built from Article objects, updated incrementally, rebuilt when broken."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import pytest
from whoosh import index as windex

from archiver.config import Settings
from archiver.errors import LockedError
from archiver.model import Article
from archiver.report import SilentReporter
from archiver.search.index import INDEX_NAME, META_NAME, index_path, update_index


def sample_articles() -> list[Article]:
    """A handful of articles with distinct words, tags, sources and dates."""
    return [
        Article(
            title="Volcano erupts near Reykjavik",
            slug="volcano-erupts",
            body="Lava flows reached the **coastal** road. Scientists measured sulphur.",
            summary="An eruption in Iceland.",
            published=dt.date(2023, 11, 10),
            source="Nordic Wire",
            authors=("Anna Jónsdóttir",),
            tags=("Iceland", "Volcanoes"),
        ),
        Article(
            title="Central bank raises interest rates",
            slug="bank-rates",
            body="The central bank raised rates to fight inflation. Markets fell sharply.",
            published=dt.datetime(2022, 5, 4, 9, 30, tzinfo=dt.UTC),
            source="Money Daily",
            authors=("Piet de Vries",),
            tags=("Economy", "Inflation"),
        ),
        Article(
            title="Football final ends in penalties",
            slug="football-final",
            body="The final went to penalties after extra time. Fans celebrated in the streets.",
            published=dt.date(2021, 7, 11),
            source="Sport Now",
            tags=("Football",),
        ),
    ]


def settings_for(tmp_path: Path) -> Settings:
    """Settings rooted in a temporary archive folder."""
    return Settings(root=tmp_path)


def indexed_slugs(settings: Settings) -> set[str]:
    """Slugs stored in the index."""
    ix = windex.open_dir(str(index_path(settings)), indexname=INDEX_NAME)
    with ix.searcher() as searcher:
        return {fields["slug"] for fields in searcher.all_stored_fields()}


def build(settings: Settings, articles: list[Article], **kwargs: object) -> SilentReporter:
    """Run update_index with defaults; return the reporter."""
    reporter = SilentReporter()
    options: dict[str, object] = {"changed": set(), "deleted": set(), "clean": False}
    options.update(kwargs)
    update_index(settings, articles, reporter=reporter, **options)  # type: ignore[arg-type]
    return reporter


def test_first_build_creates_index_with_one_notice(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    reporter = build(settings, sample_articles())
    assert indexed_slugs(settings) == {"volcano-erupts", "bank-rates", "football-final"}
    assert len(reporter.messages) == 1 and "creating it" in reporter.messages[0]
    assert index_path(settings) == (tmp_path / ".archiver" / "index").resolve()
    meta = json.loads((index_path(settings) / META_NAME).read_text())
    assert sorted(meta["docs"]) == ["bank-rates", "football-final", "volcano-erupts"]


def test_clean_build_is_silent_and_incremental_update_touches_only_changes(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    articles = sample_articles()
    build(settings, articles, clean=True)
    changed = replace(articles[0], title="Volcano quietens near Reykjavik")
    reporter = build(
        settings, [changed, articles[1]], changed={"volcano-erupts"}, deleted={"football-final"}
    )
    assert reporter.messages == []
    assert indexed_slugs(settings) == {"volcano-erupts", "bank-rates"}
    ix = windex.open_dir(str(index_path(settings)), indexname=INDEX_NAME)
    with ix.searcher() as searcher:
        titles = {f["slug"]: f["title"] for f in searcher.all_stored_fields()}
    assert titles["volcano-erupts"] == "Volcano quietens near Reykjavik"


def test_article_missing_from_index_is_added_even_if_not_reported_changed(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    articles = sample_articles()
    build(settings, articles[:2], clean=True)
    build(settings, articles)
    assert "football-final" in indexed_slugs(settings)


@pytest.mark.parametrize("damage", ["meta", "schema", "segments"])
def test_broken_index_is_rebuilt_with_one_notice(tmp_path: Path, damage: str) -> None:
    settings = settings_for(tmp_path)
    build(settings, sample_articles(), clean=True)
    folder = index_path(settings)
    if damage == "meta":
        (folder / META_NAME).write_text("{not json")
    elif damage == "schema":
        meta = json.loads((folder / META_NAME).read_text())
        meta["schema"] = -1
        (folder / META_NAME).write_text(json.dumps(meta))
    else:
        for toc in folder.glob("_MAIN_*.toc"):
            toc.write_bytes(b"garbage")
    reporter = build(settings, sample_articles())
    assert len(reporter.messages) == 1
    assert "rebuilding it" in reporter.messages[0]
    assert indexed_slugs(settings) == {"volcano-erupts", "bank-rates", "football-final"}


@pytest.mark.parametrize("when", ["before the commit", "after the commit"])
def test_an_update_interrupted_leaves_an_index_that_is_updated_or_rebuilt_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """A crash before Whoosh's commit leaves the index and its bookkeeping as they were (the
    next update redoes the edit); one after it leaves the bookkeeping a generation behind, and
    the next update rebuilds. Either way the next index holds the edit."""
    from archiver.search import index as search_index

    settings = settings_for(tmp_path)
    articles = sample_articles()
    build(settings, articles, clean=True)
    edited = [replace(articles[0], title="Volcano quietens near Reykjavik"), *articles[1:]]

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    target = "document" if when == "before the commit" else "_write_meta"
    with monkeypatch.context() as patched:
        patched.setattr(search_index, target, crash)
        with pytest.raises(KeyboardInterrupt):
            build(settings, edited, changed={"volcano-erupts"})
    reporter = build(settings, edited, changed={"volcano-erupts"})
    assert (reporter.messages == []) == (when == "before the commit"), reporter.messages
    ix = windex.open_dir(str(index_path(settings)), indexname=INDEX_NAME)
    with ix.searcher() as searcher:
        titles = sorted(f["title"] for f in searcher.all_stored_fields())
    ix.close()
    assert titles == sorted(a.title for a in edited)


def test_concurrent_writer_is_one_clear_error(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    articles = sample_articles()
    build(settings, articles, clean=True)
    ix = windex.open_dir(str(index_path(settings)), indexname=INDEX_NAME)
    writer = ix.writer()
    try:
        with pytest.raises(LockedError) as caught:
            build(settings, [replace(articles[0], title="Changed")], changed={"volcano-erupts"})
        assert "\n" not in caught.value.message
        assert "another process" in caught.value.message
        with pytest.raises(LockedError):
            build(settings, articles, clean=True)
    finally:
        writer.cancel()
        ix.close()
    build(settings, [replace(articles[0], title="Changed")], changed={"volcano-erupts"})


def test_rebuild_writes_one_segment_that_searches_and_updates(tmp_path: Path) -> None:
    from whoosh.qparser import QueryParser

    settings = settings_for(tmp_path)
    articles = sample_articles()
    build(settings, articles, clean=True)
    ix = windex.open_dir(str(index_path(settings)), indexname=INDEX_NAME)
    assert len(ix._segments()) == 1
    with ix.searcher() as searcher:
        phrase = QueryParser("body", ix.schema).parse('"central bank raised"')
        assert [h["slug"] for h in searcher.search(phrase)] == ["bank-rates"]
    ix.close()
    changed = replace(articles[1], body="Rates were left alone this time.")
    build(settings, [articles[0], changed, articles[2]], changed={"bank-rates"})
    ix = windex.open_dir(str(index_path(settings)), indexname=INDEX_NAME)
    with ix.searcher() as searcher:
        assert not list(searcher.search(phrase))
        alone = QueryParser("body", ix.schema).parse("alone")
        assert [h["slug"] for h in searcher.search(alone)] == ["bank-rates"]
    ix.close()


def test_updates_add_segments_until_there_are_many_then_merge(tmp_path: Path) -> None:
    """Each one-article update adds a segment without rewriting earlier ones, until
    MAX_SEGMENTS; then the small ones are merged. Every edit stays searchable."""
    from whoosh.qparser import QueryParser

    from archiver.search.index import MAX_SEGMENTS

    settings = settings_for(tmp_path)
    articles = sample_articles()
    build(settings, articles, clean=True)
    counts = []
    for n in range(2 * MAX_SEGMENTS):
        articles[0] = replace(articles[0], body=f"The volcano rumbled. Marker{n} word.")
        build(settings, articles, changed={"volcano-erupts"})
        ix = windex.open_dir(str(index_path(settings)), indexname=INDEX_NAME)
        counts.append(len(ix._segments()))
        with ix.searcher() as searcher:
            query = QueryParser("body", ix.schema).parse(f"marker{n}")
            assert [h["slug"] for h in searcher.search(query)] == ["volcano-erupts"]
            old = QueryParser("body", ix.schema).parse(f"marker{n - 1}")
            assert not list(searcher.search(old))
            assert searcher.doc_count() == 3
        ix.close()
    assert counts[:3] == [2, 3, 4]  # no merge while there are few segments
    assert max(counts) <= MAX_SEGMENTS
    assert min(counts[MAX_SEGMENTS:]) < MAX_SEGMENTS  # merged once there were many


def test_index_job_can_be_abandoned_and_the_old_index_survives(tmp_path: Path) -> None:
    """stop() ends the background writer; the index written before is left as it was."""
    from archiver.search.index import IndexJob

    settings = settings_for(tmp_path)
    build(settings, sample_articles(), clean=True)
    many = [replace(a, slug=f"{a.slug}-{n}") for n in range(400) for a in sample_articles()]
    job = IndexJob.start(
        settings, many, changed=set(), deleted=set(), clean=True, reporter=SilentReporter()
    )
    assert job is not None
    job.stop()
    assert job.child.pid == 0
    assert indexed_slugs(settings) in ({a.slug for a in sample_articles()}, {a.slug for a in many})


def _every_posting(settings: Settings) -> dict[str, object]:
    """Per live document (by slug): its stored fields and, per field, its terms with their
    frequencies and positions; plus the collection's document count."""
    ix = windex.open_dir(str(index_path(settings)), indexname=INDEX_NAME)
    out: dict[str, object] = {}
    with ix.reader() as reader:
        slugs = {n: reader.stored_fields(n)["slug"] for n in reader.all_doc_ids()}
        out["count"] = reader.doc_count()
        postings: dict[tuple[str, str], list[object]] = {}
        for field, term in reader.all_terms():
            if field not in ("title", "body", "summary", "tags", "slug"):
                continue
            matcher = reader.postings(field, term)
            while matcher.is_active():
                docnum = matcher.id()
                if docnum in slugs:
                    value = (
                        matcher.value_as("positions")
                        if field in ("title", "body", "summary")
                        else None
                    )
                    postings.setdefault((slugs[docnum], field), []).append((term, value))
                matcher.next()
        for docnum, slug in slugs.items():
            out[slug] = (reader.stored_fields(docnum), sorted(postings.get((slug, "body"), [])))
        out["postings"] = {k: sorted(v, key=repr) for k, v in postings.items()}
    ix.close()
    return out


def test_updates_and_merges_index_what_whooshs_own_writer_indexes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Updates use the fresh segment writer and merge small segments by indexing their
    articles again; the index holds exactly what Whoosh's writer and MERGE_SMALL give."""
    import whoosh.writing

    import archiver.search.index as search_index

    many = [
        replace(a, slug=f"{a.slug}-{n}", body=f"{a.body} Number{n} marker.")
        for n in range(8)
        for a in sample_articles()
    ]
    ours, theirs = settings_for(tmp_path / "ours"), settings_for(tmp_path / "theirs")
    build(ours, many, clean=True)
    build(theirs, many, clean=True)
    deleted: set[str] = set()
    for n in range(3 * search_index.MAX_SEGMENTS):
        slug = many[n % len(many)].slug
        many = [replace(a, body=f"Edit {n} of {a.slug}.") if a.slug == slug else a for a in many]
        if n % 7 == 3:  # now and then an article is deleted too
            deleted = {many[-1].slug}
            many = many[:-1]
        build(ours, many, changed={slug}, deleted=deleted)
        with monkeypatch.context() as patched:
            patched.setattr(search_index, "_writer", lambda ix, **kw: ix.writer(**kw))
            patched.setattr(
                search_index,
                "_merge_policy",
                lambda current, readded: (
                    lambda writer, segments: (
                        whoosh.writing.NO_MERGE(writer, segments)
                        if len(segments) + 1 < search_index.MAX_SEGMENTS
                        else whoosh.writing.MERGE_SMALL(writer, segments)
                    )
                ),
            )
            build(theirs, many, changed={slug}, deleted=deleted)
        deleted = set()
        assert _every_posting(ours) == _every_posting(theirs), n
    segments = windex.open_dir(str(index_path(ours)), indexname=INDEX_NAME)
    assert len(segments._segments()) < search_index.MAX_SEGMENTS  # it did merge
    segments.close()
    meta = json.loads((index_path(ours) / META_NAME).read_text())
    assert meta["docs"] == {a.slug: search_index.fingerprint(a) for a in many}


def test_a_merge_with_slug_only_stand_ins_asks_for_the_articles(tmp_path: Path) -> None:
    """The fast path's stand-ins carry only a slug: a merge due on that update fails before
    anything is written, and the caller updates again with every article."""
    import archiver.search.index as search_index
    from archiver.quickchild import _stand_in

    settings = settings_for(tmp_path)
    articles = [replace(a, slug=f"{a.slug}-{n}") for n in range(4) for a in sample_articles()]
    build(settings, articles, clean=True)
    for n in range(search_index.MAX_SEGMENTS - 2):  # one segment short of a merge
        articles[n] = replace(articles[n], body=f"Edit {n}.")  # each segment one live article
        build(settings, articles, changed={articles[n].slug})
    before = _every_posting(settings)
    edited = replace(articles[-1], body="Edited with stand-ins.")
    stand_ins = [edited if a.slug == edited.slug else _stand_in(a.slug) for a in articles]
    with pytest.raises(search_index._NeedArticles):
        build(settings, stand_ins, changed={edited.slug})
    assert _every_posting(settings) == before
    articles[-1] = edited
    build(settings, articles, changed={edited.slug})
    assert "Edited with stand-ins." in str(_every_posting(settings)[edited.slug])
    assert _every_posting(settings)["count"] == len(articles)
