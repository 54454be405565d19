"""Doc-id lists of the client index changed in place: the ids within a span of consecutive doc
ids replaced without decoding the rest of the list (a date edit renumbers only such a span).

A gap-coded list is located by prefix sums of its gap values taken by C loops over its bytes
(translated to digit values and summed by zlib.adler32), interpolating for the span's start;
only the codes within the span and the first one after it are decoded and made again. A
bitmap is changed only in its characters for the span.
"""

from __future__ import annotations

import bisect
import operator
import re
from functools import cache
from itertools import accumulate
from zlib import adler32

from archiver.search.clientcodec import (
    _BIT_VALUE,
    _BITS,
    _CONTINUE,
    _GAPS,
    _SET_BITS,
    _TERMINAL,
    decode_ids,
    encode_ids,
)


def relist(text: str, span: tuple[int, int], gone: set[int], added: list[int], total: int) -> str:
    """encode_ids(sorted((decode_ids(text) - gone) + added), total), where gone and added lie
    within span (inclusive): only the part of the list within span is decoded and made again."""
    lo, hi = span
    if text.startswith("!"):
        redone = _bitmap_relisted(text, span, gone, added, total)
        if redone is not None:
            return redone
    elif text:
        spliced = gaps_spliced(text, span, gone, added, total)
        if spliced is not None:
            return spliced
    ids = decode(text)
    start, end = bisect.bisect_left(ids, lo), bisect.bisect_right(ids, hi)
    middle_ids = sorted([d for d in ids[start:end] if d not in gone] + added)
    return encode_ids([*ids[:start], *middle_ids, *ids[end:]], total)


def _bitmap_relisted(
    text: str, span: tuple[int, int], gone: set[int], added: list[int], total: int
) -> str | None:
    """relist of a bitmap that stays a bitmap (its characters for span made again); None: a
    gap-coded list now."""
    lo, hi = span
    body = text[1:]
    first, last = lo // 6, hi // 6
    region = [6 * c + bit for c in range(first, last + 1) for bit in _SET_BITS[_bit_value(body, c)]]
    kept = [d for d in region if d not in gone]
    ones = _digit_sum(body.encode("ascii").translate(_POPCOUNT), 0, len(body))
    count = ones - len(region) + len(kept) + len(added)
    if count * 6 <= total + 6:  # gap codes now, as encode_ids decides first
        return None
    flags = [0] * (last - first + 1)
    for doc in (*kept, *added):
        flags[doc // 6 - first] |= 1 << doc % 6
    middle = "".join(_BITS[v] for v in flags)
    body = body.ljust(last + 1, "A")
    return "!" + (body[:first] + middle + body[last + 1 :]).rstrip("A")


def _bit_value(body: str, index: int) -> int:
    """The six flags of bitmap character index (past the end: none)."""
    return _BIT_VALUE[body[index]] if index < len(body) else 0


def gaps_spliced(
    text: str, span: tuple[int, int], gone: set[int], added: list[int], total: int
) -> str | None:
    """relist of gap codes that stay gap codes: only the codes of the ids within span and of
    the first id after it are made again, the text around them is kept; None: not so."""
    if total >= len(_GAPS):  # gaps may need longer codes than _GAPS holds
        return None
    lo, hi = span
    gaps = _Gaps(text)
    at, sum_at, end = gaps.bracket(lo, 0, 0)  # the first code of an id >= lo: within at..end
    width = 3 * (hi - lo + 2)  # the span's codes and the next: three characters at most each
    if width <= 4 * _WINDOW:
        window = text[at : end + width]
    else:  # a wide span: find its end first
        window = text[at : gaps.last_below(hi + 1, at, sum_at)[0] + 3]
    tokens = _gap_tokens(window)
    sums = list(accumulate(map(_gap_values().__getitem__, tokens), initial=sum_at))
    skip = bisect.bisect_right(sums, lo) - 1  # codes of ids below lo (sums[k + 1]: id + 1)
    upto = bisect.bisect_right(sums, hi + 1, skip) - 1  # and of ids within span
    inside = [s - 1 for s in sums[skip + 1 : upto + 1]]
    after = [s - 1 for s in sums[upto + 1 : upto + 2]]
    middle = sorted([d for d in inside if d not in gone] + added)
    if (gaps.count() - len(inside) + len(middle)) * 6 > total + 6:
        return None  # a bitmap now
    new_ids = [sums[skip] - 1, *middle, *after]
    codes = "".join(map(_GAPS.__getitem__, map(operator.sub, new_ids[1:], new_ids)))
    head = at + sum(map(len, tokens[:skip]))
    tail = head + sum(map(len, tokens[skip : upto + len(after)]))
    spliced = text[:head] + codes + text[tail:]
    return spliced if len(spliced) * 6 <= total + 6 else None


class _Gaps:
    """One gap-coded list's bytes as digit values, for prefix sums of its gaps by C loops.

    P(k), the sum of the gaps coded in text[:k] (k a code boundary), is the id of the code
    ending at k, plus one."""

    def __init__(self, text: str) -> None:
        raw = text.encode("ascii")
        self.text = text
        self.size = len(raw)
        self.kinds = raw.translate(_KINDS)  # _CONT for a continuation character, else not
        self.low = raw.translate(_TERMINAL_DIGITS)
        self.high = raw.translate(_CONTINUE_DIGITS)
        self.long: list[int] = []  # first characters of three-character codes
        found = self.kinds.find(b"cc")
        while found >= 0:
            self.long.append(found)
            found = self.kinds.find(b"cc", found + 2)
        self.full = self.weight(0, self.size)  # P(size): the last id plus one

    def count(self) -> int:
        """How many ids the list holds (one terminal character each)."""
        return self.size - self.kinds.count(b"c")

    def weight(self, start: int, end: int) -> int:
        """The sum of the gaps coded in text[start:end] (both code boundaries)."""
        if end - start <= _ADLER_MAX:  # one C call each (as _digit_sum's)
            low, high = adler32(self.low[start:end]), adler32(self.high[start:end])
            total = (low & 0xFFFF) + 32 * (high & 0xFFFF) - 33
        else:
            total = _digit_sum(self.low, start, end) + 32 * _digit_sum(self.high, start, end)
        for at in self.long:
            if start <= at < end:
                total += (1024 - 32) * self.high[at]
        return total

    def boundary(self, at: int) -> int:
        """The first code boundary at or after at."""
        while 0 < at < self.size and self.kinds[at - 1] == _CONT:
            at += 1
        return min(at, self.size)

    def last_below(self, target: int, at: int, sum_at: int) -> tuple[int, int]:
        """The last code boundary k >= at with P(k) <= target, and P(k); at is a boundary
        with P(at) == sum_at <= target."""
        at, sum_at, end = self.bracket(target, at, sum_at)
        tokens = _gap_tokens(self.text[at:end])
        sums = list(accumulate(map(_gap_values().__getitem__, tokens), initial=sum_at))
        count = bisect.bisect_right(sums, target) - 1  # codes that end at or below target
        return at + sum(map(len, tokens[:count])), sums[count]

    def bracket(self, target: int, at: int, sum_at: int) -> tuple[int, int, int]:
        """Code boundaries at <= end at most _WINDOW apart, P(at) <= target < P(end) (or end
        is the end of the list), and P(at); at is a boundary with P(at) == sum_at <= target.
        Interpolates (ids are spread fairly evenly), with a bisection whenever that did not
        halve the range."""
        end, sum_end = self.size, self.full
        if sum_end <= target:
            return end, sum_end, end
        while end - at > _WINDOW:  # P(at) <= target < P(end)
            width = end - at
            guess = at + (end - at) * (target - sum_at) // (sum_end - sum_at)
            for probe in (guess - _WINDOW // 4, guess + _WINDOW // 4, (at + end) // 2):
                probe = self.boundary(probe)
                if at < probe < end:
                    found = sum_at + self.weight(at, probe)
                    if found <= target:
                        at, sum_at = probe, found
                    else:
                        end, sum_end = probe, found
                if 2 * (end - at) <= width:
                    break
        return at, sum_at, end


_WINDOW = 64
"""bracket stops once its range is this many characters or fewer (they are decoded)."""


def _digit_sum(digits: bytes, start: int, end: int) -> int:
    """sum(digits[start:end]) for digits below 32, by zlib.adler32 (a C loop: its low half is
    one plus the sum of the bytes modulo 65521: exact for up to _ADLER_MAX such bytes)."""
    total = 0
    for at in range(start, end, _ADLER_MAX):
        total += (adler32(digits[at : min(end, at + _ADLER_MAX)]) & 0xFFFF) - 1
    return total


_ADLER_MAX = 2000
"""_digit_sum's bytes per zlib.adler32 call: 2000 * 31 < 65521."""


def _digits(alphabet: str) -> bytes:
    """A bytes.translate table: each character of alphabet -> its digit value, others -> 0."""
    table = bytearray(256)
    for value, char in enumerate(alphabet):
        table[ord(char)] = value
    return bytes(table)


_CONT = ord("c")
_KINDS = bytes.maketrans((_TERMINAL + _CONTINUE).encode(), b"t" * 32 + b"c" * 32)
"""Terminal character -> 't', continuation character -> 'c' (a bytes.translate table)."""
_TERMINAL_DIGITS = _digits(_TERMINAL)
_CONTINUE_DIGITS = _digits(_CONTINUE)
_POPCOUNT = bytes(_BIT_VALUE.get(chr(b), 0).bit_count() for b in range(256))
"""Bitmap character -> how many of its six flags are set (a bytes.translate table)."""


def decode(text: str) -> list[int]:
    """clientcodec.decode_ids, the gap codes split and summed by C loops."""
    if text.startswith("!") or not text:
        return decode_ids(text)
    try:
        gaps = list(map(_gap_values().__getitem__, _gap_tokens(text)))
    except KeyError:  # a gap of 2**15 or more
        return decode_ids(text)
    return list(accumulate(gaps, initial=-1))[1:]


@cache
def _gap_values() -> dict[str, int]:
    """Gap code -> gap, for every gap below 2**15."""
    return dict(zip(_GAPS, range(len(_GAPS)), strict=True))  # C loops: 32k codes


_gap_tokens = re.compile("[g-z0-9+/]*[A-Za-f]").findall
"""The gap codes of a list: continuation characters, then a terminal one (clientcodec's)."""
