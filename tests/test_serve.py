"""``archiver serve``: live reload via injected script and Server-Sent Events, error overlay."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_build import _hits  # the Whoosh hits of one word

from archiver.config import Settings
from archiver.errors import BuildError
from archiver.livereload import SCRIPT_PATH, inject
from archiver.paths import atomic_write_text
from archiver.report import SilentReporter
from archiver.serve import serve

ARTICLE = "---\ntitle: {title}\nslug: first\ntags: [Energy]\n---\n{body}\n"


@dataclass
class FakeReport:
    """The parts of a BuildReport that serve reads."""

    errors: tuple[str, ...] = ()
    seconds: float = 0.0
    written: int = 1


class FakeBuilder:
    """Renders each content file's title and body into site/articles/<stem>.html; can fail."""

    def __init__(self) -> None:
        self.fail: str | None = None
        self.calls = 0

    def __call__(self, settings: Settings, **options: Any) -> FakeReport:
        self.calls += 1
        if self.fail:
            raise BuildError(self.fail)
        for path in sorted(settings.content_path.glob("*.md")):
            title = re.search(r"^title: (.*)$", path.read_text(), re.M)
            page = settings.output_path / "articles" / f"{path.stem}.html"
            text = f"<html><body><h1>{title.group(1) if title else '?'}</h1></body></html>"
            atomic_write_text(page, text)
        atomic_write_text(settings.output_path / "index.html", "<p>home</p>")
        return FakeReport()


@dataclass
class Running:
    """A serve() running in a thread."""

    url: str
    stop: threading.Event
    thread: threading.Thread
    reporter: SilentReporter


@pytest.fixture
def archive(tmp_path: Path) -> Settings:
    """A one-article archive."""
    (tmp_path / "content").mkdir()
    write(tmp_path / "content" / "first.md", "First title", "Body one.")
    return Settings(root=tmp_path)


def write(path: Path, title: str, body: str) -> None:
    """Write an article file the way an editor would (replace the whole file)."""
    atomic_write_text(path, ARTICLE.format(title=title, body=body))


@pytest.fixture
def start(archive: Settings) -> Iterator[Callable[..., Running]]:
    """Start serve() on a free port in a thread; stopped (and checked to stop) after the test."""
    started: list[Running] = []

    def run(builder: Any = None) -> Running:
        stop, ready = threading.Event(), threading.Event()
        urls: list[str] = []
        reporter = SilentReporter()

        def on_ready(url: str) -> None:
            urls.append(url)
            ready.set()

        kwargs = {"port": 0, "builder": builder, "stop": stop, "ready": on_ready}
        thread = threading.Thread(target=serve, args=(archive, reporter), kwargs=kwargs)
        thread.start()
        assert ready.wait(60), "serve did not start"
        running = Running(urls[0], stop, thread, reporter)
        started.append(running)
        return running

    yield run
    for running in started:
        running.stop.set()
        running.thread.join(10)
        assert not running.thread.is_alive(), "serve did not stop"
        assert running.reporter.messages[-1] == "Stopped."


def get(url: str) -> tuple[int, str]:
    """Status and body of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


class Events:
    """A Server-Sent Events client reading (version, error) states."""

    def __init__(self, url: str) -> None:
        self.response = urllib.request.urlopen(url + "__archiver__/events?v=0", timeout=10)

    def next(self) -> dict[str, Any]:
        """The next data event (pings skipped)."""
        while True:
            line = self.response.readline().decode()
            if line.startswith("data: "):
                data: dict[str, Any] = json.loads(line[6:])
                return data

    def close(self) -> None:
        """Hang up."""
        self.response.close()


def test_inject_before_body_end() -> None:
    page = b"<html><body><p>x</p></BODY></html>"
    assert inject(page, 7) == (
        b'<html><body><p>x</p><script src="/__archiver__/livereload.js?v=7"></script></BODY></html>'
    )
    assert inject(b"<p>fragment</p>", 1).endswith(b"</script>")


def test_reload_and_error_overlay_with_fake_builder(archive: Settings, start: Any) -> None:
    builder = FakeBuilder()
    running = start(builder)
    status, body = get(running.url + "articles/first.html")
    assert status == 200 and "<h1>First title</h1>" in body
    assert f'<script src="{SCRIPT_PATH}?v=1"></script>' in body
    on_disk = (archive.output_path / "articles" / "first.html").read_text()
    assert "__archiver__" not in on_disk
    status, script = get(running.url + SCRIPT_PATH.lstrip("/"))
    assert status == 200 and "EventSource" in script
    assert get(running.url + "nothing.html")[0] == 404

    events = Events(running.url)
    assert events.next() == {"version": 1, "error": None}
    began = time.monotonic()
    write(archive.content_path / "first.md", "Second title", "Body two.")
    assert events.next() == {"version": 2, "error": None}
    assert time.monotonic() - began < 1.5
    assert "<h1>Second title</h1>" in get(running.url + "articles/first.html")[1]

    builder.fail = "content/first.md: broken YAML front matter (line 2)"
    write(archive.content_path / "first.md", "Third title", "Body three.")
    assert events.next() == {"version": 2, "error": builder.fail}
    assert "<h1>Second title</h1>" in get(running.url + "articles/first.html")[1]
    assert any("rebuild failed" in p for p in running.reporter.problems)

    builder.fail = None
    write(archive.content_path / "first.md", "Fourth title", "Body four.")
    assert events.next() == {"version": 3, "error": None}
    events.close()


def test_busy_port_is_one_clear_error(archive: Settings, start: Any) -> None:
    from archiver.errors import ArchiverError

    running = start(FakeBuilder())
    port = int(running.url.rsplit(":", 1)[1].strip("/"))
    with pytest.raises(ArchiverError, match=f"127.0.0.1:{port}: cannot serve"):
        serve(archive, SilentReporter(), port=port, builder=FakeBuilder())


@pytest.mark.browser
def test_browser_sees_edit_within_budget(
    archive: Settings, start: Any, chromium_browser: Any
) -> None:
    from playwright.sync_api import expect

    running = start()  # the real build engine
    site_files = list(archive.output_path.rglob("*.html"))
    assert site_files and not any("__archiver__" in p.read_text() for p in site_files)
    page = chromium_browser.new_page()
    try:
        page.goto(running.url + "articles/first.html")
        expect(page.locator("h1")).to_contain_text("First title")
        page.wait_for_function("document.readyState === 'complete'")
        time.sleep(0.3)  # let the event stream connect
        began = time.monotonic()
        write(archive.content_path / "first.md", "Edited live", "Body after the edit.")
        expect(page.locator("h1")).to_contain_text("Edited live", timeout=10_000)
        latency = time.monotonic() - began
        builds = [m for m in running.reporter.messages if m.startswith("Built in")]
        print(f"edit-to-browser latency: {latency:.2f} s; {builds[-1]}")
        assert latency <= 1.5, f"{latency:.2f} s; the rebuild itself: {builds[-1]}"

        (archive.content_path / "first.md").write_text("---\ntitle: [broken\n---\nx\n")
        overlay = page.locator("#archiver-error-overlay")
        expect(overlay).to_be_visible(timeout=10_000)
        expect(overlay).to_contain_text("last good site")
        expect(page.locator("h1")).to_contain_text("Edited live")
    finally:
        page.close()
    assert not any("__archiver__" in p.read_text() for p in archive.output_path.rglob("*.html"))


def test_fast_build_reloads_once_before_the_index_update(archive: Settings) -> None:
    """A fast build announces its pages (reload now); the end of the build does not reload
    again, and a first build never announces."""
    from archiver.livereload import LiveState
    from archiver.quick import pages_written
    from archiver.serve import Preview

    seen: list[int] = []
    live = LiveState()

    def builder(settings: Settings, **options: Any) -> FakeReport:
        pages_written()
        seen.append(live.snapshot()[0])  # the index update would run here
        return FakeReport()

    preview = Preview(archive, SilentReporter(), live, builder)
    assert preview.build(first=True) and live.snapshot() == (1, None)
    assert preview.build() and seen == [1, 2] and live.snapshot() == (2, None)
    pages_written()  # outside a build: nobody listens any more
    assert live.snapshot() == (2, None)


def test_real_rebuild_through_the_fast_path_reloads_once(
    archive: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the real engine (in-process, as under serve), a body edit reloads exactly once
    and the search index still learns the edit."""
    from archiver.build import build_site
    from archiver.livereload import LiveState
    from archiver.serve import Preview

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    write(archive.content_path / "first.md", "First title", "Body one.")
    live = LiveState()
    preview = Preview(archive, SilentReporter(), live, build_site)
    assert preview.build(first=True)
    write(archive.content_path / "first.md", "First title", "Body with zanzibarite.")
    calls: list[bool] = []
    real = live.publish

    def publish(*, error: str | None, reload: bool) -> None:
        calls.append(reload)
        real(error=error, reload=reload)

    monkeypatch.setattr(live, "publish", publish)
    done = threading.Event()
    server = threading.Thread(target=done.wait)  # as serve's HTTP thread: no fork then
    server.start()
    try:
        assert preview.build(jobs=1)
    finally:
        done.set()
        server.join()
    assert calls == [True, False], "the pages were not announced before the index update"
    assert live.snapshot() == (2, None)
    page = (archive.output_path / "articles" / "first.html").read_text(encoding="utf-8")
    assert "zanzibarite" in page
    assert _hits(archive, "zanzibarite") == ["first"]
