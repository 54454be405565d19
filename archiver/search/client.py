"""The in-browser search index: sharded JSON payloads wrapped in JS so they load from ``file://``.

Layout (all under ``search/``), each file one call ``window.__archiverSearch.add(name, data)``:

- ``meta.js``: doc count, stop words, first term of every term shard, docs per docs shard,
  year ranges (doc ids are numbered newest first, so a year is a range of ids), source names and
  one character per doc giving its source, tag names, article URL pattern.
- ``tags.js``: for every tag its doc ids (for the tag filter and its counts).
- ``terms-NNN.js``: a range of terms; per term three doc-id lists: title, strong (summary or
  3+ body hits) and weak (the rest).  Lists are gap-coded strings or, when denser, bitmaps.
- ``stop-000.js``: the stop words' lists, loaded only for a query made of stop words alone.
- ``docs-NNN.js``: display data (slug, title, excerpt, date) of a run of consecutive doc ids.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from archiver.config import Settings
from archiver.model import Article, Page, term_key
from archiver.search.tokenize import STOP_WORDS, excerpt, index_words, plain_text, words

FORMAT = 1
FOLDER = "search"
ARTICLES_PER_FILE = 50
"""The index may have at most one file per this many articles (and at least MIN_FILES)."""
MIN_FILES = 8
PAGE_SIZE = 10
"""Results on the first page: each may need its own docs file, which sets the shard balance."""
EXCERPT_CHARS = 120
LIST_TITLE, LIST_STRONG, LIST_WEAK = 0, 1, 2
_TERMINAL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
_CONTINUE = "ghijklmnopqrstuvwxyz0123456789+/"
_BITS = _TERMINAL + _CONTINUE
_SOURCE_CHARS = "".join(
    chr(c) for c in range(0x23, 0x7F) if chr(c) not in '\\"<>&' and chr(c) != "-"
)
"""One character per source id; '-' means no source."""


def _gap_code(gap: int) -> str:
    """One gap as base-32 digits: continuation characters, then a terminal one."""
    digits = [gap & 31]
    gap >>= 5
    while gap:
        digits.append(gap & 31)
        gap >>= 5
    return "".join(_CONTINUE[d] for d in reversed(digits[1:])) + _TERMINAL[digits[0]]


_GAPS = [_gap_code(g) for g in range(1 << 15)]


def encode_ids(ids: Sequence[int], total: int) -> str:
    """Encode ascending doc ids compactly: base-32 gaps, or a bitmap ('!') when that is shorter."""
    table = _GAPS
    previous = -1
    parts = []
    for doc in ids:
        gap = doc - previous
        parts.append(table[gap] if gap < 32768 else _gap_code(gap))
        previous = doc
    gaps = "".join(parts)
    if len(gaps) * 6 <= total + 6:
        return gaps
    bits = bytearray(math.ceil(total / 6))
    for doc in ids:
        bits[doc // 6] |= 1 << (doc % 6)
    return "!" + "".join(_BITS[b] for b in bits).rstrip("A")


def decode_ids(text: str) -> list[int]:
    """Inverse of encode_ids (used by the tests; search.js has its own copy)."""
    if text.startswith("!"):
        return [
            i * 6 + bit
            for i, ch in enumerate(text[1:])
            for bit in range(6)
            if _BITS.index(ch) >> bit & 1
        ]
    ids: list[int] = []
    value, previous = 0, -1
    for ch in text:
        if ch in _CONTINUE:
            value = value * 32 + _CONTINUE.index(ch)
        else:
            previous += value * 32 + _TERMINAL.index(ch)
            ids.append(previous)
            value = 0
    return ids


def js_payload(name: str, data: Any) -> bytes:
    """A script that registers data under name; safe inside HTML (no '<', U+2028/2029 escaped)."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    text = (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
    return f'window.__archiverSearch.add("{name}",{text});\n'.encode()


def ordered(articles: Sequence[Article]) -> list[Article]:
    """Articles in doc-id order: newest first, ties by slug."""
    return sorted(articles, key=lambda a: (-a.sort_date.timestamp(), a.slug))


def postings(docs: Sequence[Article]) -> dict[str, list[list[int]]]:
    """Per term, the doc ids of its title, strong and weak lists (each doc in one list)."""
    return _table([contribution(a) for a in docs])


def contribution(article: Article) -> Kinds:
    """One article's words, space-joined, by the list they go to: title, strong, weak."""
    best: dict[str, int] = {}
    body = Counter(index_words(article.body))
    for word, count in body.items():
        best[word] = LIST_STRONG if count >= 3 else LIST_WEAK
    for word in words(article.summary or ""):
        best[word] = LIST_STRONG
    for word in words(" ".join((*article.tags, *article.authors, article.source or ""))):
        best[word] = min(best.get(word, LIST_STRONG), LIST_STRONG)
    for word in words(article.title):
        best[word] = LIST_TITLE
    lists: tuple[list[str], list[str], list[str]] = ([], [], [])
    for word, kind in best.items():
        lists[kind].append(word)
    return (" ".join(lists[0]), " ".join(lists[1]), " ".join(lists[2]))


def _table(contributions: Sequence[Kinds]) -> dict[str, list[list[int]]]:
    """Invert per-doc contributions into per-term doc-id lists."""
    table: dict[str, list[list[int]]] = defaultdict(lambda: [[], [], []])
    for doc, kinds in enumerate(contributions):
        for kind, text in enumerate(kinds):
            for word in text.split():
                table[word][kind].append(doc)
    return table


def _term_shards(
    entries: dict[str, list[str]], count: int
) -> list[tuple[str, dict[str, list[str]]]]:
    """Cut the sorted terms into count contiguous shards of roughly equal size."""
    sizes = {t: len(t) + sum(len(x) for x in lists) + 12 for t, lists in entries.items()}
    target = sum(sizes.values()) / max(count, 1)
    shards: list[tuple[str, dict[str, list[str]]]] = []
    current: dict[str, list[str]] = {}
    filled = 0.0
    for term in sorted(entries):
        if current and filled >= target and len(shards) < count - 1:
            shards.append((min(current), current))
            current, filled = {}, 0.0
        current[term] = entries[term]
        filled += sizes[term]
    shards.append((min(current) if current else "", current))
    return shards


def shard_counts(total: int, term_bytes: int, doc_bytes: int) -> tuple[int, int]:
    """Split the file budget between term and docs shards to minimise a cold query's bytes.

    A query loads one term shard per word (term_bytes / T each; 1.5 words on average) and up
    to PAGE_SIZE docs shards (doc_bytes / D each); with T + D fixed the sum is smallest when
    T : D = sqrt(1.5 t) : sqrt(10 d).
    """
    budget = max(MIN_FILES, total // ARTICLES_PER_FILE) - 3
    a = math.sqrt(1.5 * max(term_bytes, 1))
    b = math.sqrt(PAGE_SIZE * max(doc_bytes, 1))
    terms = min(budget - 1, max(1, round(budget * a / (a + b))))
    docs = max(1, min(budget - terms, total))
    return terms, docs


def _facets(docs: Sequence[Article]) -> tuple[list[str], str, list[str], list[str]]:
    """Source names, the per-doc source string, tag names and per-tag id lists."""
    source_names: dict[str, str] = {}
    tag_docs: dict[str, list[int]] = defaultdict(list)
    tag_names: dict[str, str] = {}
    for doc, article in enumerate(docs):
        if article.source:
            source_names.setdefault(term_key(article.source), article.source)
        for tag in dict.fromkeys(term_key(t) for t in article.tags):
            tag_docs[tag].append(doc)
        for tag in article.tags:
            tag_names.setdefault(term_key(tag), tag)
    keys = sorted(source_names, key=lambda k: source_names[k].casefold())[: len(_SOURCE_CHARS)]
    index = {k: i for i, k in enumerate(keys)}
    src = "".join(
        _SOURCE_CHARS[index[term_key(a.source)]]
        if a.source and term_key(a.source) in index
        else "-"
        for a in docs
    )
    tags = sorted(tag_docs, key=lambda k: (-len(tag_docs[k]), k))
    return (
        [source_names[k] for k in keys],
        src,
        [tag_names[k] for k in tags],
        [encode_ids(tag_docs[k], len(docs)) for k in tags],
    )


def _years(docs: Sequence[Article]) -> list[list[int]]:
    """[year, first id, count] for each year (ids run newest first, so years are ranges)."""
    out: list[list[int]] = []
    for doc, article in enumerate(docs):
        year = article.sort_date.year
        if out and out[-1][0] == year:
            out[-1][2] += 1
        else:
            out.append([year, doc, 1])
    return out


def _doc_entry(article: Article) -> list[str]:
    """What a result shows: slug, title, excerpt, date."""
    text = article.summary or plain_text(article.body)
    date = article.published.isoformat()[:10] if article.published else ""
    return [article.slug, article.title, excerpt(text, EXCERPT_CHARS), date]


def client_pages(articles: Sequence[Article], settings: Settings) -> list[Page]:
    """Every file of the client search index, as pages relative to the site root."""
    del settings  # the layout does not depend on settings yet
    docs = ordered(articles)
    total = len(docs)
    table = postings(docs)
    encoded = {t: [encode_ids(x, total) for x in lists] for t, lists in table.items()}
    stop = {t: v for t, v in encoded.items() if t in STOP_WORDS}
    entries = {t: v for t, v in encoded.items() if t not in STOP_WORDS}
    shown = [_doc_entry(a) for a in docs]
    term_count, doc_count = shard_counts(
        total,
        sum(len(t) + sum(len(x) for x in v) for t, v in entries.items()),
        len(json.dumps(shown, ensure_ascii=False)),
    )
    shards = _term_shards(entries, term_count)
    per = max(1, math.ceil(total / doc_count))
    sources, src, tags, tag_lists = _facets(docs)
    pages = [_page("stop-000", stop), _page("tags", {"lists": tag_lists})]
    for number, (_, content) in enumerate(shards):
        pages.append(_page(f"terms-{number:03d}", content))
    for number, start in enumerate(range(0, max(total, 1), per)):
        pages.append(_page(f"docs-{number:03d}", {"d": shown[start : start + per]}))
    meta = {
        "format": FORMAT,
        "n": total,
        "per": per,
        "shards": [first for first, _ in shards],
        "stop": sorted(STOP_WORDS),
        "years": _years(docs),
        "sources": sources,
        "src": src,
        "srcChars": _SOURCE_CHARS,
        "tags": tags,
        "url": ["articles/", ".html"],
    }
    pages.append(_page("meta", meta))
    return sorted(pages, key=lambda p: p.path)


def _page(name: str, data: Any) -> Page:
    """One index file."""
    return Page(path=f"{FOLDER}/{name}.js", data=js_payload(name, data))


def file_names(pages: Iterable[Page]) -> list[str]:
    """Paths of the given pages (a convenience for reports and tests)."""
    return [p.path for p in pages]
