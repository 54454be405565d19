"""The built sample site in real headless Chromium, opened from disk (file://) and over HTTP.

A reader clicks home -> tag -> article -> source -> archive and back again: every link they
follow must lead to an existing file, every page must load all its resources, and no page may
log a console error or throw.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response

if TYPE_CHECKING:
    from conftest import BuiltSite

pytestmark = pytest.mark.browser

TAGS_INDEX = ("tags index", r"/tags/(?:index\.html)?$")
STEPS: tuple[tuple[str, str], ...] = (
    ("tag", r"/tags/(?!index\.html$)[^/]+(?:\.html|/)$"),
    ("article", r"/articles/[^/]+(?:\.html|/)$"),
    ("source", r"/sources/(?!index\.html$)[^/]+(?:\.html|/)$"),
    ("archive", r"/archive/(?:[^/]+(?:\.html|/))?$"),
)
"""The reader's path after the home page: (what, pattern its resolved URL must match).
When the home page shows no tag link, the reader goes through the tags index (TAGS_INDEX)."""


@dataclass
class Watch:
    """Everything that went wrong in one browser page: console errors, exceptions, bad loads."""

    problems: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        """Listen to a page's console, uncaught exceptions and network results."""
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"uncaught exception: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.problems.append(f"console error at {where}: {message.text}")

    def _failed(self, request: Request) -> None:
        # ERR_ABORTED: an in-flight request (e.g. the favicon) cancelled by the next navigation.
        if request.failure != "net::ERR_ABORTED":
            self.problems.append(f"request failed: {request.url} ({request.failure})")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")


@dataclass(frozen=True)
class Mode:
    """How the site is opened: its base URL and how a URL maps back to a file."""

    base: str
    root: Path

    def file_of(self, url: str) -> Path | None:
        """The file a same-site URL points at (None for other origins or schemes)."""
        if not url.startswith(self.base):
            return None
        rel = unquote(urlsplit(url).path[len(urlsplit(self.base).path) :])
        return self.root / rel if rel else self.root


@pytest.fixture
def page(chromium_browser: Browser) -> Iterator[Page]:
    """A fresh page in its own browser context."""
    context = chromium_browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(params=["file", "http"])
def mode(
    request: pytest.FixtureRequest, sample_site: BuiltSite, http_server: Callable[[Path], str]
) -> Mode:
    """The sample site opened from disk, or served on 127.0.0.1."""
    root = sample_site.path.resolve()
    if request.param == "file":
        return Mode(base=root.as_uri() + "/", root=root)
    return Mode(base=http_server(root), root=root)


def _missing(mode: Mode, url: str, pretty: bool) -> str | None:
    """Why a followed URL does not lead to a file (None when it does)."""
    path = mode.file_of(url.split("#", 1)[0].split("?", 1)[0])
    if path is None:
        return None
    if path.is_dir():
        if not pretty or mode.base.startswith("file:"):
            return f"{url} points at a folder; file:// needs a file (add index.html)"
        path = path / "index.html"
    return None if path.is_file() else f"{url} leads to no file ({path})"


def _links(page: Page) -> list[tuple[int, str]]:
    """Every <a href> of the page as (document index, URL resolved by the browser)."""
    hrefs: list[str] = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    return list(enumerate(hrefs))


def _check_page_links(page: Page, mode: Mode, pretty: bool) -> list[str]:
    """Broken same-site links of the current page."""
    here = page.url
    broken = (_missing(mode, url, pretty) for _, url in _links(page))
    return [f"on {here}: {reason}" for reason in broken if reason]


def _visible_link(page: Page, pattern: str) -> tuple[int, str] | None:
    """The first visible link whose resolved URL (fragment aside) matches pattern."""
    regex = re.compile(pattern)
    for index, url in _links(page):
        if regex.search(url.split("#", 1)[0]) and page.locator("a[href]").nth(index).is_visible():
            return index, url
    return None


def _follow(page: Page, what: str, pattern: str) -> str:
    """Click the first visible link whose resolved URL matches pattern; returns the new URL."""
    found = _visible_link(page, pattern)
    if found is None:
        pytest.fail(f"{page.url}: no visible {what} link (resolved URL matching {pattern!r})")
    index, url = found
    with page.expect_navigation(wait_until="load"):
        page.locator("a[href]").nth(index).click()
    assert page.url.split("#", 1)[0] == url.split("#", 1)[0], (
        f"clicking the {what} link {url} landed on {page.url}"
    )
    return page.url


def test_reader_walks_home_tag_article_source_archive_and_back(
    page: Page, mode: Mode, sample_site: BuiltSite
) -> None:
    """home -> (tags) -> tag -> article -> source -> archive -> back home, nothing broken."""
    pretty = sample_site.settings.pretty_urls
    watch = Watch()
    watch.attach(page)
    home = mode.base + "index.html"
    page.goto(home, wait_until="load")
    visited = [page.url]
    broken = _check_page_links(page, mode, pretty)
    if _visible_link(page, STEPS[0][1]) is None:
        visited.append(_follow(page, *TAGS_INDEX))
        broken += _check_page_links(page, mode, pretty)
    for what, pattern in STEPS:
        visited.append(_follow(page, what, pattern))
        broken += _check_page_links(page, mode, pretty)
    for expected in reversed(visited[:-1]):
        page.go_back(wait_until="load")
        assert page.url == expected, f"Back landed on {page.url}, expected {expected}"
        assert page.title().strip(), f"{page.url}: empty <title> after going back"
    assert not broken, "broken links:\n" + "\n".join(broken)
    assert not watch.problems, f"while browsing {mode.base}:\n" + "\n".join(watch.problems)


def test_every_page_type_loads_cleanly(
    page: Page, mode: Mode, sample_page_types: dict[str, str]
) -> None:
    """Each page type loads all its resources with no console error or uncaught exception.

    Pages with scripts are given until the network is idle, so late errors are caught too.
    """
    watch = Watch()
    watch.attach(page)
    seen: list[str] = []
    for kind, rel in sample_page_types.items():
        before = len(watch.problems)
        page.goto(mode.base + rel, wait_until="load")
        if page.locator("script[src]").count():
            page.wait_for_load_state("networkidle")
        seen += [f"{kind} ({rel}): {p}" for p in watch.problems[before:]]
        assert page.title().strip(), f"{kind} ({rel}): empty <title>"
    assert not seen, "\n".join(seen)
