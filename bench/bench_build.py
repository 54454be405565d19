"""Benchmark `archiver build` on the md10k corpus: cold, nothing changed, one article edited.

    .venv/bin/python bench/bench_build.py [--n 10000] [--runs 3] [--jobs N]
    .venv/bin/python bench/bench_build.py --warm DIR [--runs 5] [--keep-history]
    .venv/bin/python bench/bench_build.py --structural DIR [--runs 3]

Generates the corpus with ../shared/bench/make_corpus.py into bench/out/ (gitignored) when it
is missing, then runs each scenario --runs times, every run in a fresh process (as a user would
run the command), and prints the median wall time and the peak RSS of the build process and of
its largest worker.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
MAKE_CORPUS = REPO.parent / "shared" / "bench" / "make_corpus.py"
CHILD = """
import atexit, json, resource, sys
import archiver.build
from archiver.cli import main
real, reports = archiver.build.build_site, []
def build_site(*args, **kwargs):
    reports.append(real(*args, **kwargs))
    return reports[-1]
def figures():
    report = reports[-1]
    print(json.dumps({
        "articles": report.articles, "written": report.written, "reused": report.reused,
        "errors": len(report.errors),
        "rss_main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }))
archiver.build.build_site = build_site
atexit.register(figures)  # archiver's main exits without tearing its objects down
sys.argv = ["archiver", "build", "-q", "--content", sys.argv[1], *sys.argv[2:]]
main()
"""


def corpus(n: int) -> Path:
    """The Markdown corpus of n articles, generated once."""
    folder = OUT / f"md{n // 1000}k"
    if not folder.is_dir():
        OUT.mkdir(parents=True, exist_ok=True)
        tmp = folder.with_name(folder.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run(
            [sys.executable, str(MAKE_CORPUS), "--n", str(n), "--markdown", str(tmp)], check=True
        )
        tmp.rename(folder)
    return folder


def run(archive: Path, content: Path, jobs: int, *extra: str) -> dict[str, float]:
    """One build in a fresh process; wall time measured from outside.

    Each run starts from a settled machine: the files the previous run wrote are flushed to
    disk first (os.sync) and a second passes, so a run is not charged for the kernel writing
    back an earlier run's 13,000 files (a user's edit does not follow a build within a second).
    """
    os.sync()
    time.sleep(1.0)
    start = time.perf_counter()
    jobs_args = ["--jobs", str(jobs)] if jobs else []
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(content), *jobs_args, *extra],
        check=True,
        capture_output=True,
        text=True,
        cwd=archive,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"] = time.perf_counter() - start
    return result


def edit(content: Path, round_: int) -> None:
    """Change the body of one article (a different one each round)."""
    path = sorted(content.glob("*.md"))[round_ * 97 % 1000]
    path.write_text(path.read_text(encoding="utf-8") + f"\nEdited in round {round_}.\n")


def edit_front(content: Path, round_: int, kind: str) -> None:
    """Change the title of one article, add (else remove) the mid-sized tag "germany", or
    move its date a few days (a different article each round; every run changes the file)."""
    path = sorted(content.glob("*.md"))[(round_ * 97 + 500) % 1000]
    text = path.read_text(encoding="utf-8")
    if kind == "title":
        title = f'title: "Hand-fixed title {time.time_ns()}"'
        text = re.sub(r"(?m)^title: .*$", title, text, count=1)
    elif kind == "date":
        found = re.search(r"(?m)^(date|published): \"?\d{4}-\d\d-(\d\d)", text)
        assert found is not None, path
        day = int(found.group(2))
        day = day - 3 if day > 3 else day + 3  # stays in its month
        text = text[: found.start(2)] + f"{day:02d}" + text[found.end(2) :]
    elif '"germany"' in text:
        text = re.sub(r', ?"germany"|"germany", ?', "", text)
    else:
        text = re.sub(r"(?m)^tags: \[(.*)\]$", r'tags: [\1, "germany"]', text, count=1)
    path.write_text(text, encoding="utf-8")


def structural(archive: Path, runs: int, jobs: int) -> None:
    """--structural: edits the fast path leaves to the normal incremental build: one article
    added (newest of all) and deleted again, one article's date moved by three years and back
    (past thousands of others)."""
    content = archive / "content"
    run(archive, content, jobs)  # whatever was pending, so each round times its own change
    scenarios: dict[str, list[dict[str, float]]] = {}
    for round_ in range(runs):
        path = sorted(content.glob("*.md"))[(round_ * 97 + 500) % 1000]
        text = path.read_text(encoding="utf-8")
        added = content / f"zz-bench-added-{round_}.md"
        newest = re.sub(r"(?m)^(date|published): .*$", r"\1: 2099-01-01", text, count=1)
        added.write_text(newest.replace("title: ", "title: Added ", 1), encoding="utf-8")
        scenarios.setdefault("article added", []).append(run(archive, content, jobs))
        added.unlink()
        scenarios.setdefault("article deleted", []).append(run(archive, content, jobs))
        found = re.search(r"(?m)^(date|published): \"?(\d{4})", text)
        assert found is not None, path
        year = int(found.group(2))
        moved = year - 3 if year > 2018 else year + 3
        path.write_text(text[: found.start(2)] + str(moved) + text[found.end(2) :], "utf-8")
        scenarios.setdefault("date +-3 years", []).append(run(archive, content, jobs))
        path.write_text(text, encoding="utf-8")
        scenarios.setdefault("and back", []).append(run(archive, content, jobs))
        walls = ", ".join(f"{k} {r[-1]['wall']:.2f} s" for k, r in scenarios.items())
        print(f"round {round_ + 1}: {walls}", flush=True)
    for name, results in scenarios.items():
        summary(name, results)


def warm(archive: Path, runs: int, jobs: int, history: bool) -> None:
    """--warm: an archive built before (its own content/): no change, body, title, tag and
    date edits, after a clean build (history: after whatever fast builds it has had since its
    last full one: each edit a fast build makes adds a little to the next one's work)."""
    content = archive / "content"
    scenarios: dict[str, list[dict[str, float]]] = {}
    run(archive, content, jobs, *(() if history else ("--clean",)))
    for round_ in range(runs):
        scenarios.setdefault("no change", []).append(run(archive, content, jobs))
        edit(content, round_)
        scenarios.setdefault("one edit", []).append(run(archive, content, jobs))
        for kind in ("title", "tag", "date"):
            edit_front(content, round_, kind)
            scenarios.setdefault(f"{kind} edit", []).append(run(archive, content, jobs))
        walls = ", ".join(f"{k} {r[-1]['wall']:.2f} s" for k, r in scenarios.items())
        print(f"round {round_ + 1}: {walls}", flush=True)
    for name, results in scenarios.items():
        summary(name, results)


def summary(name: str, runs: list[dict[str, float]]) -> None:
    """Print the median and the peaks of one scenario."""
    walls = [r["wall"] for r in runs]
    print(
        f"{name:<14} median {statistics.median(walls):6.2f} s  (runs: "
        + ", ".join(f"{w:.2f}" for w in walls)
        + f")  written {int(runs[-1]['written'])}, reused {int(runs[-1]['reused'])}, "
        f"peak RSS main {max(r['rss_main_mb'] for r in runs):.0f} MB, "
        f"worker {max(r['rss_worker_mb'] for r in runs):.0f} MB"
    )


def main() -> None:
    """Run the three scenarios and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=0, help="0: the CPU count")
    parser.add_argument(
        "--warm",
        type=Path,
        help="skip the cold builds: time no-change, body, title, tag and date edits on this "
        "archive folder (its content/ is edited; it is built with --clean first)",
    )
    parser.add_argument(
        "--keep-history",
        action="store_true",
        help="--warm without the clean build first: after the archive's earlier fast builds",
    )
    parser.add_argument(
        "--structural",
        type=Path,
        help="time the changes the fast path leaves to the normal incremental build on this "
        "archive folder: an article added and deleted, a date moved by three years and back",
    )
    args = parser.parse_args()
    if args.structural:
        structural(args.structural.resolve(), args.runs, args.jobs)
        return
    if args.warm:
        warm(args.warm.resolve(), args.runs, args.jobs, args.keep_history)
        return
    pristine = corpus(args.n)
    content = Path(tempfile.mkdtemp(prefix="content-", dir=OUT)) / "content"
    shutil.copytree(pristine, content)
    cold, unchanged, edited = [], [], []
    # a fresh folder per round, all deleted at the end: on a journal-less ext4, creating files
    # is several times slower for minutes after a large folder was deleted, which would charge
    # each cold build for the previous round's clean-up
    archives = [Path(tempfile.mkdtemp(prefix="archive-", dir=OUT)) for _ in range(args.runs)]
    for round_, archive in enumerate(archives):
        cold.append(run(archive, content, args.jobs))
        unchanged.append(run(archive, content, args.jobs))
        edit(content, round_)
        edited.append(run(archive, content, args.jobs))
        walls = ", ".join(f"{r[-1]['wall']:.2f} s" for r in (cold, unchanged, edited))
        print(f"round {round_ + 1}: cold, no change, one edit: {walls}", flush=True)
    print(f"corpus: {int(cold[0]['articles'])} articles from {pristine}")
    summary("cold", cold)
    summary("no change", unchanged)
    summary("one edit", edited)
    for folder in (*archives, content.parent):
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
