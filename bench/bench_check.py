#!/usr/bin/env python3
"""Benchmark ``archiver check`` on the 10k Markdown corpus (target: <= 10 s).

    python3 /work/shared/bench/make_corpus.py --n 10000 --markdown /tmp/md10k
    .venv/bin/python bench/bench_check.py [--corpus /tmp/md10k] [--work /tmp/bench-check]
        [--no-build]

The corpus is used as the content folder as it is (never modified). Unless --no-build, the site is
built first (once; later runs reuse it incrementally) so the link check has ~all pages to read.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archiver.check import check_archive
from archiver.config import Settings
from archiver.report import SilentReporter

TARGET = 10.0


def main() -> int:
    """Build (optionally) and time check; exit 1 when over the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/md10k"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-check"))
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"{args.corpus}: missing; run make_corpus.py --n 10000 --markdown {args.corpus}")
        return 2
    args.work.mkdir(parents=True, exist_ok=True)
    settings = Settings(root=args.work.resolve(), content_dir=str(args.corpus.resolve()))
    if not args.no_build:
        from archiver.build import build_site

        started = time.perf_counter()
        report = build_site(settings, reporter=SilentReporter())
        print(f"build: {time.perf_counter() - started:.1f} s ({report.articles} articles)")
    started = time.perf_counter()
    result = check_archive(settings)
    seconds = time.perf_counter() - started
    counts = result.counts
    print(
        f"check: {seconds:.2f} s for {counts['files']} files, {counts['pages']} pages, "
        f"{counts['links']} links; {len(result.problems)} problems (target <= {TARGET:.0f} s)"
    )
    for file, reason in result.problems[:5]:
        print(f"  {file}: {reason}")
    return 0 if seconds <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
