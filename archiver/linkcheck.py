"""Broken internal links in a built site: every href/src of every HTML page, resolved on disk."""

from __future__ import annotations

import html
import os
import posixpath
import re
from collections.abc import Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

_VALUE = re.compile(rb"""[ \t\r\n]*=[ \t\r\n]*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")
_BEFORE_ATTR = frozenset({b" ", b"\t", b"\n", b"\r", b'"', b"'", b"/"})
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_COMMENT = re.compile(rb"<!--.*?-->", re.S)
_RAW_TEXT = re.compile(rb"(<(script|style)\b[^>]*>).*?</\2\s*>", re.S)


@dataclass(frozen=True)
class LinkReport:
    """Broken links as (page, reason), and how many pages and links were looked at."""

    problems: tuple[tuple[str, str], ...]
    pages: int
    links: int


def check_site_links(site: Path, pool: Executor | None = None, parts: int = 4) -> LinkReport:
    """Check every internal link of every ``.html`` page under site (in pool when given)."""
    files, dirs = _tree(site)
    pages = sorted(p for p in files if p.endswith((".html", ".htm")))
    size = max(1, -(-len(pages) // parts)) if pool is not None else max(1, len(pages))
    chunks = [pages[i : i + size] for i in range(0, len(pages), size)]
    results: Iterable[tuple[list[tuple[str, str]], int]]
    if pool is not None and len(chunks) > 1:
        jobs = [pool.submit(_check_pages, str(site), c, files, dirs) for c in chunks]
        results = [job.result() for job in jobs]
    else:
        results = [_check_pages(str(site), c, files, dirs) for c in chunks]
    problems = [problem for found, _ in results for problem in found]
    return LinkReport(tuple(problems), len(pages), sum(n for _, n in results))


def page_links(text: str | bytes) -> list[str]:
    """Every href/src attribute value in the tags of an HTML page (entities decoded).

    Comments and the insides of script/style elements are skipped; so is text that only looks
    like an attribute (escaped markup in the page text is outside any tag).
    """
    data = text.encode("utf-8") if isinstance(text, str) else text
    lowered = data.lower()  # ASCII-only on bytes: offsets stay the same
    if b"<!--" in lowered or b"<script" in lowered or b"<style" in lowered:
        lowered = _RAW_TEXT.sub(_blank, _COMMENT.sub(_blank, lowered))
    out = []
    for name in (b"href", b"src"):
        at = lowered.find(name)
        while at >= 0:
            match = _VALUE.match(lowered, at + len(name))
            if match and _in_tag(lowered, at):
                group = next(i for i in (1, 2, 3) if match.group(i) is not None)
                value = data[match.start(group) : match.end(group)].decode("utf-8", "replace")
                out.append(html.unescape(value) if "&" in value else value)
            at = lowered.find(name, at + len(name))
    return out


def _in_tag(lowered: bytes, at: int) -> bool:
    """Whether offset at starts an attribute name inside a tag (not text, not data-href)."""
    if at and lowered[at - 1 : at] not in _BEFORE_ATTR:
        return False
    return lowered.rfind(b"<", 0, at) > lowered.rfind(b">", 0, at)


def _blank(match: re.Match[bytes]) -> bytes:
    """Replace a comment or a script/style body by spaces (offsets stay the same)."""
    whole = match.group()
    if whole.startswith(b"<!--"):
        return b" " * len(whole)
    opening = match.group(1)
    return opening + b" " * (len(whole) - len(opening))


def resolve(page: str, url: str) -> str | None:
    """The site-relative file an internal link points at; None for external/anchor links.

    Returns ``".."`` (or a path starting with it) for links that leave the site.
    """
    url = url.strip()
    if not url or url.startswith(("#", "//")) or _SCHEME.match(url):
        return None
    path = unquote(url.split("#", 1)[0].split("?", 1)[0])
    if not path:
        return None
    trailing = path.endswith("/")
    if path.startswith("/"):
        joined = posixpath.normpath(path.lstrip("/") or ".")
    else:
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
    return joined + "/" if trailing and joined != "." else joined


def _check_pages(
    site: str, pages: list[str], files: frozenset[str], dirs: frozenset[str]
) -> tuple[list[tuple[str, str]], int]:
    """Check a batch of pages (may run in a worker process)."""
    problems: list[tuple[str, str]] = []
    cache: dict[tuple[str, str], str | None] = {}
    """(folder, url) -> None (not internal), '' (fine) or why it is broken."""
    count = 0
    for page in pages:
        try:
            text = Path(site, page).read_bytes()
        except OSError as exc:
            problems.append((str(Path(site, page)), f"cannot read: {exc.strerror}"))
            continue
        folder = posixpath.dirname(page)
        reported: set[str] = set()
        for url in page_links(text):
            key = (folder, url)
            if key in cache:
                verdict = cache[key]
            else:
                target = resolve(page, url)
                verdict = None if target is None else (_broken(target, files, dirs) or "")
                cache[key] = verdict
            if verdict is None:
                continue
            count += 1
            if verdict and url not in reported:
                reported.add(url)
                problems.append((str(Path(site, page)), f"{verdict}: {url}"))
    return problems, count


def _broken(target: str, files: frozenset[str], dirs: frozenset[str]) -> str | None:
    """Why a resolved link target is broken, or None when it exists."""
    if target == ".." or target.startswith("../"):
        return "link points outside the site"
    bare = target.rstrip("/")
    if bare in ("", "."):
        return None if "index.html" in files else "broken link (no index.html)"
    if not target.endswith("/") and bare in files:
        return None
    if bare in dirs:
        return None if f"{bare}/index.html" in files else "broken link (folder without index.html)"
    return "broken link"


def _tree(site: Path) -> tuple[frozenset[str], frozenset[str]]:
    """All files and folders under site as POSIX paths relative to it."""
    files: set[str] = set()
    dirs: set[str] = set()
    for root, dirnames, filenames in os.walk(site):
        rel = Path(root).relative_to(site).as_posix()
        prefix = "" if rel == "." else rel + "/"
        dirs.update(prefix + d for d in dirnames)
        files.update(prefix + f for f in filenames)
    return frozenset(files), frozenset(dirs)
