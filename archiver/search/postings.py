"""In-memory postings of one field and their W3 encoding (Whoosh's posting blocks and term info).

The encoding mirrors ``W3PostingsWriter._write_block`` and ``W3TermInfo.to_bytes`` in
``whoosh/codec/whoosh3.py`` (whoosh-reloaded 2.7.5): per block of up to ``blocklimit`` postings a
big-endian int length (negative for the last block), a pickled info tuple and the zlib-compressed
pickle of (delta-coded ids, weights, values); per term the packed statistics. Positions values are
Whoosh's ``Positions.encode``: the count as an unsigned int, then the pickled delta list.
"""

from __future__ import annotations

import operator
import pickle
import struct
import zlib
from array import array
from collections.abc import Iterator
from itertools import chain
from typing import Any

from whoosh.system import pack_int, pack_uint
from whoosh.util.numeric import length_to_byte

_MAGIC = b"W3Bl"
_TERMINFO = struct.Struct("!BfIBBfII")  # W3TermInfo._struct
_SUB = operator.sub
_PACKED_COUNTS = [pack_uint(n) for n in range(256)]
BLOCK_PROTOCOL = 4
"""Pickle protocol of block data. Whoosh writes 2, where every bytes value costs a latin-1 str
and a reduce call; its reader accepts any protocol. With 2 the output is Whoosh's byte for byte."""


def encode_positions(poslist: list[int]) -> bytes:
    """Whoosh's Positions.encode of ascending positions (count, then pickled deltas)."""
    deltas = list(map(_SUB, poslist, chain((0,), poslist)))
    count = len(poslist)
    head: bytes = _PACKED_COUNTS[count] if count < 256 else pack_uint(count)
    return head + pickle.dumps(deltas, 2)


def _encode_one(pos: int) -> bytes:
    """Positions.encode([pos])."""
    return encode_positions([pos])


_SINGLES = 4096
_SINGLE_VALUES = [_encode_one(pos) for pos in range(_SINGLES)]


class Postings:
    """Every posting of one field: term -> flat [docnum, weight, value, ...], doc length bytes."""

    def __init__(self, boost: float) -> None:
        self.boost = boost
        self.terms: dict[Any, list[Any]] = {}
        self.lengths = bytearray()
        self._weights = [n * boost for n in range(256)]
        self._singles = _SINGLE_VALUES

    def add(self, term: bytes, docnum: int, weight: float, value: bytes) -> None:
        """Record one posting of an already encoded term."""
        flat = self.terms.get(term)
        if flat is None:
            self.terms[term] = [docnum, weight, value]
        else:
            flat += (docnum, weight, value)

    def add_terms(self, docnum: int, position_terms: list[str | None]) -> int:
        """Record a document's terms (one per word position, None: none); returns the count."""
        found: dict[str, list[int]] = {}
        for pos, term in enumerate(position_terms):
            if term is None:
                continue
            poslist = found.get(term)
            if poslist is None:
                found[term] = [pos]
            else:
                poslist.append(pos)
        terms, weights, singles = self.terms, self._weights, self._singles
        length = 0
        for term, poslist in found.items():
            count = len(poslist)
            length += count
            if count == 1:
                pos = poslist[0]
                value = singles[pos] if pos < _SINGLES else _encode_one(pos)
            else:
                value = _PACKED_COUNTS[count] if count < 256 else pack_uint(count)
                value += pickle.dumps(list(map(_SUB, poslist, [0, *poslist])), 2)
            weight = weights[count] if count < 256 else count * self.boost
            flat = terms.get(term)
            if flat is None:
                terms[term] = [docnum, weight, value]
            else:
                flat += (docnum, weight, value)
        return length

    def set_length(self, docnum: int, length: int) -> None:
        """Record a document's field length (as the byte Whoosh's length column keeps)."""
        lengths = self.lengths
        if len(lengths) <= docnum:
            lengths.extend(bytes(docnum + 1 - len(lengths)))
        lengths[docnum] = length_to_byte(length) if length else 0

    def sorted_terms(self) -> Iterator[tuple[Any, bytes, list[Any]]]:
        """(key, UTF-8 term, flat postings) in Whoosh's term order (by bytes)."""
        for term in sorted(self.terms):
            btext = term.encode("utf-8") if isinstance(term, str) else term
            yield term, btext, self.terms[term]


def _distinct(values: tuple[bytes, ...]) -> tuple[bytes, ...]:
    """The values with repeated objects copied, so pickle writes each in full as Whoosh does."""
    seen: set[int] = set()
    out = []
    for value in values:
        if id(value) in seen:
            value = value[:1] + value[1:]
        seen.add(id(value))
        out.append(value)
    return tuple(out)


def _mini_values(values: list[bytes], fixed: int | None, protocol: int) -> Any:
    """W3PostingsWriter._mini_values of the non-empty values of a block."""
    kept = [v for v in values if v]
    if fixed is None or fixed < 0:
        vs = tuple(kept)
        if protocol == 2 and len(vs) > 1 and len(set(map(id, vs))) < len(vs):
            vs = _distinct(vs)
        return vs
    if fixed == 0:
        return None
    return b"".join(kept)


def _mini_weights(weights: array[float]) -> Any:
    """W3PostingsWriter._mini_weights: None when all 1.0, one value when all equal."""
    first = weights[0]
    if weights.count(first) == len(weights):
        return None if first == 1.0 else first
    return tuple(weights)


def encode_term(
    flat: list[Any], lengths: bytearray, blocklimit: int, level: int, fixed: int | None
) -> tuple[bytes, bytes]:
    """(posting blocks as written to the postings file, term info without its extent)."""
    docs, weights, values = flat[0::3], flat[1::3], flat[2::3]
    count = len(docs)
    protocol = BLOCK_PROTOCOL
    chunks = [_MAGIC]
    total: float = 0
    term_min, term_max, term_weight = 0, 0, 0.0
    for start in range(0, count, blocklimit):
        ids = docs[start : start + blocklimit]
        block_weights = weights[start : start + blocklimit]
        packed = array("f", block_weights)
        total += sum(packed)
        top = max(block_weights)
        top_weight = top if top > 0 else 0
        term_weight = max(term_weight, top_weight)
        lbytes = [lengths[d] for d in ids]
        high, low = max(lbytes), min(lbytes)
        if high and not low:
            low = min([b for b in lbytes if b])
        term_min = low if not term_min else min(term_min, low)
        term_max = max(term_max, high)
        data = pickle.dumps(
            (
                tuple(map(_SUB, ids, chain((0,), ids))),
                _mini_weights(packed),
                _mini_values(values[start : start + blocklimit], fixed, protocol),
            ),
            protocol,
        )
        if level:
            data = zlib.compress(data, level)
        info = pickle.dumps((len(ids), ids[-1], top_weight, level, low, high), 2)
        size = len(info) + len(data)
        chunks += (pack_int(-size if start + blocklimit >= count else size), info, data)
    head = _TERMINFO.pack(False, total, count, term_min, term_max, term_weight, docs[0], docs[-1])
    return b"".join(chunks), head
