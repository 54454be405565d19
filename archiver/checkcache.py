"""``archiver check``'s own cache in the build-state folder: what it learnt about each file.

Entries are keyed by a file's stat data, so a changed file is always checked again:

- content files and kept originals by (size, mtime_ns, inode, ctime_ns): any write, rename or
  ``touch`` changes one of them (ctime cannot be set back by users);
- site pages by (size, mtime_ns, inode): the build re-links unchanged pages into each new site,
  which keeps those but moves ctime.

A file changed within ``RACY_NS`` of the scan that read it is never stored (two writes in one
timestamp tick could otherwise share a key). The cache only holds facts about a file's bytes
(a parsed article, a page's link values, a digest): every verdict that depends on other files
(duplicate slugs, link targets, the search index) is recomputed on every run. A cache written
by other code (or damaged) is ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archiver.paths import atomic_write

CACHE_NAME = "check-cache.pickle"
FORMAT = 1
RACY_NS = 2_000_000_000
StatKey = tuple[int, int, int, int]
"""(size, mtime_ns, inode, ctime_ns); ctime_ns is 0 for site pages."""
_CODE = ("checkcache", "check", "linkcheck", "content", "model", "search/index")
"""Modules whose code decides what an entry holds (search/index: the index fingerprint)."""


def content_key(st: os.stat_result) -> StatKey:
    """Cache key of a content file or kept original."""
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


def page_key(st: os.stat_result) -> StatKey:
    """Cache key of a built page (ctime left out: the build hard-links unchanged pages)."""
    return (st.st_size, st.st_mtime_ns, st.st_ino, 0)


def stat_key(path: str | Path, *, page: bool = False) -> StatKey | None:
    """The key of a file as it is now, or None when it cannot be stat'ed."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return page_key(st) if page else content_key(st)


TABLES = ("content", "originals", "pages")
"""content: file path -> (article without body, index digest, problem); originals: path ->
sha256 of the bytes; pages: site-relative page -> every href/src value in it."""


@dataclass
class CheckCache:
    """Per-file facts from the last run (``old``) and from this run (``new``, what is stored)."""

    version: str = ""
    old: dict[str, dict[str, tuple[StatKey, Any]]] = field(default_factory=dict)
    new: dict[str, dict[str, tuple[StatKey, Any]]] = field(default_factory=dict)
    started_ns: int = field(default_factory=time.time_ns)

    def get(self, table: str, name: str, key: StatKey | None) -> Any:
        """The cached value for name when its key is still the same (kept for next time)."""
        entry = self.old.get(table, {}).get(name)
        if entry is None or key is None or entry[0] != key:
            return None
        self.new.setdefault(table, {})[name] = entry
        return entry[1]

    def put(self, table: str, name: str, key: StatKey | None, value: Any) -> None:
        """Remember a value unless the file changed too recently to trust its stat data."""
        if key is None or max(key[1], key[3]) + RACY_NS >= self.started_ns:
            return
        self.new.setdefault(table, {})[name] = (key, value)


def code_version() -> str:
    """Hash of the code that shapes cache entries: other code never reuses them."""
    package = Path(__file__).resolve().parent
    digest = hashlib.blake2b(str(FORMAT).encode(), digest_size=16)
    for name in _CODE:
        with contextlib.suppress(OSError):
            digest.update(name.encode() + b"\0" + (package / f"{name}.py").read_bytes())
    return digest.hexdigest()


def load_cache(state_dir: Path) -> CheckCache:
    """The stored cache (empty when missing, damaged or from other code)."""
    version = code_version()
    cache = CheckCache(version=version)
    try:
        stored = pickle.loads((state_dir / CACHE_NAME).read_bytes())
    except Exception:  # a missing or damaged cache only costs a full check
        return cache
    if isinstance(stored, dict) and stored.get("version") == version:
        tables = stored.get("tables")
        if isinstance(tables, dict):
            cache.old = {t: tables[t] for t in TABLES if isinstance(tables.get(t), dict)}
    return cache


def save_cache(state_dir: Path, cache: CheckCache) -> None:
    """Store the cache atomically; a read-only archive just runs uncached next time."""
    with contextlib.suppress(OSError):
        stored = {"version": cache.version, "tables": cache.new}
        data = pickle.dumps(stored, protocol=pickle.HIGHEST_PROTOCOL)
        atomic_write(state_dir / CACHE_NAME, data)
