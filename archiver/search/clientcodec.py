"""The compact doc-id lists of the client index: base-32 gap codes or bitmaps (search.js has
the decoder's twin)."""

from __future__ import annotations

import math
import operator
from collections import deque
from collections.abc import Sequence
from itertools import chain, repeat

_TERMINAL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
_CONTINUE = "ghijklmnopqrstuvwxyz0123456789+/"
_BITS = _TERMINAL + _CONTINUE


def _gap_code(gap: int) -> str:
    """One gap as base-32 digits: continuation characters, then a terminal one."""
    digits = [gap & 31]
    gap >>= 5
    while gap:
        digits.append(gap & 31)
        gap >>= 5
    return "".join(_CONTINUE[d] for d in reversed(digits[1:])) + _TERMINAL[digits[0]]


_GAPS = (
    list(_TERMINAL)
    + [c + t for c in _CONTINUE[1:] for t in _TERMINAL]
    + [a + c + t for a in _CONTINUE[1:] for c in _CONTINUE for t in _TERMINAL]
)
"""_gap_code(g) for every g < 2**15, built by products (ten times faster at import)."""


def encode_ids(ids: Sequence[int], total: int) -> str:
    """Encode ascending doc ids compactly: base-32 gaps, or a bitmap ('!') when that is shorter."""
    if len(ids) * 6 > total + 6:  # every gap takes a character: a bitmap is shorter
        return _bitmap(ids, total)
    gaps_of = map(operator.sub, ids, chain((-1,), ids))  # C loops: millions of ids per build
    if not ids or ids[-1] < len(_GAPS):  # so is every gap
        gaps = "".join(map(_GAPS.__getitem__, gaps_of))
    else:
        gaps = "".join(_GAPS[g] if g < len(_GAPS) else _gap_code(g) for g in gaps_of)
    if len(gaps) * 6 <= total + 6:
        return gaps
    return _bitmap(ids, total)


def _bitmap(ids: Sequence[int], total: int) -> str:
    """Ids as a bitmap: '!' then one base-64 character per six docs (bit k of a character is
    doc 6 * position + k)."""
    flags = bytearray(math.ceil(total / 6) * 6)
    deque(map(flags.__setitem__, ids, repeat(1)), maxlen=0)
    data = bytes(flags)
    sixes = map(
        _SIXES.__getitem__,
        map(data.__getitem__, map(slice, range(0, len(data), 6), range(6, len(data) + 6, 6))),
    )
    return "!" + "".join(sixes).rstrip("A")


_SIXES = {bytes((value >> bit) & 1 for bit in range(6)): _BITS[value] for value in range(64)}
"""Six 0/1 flag bytes (doc 6k .. 6k+5) -> the bitmap character for them."""


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
