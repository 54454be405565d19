"""Rendering every page type from a small in-memory archive: links, metadata, safety."""

from __future__ import annotations

import datetime as dt
import functools
import gc
import json
import posixpath
import re
import xml.dom.minidom
from html.parser import HTMLParser
from pathlib import Path

import feedparser  # type: ignore[import-untyped]
import jinja2
import pytest

from archiver.config import Settings
from archiver.markup import render_markdown
from archiver.model import Article
from archiver.render import PageSpec, make_environment, plan_pages, render_page
from archiver.taxonomy import build_archive

HOSTILE = "</script><script>alert(1)</script>"
STATIC = {
    f"static/{p.name}"
    for p in (Path(__file__).resolve().parent.parent / "templates" / "static").iterdir()
}
"""Theme files the engine copies (search.js belongs to the search page, when it exists)."""
SHA = "ab" * 32


def articles() -> list[Article]:
    return [
        Article(
            title=f"Evil {HOSTILE} title",
            slug="evil",
            body=f"Body with {HOSTILE} and [x](javascript:alert(1)).",
            summary=f"Summary {HOSTILE}",
            published=dt.date(2024, 3, 14),
            archived=dt.datetime(2024, 3, 15, 8, 0, tzinfo=dt.UTC),
            source=f"Source {HOSTILE}",
            authors=(f"Author {HOSTILE}", "Ann Lee"),
            tags=(f"Tag {HOSTILE}", "Climate", "Open Data"),
            url=f'https://example.org/a?x="{HOSTILE}',
            source_file="raw/evil.txt",
            source_sha256=SHA,
        ),
        Article(
            title="Kelp returns",
            slug="kelp",
            body="# Heading\n\nKelp text. ![pic](https://example.org/p.png)",
            published=dt.datetime(2023, 9, 18, 11, 0, tzinfo=dt.UTC),
            source="Sample Gazette",
            authors=("Ann Lee",),
            tags=("Climate", "Oceans"),
            language="fr",
        ),
        Article(
            title="Undated note",
            slug="undated",
            body="No date at all.",
            tags=("Open Data",),
            source_sha256="cd" * 32,
        ),
    ] + [
        Article(
            title=f"Filler {i}",
            slug=f"filler-{i}",
            body="Filler body.",
            published=dt.date(2022, 1 + i % 12, 1),
            tags=("Climate",),
            source="Sample Gazette",
        )
        for i in range(5)
    ]


def settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(root=tmp_path, per_page=3, **kw)  # type: ignore[arg-type]


NO_TEMPLATES = Path(__file__).resolve().parent / "no-such-archive"
"""An archive root without templates/: the default theme only (need not exist)."""


def build(tmp_path: Path, **kw: object) -> tuple[list[PageSpec], dict[str, bytes]]:
    """Plan and render the test archive; cached when the archive has no templates of its own."""
    if not (tmp_path / "templates").exists():
        return _cached(tuple(sorted(kw.items())))
    return _build(tmp_path, **kw)


@functools.cache
def _cached(kw: tuple[tuple[str, object], ...]) -> tuple[list[PageSpec], dict[str, bytes]]:
    return _build(NO_TEMPLATES, **dict(kw))


def _build(root: Path, **kw: object) -> tuple[list[PageSpec], dict[str, bytes]]:
    s = settings(root, **kw)
    specs = plan_pages(
        build_archive(articles()), s, html_of=lambda a: render_markdown(a.body), originals={SHA}
    )
    env = make_environment(s)
    return specs, {spec.path: render_page(env, spec) for spec in specs}


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        for key, value in attrs:
            if key in ("href", "src", "action") and value is not None:
                self.links.append(value)

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def parse(data: bytes) -> Links:
    parser = Links()
    parser.feed(data.decode("utf-8"))
    return parser


def test_every_page_type_is_planned(tmp_path: Path) -> None:
    specs, pages = build(tmp_path)
    paths = set(pages)
    expected = {
        "index.html", "page/2.html", "page/3.html", "articles/evil.html", "articles/kelp.html",
        "tags/index.html", "tags/climate.html", "tags/climate/page/2.html", "tags/climate.atom",
        "sources/index.html", "sources/sample-gazette.html", "authors/index.html",
        "authors/ann-lee.html", "archive/index.html", "archive/2024.html", "archive/2024/03.html",
        "search.html", "404.html", "feed.atom", "sitemap.xml", "robots.txt",
    }  # fmt: skip
    assert expected <= paths
    assert len(paths) == len(specs), "two specs share an output path"
    templates = {s.template for s in specs}
    assert {"index.html", "article.html", "term.html", "terms.html", "archive.html",
            "archive_year.html", "archive_month.html", "404.html", "feed.atom", "sitemap.xml",
            "robots.txt"} <= templates  # fmt: skip


def test_contexts_are_plain_json(tmp_path: Path) -> None:
    specs, _ = build(tmp_path)
    for spec in specs:
        assert json.loads(json.dumps(spec.context)) == spec.context, spec.path


@pytest.mark.parametrize("pretty", [False, True])
def test_internal_links_are_relative_and_resolve_to_files(tmp_path: Path, pretty: bool) -> None:
    _, pages = build(tmp_path, pretty_urls=pretty)
    files = set(pages) | STATIC | {f"originals/{SHA}.txt"}
    checked = 0
    for path, data in pages.items():
        if not path.endswith(".html"):
            continue
        for link in parse(data).links:
            if re.match(r"^[a-z][a-z0-9+.-]*:", link) or link.startswith("#"):
                continue
            assert not link.startswith("/"), (path, link)
            target = posixpath.normpath(posixpath.join(posixpath.dirname(path), link.split("?")[0]))
            if link.endswith("/") or link in ("./", ""):
                assert pretty, (path, link)
                target = posixpath.join(target, "index.html") if target != "." else "index.html"
            assert target in files, (path, link, target)
            checked += 1
    assert checked > 100


def test_plain_mode_links_files_not_folders(tmp_path: Path) -> None:
    _, pages = build(tmp_path)
    links = parse(pages["articles/evil.html"]).links
    assert "../tags/climate.html" in links
    assert "../index.html" in links
    assert "../static/style.css" in links
    assert not any(link.endswith("/") for link in links if not link.startswith("http"))


def test_pretty_mode_links_folders(tmp_path: Path) -> None:
    _, pages = build(tmp_path, pretty_urls=True)
    assert "articles/evil/index.html" in pages
    links = parse(pages["articles/evil/index.html"]).links
    assert "../../tags/climate/" in links
    assert "../../static/style.css" in links


def test_hostile_title_never_appears_unescaped(tmp_path: Path) -> None:
    _, pages = build(tmp_path)
    for path, data in pages.items():
        text = data.decode("utf-8")
        assert "<script>alert(1)" not in text, path
        assert "javascript:" not in text, path
    article = pages["articles/evil.html"].decode("utf-8")
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in article


def test_json_ld_parses_and_carries_the_metadata(tmp_path: Path) -> None:
    _, pages = build(tmp_path)
    parsed = parse(pages["articles/evil.html"])
    (script,) = parsed.scripts
    data = json.loads(script)
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == f"Evil {HOSTILE} title"
    assert data["datePublished"] == "2024-03-14"
    assert data["author"][1] == {"@type": "Person", "name": "Ann Lee"}
    assert data["publisher"]["name"] == f"Source {HOSTILE}"
    assert "</script" not in script


def test_article_page_contents(tmp_path: Path) -> None:
    _, pages = build(tmp_path)
    html = pages["articles/evil.html"].decode("utf-8")
    assert '<time datetime="2024-03-14">14 March 2024</time>' in html
    assert '<time datetime="2024-03-15T08:00:00Z">' in html
    assert "min read" in html
    assert f'href="../originals/{SHA}.txt"' in html
    assert SHA in html and "raw/evil.txt" in html
    assert 'property="og:title"' in html
    assert 'rel="canonical"' not in html
    assert 'href="../articles/kelp.html"' in html  # older neighbour / related
    undated = pages["articles/undated.html"].decode("utf-8")
    assert "originals/" not in undated, "no link to an original that is not kept"
    assert "Publication date unknown" in undated
    kelp = pages["articles/kelp.html"].decode("utf-8")
    assert '<html lang="fr">' in kelp
    assert "<img" not in kelp and "<h1>" in kelp and kelp.count("<h1") == 1


def test_base_url_gives_canonical_sitemap_and_absolute_feed_links(tmp_path: Path) -> None:
    _, pages = build(tmp_path, base_url="https://example.org/archive")
    html = pages["articles/evil.html"].decode("utf-8")
    assert '<link rel="canonical" href="https://example.org/archive/articles/evil.html">' in html
    doc = xml.dom.minidom.parseString(pages["sitemap.xml"])
    locs = [n.firstChild.data for n in doc.getElementsByTagName("loc")]  # type: ignore[union-attr]
    assert "https://example.org/archive/articles/evil.html" in locs
    assert "https://example.org/archive/index.html" in locs
    assert not any("404" in loc for loc in locs)
    assert b"Sitemap: https://example.org/archive/sitemap.xml" in pages["robots.txt"]
    feed = feedparser.parse(pages["feed.atom"])
    assert not feed.bozo
    assert feed.entries[0].link.startswith("https://example.org/archive/articles/")


def test_feeds_parse_without_base_url(tmp_path: Path) -> None:
    _, pages = build(tmp_path)
    feed = feedparser.parse(pages["feed.atom"])
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.updated == "2024-03-15T08:00:00Z" or feed.feed.updated.startswith("2024-03-1")
    titles = [e.title for e in feed.entries]
    assert titles[0] == f"Evil {HOSTILE} title"
    assert feed.entries[0].link == "articles/evil.html"
    tag_feed = feedparser.parse(pages["tags/climate.atom"])
    assert not tag_feed.bozo
    assert tag_feed.entries[0].link == "../articles/evil.html"
    assert len(tag_feed.entries) == 7
    doc = xml.dom.minidom.parseString(pages["sitemap.xml"])
    assert doc.getElementsByTagName("url") == []


def test_feed_updated_is_the_newest_article_date_not_the_build_time(tmp_path: Path) -> None:
    _, pages = build(tmp_path)
    assert b"<updated>2024-03-14T00:00:00Z</updated>" in pages["feed.atom"].split(b"<entry>")[0]


def test_output_is_deterministic(tmp_path: Path) -> None:
    _, first = build(tmp_path)
    _, second = _build(tmp_path)
    assert first == second


def test_archive_histogram(tmp_path: Path) -> None:
    _, pages = build(tmp_path)
    html = pages["archive/index.html"].decode("utf-8")
    assert 'style="height: 100%"' in html
    assert 'href="../archive/2024/03.html"' in html
    assert "Undated note" in html


def test_search_page_says_plainly_when_search_is_missing(tmp_path: Path) -> None:
    specs, pages = build(tmp_path)
    (spec,) = [s for s in specs if s.path == "search.html"]
    if spec.template == "search-unavailable.html":
        assert b"Search is not available" in pages["search.html"]
    assert {"site", "root", "nav", "page"} <= set(spec.context)


def test_strict_undefined_catches_missing_variables(tmp_path: Path) -> None:
    env = make_environment(settings(tmp_path))
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ nope }}").render()
    specs, _ = build(tmp_path)
    spec = next(s for s in specs if s.template == "article.html")
    broken = {k: v for k, v in spec.context.items() if k != "nav"}
    with pytest.raises(jinja2.UndefinedError):
        render_page(env, PageSpec(spec.path, spec.template, broken))


def test_archive_templates_override_the_theme(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "404.html").write_text("custom {{ site.title }}", encoding="utf-8")
    _, pages = build(tmp_path)
    assert pages["404.html"] == b"custom Article Archive"
    assert pages["index.html"].startswith(b"<!doctype html>")


def test_accessibility_landmarks(tmp_path: Path) -> None:
    _, pages = build(tmp_path)
    html = pages["index.html"].decode("utf-8")
    for needle in ('<a class="skip-link" href="#main">', '<main id="main"', "<header",
                   "<footer", '<nav class="site-nav" aria-label="Main">', 'role="search"',
                   'action="search.html"'):  # fmt: skip
        assert needle in html


def test_404_links_are_absolute_with_base_url(tmp_path: Path) -> None:
    _, pages = build(tmp_path, base_url="https://example.org/archive/")
    links = parse(pages["404.html"]).links
    assert "https://example.org/archive/static/style.css" in links
    assert "https://example.org/archive/index.html" in links


REPO = Path(__file__).resolve().parent.parent


def test_sample_archive_meets_the_brief() -> None:
    from archiver.content import load_articles

    result = load_articles(REPO / "content")
    assert result.errors == ()
    samples = [a for a in result.articles if a.extra.get("sample") is True]
    assert len(samples) >= 11
    assert len({a.source for a in samples}) >= 3
    assert len({a.sort_date.year for a in samples}) >= 2
    assert len({t.casefold() for a in samples for t in a.tags}) >= 15
    assert all(a.authors and a.summary for a in samples)
    assert any(a.published is None for a in samples)
    assert any(a.path is not None and a.path.name[:4].isdigit() for a in samples), "Jekyll file"
    for article in samples:
        assert "sample article" in article.body.casefold() or "exemple" in article.body.casefold()


def test_sample_archive_renders_with_working_links() -> None:
    from archiver.content import load_articles

    arts = load_articles(REPO / "content").articles
    s = Settings(root=NO_TEMPLATES)
    specs = plan_pages(build_archive(arts), s, html_of=lambda a: render_markdown(a.body))
    env = make_environment(s)
    pages = {spec.path: render_page(env, spec) for spec in specs}
    files = set(pages) | STATIC
    for path, data in pages.items():
        if path.endswith(".html"):
            for link in parse(data).links:
                if re.match(r"^[a-z][a-z0-9+.-]*:", link) or link.startswith("#"):
                    continue
                target = posixpath.normpath(posixpath.join(posixpath.dirname(path), link))
                assert target in files, (path, link)


@pytest.mark.parametrize("enabled", [True, False])
def test_planning_leaves_the_garbage_collector_as_it_found_it(
    tmp_path: Path, enabled: bool
) -> None:
    archive = build_archive(articles())
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        plan_pages(archive, settings(tmp_path), html_of=lambda a: "", originals=set())
        assert gc.isenabled() is enabled
        with pytest.raises(TypeError):  # a failure inside planning restores it too
            plan_pages(archive, settings(tmp_path), html_of=None, originals=set())  # type: ignore[arg-type]
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_fast_output_escaping_prints_what_jinja_prints() -> None:
    """ThemeEnvironment compiles {{ x }} to escape_output: same text as Jinja's own escape."""
    from markupsafe import Markup

    from archiver.render import ThemeEnvironment

    source = (
        "{% macro m(v) %}<b>{{ v }}</b>{% endmacro %}"
        "{% set block %}{{ hostile }}{% endset %}"
        "{{ hostile }}|{{ markup }}|{{ number }}|{{ none }}|{{ m(hostile) }}|{{ block }}|"
        "{{ hostile ~ markup }}|{{ hostile|e }}|{{ markup|safe }}|{{ items|join(', ') }}|"
        "{% autoescape false %}{{ hostile }}{% endautoescape %}|{{ hostile|tojson }}"
    )
    values = {
        "hostile": HOSTILE + "&'\"<>é\u2028",
        "markup": Markup("<i>ok</i>"),
        "number": 3.5,
        "none": None,
        "items": ["<a>", Markup("<b>")],
    }
    ours = ThemeEnvironment(autoescape=True).from_string(source)
    plain = jinja2.Environment(autoescape=True).from_string(source)
    assert "escape_output" in ThemeEnvironment(autoescape=True).compile(source, raw=True)
    assert ours.render(values) == plain.render(values)
    assert "<script>" not in ours.render(values).split("|")[0]
