"""Same-minute A/B of one kind of edit between two code trees, on two built archives.

    .venv/bin/python bench/bench_ab.py --kind date --rounds 9 \\
        --a /tmp/w10k --b /tmp/w10k-old --b-code /tmp/old-checkout

Each side is an archive folder (its content/ is edited) built by its own code: --a-code and
--b-code are put on PYTHONPATH (empty: the installed archiver). The rounds interleave the
sides, alternating which goes first, so both see the same phases of a noisy machine. Before a
round's build the disk is flushed and a second passes, as in bench_build.py. Prints the median
wall time of each side and the median CPU time of its whole process tree (children included).
Build both archives with `archiver build --clean` first: fast builds since the last full one
add to an edit's work.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_build import edit, edit_front  # the same edits as the warm benchmark

ARCHIVER = Path(sys.executable).with_name("archiver")


def build(archive: Path, code: str) -> tuple[float, float]:
    """One `archiver build` in a fresh process: (wall, CPU of the process tree) in seconds."""
    env = dict(os.environ)
    if code:
        env["PYTHONPATH"] = code
    os.sync()
    time.sleep(1.0)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([str(ARCHIVER), "build", "-q"], cwd=archive, env=env, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu


def main() -> None:
    """Run the rounds and print both sides' medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=("body", "title", "tag", "date"), default="date")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--a", type=Path, required=True, help="side A's archive folder")
    parser.add_argument("--b", type=Path, required=True, help="side B's archive folder")
    parser.add_argument("--a-code", default="", help="side A's code tree (PYTHONPATH)")
    parser.add_argument("--b-code", default="", help="side B's code tree (PYTHONPATH)")
    parser.add_argument("--first", type=int, default=700, help="the first edit's round number")
    args = parser.parse_args()
    sides = {"A": (args.a.resolve(), args.a_code), "B": (args.b.resolve(), args.b_code)}
    walls: dict[str, list[float]] = {name: [] for name in sides}
    cpus: dict[str, list[float]] = {name: [] for name in sides}
    for round_ in range(args.rounds):
        order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
        for name in order:
            archive, code = sides[name]
            if args.kind == "body":
                edit(archive / "content", args.first + round_)
            else:
                edit_front(archive / "content", args.first + round_, args.kind)
            wall, cpu = build(archive, code)
            walls[name].append(wall)
            cpus[name].append(cpu)
    for name in sides:
        runs = ", ".join(f"{w:.2f}" for w in walls[name])
        print(
            f"{args.kind} {name}: median {statistics.median(walls[name]):.3f} s ({runs}), "
            f"CPU median {statistics.median(cpus[name]):.3f} s"
        )


if __name__ == "__main__":
    main()
