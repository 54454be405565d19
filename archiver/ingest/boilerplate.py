"""Boilerplate evidence for page dumps: a shipped rule list plus lines that recur across inputs."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

_DIGITS = re.compile(r"\d+")
END_PREFIX = "@end "
"""Rule lines with this prefix are boilerplate and also end markers (see is_end_marker)."""
MAX_KEY_CHARS = 300
"""Lines longer than this are prose, never site chrome: they are not counted."""


def normalise_line(line: str) -> str:
    """The key of a line for repetition counts: NFKC, casefolded, spaces collapsed, digits as 0."""
    text = line if line.isascii() else unicodedata.normalize("NFKC", line)
    text = " ".join(text.casefold().split())
    return _DIGITS.sub("0", text)


def _keys(text: str) -> set[str]:
    """The distinct normalised non-empty lines of one input."""
    keys = set()
    for line in text.splitlines():
        if line.strip() and len(line) <= MAX_KEY_CHARS:
            keys.add(normalise_line(line))
    keys.discard("")
    return keys


def line_counts(texts: Iterable[str]) -> Counter[str]:
    """In how many distinct inputs each normalised line occurs (identical inputs count once)."""
    counts: Counter[str] = Counter()
    seen: set[bytes] = set()
    for text in texts:
        digest = hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=16).digest()
        if digest in seen:
            continue
        seen.add(digest)
        counts.update(_keys(text))
    return counts


@lru_cache(maxsize=1)
def shipped_rules() -> tuple[str, ...]:
    """The rule lines of archiver/data/boilerplate.txt (comments and blank lines dropped)."""
    text = resources.files("archiver").joinpath("data/boilerplate.txt").read_text("utf-8")
    rules = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            rules.append(stripped.removeprefix(END_PREFIX))
    return tuple(rules)


@lru_cache(maxsize=1)
def end_marker_pattern() -> re.Pattern[str]:
    """The shipped '@end ' rules as one pattern: lines after which an article usually stops."""
    text = resources.files("archiver").joinpath("data/boilerplate.txt").read_text("utf-8")
    rules = [ln.strip()[len(END_PREFIX) :] for ln in text.splitlines()]
    rules = [r for r, ln in zip(rules, text.splitlines(), strict=True) if ln.startswith(END_PREFIX)]
    return re.compile("|".join(f"(?:{r})" for r in rules) or "(?!)", re.IGNORECASE)


def is_end_marker(line: str) -> bool:
    """True for a comment-section, share-bar or related-list heading ('3 Comments', 'Related')."""
    stripped = line.strip()
    return len(stripped) <= 80 and end_marker_pattern().match(stripped) is not None


def compile_rules(rules: Sequence[str]) -> tuple[re.Pattern[str], ...]:
    """Compile rule strings case-insensitively; a bad user rule raises ValueError naming it."""
    compiled = []
    for rule in rules:
        try:
            compiled.append(re.compile(rule, re.IGNORECASE))
        except re.error as err:
            raise ValueError(f"bad boilerplate rule {rule!r}: {err}") from None
    return tuple(compiled)


@dataclass(frozen=True)
class BoilerplateModel:
    """Rules and repeated lines that mark a dump line as boilerplate (picklable)."""

    rules: tuple[re.Pattern[str], ...]
    repeated: frozenset[str]
    combined: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Join the rules into one alternation so a line is tested in one pass."""
        try:
            joined = "|".join(f"(?:{rule.pattern})" for rule in self.rules) or "(?!)"
            combined = re.compile(joined, re.IGNORECASE)
        except re.error:  # a rule with global inline flags: fall back to one test per rule
            combined = None
        object.__setattr__(self, "combined", combined)

    @classmethod
    def build(
        cls,
        texts: Iterable[str],
        *,
        extra_rules: Sequence[str] = (),
        min_repeat: int = 3,
        known: Mapping[str, int] | None = None,
    ) -> BoilerplateModel:
        """Model for a batch: shipped + user rules, lines in >= min_repeat inputs (+ known)."""
        counts = line_counts(texts)
        if known:
            counts.update(dict(known))
        repeated = frozenset(key for key, n in counts.items() if n >= max(2, min_repeat))
        return cls(rules=compile_rules((*shipped_rules(), *extra_rules)), repeated=repeated)

    @classmethod
    def empty(cls) -> BoilerplateModel:
        """The shipped rules only, no cross-document evidence (single inputs, tests)."""
        return cls(rules=compile_rules(shipped_rules()), repeated=frozenset())

    def matches_rule(self, line: str) -> bool:
        """True when a rule matches the trimmed line from its start (``re.match``).

        Lines longer than MAX_KEY_CHARS are prose and are not tested (that keeps ingest fast).
        """
        stripped = line.strip()
        if len(stripped) > MAX_KEY_CHARS:
            return False
        if self.combined is not None:
            return self.combined.match(stripped) is not None
        return any(rule.match(stripped) for rule in self.rules)

    def is_repeated(self, line: str) -> bool:
        """True when the line recurs across inputs of the batch or the archive."""
        if not self.repeated or len(line) > MAX_KEY_CHARS:
            return False
        return normalise_line(line) in self.repeated

    def is_boilerplate(self, line: str) -> bool:
        """True when a rule matches the line or it recurs across inputs."""
        return self.matches_rule(line) or self.is_repeated(line)
