"""Exact (normalised-text hash) and near duplicates (MinHash LSH, verified by real Jaccard)."""

from __future__ import annotations

import base64
import hashlib
import re
import zlib
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import numpy as np

NUM_PERM = 64
SHINGLE = 5
_WORD = re.compile(r"\w+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens; CJK text (no spaces) is split into single characters."""
    words = _WORD.findall(text.casefold())
    if not _CJK.search(text):
        return words
    out: list[str] = []
    for word in words:
        if _CJK.search(word):
            out.extend(word)
        else:
            out.append(word)
    return out


def exact_key(title: str, body: Iterable[str]) -> str:
    """Hash of the normalised article text: equal for the same article whatever its markup."""
    words = tokens(" ".join(body)) or tokens(title)
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()


def shingles(body: Iterable[str]) -> set[int]:
    """Hashed word 5-shingles of a body (a short body gives its whole token run)."""
    words = tokens(" ".join(body))
    if not words:
        return set()
    ids = np.fromiter((zlib.crc32(w.encode("utf-8")) for w in words), dtype=np.uint64)
    if len(ids) < SHINGLE:
        return {int(_combine(ids, len(ids))[0])}
    return set(_combine(ids, SHINGLE).tolist())


def _combine(ids: np.ndarray, width: int) -> np.ndarray:
    """Polynomial rolling combination of `width` consecutive word ids (mod 2^64)."""
    count = len(ids) - width + 1
    acc = np.zeros(count, dtype=np.uint64)
    for k in range(width):
        acc = acc * np.uint64(1_000_003) + ids[k : k + count]
    return acc


_MASK = np.uint64((1 << 61) - 1)
_RNG = np.random.RandomState(20261128)
_A = _RNG.randint(1, 2**31 - 1, size=NUM_PERM, dtype=np.int64).astype(np.uint64)
_B = _RNG.randint(0, 2**31 - 1, size=NUM_PERM, dtype=np.int64).astype(np.uint64)


def signature(hashes: set[int]) -> bytes:
    """A MinHash signature (NUM_PERM values) of a shingle set, as bytes."""
    if not hashes:
        return b""
    values = np.fromiter(hashes, dtype=np.uint64, count=len(hashes)) & _MASK
    # (a*x + b) mod 2^64, then keep 61 bits: cheap universal-ish hashing, vectorised.
    mixed = (np.outer(values, _A) + _B) & _MASK
    return bytes(mixed.min(axis=0).astype("<u8").tobytes())


def encode_signature(sig: bytes) -> str:
    """Text form of a signature for the JSON state file."""
    return base64.b64encode(sig).decode("ascii")


def decode_signature(text: str) -> bytes:
    """Inverse of encode_signature."""
    return base64.b64decode(text.encode("ascii")) if text else b""


@dataclass
class NearIndex:
    """LSH buckets over MinHash signatures: candidate pairs, to be verified by real Jaccard."""

    bands: int = 16
    buckets: dict[tuple[int, bytes], list[str]] = field(default_factory=dict)

    def _keys(self, sig: bytes) -> list[tuple[int, bytes]]:
        rows = NUM_PERM // self.bands
        width = rows * 8
        return [(band, sig[band * width : (band + 1) * width]) for band in range(self.bands)]

    def add(self, key: str, sig: bytes) -> None:
        """Index one signature under a key."""
        if not sig:
            return
        for bucket in self._keys(sig):
            self.buckets.setdefault(bucket, []).append(key)

    def candidates(self, sig: bytes) -> list[str]:
        """Keys that share at least one band with the signature (sorted, distinct)."""
        if not sig:
            return []
        found: set[str] = set()
        for bucket in self._keys(sig):
            found.update(self.buckets.get(bucket, ()))
        return sorted(found)


def estimated_similarity(a: bytes, b: bytes) -> float:
    """Jaccard similarity estimated from two signatures."""
    if not a or not b or len(a) != len(b):
        return 0.0
    x = np.frombuffer(a, dtype="<u8")
    y = np.frombuffer(b, dtype="<u8")
    return float(np.mean(x == y))


def jaccard(a: AbstractSet[int], b: AbstractSet[int]) -> float:
    """Exact Jaccard similarity of two shingle sets."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def titles_agree(a: str, b: str) -> bool:
    """Whether two headlines plausibly name the same story (word overlap or containment)."""
    ta, tb = set(tokens(a)), set(tokens(b))
    if not ta or not tb:
        return True  # a missing headline is no evidence against
    overlap = len(ta & tb)
    return overlap / len(ta | tb) >= 0.5 or overlap == min(len(ta), len(tb))


def is_near_duplicate(
    a_title: str,
    a_shingles: AbstractSet[int],
    b_title: str,
    b_shingles: AbstractSet[int],
    threshold: float,
) -> bool:
    """Whether two inputs are the same article: near-identical bodies and agreeing headlines.

    A body overlap alone is not enough unless it is almost total: two different stories
    written from one template can share most of their word shingles.
    """
    score = jaccard(a_shingles, b_shingles)
    if score >= max(0.95, threshold):
        return True
    agree = titles_agree(a_title, b_title)
    if score >= threshold and agree:
        return True
    # Same headline and a heavily overlapping body: the same story re-scraped with other chrome.
    containment = len(a_shingles & b_shingles) / max(1, min(len(a_shingles), len(b_shingles)))
    return agree and tokens(a_title) == tokens(b_title) and containment >= 0.9


def signatures_match(
    a_title: str, a_sig: bytes, b_title: str, b_sig: bytes, threshold: float
) -> bool:
    """The same decision from MinHash signatures only (articles of earlier batches)."""
    score = estimated_similarity(a_sig, b_sig)
    return score >= 0.95 or (score >= max(0.85, threshold) and titles_agree(a_title, b_title))
