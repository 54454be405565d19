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
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from archiver.config import Settings
from archiver.model import Article, Page
from archiver.model import term_key as model_term_key
from archiver.search.clientcache import (
    ClientState,
    Kinds,
    fingerprint,
    load_state,
    save_state,
)
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
    if len(ids) * 6 > total + 6:  # every gap takes a character: a bitmap is shorter
        return _bitmap(ids, total)
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
    return _bitmap(ids, total)


def _bitmap(ids: Sequence[int], total: int) -> str:
    """Ids as a bitmap: '!' then one base-64 character per six docs."""
    bits = bytearray(math.ceil(total / 6))
    for doc in ids:
        bits[doc // 6] |= 1 << (doc % 6)
    return "!" + "".join(_BITS[b] for b in bits).rstrip("A")


_BIT_VALUE = {ch: i for i, ch in enumerate(_BITS)}
_SET_BITS = [tuple(bit for bit in range(6) if value >> bit & 1) for value in range(64)]
_CONT_VALUE = {ch: i for i, ch in enumerate(_CONTINUE)}
_TERM_VALUE = {ch: i for i, ch in enumerate(_TERMINAL)}


def decode_ids(text: str) -> list[int]:
    """Inverse of encode_ids (search.js has its own copy)."""
    if text.startswith("!"):
        return [i * 6 + bit for i, ch in enumerate(text[1:]) for bit in _SET_BITS[_BIT_VALUE[ch]]]
    ids: list[int] = []
    value, previous = 0, -1
    for ch in text:
        digit = _CONT_VALUE.get(ch)
        if digit is not None:
            value = value * 32 + digit
        else:
            previous += value * 32 + _TERM_VALUE[ch]
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


def _term_size(term: str, lists: Sequence[str]) -> int:
    """Approximate bytes of one term's entry in a shard."""
    return len(term) + sum(len(x) for x in lists) + 12


def _term_shards(
    entries: dict[str, list[str]], count: int, sizes: Mapping[str, int] | None = None
) -> list[tuple[str, dict[str, list[str]]]]:
    """Cut the sorted terms into count contiguous shards of roughly equal size."""
    if sizes is None:
        sizes = {t: _term_size(t, lists) for t, lists in entries.items()}
    target = sum(sizes[t] for t in entries) / max(count, 1)
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
    term_key = _memo({})
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


def _memo(cache: dict[str, str]) -> Callable[[str], str]:
    """term_key with a cache (tag names repeat across thousands of articles)."""

    def key(name: str) -> str:
        found = cache.get(name)
        if found is None:
            found = cache[name] = model_term_key(name)
        return found

    return key


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
    """Every file of the client search index, as pages relative to the site root.

    Each article's words are cached in the build state by a hash of its indexed fields, so a
    rebuild only tokenises changed articles and, while the doc order is unchanged, only
    re-encodes the terms those articles touch and re-serialises the files holding them.
    """
    docs = ordered(articles)
    total = len(docs)
    previous = load_state(settings.state_path)
    state = ClientState(order=[a.slug for a in docs])
    old_docs = previous.docs if previous else {}
    for article in docs:
        mark = fingerprint(article)
        known = old_docs.get(article.slug)
        if known is not None and known[0] == mark:
            state.docs[article.slug] = known
        else:
            state.docs[article.slug] = (mark, contribution(article), _doc_entry(article))
    touched = _encode(state, previous, total)
    encoded = state.encoded
    stop = {t: v for t, v in encoded.items() if t in STOP_WORDS}
    entries = {t: v for t, v in encoded.items() if t not in STOP_WORDS}
    shown = [state.docs[slug][2] for slug in state.order]
    sizes = state.sizes
    term_count, doc_count = shard_counts(
        total,
        sum(sizes[t] for t in entries) - 12 * len(entries),
        len(json.dumps(shown, ensure_ascii=False)),
    )
    shards = _term_shards(entries, term_count, sizes)
    per = max(1, math.ceil(total / doc_count))
    sources, src, tags, tag_lists = _facets(docs)
    pages = [_page("stop-000", stop), _page("tags", {"lists": tag_lists})]
    old_files = previous.files if previous else {}
    for number, (_, content) in enumerate(shards):
        name, key = f"terms-{number:03d}", tuple(content)
        reusable = touched is not None and touched.isdisjoint(content)
        pages.append(_cached_page(name, key, content, old_files if reusable else {}, state))
    for number, start in enumerate(range(0, max(total, 1), per)):
        chunk = shown[start : start + per]
        pages.append(_cached_page(f"docs-{number:03d}", chunk, {"d": chunk}, old_files, state))
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
    if previous is None or touched or state.order != previous.order:
        save_state(settings.state_path, state)
    return sorted(pages, key=lambda p: p.path)


def _encode(state: ClientState, previous: ClientState | None, total: int) -> set[str] | None:
    """Fill state.encoded; return the terms re-encoded incrementally (None: all, from scratch)."""
    if previous is None or previous.order != state.order:
        table = _table([state.docs[slug][1] for slug in state.order])
        state.encoded = {t: [encode_ids(x, total) for x in lists] for t, lists in table.items()}
        state.sizes = {t: _term_size(t, v) for t, v in state.encoded.items()}
        return None
    changed: dict[int, dict[str, int]] = {}
    touched: set[str] = set()
    for doc, slug in enumerate(state.order):
        old, new = previous.docs[slug][1], state.docs[slug][1]
        if old != new:
            before, after = _kind_map(old), _kind_map(new)
            moved = {w for w in before.keys() | after.keys() if before.get(w) != after.get(w)}
            changed[doc] = {w: after[w] for w in moved if w in after}
            touched |= moved
    encoded, sizes = dict(previous.encoded), dict(previous.sizes)
    for term in touched:
        lists = [
            [d for d in decode_ids(x) if d not in changed] for x in encoded.get(term, ("", "", ""))
        ]
        for doc, kinds in changed.items():
            if term in kinds:
                lists[kinds[term]].append(doc)
        if any(lists):
            encoded[term] = [encode_ids(sorted(x), total) for x in lists]
            sizes[term] = _term_size(term, encoded[term])
        else:
            encoded.pop(term, None)
            sizes.pop(term, None)
    state.sizes = sizes
    state.encoded = encoded
    return touched


def _kind_map(kinds: Kinds) -> dict[str, int]:
    """Word -> list number of one contribution."""
    return {word: kind for kind, text in enumerate(kinds) for word in text.split()}


def _cached_page(
    name: str, key: Any, data: Any, old: dict[str, tuple[Any, bytes]], state: ClientState
) -> Page:
    """One index file, reusing the previous build's bytes when its key is unchanged."""
    known = old.get(name)
    payload = known[1] if known is not None and known[0] == key else js_payload(name, data)
    state.files[name] = (key, payload)
    return Page(path=f"{FOLDER}/{name}.js", data=payload)


def _page(name: str, data: Any) -> Page:
    """One index file."""
    return Page(path=f"{FOLDER}/{name}.js", data=js_payload(name, data))


def file_names(pages: Iterable[Page]) -> list[str]:
    """Paths of the given pages (a convenience for reports and tests)."""
    return [p.path for p in pages]
