"""Date edits on the metadata fast path (archiver/quickmeta.py, quickrelate.py): an article
that moves in the newest-first order re-renders only the pages its move changes (home and
term pages between its old and new place, neighbours, related lists, the date archive,
feeds), byte-identical to a clean build of the same content."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_quickmeta import (  # the fixtures too: autouse epoch, the fast path spy
    OPTIONS,
    _fixed_epoch,
    _fresh,
    article_text,
    build,
    make,
    same_as_clean,
    taken,
    write,
)

from archiver.config import Settings

__all__ = ["_fixed_epoch", "taken"]


def undated(content: Path, n: int) -> None:
    """Remove article n's published date (it has no other date: it becomes undated)."""
    text = article_text(n)
    lines = [line for line in text.splitlines(keepends=True) if not line.startswith("published:")]
    (content / f"a{n:02d}.md").write_text("".join(lines), encoding="utf-8")


# article n is published 2023-(1 + n % 5)-(1 + n % 27); a07 is 2023-03-08, months 1-5 exist
MOVES: dict[str, Callable[[Path], None]] = {
    "same-month": lambda c: write(c, 7, published="2023-03-20"),
    "same-day-later": lambda c: write(c, 7, published="2023-03-08T18:30:00Z"),
    "other-month": lambda c: write(c, 7, published="2023-04-02"),
    "newest": lambda c: write(c, 7, published="2023-05-28"),
    "oldest-tied-by-slug": lambda c: write(c, 7, published="2023-01-01"),
    "undated": lambda c: undated(c, 7),
    "two-articles": lambda c: [
        write(c, 7, published="2023-05-02"),
        write(c, 11, published="2023-01-03"),
    ],
    "date-and-tags": lambda c: write(c, 7, published="2023-04-02", tags="[Asia, Markets]"),
    "date-and-title": lambda c: write(c, 7, published="2023-02-14", title="Storm grid anew"),
    "archived-added": lambda c: write(c, 7, archived="2023-05-01T00:00:00Z"),
}


@pytest.mark.parametrize(
    ("case", "fresh"),
    [(case, True) for case in sorted(MOVES)] + [("other-month", False), ("undated", False)],
)
def test_date_edit_is_fast_and_identical_to_a_clean_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, taken: list[Any], case: str, fresh: bool
) -> None:
    settings = make(tmp_path / "archive")
    if fresh:
        _fresh(monkeypatch)
    MOVES[case](settings.content_path)
    report, rendered = build(settings)
    assert len(taken) == 1 and taken[0] is not None, "the fast path was not taken"
    assert report.written >= 1 and report.reused >= 1
    assert "articles/a07.html" in rendered
    same_as_clean(settings, tmp_path)


def make_two_years(root: Path, **options: Any) -> Settings:
    """26 articles, those from 18 on published in 2022 (same months and days)."""
    content = root / "content"
    content.mkdir(parents=True)
    for n in range(26):
        if n >= 18:
            write(content, n, published=f"2022-{1 + n % 5:02d}-{1 + n % 27:02d}")
        else:
            write(content, n)
    settings = Settings(root=root, **{**OPTIONS, **options})
    build(settings)
    return settings


@pytest.mark.parametrize("there_and_back", [False, True])
def test_date_moved_to_another_year(tmp_path: Path, taken: list[Any], there_and_back: bool) -> None:
    settings = make_two_years(tmp_path / "archive", per_page=4)
    write(settings.content_path, 7, published="2022-04-11")
    _, rendered = build(settings)
    assert taken and taken[-1] is not None
    assert {"archive/2022.html", "archive/2023.html", "archive/index.html"} <= set(rendered)
    same_as_clean(settings, tmp_path, per_page=4)
    if there_and_back:
        write(settings.content_path, 7)
        build(settings)
        assert len(taken) == 2 and taken[-1] is not None
        same_as_clean(settings, tmp_path, per_page=4)


def test_date_edit_at_a_home_page_boundary(tmp_path: Path, taken: list[Any]) -> None:
    """per_page 5: a07 moves just past the first article of the next home page; the two
    pages it leaves and enters change, the others are reused."""
    settings = make(tmp_path / "archive", per_page=5)
    order = _home_order(settings)
    at = order.index("a07")
    after = order[(at // 5 + 1) * 5]  # the first article of the next page
    write(settings.content_path, 7, published=_day_before(_published(settings, after)))
    now = _home_order(settings).index("a07")
    assert now // 5 == at // 5 + 1
    _, rendered = build(settings)
    assert taken and taken[0] is not None
    pages = {p for p in rendered if p == "index.html" or p.startswith("page/")}
    assert len(pages) == 2, rendered
    same_as_clean(settings, tmp_path, per_page=5)


def test_neighbours_recorded_after_a_move_serve_the_body_fast_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, taken: list[Any]
) -> None:
    """After a move, the old and new neighbours' recorded links (newer/older) are right: a
    body edit of each (the one-edit fast path, which trusts them) matches a clean build."""
    settings = make(tmp_path / "archive")
    order = _home_order(settings)
    at = order.index("a07")
    old_neighbours = [order[at - 1], order[at + 1]]
    write(settings.content_path, 7, published="2023-05-28")  # the newest
    build(settings)
    assert taken and taken[0] is not None
    for slug in [*old_neighbours, order[0], "a07"]:
        _fresh(monkeypatch)
        text = (settings.content_path / f"{slug}.md").read_text(encoding="utf-8")
        (settings.content_path / f"{slug}.md").write_text(text + "\nMore.\n", encoding="utf-8")
        build(settings)
        same_as_clean(settings, tmp_path)


FALLBACK: dict[str, Callable[[Path], None]] = {
    "new-month": lambda c: write(c, 7, published="2023-11-28"),
    "new-year": lambda c: write(c, 7, published="2019-03-08"),
}


@pytest.mark.parametrize("case", sorted(FALLBACK))
def test_date_edit_that_adds_a_month_page_falls_back(
    tmp_path: Path, taken: list[Any], case: str
) -> None:
    settings = make(tmp_path / "archive")
    FALLBACK[case](settings.content_path)
    build(settings)
    assert taken == [None]
    same_as_clean(settings, tmp_path)


def test_date_edit_that_empties_a_month_falls_back(tmp_path: Path, taken: list[Any]) -> None:
    settings = make_two_years(tmp_path / "archive")
    # 2022-05 holds only a19 and a24: move both out
    write(settings.content_path, 19, published="2023-05-02")
    write(settings.content_path, 24, published="2023-05-03")
    build(settings)
    assert taken == [None]
    same_as_clean(settings, tmp_path)


def test_date_edit_with_base_url_falls_back(tmp_path: Path, taken: list[Any]) -> None:
    """The sitemap lists every page in article order (with their dates): normal build."""
    options = {"base_url": "https://example.org/"}
    settings = make(tmp_path / "archive", **options)
    write(settings.content_path, 7, published="2023-03-20")
    build(settings)
    assert taken == [None]
    same_as_clean(settings, tmp_path, **options)


@pytest.mark.parametrize("case", ["same-month", "oldest-tied-by-slug", "undated", "two-articles"])
def test_serve_like_date_edit_announces_pages_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, taken: list[Any], case: str
) -> None:
    """As under archiver serve (another thread alive: no fork; articles remembered in
    memory; pages announced before the search update): still a clean build's bytes, and the
    client index is renumbered (quickclient), not rebuilt."""
    import archiver.quickclient as quickclient
    from archiver.quick import announcing

    renumbered: list[object] = []
    real = quickclient.client_pages_moved

    def spy(*args: Any, **kwargs: Any) -> Any:
        renumbered.append(real(*args, **kwargs))
        return renumbered[-1]

    monkeypatch.setattr(quickclient, "client_pages_moved", spy)
    settings = make(tmp_path / "archive")
    announced: list[bool] = []
    done = threading.Event()
    other = threading.Thread(target=done.wait)
    other.start()
    try:
        with announcing(lambda: announced.append(True)):
            MOVES[case](settings.content_path)
            build(settings)
            assert taken and taken[-1] is not None and announced == [True]
            write(settings.content_path, 7)  # and back, from the remembered articles
            write(settings.content_path, 11)
            build(settings)
            assert len(taken) == 2 and taken[-1] is not None
    finally:
        done.set()
        other.join()
    assert len(renumbered) == 2 and None not in renumbered
    same_as_clean(settings, tmp_path)


@pytest.mark.parametrize("case", ["other-month", "date-and-tags", "two-articles"])
def test_client_index_state_after_a_move_is_a_full_updates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, taken: list[Any], case: str
) -> None:
    """The renumbered client index state (in the forked child) equals the state a clean
    build saves, so later incremental updates start from the same place."""
    import dataclasses

    from archiver.search.clientcache import load_state

    settings = make(tmp_path / "archive")
    _fresh(monkeypatch)
    MOVES[case](settings.content_path)
    build(settings)
    assert taken and taken[0] is not None
    same_as_clean(settings, tmp_path)
    ours = load_state(settings.state_path)
    clean = load_state(tmp_path / "clean" / ".archiver")
    assert ours is not None and clean is not None
    ours.generation = clean.generation = ""
    assert dataclasses.asdict(ours) == dataclasses.asdict(clean)


def _home_order(settings: Settings) -> list[str]:
    """Slugs newest first, as the site orders them."""
    from archiver.content import load_articles
    from archiver.taxonomy import sort_articles

    loaded = load_articles(settings.content_path)
    return [a.slug for a in sort_articles(loaded.articles)]


def _published(settings: Settings, slug: str) -> str:
    """An article's published date (YYYY-MM-DD) from its file."""
    for line in (settings.content_path / f"{slug}.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("published: "):
            return line.removeprefix("published: ")[:10]
    raise AssertionError(slug)


def _day_before(date: str) -> str:
    """YYYY-MM-DD of the day before date (same month in these fixtures)."""
    import datetime as dt

    return (dt.date.fromisoformat(date) - dt.timedelta(days=1)).isoformat() + "T23:59:59Z"


def test_a_move_past_too_many_articles_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, taken: list[Any]
) -> None:
    """Past quickrelate.MAX_SHIFTED articles (a date moved across years of a large archive)
    the normal build runs: as quick, and simpler."""
    import archiver.quickrelate as quickrelate

    monkeypatch.setattr(quickrelate, "MAX_SHIFTED", 3)
    settings = make(tmp_path / "archive")
    write(settings.content_path, 7, published="2023-05-28")  # past 13 articles
    build(settings)
    assert taken == [None]
    same_as_clean(settings, tmp_path)
    write(settings.content_path, 7, published="2023-05-27")  # still the newest: fast
    build(settings)
    assert len(taken) == 2 and taken[-1] is not None
    same_as_clean(settings, tmp_path)


NEW_TERMS: dict[str, Callable[[Path], None]] = {
    "new-tag": lambda c: write(c, 7, tags="[Energy, Brand New]"),
    "new-tag-suffixed-slug": lambda c: write(c, 7, tags="[Energy, Energy!]"),  # energy-2
    "new-author": lambda c: write(c, 7, authors="[Somebody Else]"),
    "new-source": lambda c: write(c, 7, source="Wire Nine"),
    "new-source-and-tags": lambda c: write(c, 5, tags="[Energy]", source="Wire Nine"),
    "new-tag-on-two-articles": lambda c: [
        write(c, 7, tags="[Energy, Brand New]"),
        write(c, 11, tags="[Brand New, Asia]"),
    ],
    "new-tag-and-date": lambda c: write(c, 7, tags="[Brand New]", published="2023-04-02"),
    "author-disappears": lambda c: [write(c, n, authors="[Writer 0]") for n in range(3, 26, 4)],
    "source-disappears-and-tag-appears": lambda c: [
        write(c, n, source="Wire One", tags="[Energy, Oceans]") for n in range(2, 26, 3)
    ],
}


@pytest.mark.parametrize("case", sorted(NEW_TERMS))
def test_a_new_term_is_fast_and_identical_to_a_clean_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, taken: list[Any], case: str
) -> None:
    """A brand-new tag (or source, or author): its pages and feed are new files."""
    settings = make(tmp_path / "archive")
    _fresh(monkeypatch)
    NEW_TERMS[case](settings.content_path)
    _, rendered = build(settings)
    assert len(taken) == 1 and taken[0] is not None, "the fast path was not taken"
    assert {"articles/a07.html", "articles/a05.html", "articles/a03.html"} & set(rendered)
    same_as_clean(settings, tmp_path)


def test_a_new_tag_and_back(tmp_path: Path, taken: list[Any]) -> None:
    """Adding a tag and removing it again (its pages are written, then removed): fast."""
    settings = make(tmp_path / "archive", per_page=1)  # the tag's pages: one per article
    write(settings.content_path, 7, tags="[Europe, Asia, Brand New]")
    write(settings.content_path, 11, tags="[Brand New]")
    build(settings)
    assert (settings.output_path / "tags" / "brand-new" / "page" / "2.html").is_file()
    same_as_clean(settings, tmp_path, per_page=1)
    write(settings.content_path, 7)
    write(settings.content_path, 11)
    build(settings)
    assert len(taken) == 2 and None not in taken
    assert not (settings.output_path / "tags" / "brand-new.html").exists()
    same_as_clean(settings, tmp_path, per_page=1)


def test_a_new_tag_with_pretty_urls_under_serve(tmp_path: Path, taken: list[Any]) -> None:
    from archiver.quick import announcing

    options = {"pretty_urls": True, "per_page": 3}
    settings = make(tmp_path / "archive", **options)
    done = threading.Event()
    other = threading.Thread(target=done.wait)
    other.start()
    try:
        with announcing(lambda: None):  # a07 keeps its tags (no page count changes)
            write(settings.content_path, 7, tags="[Europe, Asia, Brand New]")
            _, rendered = build(settings)
    finally:
        done.set()
        other.join()
    assert taken and taken[0] is not None
    assert {"tags/brand-new/index.html", "tags/brand-new.atom", "tags/index.html"} <= set(rendered)
    same_as_clean(settings, tmp_path, **options)


@pytest.mark.parametrize("case", ["new-tag", "author-disappears"])
def test_a_new_or_lost_term_with_base_url_falls_back(
    tmp_path: Path, taken: list[Any], case: str
) -> None:
    """The sitemap would list (or still list) the term's page: the normal build."""
    options = {"base_url": "https://example.org/"}
    settings = make(tmp_path / "archive", **options)
    NEW_TERMS[case](settings.content_path)
    build(settings)
    assert taken == [None]
    same_as_clean(settings, tmp_path, **options)


def test_a_client_state_save_failing_after_the_files_went_over_fails_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, taken: list[Any]
) -> None:
    """The client index child hands its files over before it saves its state; when that save
    fails, the build fails in one line, leaves no manifest (the next build is a normal one),
    and that next build equals a clean one."""
    from archiver.errors import BuildError
    from archiver.search import client

    settings = make(tmp_path / "archive")
    _fresh(monkeypatch)
    MOVES["other-month"](settings.content_path)
    real = client.save_state

    def full_disk(*args: Any) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(client, "save_state", full_disk)
    with pytest.raises(BuildError, match=r"^search index update failed: No space left on device$"):
        build(settings)
    monkeypatch.setattr(client, "save_state", real)
    assert not (settings.state_path / "build-manifest.pickle").exists()
    report, _ = build(settings)
    assert report.written >= 1
    same_as_clean(settings, tmp_path)
