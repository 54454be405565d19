"""The search page in real headless Chromium, from file:// and over HTTP, on a small built site."""

from __future__ import annotations

import functools
import gzip
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from archiver.build import build_site
from archiver.config import load_settings
from archiver.report import SilentReporter

pytestmark = pytest.mark.browser

HOSTILE = (
    '<img src=x onerror="window.__pwned=1;alert(1)"></script><script>window.__pwned=2</script>'
)
ARTICLES = {
    "volcano": (
        "Volcano erupts near Reykjavik",
        "2023-11-10",
        "Nordic Wire",
        ["Iceland"],
        "Lava flows reached the coastal road near the fishing town.",
    ),
    "bank": (
        "Central bank raises interest rates",
        "2022-05-04",
        "Money Daily",
        ["Economy"],
        "The central bank raised rates to fight inflation in the euro area.",
    ),
    "final": (
        "Football final ends in penalties",
        "2021-07-11",
        "Sport Now",
        ["Football"],
        "The final went to penalties after extra time in the national stadium.",
    ),
    "harbour": (
        "Storm damages the harbour",
        "2023-02-01",
        "Nordic Wire",
        ["Iceland", "Weather"],
        "Waves broke the harbour wall; the coastal road was closed by the storm.",
    ),
    "hostile": (
        HOSTILE + " hostile headline",
        "2020-01-01",
        "Evil </script> Source",
        ["Security"],
        HOSTILE + " body mentions the hostile payload and the word lava once.",
    ),
}


def write_site(root: Path) -> Path:
    """Write the sample articles and build the site with the real engine."""
    content = root / "content"
    content.mkdir(parents=True)
    for slug, (title, date, source, tags, body) in ARTICLES.items():
        front = (
            f"---\ntitle: {title!r}\nslug: {slug}\npublished: {date}\nsource: {source!r}\n"
            f"tags: {tags!r}\nsummary: {body[:60]!r}\n---\n\n{body}\n"
        )
        (content / f"{slug}.md").write_text(front, encoding="utf-8")
    settings = load_settings(cwd=root)
    build_site(settings, reporter=SilentReporter(), jobs=1)
    return settings.output_path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built sample site."""
    return write_site(tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="module")
def http_root(site: Path) -> Iterator[str]:
    """The site served over HTTP on 127.0.0.1."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean."""


@pytest.fixture(params=["file", "http"])
def base(request: pytest.FixtureRequest, site: Path) -> str:
    """The site's address, from disk and over HTTP."""
    if request.param == "file":
        return site.as_uri() + "/"
    return str(request.getfixturevalue("http_root"))


@pytest.fixture
def page(chromium_browser: Any) -> Iterator[Any]:
    """A fresh page that fails the test on dialogs, page errors or a tripped hostile payload."""
    context = chromium_browser.new_context()
    tab = context.new_page()
    problems: list[str] = []

    def on_dialog(dialog: Any) -> None:
        problems.append(f"dialog {dialog.message}")
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    tab.on("pageerror", lambda e: problems.append(f"error {e}"))
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    yield tab
    pwned = tab.evaluate("window.__pwned || 0") if not tab.is_closed() else 0
    context.close()
    assert problems == [] and pwned == 0


def results(tab: Any) -> list[str]:
    """Titles of the results shown."""
    return [t.strip() for t in tab.locator("#search-results h2").all_inner_texts()]


def open_search(tab: Any, base: str, query: str = "", extra: str = "") -> None:
    """Open search.html with a query and wait for the status line to settle."""
    tab.goto(f"{base}search.html?q={quote(query)}{extra}")
    if query:
        tab.wait_for_function(
            "document.getElementById('search-status').textContent.indexOf('for') >= 0"
        )


def test_query_from_url_shows_results_filters_and_live_count(page: Any, base: str) -> None:
    open_search(page, base, "coastal road")
    assert sorted(results(page)) == ["Storm damages the harbour", "Volcano erupts near Reykjavik"]
    status = page.locator("#search-status")
    assert status.get_attribute("aria-live") == "polite"
    assert status.inner_text() == "2 results for “coastal road”"
    assert page.locator("#search-results mark").first.inner_text().lower() in {"coastal", "road"}
    filters = page.locator("#search-filters").inner_text()
    assert "Nordic Wire (2)" in filters and "2023 (2)" in filters
    page.locator("#search-filters input[value='Nordic Wire']").check()
    page.wait_for_function("location.search.indexOf('source=Nordic') >= 0")
    page.get_by_role("button", name="Show tags").click()
    page.wait_for_function(
        "document.getElementById('search-filters').textContent.indexOf('Weather (1)') >= 0"
    )
    page.locator("#search-filters input[value='Weather']").check()
    page.wait_for_function("document.querySelectorAll('#search-results li').length === 1")
    assert results(page) == ["Storm damages the harbour"]
    assert "tag=Weather" in page.url


def test_typing_prefix_typo_phrase_and_sort(page: Any, base: str) -> None:
    open_search(page, base)
    page.fill("#search-q", "harb")
    page.wait_for_function("document.querySelectorAll('#search-results li').length === 1")
    assert results(page) == ["Storm damages the harbour"]
    assert "q=harb" in page.url
    page.fill("#search-q", "penaltis ")
    page.wait_for_function(
        "document.getElementById('search-status').textContent.indexOf('penaltis') >= 0"
    )
    assert results(page) == ["Football final ends in penalties"]
    page.fill("#search-q", '"extra time"')
    page.wait_for_function(
        "document.getElementById('search-status').textContent.indexOf('extra') >= 0"
    )
    assert results(page) == ["Football final ends in penalties"]
    page.fill("#search-q", "the lava ")
    page.wait_for_function(
        "document.getElementById('search-status').textContent.indexOf('lava') >= 0"
    )
    page.select_option("#search-sort", "date")
    page.wait_for_function("location.search.indexOf('sort=date') >= 0")
    assert results(page)[0] == "Volcano erupts near Reykjavik"
    assert len(results(page)) == 2


def test_exact_title_first_and_keyboard_navigation_and_highlight(page: Any, base: str) -> None:
    open_search(page, base, "central bank raises interest rates")
    assert results(page)[0] == "Central bank raises interest rates"
    page.focus("#search-q")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.className") == "search-result-link"
    page.keyboard.press("k")
    assert page.evaluate("document.activeElement.id") == "search-q"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("j")
    href = page.evaluate("document.activeElement.getAttribute('href')")
    assert href.startswith("articles/bank.html?h=")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "articles/bank.html" in page.url
    if not page.locator("script[src$='static/highlight.js']").count():
        page.add_script_tag(url="../static/highlight.js")
    page.wait_for_selector("mark.search-hit")
    marked = {t.lower() for t in page.locator("mark.search-hit").all_inner_texts()}
    assert {"central", "bank", "interest"} <= marked


def test_hostile_content_and_queries_never_execute(page: Any, base: str) -> None:
    open_search(page, base, "hostile")
    (title,) = results(page)
    assert title.startswith("<img src=x onerror=")
    assert page.locator("#search-results img, #search-results script").count() == 0
    for query in (HOSTILE, "</script><svg onload=alert(1)>", '"><img src=x onerror=alert(1)>'):
        page.fill("#search-q", query)
        page.wait_for_timeout(150)
    assert page.locator("#search-app img, #search-app svg").count() == 0


def test_bytes_loaded_for_a_cold_query_over_http(
    chromium_browser: Any, http_root: str, site: Path
) -> None:
    context = chromium_browser.new_context()
    tab = context.new_page()
    sizes: dict[str, int] = {}
    tab.on("response", lambda r: sizes.__setitem__(r.url, len(gzip.compress(r.body()))))
    open_search(tab, http_root, "harbour")
    context.close()
    names = sorted(u.rsplit("/", 1)[1].split("?")[0] for u in sizes)
    assert "meta.js" in names and "search.js" in names
    assert not any(n.startswith("stop-") or n == "tags.js" for n in names)
    assert sum(sizes.values()) < 60_000
