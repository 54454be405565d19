"""Exact (normalised-text hash) and near duplicates (MinHash LSH, verified by real Jaccard)."""

from __future__ import annotations

import base64
import hashlib
import re
import zlib
from collections.abc import Iterable, Sequence
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
    words = _utf8_tokens(" ".join(body))
    joined = b" ".join(words) if words else " ".join(tokens(title)).encode("utf-8")
    exact = hashlib.sha256(joined).hexdigest()
    array = _shingles_of(words)
    return Fingerprint(exact, array.astype("<u8", copy=False).tobytes(), _signature(array))


_ASCII_TOKENS = bytes(
    c + 32 if 65 <= c <= 90 else c if c >= 128 or chr(c).isalnum() or c == 95 else 32
    for c in range(256)
)
"""Bytes table: ASCII letters lower-cased, ASCII non-word characters as spaces, UTF-8 kept."""
_ASCII_BYTES = bytes(range(128))


def _utf8_tokens(text: str) -> list[bytes]:
    """tokens(text) as UTF-8 bytes, by byte operations unless the text holds CJK characters.

    Case folding works character by character, and a word run of ``\\w+`` is a run of
    characters with ``str.isalnum()`` or ``_``: each of the few distinct non-ASCII characters
    is replaced by its folded form (non-word characters as spaces), then one byte table folds
    the ASCII letters and splits on the ASCII non-word characters.
    """
    if not text.isascii():
        try:
            others = text.encode("utf-8").translate(None, _ASCII_BYTES).decode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (never part of a word)
            return [word.encode("utf-8") for word in tokens(text)]
        if _CJK.search(others):
            found = tokens(text)  # encoded at once: no token holds a NUL
            return "\x00".join(found).encode("utf-8").split(b"\x00") if found else []
        for char in set(others):
            folded = "".join(c if c.isascii() or c.isalnum() else " " for c in char.casefold())
            if folded != char:
                text = text.replace(char, folded)
    return text.encode("utf-8").translate(_ASCII_TOKENS).split()


def _word_ids(words: Iterable[str]) -> list[int]:
    """Stable 32-bit ids of words: crc32 of their UTF-8 bytes."""
    return [zlib.crc32(word.encode("utf-8")) for word in words]


def _shingle_array(words: Sequence[str]) -> np.ndarray:
    """Sorted distinct shingle hashes of a token run."""
    return _shingles_of([word.encode("utf-8") for word in words])


def _shingles_of(words: Sequence[bytes]) -> np.ndarray:
    """Sorted distinct shingle hashes of a run of UTF-8 encoded words (word id: crc32)."""
    if not words:
        return np.zeros(0, dtype=np.uint64)
    ids = np.fromiter(map(zlib.crc32, words), dtype=np.uint64, count=len(words))
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
    acc = ids[:count].copy()  # 0 * base + ids: the first step
    for k in range(1, width):
        acc *= np.uint64(1_000_003)
        acc += ids[k : k + count]
    return acc


_MASK = np.uint64((1 << 61) - 1)
_RNG = np.random.RandomState(20261128)
_A = _RNG.randint(1, 2**31 - 1, size=NUM_PERM, dtype=np.int64).astype(np.uint64)
_B = _RNG.randint(0, 2**31 - 1, size=NUM_PERM, dtype=np.int64).astype(np.uint64)
_B_COLUMN = _B[:, np.newaxis]


def _signature(values: np.ndarray) -> bytes:
    """MinHash of an array of shingle hashes: (a*x + b) mod 2^64 keeping 61 bits, minimised."""
    if not len(values):
        return b""
    mixed = np.multiply.outer(_A, values & _MASK)  # one row per permutation: contiguous mins
    mixed += _B_COLUMN  # in place from here: no temporaries
    mixed &= _MASK
    return bytes(mixed.min(axis=1).astype("<u8").tobytes())


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
