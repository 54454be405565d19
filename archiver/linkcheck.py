"""Broken internal links in a built site: every href/src of every HTML page, resolved on disk."""

from __future__ import annotations

import html
import os
import posixpath
import re
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from archiver.checkcache import CheckCache, StatKey, page_key

_VALUE = rb"""(?=[ \t\r\n]*=[ \t\r\n]*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))"""
_ATTRS = (re.compile(rb"href" + _VALUE), re.compile(rb"src" + _VALUE))
"""An attribute name and its value (in a look-ahead: the scan goes on right after the name)."""
_BEFORE_ATTR = frozenset(b" \t\n\r\"'/")
PARALLEL_PAGES = 1000
"""At least this many pages to read are read in the pool (starting workers costs ~1 s)."""
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_COMMENT = re.compile(rb"<!--.*?-->", re.S)
_RAW_TEXT = re.compile(rb"(<(script|style)\b[^>]*>).*?</\2\s*>", re.S)


@dataclass(frozen=True)
class LinkReport:
    """Broken links as (page, reason), and how many pages and links were looked at."""

    problems: tuple[tuple[str, str], ...]
    pages: int
    links: int


Links = tuple[str, str]
"""The internal links of one page in page_links order, as two NUL-joined strings (compact to
send between processes and to cache): href/src values, and the site-relative targets."""
_SEP = "\x00"
ReadPage = tuple[str, Links | None, str | None]
"""(page, its links, or why it could not be read)."""
Tree = tuple[frozenset[str], frozenset[str], dict[str, StatKey | None]]
"""Files and folders of a site, and the stat key of every HTML page."""


def check_site_links(
    site: Path, pool: Executor | None = None, parts: int = 4, cache: CheckCache | None = None
) -> LinkReport:
    """Check every internal link of every ``.html`` page under site (in pool when given).

    With a cache, pages whose stat data did not change are not read again: their link values
    come from the cache, and every link is still resolved against the site as it is now.
    """
    files, dirs, keys = site_tree(site)
    pages = sorted(keys)
    found: dict[str, Links] = {}
    todo: list[str] = []
    for page in pages:
        known = cache.get("pages", page, keys[page]) if cache is not None else None
        if known is None:
            todo.append(page)
        else:
            found[page] = known
    errors: dict[str, str] = {}
    for page, links, error in read_pages(str(site), todo, pool, parts):
        if links is None:
            errors[page] = error or "cannot read"
        else:
            found[page] = links
            if cache is not None:
                cache.put("pages", page, keys[page], links)
    problems, count = _verdicts(str(site), pages, found, errors, files, dirs)
    return LinkReport(tuple(problems), len(pages), count)


def read_pages(
    site: str, pages: list[str], pool: Executor | None = None, parts: int = 4
) -> list[ReadPage]:
    """Read the pages and extract their links, in parts on the pool when there is one."""
    if pool is None or len(pages) < PARALLEL_PAGES:
        return _read_batch(site, pages)
    size = -(-len(pages) // parts)
    jobs = [pool.submit(_read_batch, site, pages[i : i + size]) for i in range(0, len(pages), size)]
    return [item for job in jobs for item in job.result()]


def _read_batch(site: str, pages: list[str]) -> list[ReadPage]:
    """Links of a batch of pages (may run in a worker process)."""
    out: list[ReadPage] = []
    targets: dict[tuple[str, str], str | None] = {}
    for page in pages:
        try:
            with open(os.path.join(site, page), "rb") as handle:
                data = handle.read()
        except OSError as exc:
            out.append((page, None, f"cannot read: {exc.strerror}"))
            continue
        folder = posixpath.dirname(page)
        urls: list[str] = []
        found: list[str] = []
        for url in page_links(data):
            key = (folder, url)
            if key in targets:
                target = targets[key]
            else:
                target = targets[key] = resolve(page, url)
            if target is not None:
                urls.append(url.replace(_SEP, "\ufffd"))
                found.append(target.replace(_SEP, "\ufffd"))
        out.append((page, (_SEP.join(urls), _SEP.join(found)), None))
    return out


def page_links(text: str | bytes) -> list[str]:
    """Every href/src attribute value in the tags of an HTML page (entities decoded).

    Comments and the insides of script/style elements are skipped; so is text that only looks
    like an attribute (escaped markup in the page text is outside any tag). All href values
    come first, then all src values, each in page order.
    """
    data = text.encode("utf-8") if isinstance(text, str) else text
    lowered = data.lower()  # ASCII-only on bytes: offsets stay the same
    if b"<!--" in lowered or b"<script" in lowered or b"<style" in lowered:
        lowered = _RAW_TEXT.sub(_blank, _COMMENT.sub(_blank, lowered))
    out = []
    rfind = lowered.rfind
    for pattern in _ATTRS:
        for match in pattern.finditer(lowered):
            at = match.start()
            if at and lowered[at - 1] not in _BEFORE_ATTR:
                continue  # part of another name (data-href, xsrc)
            if rfind(b"<", 0, at) <= rfind(b">", 0, at):
                continue  # not inside a tag
            start = match.start(1)
            if start >= 0:
                end = match.end(1)
            else:
                start, end = match.span(2) if match.start(2) >= 0 else match.span(3)
            value = data[start:end].decode("utf-8", "replace")
            out.append(html.unescape(value) if "&" in value else value)
    return out


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
    folder = "" if path.startswith("/") else posixpath.dirname(page)
    joined = normjoin(folder, path)
    return joined + "/" if trailing and joined != "." else joined


def normjoin(folder: str, path: str) -> str:
    """posixpath.normpath(posixpath.join(folder, path)) for a relative folder, with path made
    relative (leading slashes dropped); several times faster."""
    parts = folder.split("/") if folder else []
    for segment in path.split("/"):
        if segment == ".." and parts and parts[-1] != "..":
            parts.pop()
        elif segment and segment != ".":
            parts.append(segment)
    return "/".join(parts) or "."


def _verdicts(
    site: str,
    pages: list[str],
    found: dict[str, Links],
    errors: dict[str, str],
    files: frozenset[str],
    dirs: frozenset[str],
) -> tuple[list[tuple[str, str]], int]:
    """Problems of every page in order (each broken URL once per page) and the internal links."""
    targets: set[str] = set()
    for _, joined in found.values():
        if joined:
            targets.update(joined.split(_SEP))
    broken = {t: why for t in targets - files if (why := _broken(t, files, dirs))}
    problems: list[tuple[str, str]] = []
    count = 0
    for page in pages:
        links = found.get(page)
        if links is None:
            problems.append((str(Path(site, page)), errors.get(page, "cannot read")))
            continue
        urls, joined = links
        count += joined.count(_SEP) + 1 if joined else 0
        if not broken or not joined or broken.keys().isdisjoint(joined.split(_SEP)):
            continue
        reported: set[str] = set()
        for url, target in zip(urls.split(_SEP), joined.split(_SEP), strict=True):
            if target in broken and url not in reported:
                reported.add(url)
                problems.append((str(Path(site, page)), f"{broken[target]}: {url}"))
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


def site_tree(site: Path) -> Tree:
    """All files and folders under site (POSIX paths relative to it) and each page's stat key.

    Like os.walk: links to folders are listed as folders but not entered.
    """
    files: set[str] = set()
    dirs: set[str] = set()
    keys: dict[str, StatKey | None] = {}

    def walk(folder: str, prefix: str) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return  # an unreadable folder is skipped, as os.walk does
        for entry in entries:
            rel = prefix + entry.name
            if entry.is_dir():
                dirs.add(rel)
                if not entry.is_symlink():
                    walk(entry.path, rel + "/")
                continue
            files.add(rel)
            if rel.endswith((".html", ".htm")):
                try:
                    keys[rel] = page_key(entry.stat())
                except OSError:
                    keys[rel] = None

    walk(str(site), "")
    return frozenset(files), frozenset(dirs), keys
