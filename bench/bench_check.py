#!/usr/bin/env python3
"""Benchmark ``archiver check`` on the 10k Markdown corpus (target: <= 10 s), cold and warm.

    .venv/bin/python bench/bench_build.py --runs 1      # makes bench/out/md10k if missing
    .venv/bin/python bench/bench_check.py [--corpus bench/out/md10k] [--work bench/out/check10k]
        [--no-build] [--runs 2]

The corpus is used as the content folder as it is (never modified). Unless --no-build, the site is
built first (once; later runs reuse it incrementally) so the link check has ~all pages to read.
"cold" runs without check's own cache (deleted first; the build's content cache is still used,
as after any build); "warm" runs right after with the cache the cold run left. Files changed
within the last 2 s are never cached, so the script waits that long after a build.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from archiver.check import check_archive  # noqa: E402
from archiver.checkcache import CACHE_NAME, RACY_NS  # noqa: E402
from archiver.config import Settings  # noqa: E402
from archiver.report import SilentReporter  # noqa: E402

TARGET = 10.0
OUT = REPO / "bench" / "out"


def main() -> int:
    """Build (optionally) and time check cold and warm; exit 1 when over the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=OUT / "md10k")
    parser.add_argument("--work", type=Path, default=OUT / "check10k")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--runs", type=int, default=2, help="warm runs after the cold one")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"{args.corpus}: missing; run bench/bench_build.py (or make_corpus.py --markdown)")
        return 2
    args.work.mkdir(parents=True, exist_ok=True)
    settings = Settings(root=args.work.resolve(), content_dir=str(args.corpus.resolve()))
    if not args.no_build:
        from archiver.build import build_site

        started = time.perf_counter()
        report = build_site(settings, reporter=SilentReporter())
        print(f"build: {time.perf_counter() - started:.1f} s ({report.articles} articles)")
        time.sleep(RACY_NS / 1e9)
    (settings.state_path / CACHE_NAME).unlink(missing_ok=True)
    worst = 0.0
    for label in ["cold"] + ["warm"] * args.runs:
        cpu = _cpu()
        started = time.perf_counter()
        result = check_archive(settings)
        seconds = time.perf_counter() - started
        worst = max(worst, seconds)
        counts = result.counts
        print(
            f"check ({label}): {seconds:.2f} s wall, {_cpu() - cpu:.2f} s CPU (with workers) for "
            f"{counts['files']} files, {counts['pages']} pages, {counts['links']} links; "
            f"{len(result.problems)} problems (target <= {TARGET:.0f} s)"
        )
        for file, reason in result.problems[:5]:
            print(f"  {file}: {reason}")
    return 0 if worst <= TARGET else 1


def _cpu() -> float:
    """CPU seconds of this process and its finished workers."""
    own, workers = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


if __name__ == "__main__":
    sys.exit(main())
