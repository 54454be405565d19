"""Benchmark helpers: run a command, sample the whole process tree's RSS, report medians."""

from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
OUT = REPO / "bench" / "out"


def compile_package() -> None:
    """Byte-compile archiver/, as pip does when it installs a package, so that no run measures
    compiling modules (an editable install under PYTHONDONTWRITEBYTECODE never caches them)."""
    import compileall

    compileall.compile_dir(REPO / "archiver", quiet=1)


compile_package()


@dataclass(frozen=True)
class Run:
    """One timed run: wall seconds and peak resident memory of the process tree (MiB)."""

    seconds: float
    peak_mib: float
    returncode: int


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        child, parent = int(entry), int(fields[1])
        children.setdefault(parent, []).append(child)
        rss[child] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0)
        stack.extend(children.get(current, []))
    return total


def run(cmd: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """Run a command, sampling its process tree's memory every 20 ms."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(cmd), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    _, err = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    thread.join()
    if proc.returncode not in (0, 1):
        print(err.decode(errors="replace")[-2000:])
    return Run(seconds, peak / 2**20, proc.returncode)


def median(runs: Sequence[Run]) -> tuple[float, float]:
    """Median wall seconds and median peak MiB."""
    return statistics.median(r.seconds for r in runs), statistics.median(r.peak_mib for r in runs)


def corpus(n: int, kind: str, fmt: str = "txt") -> Path:
    """Generate (once) a make_corpus.py corpus under bench/out/."""
    target = OUT / f"{kind}{n}{'' if fmt == 'txt' else '-' + fmt}"
    if not target.is_dir():
        flag = "--markdown" if kind == "md" else "--out"
        cmd = [
            "python3",
            str(SHARED / "bench" / "make_corpus.py"),
            "--n",
            str(n),
            flag,
            str(target),
        ]
        if kind != "md":
            cmd += ["--format", fmt]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return target
