"""The files of the in-browser search index: sharded JSON payloads wrapped in JS so they load
from ``file://``, made from the state search.client keeps (or reused from the last build's).

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

import bisect
import json
import math
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import accumulate
from typing import Any

from archiver.model import Page
from archiver.search.clientcache import ClientState
from archiver.search.tokenize import STOP_WORDS

FORMAT = 1
FOLDER = "search"
ARTICLES_PER_FILE = 50
"""The index may have at most one file per this many articles (and at least MIN_FILES)."""
MIN_FILES = 8
PAGE_SIZE = 10
"""Results on the first page: each may need its own docs file, which sets the shard balance."""
_SOURCE_CHARS = "".join(
    chr(c) for c in range(0x23, 0x7F) if chr(c) not in '\\"<>&' and chr(c) != "-"
)
"""One character per source id; '-' means no source."""


def js_payload(name: str, data: Any) -> bytes:
    """A script that registers data under name; safe inside HTML (no '<', U+2028/2029 escaped)."""
    text = _escape(json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")))
    return f'window.__archiverSearch.add("{name}",{text});\n'.encode()


def _escape(text: str) -> str:
    """JSON text made safe inside HTML: no '<', '>', '&', U+2028 or U+2029 (each on its own:
    escaping pieces of a text equals escaping the whole)."""
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _term_size(term: str, lists: str) -> int:
    """Approximate bytes of one term's entry in a shard (lists: its three lists, space-joined)."""
    return len(term) + len(lists) - 2 + 12


def _term_sizes(terms: Sequence[str], encoded: Mapping[str, str]) -> Iterator[int]:
    """_term_size of each term (C loops: 10^5 terms)."""
    lengths = map(operator.add, map(len, terms), map(len, map(encoded.__getitem__, terms)))
    return map((12 - 2).__add__, lengths)


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


def _index_files(
    state: ClientState,
    previous: ClientState | None,
    facets: tuple[Any, Any],
    touched: set[str] | None,
    pretty: bool = False,
) -> list[Page]:
    """The index files, reusing the previous build's bytes for files whose content is the same.

    Result links follow the site's URL style: ``articles/<slug>.html``, or ``articles/<slug>/``
    with ``pretty_urls``."""
    total = len(state.order)
    terms, encoded = state.terms, state.encoded
    prefix = [0, *accumulate(_term_sizes(terms, encoded))]
    lengths = [state.docs[slug][2] for slug in state.order]
    doc_bytes = 2 + sum(lengths) + 2 * (total - 1) if total else 2
    term_count, doc_count = shard_counts(total, prefix[-1] - 12 * len(terms), doc_bytes)
    starts = _cuts(prefix, term_count)
    per = max(1, math.ceil(total / doc_count))
    facets_key, (sources, src, tags, tag_lists) = facets
    old_files = previous.files if previous else {}
    stop = sorted(t for t in STOP_WORDS if t in encoded)
    reusable = touched is not None and touched.isdisjoint(stop)
    sorted_touched = sorted(touched) if touched is not None else []  # for _spliced
    pages = [
        _cached_page("stop-000", tuple(stop), _Lazy(stop, encoded), old_files, state, reusable),
        _cached_page("tags", facets_key, {"lists": tag_lists}, old_files, state),
    ]
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(terms)
        names = terms[start:end]
        reusable = touched is not None and touched.isdisjoint(names)
        name, key = f"terms-{number:03d}", _names_key(names)
        if touched is not None and previous is not None and not reusable:
            spliced = _spliced(old_files.get(name), key, sorted_touched, previous.encoded, encoded)
            if spliced is not None:
                state.files[name] = (key, spliced)
                pages.append(Page(path=f"{FOLDER}/{name}.js", data=spliced))
                continue
        content = _Lazy(names, encoded)
        pages.append(_cached_page(name, key, content, old_files, state, reusable))
    shown = [state.docs[slug][1] for slug in state.order]
    for number, start in enumerate(range(0, max(total, 1), per)):
        chunk = shown[start : start + per]
        pages.append(_cached_page(f"docs-{number:03d}", chunk, {"d": chunk}, old_files, state))
    meta = {
        "format": FORMAT,
        "n": total,
        "per": per,
        "shards": [terms[start] if start < len(terms) else "" for start in starts],
        "stop": sorted(STOP_WORDS),
        "years": state.years,
        "sources": sources,
        "src": src,
        "srcChars": _SOURCE_CHARS,
        "tags": tags,
        "url": ["articles/", "/" if pretty else ".html"],
    }
    pages.append(_page("meta", meta))
    return pages


def _spliced(
    known: tuple[Any, bytes] | None,
    key: tuple[str, str, int],
    touched: Sequence[str],
    old: Mapping[str, str],
    encoded: Mapping[str, str],
) -> bytes | None:
    """A terms file with the same terms (key) as before, its touched terms' entries (touched:
    sorted) replaced in the previous bytes (as serialising it again would give); None: not so
    (terms added)."""
    if known is None or known[0] != key:
        return None
    payload, at = known[1], 0
    parts: list[bytes] = []
    first, last, _ = key
    start, end = bisect.bisect_left(touched, first), bisect.bisect_right(touched, last)
    for term in touched[start:end]:
        before, after = old.get(term), encoded.get(term)
        if term in STOP_WORDS or (before is None and after is None):
            continue
        if before is None or after is None:  # a term new to the file, or gone
            return None
        name = _json_name(term)
        entry = _named_entry(name, before)
        found = payload.find(entry, at)
        while found > 0 and payload[found - 1] not in b"{,":  # a key starts after those
            found = payload.find(entry, found + 1)
        if found <= 0:
            return None
        parts += (payload[at:found], _named_entry(name, after))
        at = found + len(entry)
    parts.append(payload[at:])
    return b"".join(parts)


def _entry(term: str, lists: str) -> bytes:
    """One term's entry in a terms file's JSON: "term":["..","..",".."]."""
    return _named_entry(_json_name(term), lists)


def _json_name(term: str) -> bytes:
    """A term as a key in a terms file's JSON (escaped as js_payload does)."""
    if term.isascii() and term.isalnum():  # most terms: nothing to escape
        return b'"%s"' % term.encode()
    return _escape(_JSON.encode(term)).encode()


def _named_entry(name: bytes, lists: str) -> bytes:
    """_entry with the term already as escaped JSON (the lists' alphabet needs no escaping)."""
    return b'%s:["%s"]' % (name, lists.replace(" ", '","').encode())


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""js_payload's JSON settings, made once (a term is encoded as a string alone)."""


def _names_key(names: list[str]) -> tuple[str, str, int]:
    """The key of a terms file's list of terms: first, last and count. Enough, because such a
    file is only reused when no term inside it was touched, and adding or removing a term
    touches it: two different lists with the same ends and count cannot both pass."""
    return (names[0], names[-1], len(names)) if names else ("", "", 0)


class _Lazy:
    """The data of one terms file, built only when the file has to be serialised again."""

    def __init__(self, names: list[str], encoded: dict[str, str]) -> None:
        self.names = names
        self.encoded = encoded

    def data(self) -> dict[str, list[str]]:
        """Term -> its three encoded lists."""
        return {t: self.encoded[t].split(" ") for t in self.names}


def _cuts(prefix: Sequence[int], count: int) -> list[int]:
    """Where each of at most count term shards starts, cutting sorted terms into shards of
    roughly equal size: a shard ends once it holds at least total / count bytes.

    prefix[i] is the size of the first i terms (prefix[0] == 0).
    """
    n = len(prefix) - 1
    need = math.ceil(prefix[n] / max(count, 1))  # sizes are integers: >= target <=> >= ceil
    starts = [0]
    while len(starts) < count:
        start = starts[-1]
        cut = bisect.bisect_left(prefix, prefix[start] + need, start + 1, n)
        if cut >= n:
            break
        starts.append(cut)
    return starts


def _cached_page(
    name: str,
    key: Any,
    data: Any,
    old: dict[str, tuple[Any, bytes]],
    state: ClientState,
    reusable: bool = True,
) -> Page:
    """One index file, reusing the previous build's bytes when its key is unchanged."""
    known = old.get(name) if reusable else None
    if known is not None and known[0] == key:
        payload = known[1]
    else:
        payload = js_payload(name, data.data() if isinstance(data, _Lazy) else data)
    state.files[name] = (key, payload)
    return Page(path=f"{FOLDER}/{name}.js", data=payload)


def _page(name: str, data: Any) -> Page:
    """One index file."""
    return Page(path=f"{FOLDER}/{name}.js", data=js_payload(name, data))


def file_names(pages: Iterable[Page]) -> list[str]:
    """Paths of the given pages (a convenience for reports and tests)."""
    return [p.path for p in pages]
