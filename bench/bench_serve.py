#!/usr/bin/env python3
"""Benchmark ``archiver serve``: edit-to-browser latency on the 10k corpus (target: <= 1.5 s).

    python3 /work/shared/bench/make_corpus.py --n 10000 --markdown /tmp/md10k
    .venv/bin/python bench/bench_serve.py [--corpus /tmp/md10k] [--work DIR] [--edits 5]

The corpus is copied once into WORK/content (edits never touch the original). serve runs in a
thread on a free port with the real build engine; Debian's chromium (Playwright) opens an article,
the script edits that article and the time until the page shows the change is measured.

--kind body (the default, what writing in an editor does) appends a sentence to the body: the
one-edit fast path (archiver/quick.py). --kind title rewrites the title, which every list, tag,
archive and feed page shows: the metadata fast path (archiver/quickmeta.py). --kind date moves
the article's date by a few days back and forth (its place in every list changes): the same
fast path, planning the pages between its old and new place.

Before each edit the script waits until serve has finished the previous rebuild (its search
index updates run after the browser was told to reload) and then one more second, as a person
does between looking at the page and editing again.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archiver.config import Settings
from archiver.content import content_files, read_article
from archiver.paths import atomic_write_text
from archiver.report import SilentReporter
from archiver.serve import serve

TARGET = 1.5
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def main() -> int:
    """Run serve, edit an article N times, print the latencies; exit 1 over target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/md10k"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-serve"))
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--kind", choices=("body", "title", "date"), default="body")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"{args.corpus}: missing; run make_corpus.py --n 10000 --markdown {args.corpus}")
        return 2
    content = args.work / "content"
    if not content.is_dir():
        shutil.copytree(args.corpus, content)
    settings = Settings(root=args.work.resolve())
    target = content_files(content)[len(content_files(content)) // 2]
    slug = read_article(target).slug
    stop, ready = threading.Event(), threading.Event()
    urls: list[str] = []
    reporter = SilentReporter()

    def on_ready(url: str) -> None:
        urls.append(url)
        ready.set()

    started = time.perf_counter()
    kwargs = {"port": 0, "stop": stop, "ready": on_ready}
    thread = threading.Thread(target=serve, args=(settings, reporter), kwargs=kwargs)
    thread.start()
    if not ready.wait(1800):
        print("serve did not start")
        return 1
    print(f"serve ready in {time.perf_counter() - started:.1f} s; editing {target.name}")
    try:
        url = urls[0] + f"articles/{slug}.html"
        latencies = measure(url, target, args.edits, reporter, args.kind)
    finally:
        stop.set()
        thread.join(30)
    print("latencies: " + ", ".join(f"{x:.2f}" for x in latencies))
    median = statistics.median(latencies)
    print(f"median {median:.2f} s, max {max(latencies):.2f} s (target <= {TARGET} s)")
    return 0 if median <= TARGET else 1


def measure(
    url: str, article: Path, edits: int, reporter: SilentReporter, kind: str = "body"
) -> list[float]:
    """Open the article page and time each edit until the browser shows it."""
    from playwright.sync_api import expect, sync_playwright

    latencies = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page()
        page.goto(url)
        built = 0
        for n in range(edits):
            _idle(reporter, built)  # a user's edit finds the server idle, not mid-rebuild
            time.sleep(1.0)
            built = _builds(reporter)
            marker = f"Benchmark edit {n} {time.time():.0f}"
            text = article.read_text(encoding="utf-8")
            if kind == "title":
                text = re.sub(r"(?m)^title: .*$", f'title: "{marker}"', text, count=1)
                shown = page.locator("h1").first
            elif kind == "date":
                text, marker = move_date(text, n)
                shown = page.locator("main time").first
            else:
                text = text.rstrip("\n") + f"\n\n{marker}.\n"
                shown = page.locator("main")
            began = time.perf_counter()
            atomic_write_text(article, text)
            try:
                expect(shown).to_contain_text(marker, timeout=60_000)
            except AssertionError:
                print("serve said:\n" + "\n".join(reporter.messages[-10:]))
                raise
            latencies.append(time.perf_counter() - began)
            builds = [m for m in reporter.messages if m.startswith("Built in")]
            print(f"edit {n}: {latencies[-1]:.2f} s ({builds[-1] if builds else 'no build'})")
        browser.close()
    return latencies


def _builds(reporter: SilentReporter) -> int:
    """How many rebuilds serve has finished (search indexes included)."""
    return sum(1 for m in reporter.messages if m.startswith("Built in"))


def _idle(reporter: SilentReporter, before: int, timeout: float = 120.0) -> None:
    """Wait until the rebuild of the last edit has finished (nothing to wait for at first)."""
    deadline = time.perf_counter() + timeout
    while before and _builds(reporter) <= before and time.perf_counter() < deadline:
        time.sleep(0.05)


def move_date(text: str, n: int) -> tuple[str, str]:
    """The front matter's date (date: or published:) moved 1-3 days back, alternately
    forward again (it stays in its month when it can); the text and the new day of month
    as pages print it ("22 August 2023")."""
    from archiver.links import MONTHS

    found = re.search(r"(?m)^(date|published): \"?(\d{4})-(\d\d)-(\d\d)", text)
    if found is None:
        raise SystemExit("the article has no date: or published: line")
    day = int(found.group(4))
    shift = 1 + n % 3
    day = day - shift if day - shift >= 1 else day + shift
    start, end = found.span(4)
    shown = f"{day} {MONTHS[int(found.group(3)) - 1]} {found.group(2)}"
    return text[:start] + f"{day:02d}" + text[end:], shown


if __name__ == "__main__":
    sys.exit(main())
