"""The client search index after a date edit, updated from the articles that changed place.

The client index numbers documents newest first. When edited articles move (their date
changed), the articles between their old and new places change doc id; every other document
keeps its id. So only the terms of the documents whose id changed (or whose words changed)
have different doc-id lists: those are changed within the span of renumbered ids only
(search.clientsplice: the rest of each list is neither decoded nor encoded again), every other
term's encoded lists are kept, exactly as search.client's edited-only update keeps them. The
files are then made by the same function as a full update, from a state equal to the one the
full update would save (tests compare the bytes with a clean build). It reads no body but
the edited articles' (ordered may come from a snapshot without bodies), and the tags and
sources facets are updated from the docs that moved or changed.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import pickle
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import chain, groupby, repeat
from types import ModuleType
from typing import TYPE_CHECKING

from archiver.config import Settings
from archiver.memory import no_gc
from archiver.model import Article, Page
from archiver.quickchild import ClientJob, ClientResult

if TYPE_CHECKING:
    from archiver.search.clientcache import ClientState, Kinds


@dataclass(frozen=True)
class MovedClientJob(ClientJob):
    """quickchild.ClientJob whose update from every article (ordered) is client_pages_moved
    when it applies (then only the renumbered documents' terms are encoded again)."""

    def run(self, settings: Settings, edited: Mapping[str, Article]) -> ClientResult | None:
        """The changed files and every path; None: not applicable (the caller does it)."""
        if self.ordered is None:
            return super().run(settings, edited)
        result = self.bodiless(settings, edited)
        return self.full(settings, self.ordered) if result is None else result

    def bodiless_pages(
        self,
        client: ModuleType,
        settings: Settings,
        edited: Mapping[str, Article],
        later: list[Callable[[], None]] | None,
    ) -> list[Page] | None:
        """client_pages_moved, which reads no body but the edited articles' (ordered may lack
        them); None: not applicable (full then needs every body)."""
        if self.ordered is None:
            return super().bodiless_pages(client, settings, edited, later)
        return client_pages_moved(
            self.ordered,
            edited,
            settings,
            generation=self.generation,
            new_generation=self.new_generation,
            later=later,
        )

    def here(
        self, settings: Settings, edited: Mapping[str, Article], ordered: Sequence[Article]
    ) -> ClientResult:
        """run in this process; when the edited-only update does not apply, the update from
        every article (ordered)."""
        result = self.run(settings, edited)
        if result is None:
            result = replace(self, ordered=ordered).run(settings, edited)
        assert result is not None  # an update from every article always applies
        return result


@no_gc()  # the state's ~10^5 long-lived objects: collections would only rescan them
def client_pages_moved(
    ordered: Sequence[Article],
    edited: Mapping[str, Article],
    settings: Settings,
    *,
    generation: str,
    new_generation: str,
    later: list[Callable[[], None]] | None = None,
) -> list[Page] | None:
    """search.client.client_pages(ordered) when only the edited articles changed (moved or
    not) since the build of token generation; None: not applicable (run client_pages).
    later: where saving the new state goes instead of happening now (keep_words)."""
    from archiver.search import client
    from archiver.search.clientcache import (
        ClientState,
        WordStore,
        fingerprint,
        load_state,
    )
    from archiver.search.clientfiles import _index_files
    from archiver.search.clientwords import contributions

    previous = load_state(settings.state_path, generation)
    if previous is None or not generation or previous.generation != generation:
        return None
    placed = _placed(ordered, edited, previous)
    if placed is None:
        return None
    docs, (order, years) = ordered, placed
    state = ClientState(
        order=order, docs=dict(previous.docs), years=years, generation=new_generation
    )
    changed = [a for s, a in edited.items() if previous.docs[s][0] != fingerprint(a)]
    for article in changed:
        entry = client._doc_entry(article)
        mark = fingerprint(article)
        state.docs[article.slug] = (mark, entry, len(json.dumps(entry, ensure_ascii=False)))
    fresh = dict(zip((a.slug for a in changed), contributions(changed), strict=True))
    renumbered = {s for s, was in zip(order, previous.order, strict=True) if s != was}
    store = WordStore(settings.state_path)
    try:
        wanted = renumbered | fresh.keys()
        old_words = store.read({slug: previous.docs[slug][0] for slug in wanted})
        if old_words.keys() != wanted:
            return None
        touched = _renumber(state, previous, fresh, old_words)
        facets = _moved_facets(state, previous, docs, _span(order, previous.order, changed))
        if facets is None:
            facets = client._cached_facets(state, previous, docs)
        pages = _index_files(state, previous, facets, touched, settings.pretty_urls)
        client.keep_words(settings, state, store, fresh, later)
    finally:
        store.close()
    return sorted(pages, key=lambda p: p.path)


def _placed(
    ordered: Sequence[Article], edited: Mapping[str, Article], previous: ClientState
) -> tuple[list[str], list[list[int]]] | None:
    """The slugs of ordered and its year ranges when it is in doc-id order (client.ordered's),
    checked from the previous order where only the edited articles may have moved; None: not
    so."""
    order = [a.slug for a in ordered]
    if len(order) != len(previous.order) or set(order) != previous.docs.keys():
        return None
    if [s for s in order if s not in edited] != [s for s in previous.order if s not in edited]:
        return None  # the others keep their (sorted) order: the edited ones must fit in
    for doc in (d for d, slug in enumerate(order) if slug in edited):
        here = _doc_key(ordered[doc])
        if doc > 0 and not _doc_key(ordered[doc - 1]) < here:
            return None
        if doc + 1 < len(order) and not here < _doc_key(ordered[doc + 1]):
            return None
    runs = chain.from_iterable(repeat(year, count) for year, _, count in previous.years)
    year_of = dict(zip(previous.order, runs, strict=True))
    year_of.update((slug, article.sort_date.year) for slug, article in edited.items())
    years: list[list[int]] = []
    start = 0
    for year, group in groupby(map(year_of.__getitem__, order)):
        count = len(list(group))
        years.append([year, start, count])
        start += count
    return order, years


def _doc_key(article: Article) -> tuple[float, str]:
    """client.ordered's sort key."""
    return (-article.sort_date.timestamp(), article.slug)


def _span(order: list[str], was: list[str], changed: Sequence[Article]) -> tuple[int, int]:
    """The first and last doc ids (inclusive) whose article changed or moved; (0, -1): none."""
    ids = [doc for doc, (slug, old) in enumerate(zip(order, was, strict=True)) if slug != old]
    where = {a.slug for a in changed}
    ids += [doc for doc, slug in enumerate(order) if slug in where]
    return (min(ids), max(ids)) if ids else (0, -1)


FacetData = tuple[list[str], str, list[str], list[str]]


def _moved_facets(
    state: ClientState, previous: ClientState, docs: Sequence[Article], span: tuple[int, int]
) -> tuple[str, FacetData] | None:
    """client._cached_facets from the previous facets, where only the docs within span
    changed (place, source or tags); None: not applicable (a source appeared or went, ...)."""
    from archiver.search.client import _memo
    from archiver.search.clientcodec import encode_ids
    from archiver.search.clientfiles import _SOURCE_CHARS
    from archiver.search.clientsplice import decode

    if previous.facets is None:
        return None
    lo, hi = span
    if hi < lo:
        state.facets = previous.facets
        return state.facets
    sources, src, tags, lists = previous.facets[1]
    term_key = _memo({})
    inside = docs[lo : hi + 1]
    if len(sources) >= len(_SOURCE_CHARS):
        return None
    index = {term_key(name): i for i, name in enumerate(sources)}
    chars: list[str] = []
    for article in inside:  # every source spelled as listed, and as many docs per source
        found = index.get(term_key(article.source)) if article.source else -1
        if found is None or (found >= 0 and sources[found] != article.source):
            return None
        chars.append(_SOURCE_CHARS[found] if found >= 0 else "-")
    if sorted(chars) != sorted(src[lo : hi + 1]):
        return None
    held: dict[str, list[int]] = {}
    for doc, article in enumerate(inside, lo):
        for key in dict.fromkeys(map(term_key, article.tags)):
            held.setdefault(key, []).append(doc)
    entries: list[tuple[int, str, str, str]] = []  # count, key, name, encoded ids
    for name, text in zip(tags, lists, strict=True):
        key = term_key(name)
        ids, now = decode(text), held.pop(key, [])
        start, end = bisect.bisect_left(ids, lo), bisect.bisect_right(ids, hi)
        if ids[start:end] != now:
            ids = [*ids[:start], *now, *ids[end:]]
            text = encode_ids(ids, len(docs))
        if ids:  # the first holder's spelling names it (unchanged before the span)
            named = name if ids[0] < lo else _spelling(docs[ids[0]], key, term_key)
            entries.append((len(ids), key, named, text))
    for key, now in held.items():  # tags new to the archive
        entries.append(
            (len(now), key, _spelling(docs[now[0]], key, term_key), encode_ids(now, len(docs)))
        )
    entries.sort(key=lambda e: (-e[0], e[1]))
    listed = pickle.dumps([(a.source, a.tags) for a in docs], protocol=pickle.HIGHEST_PROTOCOL)
    key = hashlib.sha256(listed).hexdigest()  # as client._cached_facets's (equal states)
    src = src[:lo] + "".join(chars) + src[hi + 1 :]
    state.facets = (key, (sources, src, [e[2] for e in entries], [e[3] for e in entries]))
    return state.facets


def _spelling(article: Article, key: str, term_key: Callable[[str], str]) -> str:
    """The article's first tag with this key."""
    return next(tag for tag in article.tags if term_key(tag) == key)


def _renumber(
    state: ClientState,
    previous: ClientState,
    fresh: dict[str, Kinds],
    old_words: dict[str, Kinds],
) -> set[str]:
    """Re-encode the terms of every document whose id or words changed; the terms touched."""
    from archiver.search.client import put_term
    from archiver.search.clientsplice import relist
    from archiver.search.clientwords import kind_map

    order, was = state.order, previous.order
    total = len(order)
    new_id = {slug: doc for doc, slug in enumerate(order)}
    old_id = {slug: doc for doc, slug in enumerate(was) if slug in old_words}
    gone = set(old_id.values())  # taken out (old ids)
    taken: defaultdict[str, list[tuple[int, int]]] = defaultdict(list)  # (old id, list)
    put: defaultdict[str, list[tuple[int, int]]] = defaultdict(list)  # (new id, list)
    for slug, words in old_words.items():
        doc = new_id[slug]
        for word, kind in kind_map(words).items():
            taken[word].append((old_id[slug], kind))
        for word, kind in kind_map(fresh.get(slug, words)).items():
            put[word].append((doc, kind))
    # a term whose docs taken out come back with the same ids and lists keeps its lists
    touched = {t for t, was in taken.items() if was != put.get(t) and sorted(was) != sorted(put[t])}
    touched.update(put.keys() - taken.keys())
    ids = gone | {new_id[slug] for slug in old_words}
    span = (min(ids), max(ids)) if ids else (0, -1)
    encoded, terms = dict(previous.encoded), list(previous.terms)
    for term in sorted(touched):
        existed = term in encoded
        lost: tuple[list[int], list[int], list[int]] = ([], [], [])
        added: tuple[list[int], list[int], list[int]] = ([], [], [])
        for doc, kind in taken[term]:  # taken out (old ids)
            lost[kind].append(doc)
        for doc, kind in sorted(put[term]):  # put back (new ids)
            added[kind].append(doc)
        lists = encoded.get(term, "  ").split(" ")
        redone = [
            x if sorted(out) == back else relist(x, span, set(out), back, total)
            for x, out, back in zip(lists, lost, added, strict=True)
        ]
        put_term(encoded, terms, term, " ".join(redone) if any(redone) else "", existed)
    state.encoded, state.terms = encoded, terms
    return touched
