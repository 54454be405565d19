"""The client search index after a date edit, updated from the articles that changed place.

The client index numbers documents newest first. When edited articles move (their date
changed), the articles between their old and new places change doc id; every other document
keeps its id. So only the terms of the documents whose id changed (or whose words changed)
have different doc-id lists: those are decoded, renumbered and encoded again, every other
term's encoded lists are kept, exactly as search.client's edited-only update keeps them. The
files are then made by the same function as a full update, from a state equal to the one the
full update would save (tests compare the bytes with a clean build).
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from itertools import accumulate
from typing import TYPE_CHECKING

from archiver.config import Settings
from archiver.memory import no_gc
from archiver.model import Article, Page
from archiver.quickstate import ClientJob, ClientResult, changed_files, search_module

if TYPE_CHECKING:
    from archiver.search.clientcache import ClientState, Kinds


@dataclass(frozen=True)
class MovedClientJob(ClientJob):
    """quickstate.ClientJob whose update from every article (ordered) is client_pages_moved
    when it applies (then only the renumbered documents' terms are encoded again)."""

    def run(self, settings: Settings, edited: Mapping[str, Article]) -> ClientResult | None:
        """The changed files and every path; None: not applicable (the caller does it)."""
        if self.ordered is None:
            return super().run(settings, edited)
        if search_module("client") is None:
            return {}, set()
        pages = client_pages(self.ordered, edited, settings, self.generation, self.new_generation)
        return changed_files(pages, self.outputs)

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


def client_pages(
    ordered: Sequence[Article],
    edited: Mapping[str, Article],
    settings: Settings,
    generation: str,
    new_generation: str,
) -> list[Page]:
    """Every client index file: client_pages_moved, else search.client's full update."""
    pages = client_pages_moved(
        ordered, edited, settings, generation=generation, new_generation=new_generation
    )
    if pages is None:
        client = search_module("client")
        assert client is not None  # the caller checked
        pages = client.client_pages(ordered, settings, generation=new_generation)
    return pages


@no_gc()  # the state's ~10^5 long-lived objects: collections would only rescan them
def client_pages_moved(
    ordered: Sequence[Article],
    edited: Mapping[str, Article],
    settings: Settings,
    *,
    generation: str,
    new_generation: str,
) -> list[Page] | None:
    """search.client.client_pages(ordered) when only the edited articles changed (moved or
    not) since the build of token generation; None: not applicable (run client_pages)."""
    from archiver.search import client
    from archiver.search.clientcache import (
        ClientState,
        WordStore,
        fingerprint,
        load_state,
    )
    from archiver.search.clientwords import contributions

    previous = load_state(settings.state_path, generation)
    if previous is None or not generation or previous.generation != generation:
        return None
    docs, dates = client._ordered_with_dates(ordered)
    order = [a.slug for a in docs]
    if len(order) != len(previous.order) or set(order) != previous.docs.keys():
        return None
    state = ClientState(
        order=order, docs=dict(previous.docs), years=client._years(dates),
        generation=new_generation,
    )  # fmt: skip
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
        facets = client._cached_facets(state, previous, docs)
        pages = client._index_files(state, previous, facets, touched, settings.pretty_urls)
        client.keep_words(settings, state, store, fresh)
    finally:
        store.close()
    return sorted(pages, key=lambda p: p.path)


def _renumber(
    state: ClientState,
    previous: ClientState,
    fresh: dict[str, Kinds],
    old_words: dict[str, Kinds],
) -> set[str]:
    """Re-encode the terms of every document whose id or words changed; the terms touched."""
    from archiver.search.client import put_term
    from archiver.search.clientwords import kind_map

    order, was = state.order, previous.order
    total = len(order)
    new_id = {slug: doc for doc, slug in enumerate(order)}
    gone = {doc for doc, slug in enumerate(was) if slug in old_words}  # taken out (old ids)
    now = {new_id[s]: kind_map(fresh.get(s, words)) for s, words in old_words.items()}
    touched: set[str] = set()
    for slug, words in old_words.items():
        touched.update(kind_map(words))
        touched.update(now[new_id[slug]])
    span = (min(gone | now.keys()), max(gone | now.keys())) if gone else (0, -1)
    encoded, sizes, terms = dict(previous.encoded), dict(previous.sizes), list(previous.terms)
    for term in sorted(touched):
        existed = term in encoded
        added: tuple[list[int], list[int], list[int]] = ([], [], [])
        for doc, kinds in now.items():  # put back (new ids)
            if term in kinds:
                added[kinds[term]].append(doc)
        lists = encoded.get(term, "  ").split(" ")
        redone = [
            relist(x, span, gone, sorted(a), total) for x, a in zip(lists, added, strict=True)
        ]
        put_term(encoded, sizes, terms, term, " ".join(redone) if any(redone) else "", existed)
    state.sizes, state.encoded, state.terms = sizes, encoded, terms
    return touched


def relist(text: str, span: tuple[int, int], gone: set[int], added: list[int], total: int) -> str:
    """encode_ids(sorted((decode_ids(text) - gone) + added), total), where gone and added lie
    within span (inclusive): a bitmap is changed only there, gap codes are decoded by C loops."""
    from archiver.search.clientcodec import _BITS, encode_ids

    lo, hi = span
    if text.startswith("!"):
        body = text[1:]
        first, last = lo // 6, hi // 6
        region = [
            6 * c + bit for c in range(first, last + 1) for bit in _SET_BITS[_bit_value(body, c)]
        ]
        kept = [d for d in region if d not in gone]
        count = sum(map(_POPCOUNT.__getitem__, body)) - len(region) + len(kept) + len(added)
        if count * 6 > total + 6:  # still a bitmap, as encode_ids decides first
            flags = [0] * (last - first + 1)
            for doc in (*kept, *added):
                flags[doc // 6 - first] |= 1 << doc % 6
            middle = "".join(_BITS[v] for v in flags)
            body = body.ljust(last + 1, "A")
            return "!" + (body[:first] + middle + body[last + 1 :]).rstrip("A")
    ids = _decode(text)
    start, end = bisect.bisect_left(ids, lo), bisect.bisect_right(ids, hi)
    middle_ids = sorted([d for d in ids[start:end] if d not in gone] + added)
    return encode_ids([*ids[:start], *middle_ids, *ids[end:]], total)


def _bit_value(body: str, index: int) -> int:
    """The six flags of bitmap character index (past the end: none)."""
    from archiver.search.clientcodec import _BIT_VALUE

    return _BIT_VALUE[body[index]] if index < len(body) else 0


def _decode(text: str) -> list[int]:
    """clientcodec.decode_ids, the gap codes split and summed by C loops."""
    from archiver.search.clientcodec import decode_ids

    if text.startswith("!") or not text:
        return decode_ids(text)
    try:
        gaps = list(map(_gap_values().__getitem__, _GAP_TOKEN.findall(text)))
    except KeyError:  # a gap of 2**15 or more
        return decode_ids(text)
    return list(accumulate(gaps, initial=-1))[1:]


@cache
def _gap_values() -> dict[str, int]:
    """Gap code -> gap, for every gap below 2**15."""
    from archiver.search.clientcodec import _GAPS

    return {code: gap for gap, code in enumerate(_GAPS)}


_GAP_TOKEN = re.compile("[g-z0-9+/]*[A-Za-f]")
"""One gap: continuation characters, then a terminal one (clientcodec's alphabets)."""
_SET_BITS = [tuple(bit for bit in range(6) if value >> bit & 1) for value in range(64)]
_POPCOUNT = {
    ch: value.bit_count()
    for value, ch in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
}
