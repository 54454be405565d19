"""Exact (normalised-text hash) and near duplicates (MinHash LSH, verified by real Jaccard)."""

from __future__ import annotations

import base64
import hashlib
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

NUM_PERM = 64
SHINGLE = 5
_WORD = re.compile(r"\w+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens; CJK text (no spaces) is split into single characters."""
    words = _WORD.findall(text.casefold())
    if text.isascii() or not _CJK.search(text):
        return words
    out: list[str] = []
    for word in words:
        if _CJK.search(word):
            out.extend(word)
        else:
            out.append(word)
    return out


@dataclass(frozen=True)
class Fingerprint:
    """What duplicate detection needs of one article, compact enough to pass between processes."""

    exact: str
    """sha256 of the normalised word sequence: equal for the same text whatever its markup."""
    shingles: bytes
    """Sorted distinct hashed word 5-shingles (little-endian uint64)."""
    signature: bytes
    """MinHash signature of the shingles (NUM_PERM little-endian uint64)."""

    def shingle_array(self) -> np.ndarray:
        """The shingles as a numpy array."""
        return np.frombuffer(self.shingles, dtype="<u8")


def fingerprint(title: str, body: Iterable[str]) -> Fingerprint:
    """Exact key, shingles and MinHash signature of an article, from one tokenisation."""
    words = tokens(" ".join(body))
    exact = hashlib.sha256(" ".join(words or tokens(title)).encode("utf-8")).hexdigest()
    array = _shingle_array(words)
    return Fingerprint(exact, array.astype("<u8").tobytes(), _signature(array))


_WORD_IDS: dict[str, int] = {}
"""Stable 32-bit ids of words (crc32), memoised: news vocabulary repeats heavily."""


def _word_ids(words: list[str]) -> list[int]:
    """The id of every word; only words not seen before are hashed."""
    if len(_WORD_IDS) > 500_000:
        _WORD_IDS.clear()
    for word in set(words).difference(_WORD_IDS):
        _WORD_IDS[word] = zlib.crc32(word.encode("utf-8"))
    return list(map(_WORD_IDS.__getitem__, words))


def _shingle_array(words: list[str]) -> np.ndarray:
    """Sorted distinct shingle hashes of a token run."""
    if not words:
        return np.zeros(0, dtype=np.uint64)
    ids = np.array(_word_ids(words), dtype=np.uint64)
    return _sorted_distinct(_combine(ids, min(SHINGLE, len(ids))))


def _sorted_distinct(values: np.ndarray) -> np.ndarray:
    """np.unique for a 1-D array, by sort and neighbour comparison (cheaper for small arrays)."""
    values = np.sort(values)
    if len(values) < 2:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


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


def _signature(values: np.ndarray) -> bytes:
    """MinHash of an array of shingle hashes: (a*x + b) mod 2^64 keeping 61 bits, minimised."""
    if not len(values):
        return b""
    mixed = np.multiply.outer(values & _MASK, _A)  # in place from here: no temporaries
    mixed += _B
    mixed &= _MASK
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


def overlap(a: Fingerprint, b: Fingerprint) -> tuple[float, float]:
    """Exact (Jaccard, containment) of two fingerprints' shingles."""
    x, y = a.shingle_array(), b.shingle_array()
    if not len(x) or not len(y):
        return 0.0, 0.0
    common = len(np.intersect1d(x, y, assume_unique=True))
    return common / (len(x) + len(y) - common), common / min(len(x), len(y))


def titles_agree(a: str, b: str) -> bool:
    """Whether two headlines plausibly name the same story (word overlap or containment)."""
    ta, tb = set(tokens(a)), set(tokens(b))
    if not ta or not tb:
        return True  # a missing headline is no evidence against
    overlap = len(ta & tb)
    return overlap / len(ta | tb) >= 0.5 or overlap == min(len(ta), len(tb))


def is_near_duplicate(
    a_title: str, a: Fingerprint, b_title: str, b: Fingerprint, threshold: float
) -> bool:
    """Whether two inputs are the same article: near-identical bodies and agreeing headlines.

    A body overlap alone is not enough unless it is almost total: two different stories
    written from one template can share most of their word shingles.
    """
    score, containment = overlap(a, b)
    if score >= max(0.95, threshold):
        return True
    agree = titles_agree(a_title, b_title)
    if score >= threshold and agree:
        return True
    # Same headline and a heavily overlapping body: the same story re-scraped with other chrome.
    return agree and tokens(a_title) == tokens(b_title) and containment >= 0.9


def signatures_match(
    a_title: str, a_sig: bytes, b_title: str, b_sig: bytes, threshold: float
) -> bool:
    """The same decision from MinHash signatures only (articles of earlier batches)."""
    score = estimated_similarity(a_sig, b_sig)
    return score >= 0.95 or (score >= max(0.85, threshold) and titles_agree(a_title, b_title))
