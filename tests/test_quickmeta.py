"""The metadata fast path (archiver/quickmeta.py): title, tag, summary, source and author edits
re-render only the pages showing the article, byte-identical to a clean build."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import archiver.quickmeta as quickmeta
from archiver.build import BuildHooks, BuildReport, build_site
from archiver.config import Settings

SOURCES = ("Wire One", "Wire Two", "Wire Three")
TAGS = ("Energy", "Europe", "Asia", "Oceans", "Markets", "Climate")
WORDS = ("grid", "storm", "market", "summit", "harbour", "election", "drought", "treaty")


def article_text(n: int, **front: str) -> str:
    """Front matter and body of test article n (fields overridable)."""
    month = 1 + n % 5
    fields = {
        "title": f"{WORDS[n % 8].title()} report {WORDS[(n * 3) % 8]} number {n}",
        "published": f"2023-{month:02d}-{1 + n % 27:02d}",
        "tags": "[" + ", ".join(TAGS[(n + k) % 6] for k in range(1 + n % 3)) + "]",
        "source": SOURCES[n % 3],
        "authors": f"[Writer {n % 4}]",
        "summary": f"Summary of article {n}.",
    }
    fields.update(front)
    head = "".join(f"{key}: {value}\n" for key, value in fields.items())
    return f"---\n{head}---\n\nBody of article {n} about {WORDS[n % 8]}.\n"


def write(content: Path, n: int, body_extra: str = "", **front: str) -> None:
    """(Re)write article n."""
    text = article_text(n, **front) + body_extra
    (content / f"a{n:02d}.md").write_text(text, encoding="utf-8")


def tree(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under root."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def build(settings: Settings, **kwargs: Any) -> tuple[BuildReport, list[str]]:
    """Build in-process (jobs=1), recording the pages rendered."""
    rendered: list[str] = []
    report = build_site(settings, jobs=1, hooks=BuildHooks(on_rendered=rendered.append), **kwargs)
    return report, rendered


OPTIONS: dict[str, Any] = {"per_page": 50, "feed_size": 5, "related_count": 3}


@pytest.fixture(autouse=True)
def _fixed_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Results of run_meta calls (None: it fell back to the normal build)."""
    results: list[Any] = []
    real = quickmeta.run_meta

    def spy(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        results.append(result)
        return result

    import archiver.quickmeta

    monkeypatch.setattr(archiver.quickmeta, "run_meta", spy)
    return results


def make(root: Path, count: int = 26, **options: Any) -> Settings:
    """An archive of count articles, built once."""
    content = root / "content"
    content.mkdir(parents=True)
    for n in range(count):
        write(content, n)
    settings = Settings(root=root, **{**OPTIONS, **options})
    build(settings)
    return settings


def same_as_clean(settings: Settings, tmp_path: Path, **options: Any) -> None:
    """The site equals a clean build of the same content; the next build does nothing."""
    other = tmp_path / "clean"
    shutil.rmtree(other, ignore_errors=True)
    shutil.copytree(settings.content_path, other / "content")
    build(Settings(root=other, **{**OPTIONS, **options}), clean=True)
    assert tree(settings.output_path) == tree(other / "site")
    again, rendered = build(settings)
    assert (again.written, rendered) == (0, [])


def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    import archiver.quickstate as quickstate

    monkeypatch.setattr(quickstate, "_MEMORY", {})


FAST: dict[str, Callable[[Path], None]] = {
    "title": lambda c: write(c, 7, title="Harbour storm treaty anew"),
    "title-shared-words": lambda c: write(c, 7, title="Grid market summit drought"),
    "tag-added": lambda c: write(c, 7, tags="[Energy, Oceans, Climate]"),
    "tag-removed": lambda c: write(c, 8, tags="[Europe]"),
    "tag-respelled": lambda c: write(c, 7, tags="[energy]"),
    "summary": lambda c: write(c, 7, summary="A new summary."),
    "summary-removed": lambda c: (c / "a07.md").write_text(
        article_text(7).replace("summary: Summary of article 7.\n", ""), encoding="utf-8"
    ),
    "authors": lambda c: write(c, 7, authors="[Writer 3, Writer 0]"),
    "source": lambda c: write(c, 7, source="Wire Three"),
    "title-and-body": lambda c: write(c, 7, "\nMore body.\n", title="Both changed"),
    "title-and-tags": lambda c: write(c, 11, tags="[Asia]", title="Eleven"),
    "newest": lambda c: write(c, 4, title="The newest article, renamed"),
}

SLOW: dict[str, Callable[[Path], None]] = {
    "date-to-a-new-month": lambda c: write(c, 7, published="2023-11-28"),
    "new-tag-taking-a-slug": lambda c: write(c, 7, tags="[Energy, -Oceans]"),  # oceans-2
    "renamed-term": lambda c: [write(c, n, source="WIRE TWO") for n in (1, 4, 7, 10, 13)],
}


@pytest.mark.parametrize(
    ("case", "fresh"),
    [(case, True) for case in sorted(FAST)] + [("title", False), ("tag-added", False)],
)
def test_metadata_edit_is_fast_and_identical_to_a_clean_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, taken: list[Any], case: str, fresh: bool
) -> None:
    settings = make(tmp_path / "archive")
    if fresh:
        _fresh(monkeypatch)
    FAST[case](settings.content_path)
    report, rendered = build(settings)
    assert len(taken) == 1 and taken[0] is not None, "the metadata fast path was not taken"
    assert report.reused > report.written >= 1
    assert rendered and all(not p.startswith("articles/") or p.endswith(".html") for p in rendered)
    same_as_clean(settings, tmp_path)


@pytest.mark.parametrize("case", sorted(SLOW))
def test_structural_edits_fall_back_and_stay_identical(
    tmp_path: Path, taken: list[Any], case: str
) -> None:
    settings = make(tmp_path / "archive")
    SLOW[case](settings.content_path)
    build(settings)
    assert taken in ([], [None])
    same_as_clean(settings, tmp_path)


def test_client_index_after_title_edits_of_two_articles(tmp_path: Path) -> None:
    settings = make(tmp_path / "archive")
    write(settings.content_path, 3, title="Three")
    write(settings.content_path, 11, title="Eleven")
    build(settings)
    same_as_clean(settings, tmp_path)


def test_title_edit_renders_only_pages_showing_the_article(
    tmp_path: Path, taken: list[Any]
) -> None:
    settings = make(tmp_path / "archive", count=40, per_page=5)
    write(settings.content_path, 20, title="Quiet harbour renamed")
    _, rendered = build(settings)
    assert taken and taken[0] is not None
    assert "articles/a20.html" in rendered
    page = (settings.output_path / "index.html").read_text(encoding="utf-8")
    assert "Quiet harbour renamed" not in page  # the newest page does not list it
    assert "index.html" not in rendered
    assert "tags/index.html" not in rendered  # counts unchanged
    assert not any(p.startswith("sources/") and "index" in p for p in rendered)
    same_as_clean(settings, tmp_path, per_page=5)


@pytest.mark.parametrize(
    ("n", "authors", "page"),
    [
        (7, "[Writer 3, Writer 2]", "writer-2/page/3.html"),
        (1, "[Writer 0]", "writer-1/page/3.html"),
    ],
)  # writer 2: 6 -> 7 articles (a third page); writer 1: 7 -> 6 (two pages)
def test_an_edit_that_adds_or_drops_a_pagination_page(
    tmp_path: Path, taken: list[Any], n: int, authors: str, page: str
) -> None:
    settings = make(tmp_path / "archive", per_page=3)
    existed = (settings.output_path / "authors" / page).is_file()
    write(settings.content_path, n, authors=authors)
    build(settings)
    assert taken and taken[0] is not None
    assert (settings.output_path / "authors" / page).is_file() is not existed
    same_as_clean(settings, tmp_path, per_page=3)


def test_tag_edit_updates_counts_and_every_page_of_the_tag(
    tmp_path: Path, taken: list[Any]
) -> None:
    settings = make(tmp_path / "archive", count=30)
    write(settings.content_path, 7, tags="[Energy, Oceans, Climate]")
    _, rendered = build(settings)
    assert taken and taken[0] is not None
    assert "tags/index.html" in rendered
    assert "tags/oceans.html" in rendered and "tags/oceans.atom" in rendered
    same_as_clean(settings, tmp_path)
    write(settings.content_path, 7)  # and back
    build(settings)
    assert len(taken) == 2 and taken[1] is not None
    same_as_clean(settings, tmp_path)


def test_metadata_fast_path_with_pretty_urls_and_base_url(tmp_path: Path, taken: list[Any]) -> None:
    options = {"pretty_urls": True, "base_url": "https://example.org/archive/"}
    settings = make(tmp_path / "archive", **options)
    write(settings.content_path, 9, title="Renamed with pretty URLs", tags="[Asia, Energy]")
    build(settings)
    assert taken and taken[0] is not None
    same_as_clean(settings, tmp_path, **options)


def test_metadata_edit_updates_search(tmp_path: Path, taken: list[Any]) -> None:
    settings = make(tmp_path / "archive")
    write(settings.content_path, 7, title="Zanzibarite found", tags="[Oceans]")
    build(settings)
    assert taken and taken[0] is not None
    from whoosh.qparser import QueryParser

    from archiver.search.index import open_index

    ix = open_index(settings)
    try:
        with ix.searcher() as searcher:
            query = QueryParser("title", ix.schema).parse("zanzibarite")
            assert [hit["slug"] for hit in searcher.search(query)] != []
    finally:
        ix.close()
    same_as_clean(settings, tmp_path)


def _whoosh_hits(settings: Settings, field: str, word: str) -> list[str]:
    """Slugs the Whoosh index finds for one word in one field."""
    from whoosh.qparser import QueryParser

    from archiver.search.index import open_index

    ix = open_index(settings)
    try:
        with ix.searcher() as searcher:
            query = QueryParser(field, ix.schema).parse(word)
            return [hit["slug"] for hit in searcher.search(query)]
    finally:
        ix.close()


def test_fresh_process_indexes_in_the_standby_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, taken: list[Any]
) -> None:
    """A fresh build forks its search index children before it knows the edit: body, title,
    tag and date edits are indexed by them (the client one rebuilds the articles' order from
    the snapshot it read); a build with nothing to do ends both unused; a damaged site makes
    the Whoosh one send the edit to the normal build."""
    import archiver.quickchild as quickchild
    from archiver.forked import Standby

    settings = make(tmp_path / "archive")
    sent: list[str] = []
    unused: list[str] = []
    real_send, real_cancel = Standby.send, Standby.cancel

    def named(kind: str, start: Callable[..., Standby | None]) -> Callable[..., Standby | None]:
        def started(*args: Any) -> Standby | None:
            standby = start(*args)
            if standby is not None:
                standby.kind = kind  # type: ignore[attr-defined]
            return standby

        return started

    def send(self: Standby, job: bytes) -> Any:
        sent.append(self.kind)  # type: ignore[attr-defined]
        return real_send(self, job)

    def cancel(self: Standby) -> None:
        if not self.sent:
            unused.append(self.kind)  # type: ignore[attr-defined]
        real_cancel(self)

    monkeypatch.setattr(quickchild, "whoosh_standby", named("whoosh", quickchild.whoosh_standby))
    monkeypatch.setattr(quickchild, "client_standby", named("client", quickchild.client_standby))
    monkeypatch.setattr(Standby, "send", send)
    monkeypatch.setattr(Standby, "cancel", cancel)
    edits: list[Callable[[Path], None]] = [
        lambda c: write(c, 7, title="Zanzibarite found"),
        lambda c: write(c, 9, "\nA quokkaesque sentence.\n"),
        lambda c: write(c, 7, title="Zanzibarite found", tags="[Oceans]"),
        lambda c: write(c, 8, published="2023-04-20"),  # from April 9: same month
    ]
    for number, edit in enumerate(edits, 1):
        _fresh(monkeypatch)
        edit(settings.content_path)
        build(settings)
        assert (sent, unused) == (["whoosh", "client"], [])
        assert number == 2 or taken.pop() is not None  # the metadata fast path, not the normal
        same_as_clean(settings, tmp_path)  # its last build has nothing to do: both unused
        assert (sent, unused) == (["whoosh", "client"], ["whoosh", "client"])
        sent.clear()
        unused.clear()
    assert _whoosh_hits(settings, "title", "zanzibarite") == ["a07"]
    assert _whoosh_hits(settings, "body", "quokkaesque") == ["a09"]
    (settings.output_path / "tags" / "index.html").unlink()
    _fresh(monkeypatch)
    write(settings.content_path, 7, title="Zanzibarite found again")
    _, rendered = build(settings)
    assert sent == ["whoosh", "client"] and "tags/index.html" in rendered
    assert taken[-1] is None  # the Whoosh standby found the site damaged: the normal build
    same_as_clean(settings, tmp_path)


def test_front_matter_edit_renders_no_markdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, taken: list[Any]
) -> None:
    """The edited file's body HTML comes from the content cache when its body is unchanged."""
    import archiver.markup as markup

    settings = make(tmp_path / "archive")
    rendered: list[str] = []
    real = markup.render_markdown

    def render(text: str) -> str:
        rendered.append(text)
        return real(text)

    monkeypatch.setattr(markup, "render_markdown", render)
    write(settings.content_path, 7, title="Harbour storm treaty anew")
    build(settings)
    assert taken[-1] is not None and rendered == []
    same_as_clean(settings, tmp_path)
    rendered.clear()
    write(settings.content_path, 7, "\nA changed body.\n", title="Harbour storm treaty anew")
    build(settings)
    assert len(rendered) == 1 and "A changed body." in rendered[0]


def test_lazy_list_is_real_only_on_wanted_pages() -> None:
    from archiver.model import Article

    items = tuple(Article(title=str(n), slug=f"s{n}", body="") for n in range(7))
    lazy = quickmeta.Lazy(items, 3, frozenset({2}))
    assert len(lazy) == 7 and list(lazy) == []
    assert lazy[3:6] == items[3:6] and lazy[0:3] == () and lazy[6:9] == ()
    assert lazy[4] is items[4]


def test_fresh_process_updates_the_client_index_in_the_index_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Body, title and tag edits: the forked child updates Whoosh and the client index (its
    changed files come back through the pipe)."""
    import archiver.quickchild as quickchild

    settings = make(tmp_path / "archive")
    children: list[Any] = []
    real_start = quickchild.IndexChild.start

    def start(*args: Any, **kwargs: Any) -> Any:
        children.append(real_start(*args, **kwargs))
        return children[-1]

    monkeypatch.setattr(quickchild.IndexChild, "start", start)
    for edit in (
        lambda c: write(c, 7, "\nMore words in the body.\n"),
        lambda c: write(c, 7, title="Harbour storm treaty anew"),
    ):
        _fresh(monkeypatch)
        edit(settings.content_path)
        build(settings)
        assert children[-1] is not None and children[-1].client is not None
        assert children[-1].client[0], "no client index file changed"
        same_as_clean(settings, tmp_path)
    _fresh(monkeypatch)
    write(settings.content_path, 7, tags="[Oceans]")
    build(settings)
    assert children[-1] is not None and children[-1].client is not None
    same_as_clean(settings, tmp_path)


@pytest.mark.parametrize("case", ["title", "tag-added", "summary"])
def test_serve_like_build_announces_pages_before_the_search_update(
    tmp_path: Path, taken: list[Any], case: str
) -> None:
    """Under serve (another thread alive: no fork; announcing): the pages are written and
    announced first, the search indexes after; the result is still a clean build's."""
    import threading

    from archiver.quick import announcing

    settings = make(tmp_path / "archive")
    FAST[case](settings.content_path)
    seen: list[bool] = []

    def announced() -> None:
        page = settings.output_path / "articles" / "a07.html"
        seen.append(page.stat().st_mtime_ns > 0)

    done = threading.Event()
    other = threading.Thread(target=done.wait)
    other.start()
    try:
        with announcing(announced):
            build(settings)
    finally:
        done.set()
        other.join()
    assert taken and taken[0] is not None and seen == [True]
    same_as_clean(settings, tmp_path)


def test_title_edit_on_a_damaged_site_takes_the_normal_build(
    tmp_path: Path, taken: list[Any]
) -> None:
    settings = make(tmp_path / "archive")
    (settings.output_path / "tags" / "index.html").unlink()
    write(settings.content_path, 7, title="Seven, fixed by hand")
    _, rendered = build(settings)
    assert "tags/index.html" in rendered  # the normal build repaired the site
    assert "Seven, fixed by hand" in (settings.output_path / "articles/a07.html").read_text()
    same_as_clean(settings, tmp_path)
