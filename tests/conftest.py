"""Shared fixtures: repository paths, site builds into temporary folders, a local HTTP server
and one headless Chromium per test session.

Fixtures (all generic, usable by any test module):

- ``repo_root`` (session): the repository checkout (folder holding ``pyproject.toml``).
- ``site_builder`` (session): ``site_builder(content_dir, **settings_overrides) -> BuiltSite``
  builds a content folder into a fresh temporary site + state folder (never the repo's ``site/``
  or ``.archiver/``); ``source_date_epoch=`` fixes ``SOURCE_DATE_EPOCH`` for that build.
- ``sample_site`` (session): the repository's sample ``content/`` built once, as a ``BuiltSite``.
- ``sample_page_types`` (session): one page of the sample site per page type, as
  ``{"home": "index.html", "article": "articles/....html", ...}`` (site-relative paths).
- ``golden_site`` (session): ``tests/fixtures/site_content/`` built with the golden settings.
- ``http_server`` (session): ``http_server(root) -> "http://127.0.0.1:PORT/"`` serves a folder from
  a thread (quiet logs); every server is shut down at the end of the session.
- ``chromium_browser`` (session): Playwright's chromium driving Debian's ``/usr/bin/chromium``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest
from playwright.sync_api import Browser, sync_playwright

from archiver.config import Settings, load_settings

if TYPE_CHECKING:
    from archiver.build import BuildReport

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTS_DIR = REPO_ROOT / "tests"
GOLDEN_CONTENT = TESTS_DIR / "fixtures" / "site_content"
GOLDEN_EPOCH = 1_700_000_000
"""SOURCE_DATE_EPOCH of the golden build (2023-11-14T22:13:20Z)."""
GOLDEN_SETTINGS: dict[str, Any] = {
    "title": "Golden Test Archive",
    "description": "A tiny fixed archive whose built site is compared file by file.",
    "base_url": "https://archive.example.org/golden/",
    "per_page": 2,
    "feed_size": 10,
    "related_count": 3,
}
"""Settings of the golden build (see tests/test_golden_site.py)."""
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@dataclasses.dataclass(frozen=True)
class BuiltSite:
    """A site built by the tests: where it is, the settings used and the build report."""

    path: Path
    settings: Settings
    report: BuildReport


class SiteBuilder(Protocol):
    """Signature of the ``site_builder`` fixture."""

    def __call__(
        self, content_dir: Path, *, source_date_epoch: int | None = None, **overrides: Any
    ) -> BuiltSite: ...


def find_repo_root(start: Path | None = None) -> Path:
    """The nearest folder at or above start (default: this file) holding pyproject.toml."""
    here = (start or Path(__file__)).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    raise RuntimeError(f"{here}: not inside the archiver repository")


@contextlib.contextmanager
def source_date_epoch(value: int | None) -> Iterator[None]:
    """Set SOURCE_DATE_EPOCH for the duration of the block (None: leave it unset)."""
    old = os.environ.pop("SOURCE_DATE_EPOCH", None)
    if value is not None:
        os.environ["SOURCE_DATE_EPOCH"] = str(value)
    try:
        yield
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)
        if old is not None:
            os.environ["SOURCE_DATE_EPOCH"] = old


def build_into(
    content_dir: Path,
    work: Path,
    *,
    root: Path,
    epoch: int | None = None,
    **overrides: Any,
) -> BuiltSite:
    """Build content_dir into work/site with state in work/state; fail on any reported problem."""
    from archiver.build import build_site

    out, state = work / "site", work / "state"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    base = load_settings(cwd=root)
    search = dataclasses.replace(base.search, index_dir=str(state / "index"))
    settings = dataclasses.replace(
        base,
        content_dir=str(content_dir),
        output_dir=str(out),
        state_dir=str(state),
        search=search,
        **overrides,
    )
    with source_date_epoch(epoch):
        report = build_site(settings, clean=True)
    assert not report.errors, f"building {content_dir} reported:\n" + "\n".join(report.errors)
    assert (out / "index.html").is_file(), f"{out}: the build wrote no index.html"
    return BuiltSite(path=out, settings=settings, report=report)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository checkout."""
    return find_repo_root()


@pytest.fixture(scope="session")
def site_builder(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> SiteBuilder:
    """Build any content folder into a fresh temporary folder (settings from keyword overrides)."""

    def build(
        content_dir: Path, *, source_date_epoch: int | None = None, **overrides: Any
    ) -> BuiltSite:
        work = tmp_path_factory.mktemp("built-site")
        return build_into(content_dir, work, root=repo_root, epoch=source_date_epoch, **overrides)

    return build


@pytest.fixture(scope="session")
def sample_site(site_builder: SiteBuilder, repo_root: Path) -> BuiltSite:
    """The repository's sample archive (content/) built once into a temporary folder."""
    content = load_settings(cwd=repo_root).content_path
    assert any(content.glob("*.md")), f"{content}: the sample archive has no articles"
    return site_builder(content)


@pytest.fixture(scope="session")
def golden_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """tests/fixtures/site_content built with the golden settings and a fixed SOURCE_DATE_EPOCH.

    The settings root is tests/fixtures/ (no archiver.toml, no templates/), so nothing in the
    repository's own configuration can change the golden output.
    """
    return build_into(
        GOLDEN_CONTENT,
        tmp_path_factory.mktemp("golden-site"),
        root=GOLDEN_CONTENT.parent,
        epoch=GOLDEN_EPOCH,
        **GOLDEN_SETTINGS,
    )


def page_types(site: Path) -> dict[str, str]:
    """One site-relative page per page type; a missing type fails with its name."""

    def first(pattern: str, exclude: tuple[str, ...] = ("index.html",)) -> str:
        found = sorted(
            p.relative_to(site).as_posix()
            for p in site.glob(pattern)
            if p.is_file() and p.name not in exclude
        )
        assert found, f"{site}: no page matches {pattern!r}"
        return found[0]

    archive = sorted(
        p.relative_to(site).as_posix()
        for p in (site / "archive").rglob("*.html")
        if p.name != "index.html" or p.parent != site / "archive"
    )
    assert archive, f"{site}: no year/month page under archive/"
    pages = {
        "home": "index.html",
        "article": first("articles/*.html"),
        "tags index": "tags/index.html",
        "tag page": first("tags/*.html"),
        "sources index": "sources/index.html",
        "source page": first("sources/*.html"),
        "authors index": "authors/index.html",
        "author page": first("authors/*.html"),
        "archive index": "archive/index.html",
        "year/month page": archive[0],
        "search": "search.html",
        "404": "404.html",
    }
    if len(archive) > 1:
        pages["year/month page 2"] = archive[-1]
    missing = [f"{kind}: {rel}" for kind, rel in pages.items() if not (site / rel).is_file()]
    assert not missing, f"{site}: page types missing:\n" + "\n".join(missing)
    return pages


@pytest.fixture(scope="session")
def sample_page_types(sample_site: BuiltSite) -> dict[str, str]:
    """One page of the sample site per page type (site-relative paths)."""
    return page_types(sample_site.path)


class _QuietHandler(SimpleHTTPRequestHandler):
    """A static file handler that does not log every request to stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet."""


SESSION_THREADS: set[threading.Thread] = set()
"""Threads of the session fixtures (Playwright's, the HTTP servers'), alive until the end."""


@pytest.fixture(autouse=True)
def _session_threads_are_not_the_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast build forks its index updates only when its process runs no other thread; the
    threads the session's browser and servers keep must not decide that (else a test's result
    would depend on whether a browser test ran before it). A test's own threads still count."""
    import archiver.forked as forked
    import archiver.quickchild as quickchild

    class _Threads:
        @staticmethod
        def active_count() -> int:
            return sum(1 for t in threading.enumerate() if t not in SESSION_THREADS)

    monkeypatch.setattr(quickchild, "threading", _Threads)
    monkeypatch.setattr(forked, "threading", _Threads)


@pytest.fixture(scope="session")
def http_server() -> Iterator[Callable[[Path], str]]:
    """Factory: serve a folder on 127.0.0.1 (free port) from a thread; returns its base URL."""
    servers: list[ThreadingHTTPServer] = []

    def serve(root: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(root))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        SESSION_THREADS.add(thread)
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Browser]:
    """One headless Debian chromium for the whole session (never downloaded by Playwright)."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    before = set(threading.enumerate())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        SESSION_THREADS.update(set(threading.enumerate()) - before)
        try:
            yield browser
        finally:
            browser.close()
