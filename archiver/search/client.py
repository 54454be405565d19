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

import bisect
import datetime as dt
import hashlib
import json
import math
import operator
import pickle
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import accumulate
from typing import Any

from archiver.config import Settings
from archiver.memory import no_gc
from archiver.model import Article, Page
from archiver.model import term_key as model_term_key
from archiver.search.clientcache import (
    ClientState,
    Kinds,
    WordStore,
    fingerprint,
    load_state,
    save_state,
)
from archiver.search.clientcodec import decode_ids as decode_ids
from archiver.search.clientcodec import encode_ids as encode_ids
from archiver.search.clientwords import contribution, contributions, invert, kind_map
from archiver.search.tokenize import STOP_WORDS, excerpt, plain_text

FORMAT = 1
FOLDER = "search"
ARTICLES_PER_FILE = 50
"""The index may have at most one file per this many articles (and at least MIN_FILES)."""
MIN_FILES = 8
PAGE_SIZE = 10
"""Results on the first page: each may need its own docs file, which sets the shard balance."""
EXCERPT_CHARS = 120
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


def ordered(articles: Sequence[Article]) -> list[Article]:
    """Articles in doc-id order: newest first, ties by slug."""
    return sorted(articles, key=lambda a: (-a.sort_date.timestamp(), a.slug))


def postings(docs: Sequence[Article]) -> dict[str, list[list[int]]]:
    """Per term, the doc ids of its title, strong and weak lists (each doc in one list)."""
    return invert([contribution(a) for a in docs])


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


def _years(dates: Sequence[dt.datetime]) -> list[list[int]]:
    """[year, first id, count] for each year (ids run newest first, so years are ranges)."""
    out: list[list[int]] = []
    for doc, date in enumerate(dates):
        year = date.year
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


def client_pages(
    articles: Sequence[Article],
    settings: Settings,
    *,
    generation: str = "",
    words: Mapping[str, Kinds] | None = None,
) -> list[Page]:
    """Every file of the client search index, as pages relative to the site root.

    Each article's words are cached in the build state by a hash of its indexed fields, so a
    rebuild only tokenises changed articles and, while the doc order is unchanged, only
    re-encodes the terms those articles touch and re-serialises the files holding them.
    generation: the token of the build the saved state will belong to (client_pages_edited).
    words: contribution() of some of these very articles by slug, already computed (the build
    has them computed in its worker pool while it plans the pages).
    """
    with no_gc():  # ~10^5 long-lived objects: collections would only rescan them
        return _client_pages(articles, settings, generation, words or {})


def _client_pages(
    articles: Sequence[Article], settings: Settings, generation: str, words: Mapping[str, Kinds]
) -> list[Page]:
    """client_pages, with the garbage collector paused."""
    docs, dates = _ordered_with_dates(articles)
    previous = load_state(settings.state_path)
    state = ClientState(order=[a.slug for a in docs], years=_years(dates), generation=generation)
    store = WordStore(settings.state_path)
    try:
        fresh = _fill_docs(state, docs, previous, words)
        touched = _encode(state, previous, docs, fresh, store, words)
        facets = _cached_facets(state, previous, docs)
        pages = _index_files(state, previous, facets, touched, settings.pretty_urls)
        if (
            previous is None
            or touched
            or fresh
            or state.order != previous.order
            or (previous.generation != generation)
        ):
            reordered = previous is None or state.order != previous.order
            rows = {slug: (state.docs[slug][0], words) for slug, words in fresh.items()}
            store.write(rows, keep=set(state.order) if reordered else None)
            save_state(settings.state_path, state)
    finally:
        store.close()
    return sorted(pages, key=lambda p: p.path)


def client_pages_edited(
    edited: Mapping[str, Article], settings: Settings, *, generation: str, new_generation: str
) -> list[Page] | None:
    """client_pages after only the given articles' bodies changed, without the other articles.

    Applies only when the saved state belongs to the build of token generation (so every other
    article is exactly as that state saw it) and the edited articles keep their place, source
    and tags (the caller guarantees that: equal front matter). None means "not applicable":
    run client_pages with every article instead.
    """
    with no_gc():
        return _client_pages_edited(edited, settings, generation, new_generation)


def _client_pages_edited(
    edited: Mapping[str, Article], settings: Settings, generation: str, new_generation: str
) -> list[Page] | None:
    """client_pages_edited, with the garbage collector paused."""
    previous = load_state(settings.state_path, generation)
    if previous is None or not generation or previous.generation != generation:
        return None
    if previous.facets is None or not edited.keys() <= previous.docs.keys():
        return None
    state = ClientState(
        order=previous.order, docs=dict(previous.docs), years=previous.years,
        facets=previous.facets, generation=new_generation,
    )  # fmt: skip
    changed = [a for slug, a in edited.items() if previous.docs[slug][0] != fingerprint(a)]
    for article in changed:
        entry = _doc_entry(article)
        mark = fingerprint(article)
        state.docs[article.slug] = (mark, entry, len(json.dumps(entry, ensure_ascii=False)))
    fresh = dict(zip((a.slug for a in changed), contributions(changed), strict=True))
    store = WordStore(settings.state_path)
    try:
        old_words = store.read({slug: previous.docs[slug][0] for slug in fresh})
        if len(old_words) != len(fresh):
            return None
        touched = _update(state, previous, len(state.order), fresh, old_words)
        pages = _index_files(state, previous, previous.facets, touched, settings.pretty_urls)
        keep_words(settings, state, store, fresh)
    finally:
        store.close()
    return sorted(pages, key=lambda p: p.path)


def keep_words(
    settings: Settings, state: ClientState, store: WordStore, fresh: Mapping[str, Kinds]
) -> None:
    """Store the words of the articles an update re-read, then the state that refers to them."""
    store.write({slug: (state.docs[slug][0], words) for slug, words in fresh.items()})
    save_state(settings.state_path, state)


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
            spliced = _spliced(old_files.get(name), key, touched, previous.encoded, encoded)
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
    touched: set[str],
    old: Mapping[str, str],
    encoded: Mapping[str, str],
) -> bytes | None:
    """A terms file with the same terms (key) as before, its touched terms' entries replaced
    in the previous bytes (as serialising it again would give); None: not so (terms added)."""
    if known is None or known[0] != key:
        return None
    payload, at = known[1], 0
    parts: list[bytes] = []
    first, last, _ = key
    for term in sorted(t for t in touched if first <= t <= last and t not in STOP_WORDS):
        before, after = old.get(term), encoded.get(term)
        if before is None or after is None:  # a term new to the file, or gone
            if before is None and after is None:
                continue
            return None
        entry = _entry(term, before)
        found = payload.find(entry, at)
        while found > 0 and payload[found - 1] not in b"{,":  # a key starts after those
            found = payload.find(entry, found + 1)
        if found <= 0:
            return None
        parts += (payload[at:found], _entry(term, after))
        at = found + len(entry)
    parts.append(payload[at:])
    return b"".join(parts)


def _entry(term: str, lists: str) -> bytes:
    """One term's entry in a terms file's JSON: "term":["..","..",".."] (the lists' alphabet
    needs no escaping)."""
    values = lists.replace(" ", '","')
    return f'{_escape(_JSON.encode(term))}:["{values}"]'.encode()


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


def _ordered_with_dates(articles: Sequence[Article]) -> tuple[list[Article], list[dt.datetime]]:
    """ordered(articles), and the sort date of each (computed once)."""
    dated = sorted(
        ((a.sort_date, a) for a in articles), key=lambda da: (-da[0].timestamp(), da[1].slug)
    )
    return [a for _, a in dated], [d for d, _ in dated]


def _words_of(articles: Sequence[Article], known: Mapping[str, Kinds]) -> dict[str, Kinds]:
    """Slug -> contribution() of each article: from known, else computed now."""
    found = {a.slug: known[a.slug] for a in articles if a.slug in known}
    missing = [a for a in articles if a.slug not in found]
    found.update(zip((a.slug for a in missing), contributions(missing), strict=True))
    return {a.slug: found[a.slug] for a in articles}


def _fill_docs(
    state: ClientState,
    docs: Sequence[Article],
    previous: ClientState | None,
    words: Mapping[str, Kinds],
) -> dict[str, Kinds]:
    """Each article's display entry, reused when unchanged; the words of the changed ones."""
    old_docs = previous.docs if previous else {}
    fresh: dict[str, Kinds] = {}
    changed: list[Article] = []
    for article in docs:
        mark = fingerprint(article)
        known = old_docs.get(article.slug)
        if known is not None and known[0] == mark:
            state.docs[article.slug] = known
        else:
            entry = _doc_entry(article)
            state.docs[article.slug] = (mark, entry, len(json.dumps(entry, ensure_ascii=False)))
            changed.append(article)
    fresh.update(_words_of(changed, words))
    return fresh


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


def _cached_facets(
    state: ClientState, previous: ClientState | None, docs: Sequence[Article]
) -> tuple[str, tuple[list[str], str, list[str], list[str]]]:
    """(key, _facets(docs)), reused from the previous build when no doc's source or tags
    changed; the key is a hash of every doc's source and tags in doc order."""
    listed = pickle.dumps([(a.source, a.tags) for a in docs], protocol=pickle.HIGHEST_PROTOCOL)
    key = hashlib.sha256(listed).hexdigest()
    if previous is not None and previous.facets is not None and previous.facets[0] == key:
        state.facets = previous.facets
    else:
        state.facets = (key, _facets(docs))
    return state.facets


def _encode(
    state: ClientState,
    previous: ClientState | None,
    docs: Sequence[Article],
    fresh: dict[str, Kinds],
    store: WordStore,
    known: Mapping[str, Kinds],
) -> set[str] | None:
    """Fill state.encoded and terms; return the terms re-encoded incrementally (None:
    all, from scratch). fresh gains the words of articles the store could not give."""
    total = len(docs)
    if previous is not None and previous.order == state.order:
        old_words = store.read({slug: previous.docs[slug][0] for slug in fresh})
        if len(old_words) == len(fresh):
            return _update(state, previous, total, fresh, old_words)
    table = invert(_all_words(state, docs, fresh, store, known))
    state.encoded = {
        t: " ".join([encode_ids(x, total) for x in lists]) for t, lists in table.items()
    }
    state.terms = sorted(t for t in state.encoded if t not in STOP_WORDS)
    return None


def _all_words(
    state: ClientState,
    docs: Sequence[Article],
    fresh: dict[str, Kinds],
    store: WordStore,
    known: Mapping[str, Kinds],
) -> list[Kinds]:
    """Every article's words in doc order: fresh ones, stored ones, else tokenised now."""
    stored = store.read({s: state.docs[s][0] for s in state.order if s not in fresh})
    missing = [a for a in docs if a.slug not in fresh and a.slug not in stored]
    fresh.update(_words_of(missing, known))
    return [fresh[s] if s in fresh else stored[s] for s in state.order]


def _update(
    state: ClientState,
    previous: ClientState,
    total: int,
    fresh: dict[str, Kinds],
    old_words: dict[str, Kinds],
) -> set[str]:
    """Re-encode only the terms whose lists the changed articles (same doc order) moved."""
    changed: dict[int, dict[str, int]] = {}
    touched: set[str] = set()
    position = {slug: doc for doc, slug in enumerate(state.order)} if fresh else {}
    for slug, new in fresh.items():
        old = old_words[slug]
        if old != new:
            before, after = kind_map(old), kind_map(new)
            moved = {w for w in before.keys() | after.keys() if before.get(w) != after.get(w)}
            changed[position[slug]] = after  # all its words: a term another doc moved may be
            touched |= moved  # one this doc keeps, and its lists drop every changed doc first
    encoded, terms = previous.encoded, previous.terms
    if touched:
        encoded, terms = dict(encoded), list(terms)
    for term in sorted(touched):
        existed = term in encoded
        lists = [
            [d for d in decode_ids(x) if d not in changed]
            for x in encoded.get(term, "  ").split(" ")
        ]
        for doc, kinds in changed.items():
            if term in kinds:
                lists[kinds[term]].append(doc)
        joined = " ".join([encode_ids(sorted(x), total) for x in lists]) if any(lists) else ""
        put_term(encoded, terms, term, joined, existed)
    state.encoded, state.terms = encoded, terms
    return touched


def put_term(
    encoded: dict[str, str],
    terms: list[str],
    term: str,
    lists: str,
    existed: bool,
) -> None:
    """Record a term's encoded id lists ("": no document has it now), terms kept sorted."""
    if lists:
        encoded[term] = lists
        if not existed and term not in STOP_WORDS:
            bisect.insort(terms, term)
    else:
        encoded.pop(term, None)
        if existed and term not in STOP_WORDS:
            del terms[bisect.bisect_left(terms, term)]


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
