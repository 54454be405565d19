"""Ingest benchmark: cold ingest of N raw dumps and an all-unchanged re-ingest, medians of 3.

python bench/bench_ingest.py [--n 10000] [--format txt|html] [--runs 3]

Every run writes into its own fresh folder, and the folders are deleted only after the last
run: on this machine's ext4 (no journal) creating a file skips every inode deleted in the last
minute or more (``recently_deleted`` in the kernel), so a run started right after deleting the
previous run's 20,000 files paid up to ~2 ms of kernel time per file it wrote. Leave a minute
between invocations for the same reason.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import OUT, corpus, median, run


def main() -> None:
    """Run the benchmark and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--format", choices=["txt", "html"], default="txt")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    raw = corpus(args.n, "raw", args.format)
    exe = str(Path(sys.executable).parent / "archiver")
    OUT.mkdir(parents=True, exist_ok=True)
    cold, warm, works = [], [], []
    try:
        for _ in range(args.runs):
            work = Path(tempfile.mkdtemp(prefix="ingest-", dir=OUT))
            works.append(work)
            content = str(work / "content")
            cold.append(run([exe, "-q", "ingest", str(raw), "--content", content], cwd=work))
            warm.append(run([exe, "-q", "ingest", str(raw), "--content", content], cwd=work))
            articles = len(list((work / "content").glob("*.md")))
    finally:
        for work in works:
            shutil.rmtree(work, ignore_errors=True)
        os.sync()  # the deleted inodes are written back: the next minute's creates skip fewer
    cold_s, cold_mib = median(cold)
    warm_s, warm_mib = median(warm)
    files = len(list(raw.iterdir()))
    print(f"corpus: {files} {args.format} files -> {articles} articles")
    print(
        f"cold ingest:      median {cold_s:6.2f} s  ({files / cold_s:5.0f} files/s), "
        f"peak {cold_mib:5.0f} MiB   runs: {[round(r.seconds, 2) for r in cold]}"
    )
    print(
        f"re-ingest (same): median {warm_s:6.2f} s, peak {warm_mib:5.0f} MiB   "
        f"runs: {[round(r.seconds, 2) for r in warm]}"
    )


if __name__ == "__main__":
    main()
