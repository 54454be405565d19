#!/usr/bin/env python3
"""Search benchmarks: bytes and time of a cold browser query, relevance, Whoosh latency, build cost.

    python3 /work/shared/bench/make_corpus.py --n 10000 --markdown /tmp/md10k
    mkdir -p /tmp/b10k && cp -r /tmp/md10k /tmp/b10k/content && (cd /tmp/b10k && archiver build)
    .venv/bin/python bench/bench_search.py /tmp/b10k [--sample 200] [--skip-browser]

Reads the archive's built site (site/) and Whoosh index (.archiver/index). Prints one JSON object.
The index build figures (cold build of a fresh index in a temporary folder, then re-indexing one
edited article) come from a separate process; the archive's own index is left alone.
Gzipped sizes are computed here (gzip -6 of every response body), so they do not depend on the
server. Known-item queries: 200 articles sampled with random.Random(1), each queried with the 3
title words that are rarest in the archive (stop words skipped); success@1 = the article first.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import json
import math
import random
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No request log."""


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve the site on 127.0.0.1 in a thread."""
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def known_items(archive: Path, sample: int) -> list[tuple[str, str]]:
    """(slug, query) pairs: each sampled article's 3 rarest title words."""
    from archiver.config import load_settings
    from archiver.content import load_articles
    from archiver.search.tokenize import STOP_WORDS, words

    settings = load_settings(cwd=archive)
    articles = sorted(load_articles(settings.content_path).articles, key=lambda a: a.slug)
    df: dict[str, int] = {}
    for article in articles:
        for word in set(words(article.title)):
            df[word] = df.get(word, 0) + 1
    picked = random.Random(1).sample(articles, min(sample, len(articles)))
    out = []
    for article in picked:
        title_words = [w for w in dict.fromkeys(words(article.title)) if w not in STOP_WORDS]
        rare = sorted(title_words, key=lambda w: (df[w], w))[:3]
        out.append((article.slug, " ".join(w for w in title_words if w in rare)))
    return out


def whoosh_figures(archive: Path, items: list[tuple[str, str]]) -> dict[str, Any]:
    """Median latency (index open) and success@1 of archiver search."""
    from archiver.config import load_settings
    from archiver.search.query import SearchIndex

    with SearchIndex(load_settings(cwd=archive)) as index:
        index.search("warm up")
        times, wins = [], 0
        for slug, query in items:
            start = time.perf_counter()
            hits = index.search(query, limit=10)
            times.append(time.perf_counter() - start)
            wins += bool(hits) and hits[0].slug == slug
    return {
        "whoosh_median_ms": round(statistics.median(times) * 1000, 1),
        "whoosh_p90_ms": round(sorted(times)[int(len(times) * 0.9)] * 1000, 1),
        "whoosh_success_at_1": round(wins / len(items), 3),
    }


def cold_query(browser: Any, base: str, query: str) -> dict[str, Any]:
    """Bytes (raw and gzipped) and time to first results for one query in a fresh context."""
    context = browser.new_context()
    page = context.new_page()
    sizes: dict[str, tuple[int, int]] = {}

    def record(response: Any) -> None:
        try:
            body = response.body()
        except Exception:  # redirects and aborted requests have no body
            return
        sizes[response.url] = (len(body), len(gzip.compress(body, 6)))

    page.on("response", record)
    start = time.perf_counter()
    page.goto(f"{base}search.html?q={quote(query)}")
    page.wait_for_selector("#search-results li", timeout=20_000)
    elapsed = time.perf_counter() - start
    page.wait_for_timeout(300)
    context.close()
    return {
        "query": query,
        "files": len(sizes),
        "bytes": sum(s[0] for s in sizes.values()),
        "gzip_bytes": sum(s[1] for s in sizes.values()),
        "first_results_ms": round(elapsed * 1000),
        "loaded": sorted(u.rsplit("/", 1)[-1].split("?")[0] for u in sizes),
    }


def browser_figures(site: Path, items: list[tuple[str, str]]) -> dict[str, Any]:
    """Cold-query bytes and timings, plus browser success@1 on the known items."""
    from playwright.sync_api import sync_playwright

    server, base = serve(site)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            cold = [
                cold_query(browser, base, q)
                for q in ("government", "election storm", "the inflation", "mendoza")
            ]
            page = browser.new_page()
            wins = 0
            for slug, query in items:
                page.goto(f"{base}search.html?q={quote(query)}")
                page.wait_for_function(
                    "document.getElementById('search-status').textContent.indexOf('for') >= 0",
                    timeout=20_000,
                )
                first = page.locator("#search-results a.search-result-link").first
                href = (first.get_attribute("href") or "") if first.count() else ""
                wins += bool(href) and href.split("?")[0] == f"articles/{slug}.html"
            browser.close()
    finally:
        server.shutdown()
    return {"cold": cold, "browser_success_at_1": round(wins / len(items), 3)}


def client_build_figures(archive: Path) -> dict[str, Any]:
    """Time and peak memory of client_pages for the archive, in a fresh process."""
    code = f"""
import gzip, json, resource, time
from pathlib import Path
from archiver.config import load_settings
from archiver.content import load_articles
from archiver.search.client import client_pages
settings = load_settings(cwd=Path({str(archive)!r}))
articles = load_articles(settings.content_path).articles
start = time.perf_counter()
pages = client_pages(articles, settings)
seconds = time.perf_counter() - start
print(json.dumps({{
    "client_build_s": round(seconds, 2),
    "client_files": len(pages),
    "client_total_gzip_kb": round(sum(len(gzip.compress(p.data)) for p in pages) / 1024),
    "client_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


def index_build_figures(archive: Path) -> dict[str, Any]:
    """A cold Whoosh index build and a one-article update, in a fresh process and a temp folder."""
    code = f"""
import json, resource, tempfile, time
from dataclasses import replace
from pathlib import Path
from archiver.config import Settings, load_settings
from archiver.content import load_articles
from archiver.report import SilentReporter
from archiver.search.index import update_index
articles = list(load_articles(load_settings(cwd=Path({str(archive)!r})).content_path).articles)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with tempfile.TemporaryDirectory() as tmp:
    settings = Settings(root=Path(tmp))
    def run(items, changed, clean):
        cpu, wall = time.process_time(), time.perf_counter()
        update_index(settings, items, changed=changed, deleted=set(), clean=clean,
                     reporter=SilentReporter())
        return time.perf_counter() - wall, time.process_time() - cpu
    cold_wall, cold_cpu = run(articles, set(), True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    edited = replace(articles[0], title=articles[0].title + " (edited)")
    update_wall, _ = run([edited, *articles[1:]], {{edited.slug}}, False)
print(json.dumps({{
    "index_cold_s": round(cold_wall, 2),
    "index_cold_cpu_s": round(cold_cpu, 2),
    "index_extra_rss_mb": max(0, peak - base) // 1024,
    "index_update_one_s": round(update_wall, 3),
}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


def main() -> None:
    """Run every figure and print them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", type=Path)
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--skip-whoosh", action="store_true")
    parser.add_argument("--skip-client-build", action="store_true")
    parser.add_argument("--skip-index-build", action="store_true")
    args = parser.parse_args()
    archive = args.archive.resolve()
    items = known_items(archive, args.sample)
    figures: dict[str, Any] = {"articles_sampled": len(items)}
    if not args.skip_whoosh:
        figures.update(whoosh_figures(archive, items))
    if not args.skip_browser:
        figures.update(browser_figures(archive / "site", items))
    if not args.skip_client_build:
        figures.update(client_build_figures(archive))
    if not args.skip_index_build:
        figures.update(index_build_figures(archive))
    figures["bench_peak_rss_mb"] = math.ceil(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
