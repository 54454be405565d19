"""The in-browser search index (files: search.clientfiles): every article's words and display
entry, kept in the build state with the encoded term lists, and the updates that redo only
what changed since the last build.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import pickle
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence

from archiver.config import Settings
from archiver.forked import BACKGROUND_NICE, Forked, failure
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
from archiver.search.clientfiles import _SOURCE_CHARS, _index_files
from archiver.search.clientfiles import FOLDER as FOLDER
from archiver.search.clientfiles import FORMAT as FORMAT
from archiver.search.clientfiles import file_names as file_names
from archiver.search.clientfiles import js_payload as js_payload
from archiver.search.clientfiles import shard_counts as shard_counts
from archiver.search.clientwords import contribution, contributions, invert, kind_map
from archiver.search.tokenize import STOP_WORDS, excerpt, plain_text

EXCERPT_CHARS = 120


def ordered(articles: Sequence[Article]) -> list[Article]:
    """Articles in doc-id order: newest first, ties by slug."""
    return sorted(articles, key=lambda a: (-a.sort_date.timestamp(), a.slug))


def postings(docs: Sequence[Article]) -> dict[str, list[list[int]]]:
    """Per term, the doc ids of its title, strong and weak lists (each doc in one list)."""
    return invert([contribution(a) for a in docs])


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
        if found is None:  # ASCII: no accents, casefold() is lower() (model.term_key's result)
            plain = name.isascii()
            found = " ".join(name.lower().split()) if plain else model_term_key(name)
            cache[name] = found
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
    edited: Mapping[str, Article],
    settings: Settings,
    *,
    generation: str,
    new_generation: str,
    later: list[Callable[[], None]] | None = None,
) -> list[Page] | None:
    """client_pages after only the given articles' bodies changed, without the other articles.

    Applies only when the saved state belongs to the build of token generation (so every other
    article is exactly as that state saw it) and the edited articles keep their place, source
    and tags (the caller guarantees that: equal front matter). None means "not applicable":
    run client_pages with every article instead. later: as keep_words's.
    """
    with no_gc():
        return _client_pages_edited(edited, settings, generation, new_generation, later)


def _client_pages_edited(
    edited: Mapping[str, Article],
    settings: Settings,
    generation: str,
    new_generation: str,
    later: list[Callable[[], None]] | None,
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
        keep_words(settings, state, store, fresh, later)
    finally:
        store.close()
    return sorted(pages, key=lambda p: p.path)


def keep_words(
    settings: Settings,
    state: ClientState,
    store: WordStore,
    fresh: Mapping[str, Kinds],
    later: list[Callable[[], None]] | None = None,
) -> None:
    """Store the words of the articles an update re-read, then the state that refers to them;
    later: append that step to it instead (a child hands its files over first, then runs it)."""
    rows = {slug: (state.docs[slug][0], words) for slug, words in fresh.items()}
    if later is None:
        store.write(rows)
        save_state(settings.state_path, state)
        return

    def keep() -> None:
        again = WordStore(settings.state_path)
        try:
            again.write(rows)
        finally:
            again.close()
        save_state(settings.state_path, state)

    later.append(keep)


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


class PagesJob:
    """client_pages in a forked child, started as soon as a rebuild has read its articles.

    A rebuild that changes the doc order (an article added, deleted or moved in time) encodes
    every term list again: seconds at 10,000 articles, which overlap the planning of the pages
    (one core) instead of following it. wait() gives the pages, or raises the child's failure
    as one line; stop() abandons the child (the state it may have saved is only a cache).
    """

    def __init__(self, child: Forked) -> None:
        self.child = child

    @classmethod
    def start(
        cls, articles: Sequence[Article], settings: Settings, generation: str
    ) -> PagesJob | None:
        """Fork the child (articles newest first); None where forking is unavailable."""

        def work() -> bytes:  # pragma: no cover - runs in the forked child
            pages = client_pages(articles, settings, generation=generation)
            return pickle.dumps(pages, protocol=pickle.HIGHEST_PROTOCOL)

        child = Forked.start(work, nice=BACKGROUND_NICE, collect=False)
        return None if child is None else cls(child)

    def wait(self) -> list[Page]:
        """The pages client_pages gave in the child."""
        code, data = self.child.wait()
        if code != 0:
            raise failure(code, data, "client search index update")
        pages: list[Page] = pickle.loads(data)  # our own child's pickle
        return pages

    def stop(self) -> None:
        """End the child and reap it."""
        self.child.stop(kill=True)
