"""Speed of saved-HTML extraction on a synthetic corpus (not a timed test).

    python3 /work/shared/bench/make_corpus.py --n 10000 --format html --out /tmp/corpus
    python bench/bench_html.py /tmp/corpus [--jobs 2] [--limit N]

Prints per-page time (single process), wall time for the whole folder with --jobs workers
(decode + extract_html, what the ingest pipeline's worker does per page) and peak memory.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from archiver.errors import NotAnArticleError
from archiver.ingest.decode import declared_charset
from archiver.ingest.html import extract_html


def one(path: Path) -> float:
    """Decode and extract one page; return the seconds it took."""
    start = time.perf_counter()
    data = path.read_bytes()
    text = data.decode(declared_charset(data) or "utf-8", errors="replace")
    with contextlib.suppress(NotAnArticleError):
        extract_html(text)
    return time.perf_counter() - start


def chunk(paths: list[Path]) -> list[float]:
    """Run ``one`` over a chunk of paths (one task per chunk keeps pickling cheap)."""
    return [one(p) for p in paths]


def main(argv: list[str] | None = None) -> int:
    """Benchmark extract_html over every .html file of a folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args(argv)
    files = sorted(args.folder.glob("*.html"))
    if args.limit:
        files = files[: args.limit]
    sample = files[:300]
    times = chunk(sample)
    median_ms = statistics.median(times) * 1000
    mean_ms = statistics.fmean(times) * 1000
    print(f"single process: {len(sample)} pages, median {median_ms:.1f} ms, mean {mean_ms:.1f} ms")
    start = time.perf_counter()
    size = 50
    parts = [files[i : i + size] for i in range(0, len(files), size)]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        done = sum(len(r) for r in pool.map(chunk, parts))
    wall = time.perf_counter() - start
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{done} pages with {args.jobs} workers: {wall:.1f} s wall ({done / wall:.0f} pages/s)")
    print(f"peak RSS: parent {peak_self:.0f} MB, largest worker {peak_child:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
