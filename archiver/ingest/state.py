"""What ingest remembers about the archive: inputs seen, files written, duplicates, line counts."""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from archiver.paths import atomic_write_text

STATE_NAME = ".archiver-ingest.json"
STATE_VERSION = 1
MAX_LINE = 120


@dataclass
class Record:
    """One stored article as ingest wrote it."""

    slug: str
    file_sha256: str
    inputs: list[str]
    exact: str
    signature: str
    title: str


@dataclass
class IngestState:
    """The state file kept beside the content (``content/.archiver-ingest.json``)."""

    records: dict[str, Record] = field(default_factory=dict)
    lines: Counter[str] = field(default_factory=Counter)
    counted: set[str] = field(default_factory=set)
    """Inputs (sha256) whose lines are already in ``lines``: a re-run never counts them twice."""
    singles: set[int] = field(default_factory=set)
    """Lines seen in exactly one input so far, as line_hash values (most lines are article
    prose seen once: hashes keep their count of 1 without storing their text)."""

    def line_count(self, key: str) -> int:
        """In how many earlier inputs a normalised line occurs."""
        count = self.lines.get(key, 0)
        if not count and self.singles and line_hash(key) in self.singles:
            return 1
        return count

    def by_input(self) -> dict[str, str]:
        """Map of every known input sha256 to the slug it became (or duplicated)."""
        return {sha: rec.slug for rec in self.records.values() for sha in rec.inputs}

    def by_exact(self) -> dict[str, str]:
        """Map of normalised-text hash to slug."""
        return {rec.exact: rec.slug for rec in self.records.values() if rec.exact}


def line_hash(key: str) -> int:
    """A stable 64-bit hash of a normalised line (the form singleton lines are kept in)."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _pack(values: set[int]) -> str:
    """A set of 64-bit ints as base64 of their sorted little-endian bytes."""
    array = np.array(sorted(values), dtype="<u8")
    return base64.b64encode(array.tobytes()).decode("ascii")


def _unpack(text: object) -> set[int]:
    """Inverse of _pack; anything malformed gives an empty set."""
    if not isinstance(text, str) or not text:
        return set()
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except ValueError:
        return set()
    if len(data) % 8:
        return set()
    return set(np.frombuffer(data, dtype="<u8").tolist())


def file_hash(path: Path) -> str | None:
    """sha256 of a file's bytes, or None if it does not exist."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def load_state(content_dir: Path) -> IngestState:
    """Read the state file; a missing or unreadable one gives an empty state (safe default)."""
    path = content_dir / STATE_NAME
    try:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return IngestState()
    if not isinstance(raw, dict) or raw.get("version") != STATE_VERSION:
        return IngestState()
    records: dict[str, Record] = {}
    for slug, item in (raw.get("articles") or {}).items():
        try:
            records[slug] = Record(
                slug=slug,
                file_sha256=str(item["file_sha256"]),
                inputs=[str(x) for x in item.get("inputs", [])],
                exact=str(item.get("exact", "")),
                signature=str(item.get("signature", "")),
                title=str(item.get("title", "")),
            )
        except (KeyError, TypeError, AttributeError):
            continue
    lines = Counter({str(k): int(v) for k, v in (raw.get("lines") or {}).items()})
    counted = {str(x) for x in raw.get("counted") or []}
    return IngestState(records, lines, counted, _unpack(raw.get("singles")))


def save_state(content_dir: Path, state: IngestState) -> None:
    """Write the state file atomically (sorted, so it diffs cleanly)."""
    data = {
        "version": STATE_VERSION,
        "articles": {
            slug: {
                "file_sha256": rec.file_sha256,
                "inputs": sorted(set(rec.inputs)),
                "exact": rec.exact,
                "signature": rec.signature,
                "title": rec.title,
            }
            for slug, rec in sorted(state.records.items())
        },
        "lines": {k: v for k, v in sorted(state.lines.items()) if v > 0},
        "counted": sorted(state.counted),
        "singles": _pack(state.singles),
    }
    content_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(content_dir / STATE_NAME, json.dumps(data, ensure_ascii=False, indent=0))


def remember_lines(state: IngestState, counts: Mapping[str, int]) -> None:
    """Add a batch's line counts (short lines only: the archive's evidence of boilerplate).

    A line seen in one input only is kept as its hash in ``singles``; it moves to ``lines``
    (with its text) once a second input has it.
    """
    lines, singles = state.lines, state.singles
    for key, count in counts.items():
        if not key or len(key) > MAX_LINE or count <= 0:
            continue
        have = lines.get(key, 0)
        digest = None
        if not have and singles:
            digest = line_hash(key)
            if digest in singles:
                singles.discard(digest)
                have = 1
        if have + count == 1:
            singles.add(line_hash(key) if digest is None else digest)  # each key hashed once
        else:
            lines[key] = have + count
