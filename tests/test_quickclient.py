"""quickclient: the client index renumbered after a date edit equals a full update's."""

from __future__ import annotations

import random

import pytest

from archiver.quickclient import relist
from archiver.search.clientcodec import decode_ids, encode_ids


def naive(text: str, gone: set[int], added: list[int], total: int) -> str:
    """What relist must return: decode, drop, add, encode."""
    return encode_ids(sorted([d for d in decode_ids(text) if d not in gone] + added), total)


@pytest.mark.parametrize("seed", range(60))
def test_relist_equals_decode_change_encode(seed: int) -> None:
    rng = random.Random(seed)
    total = rng.choice([7, 60, 600, 9496, 40000])
    density = rng.choice([0.001, 0.05, 0.16, 0.17, 0.2, 0.6, 1.0])
    ids = [d for d in range(total) if rng.random() < density]
    text = encode_ids(ids, total)
    lo = rng.randrange(total)
    hi = min(total - 1, lo + rng.choice([0, 1, 5, 40, 3000]))
    inside = [d for d in ids if lo <= d <= hi]
    gone = set(rng.sample(inside, rng.randint(0, len(inside)))) if inside else set()
    free = [d for d in range(lo, hi + 1) if d not in ids or d in gone]
    added = sorted(rng.sample(free, rng.randint(0, min(len(free), 4))))
    assert relist(text, (lo, hi), gone, added, total) == naive(text, gone, added, total)


def test_relist_handles_empty_lists_and_large_gaps() -> None:
    assert relist("", (3, 5), set(), [4], 10) == encode_ids([4], 10)
    assert relist(encode_ids([2], 10), (2, 2), {2}, [], 10) == ""
    far = encode_ids([0, 70000], 80000)  # a gap of 2**15 or more
    assert relist(far, (0, 1), {0}, [1], 80000) == encode_ids([1, 70000], 80000)
