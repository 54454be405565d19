"""Boilerplate evidence for page dumps: a shipped rule list plus lines that recur across inputs."""

from __future__ import annotations

import copy
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


_ASCII_KEY = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ123456789\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f",
    b"abcdefghijklmnopqrstuvwxyz000000000         ",
)
"""ASCII case folding, digits as 0, and every character str.split() splits on as a space."""


def normalise_line(line: str) -> str:
    """The key of a line for repetition counts: NFKC, casefolded, spaces collapsed, digits as 0."""
    if line.isascii():  # the same key by byte operations (digit runs become '0' runs, then one)
        key = line.encode("ascii").translate(_ASCII_KEY)
        if b"  " in key or key[:1] == b" " or key[-1:] == b" ":
            key = b" ".join(key.split())
        while b"00" in key:
            key = key.replace(b"00", b"0")
        return key.decode("ascii")
    text = unicodedata.normalize("NFKC", line)
    text = " ".join(text.casefold().split())
    return _DIGITS.sub("0", text)


_ASCII_LINES_KEY = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ123456789\t\x1f",
    b"abcdefghijklmnopqrstuvwxyz000000000  ",
)
"""_ASCII_KEY for lines joined by line breaks (kept as they are): a line of str.splitlines()
holds no other character that _ASCII_KEY maps to a space."""
_SPACE_RUNS = re.compile(rb" {2,}")
_ZERO_RUNS = re.compile(rb"00+")


def _ascii_keys(lines: list[str]) -> list[str]:
    """normalise_line of ASCII lines (of str.splitlines()), all at once by byte operations."""
    joined = "\n".join(lines).encode("ascii").translate(_ASCII_LINES_KEY)
    if b"  " in joined:
        joined = _SPACE_RUNS.sub(b" ", joined)
    if b"\n " in joined or b" \n" in joined or joined[:1] == b" " or joined[-1:] == b" ":
        joined = b"\n".join(key.strip(b" ") for key in joined.split(b"\n"))
    if b"00" in joined:
        joined = _ZERO_RUNS.sub(b"0", joined)
    return joined.decode("ascii").split("\n")


def line_keys(text: str) -> set[str]:
    """The distinct normalised non-empty lines of one input."""
    ascii_lines: list[str] = []
    keys = set()
    for line in text.splitlines():
        if len(line) <= MAX_KEY_CHARS:
            if line.isascii():
                ascii_lines.append(line)
            elif line.strip():
                keys.add(normalise_line(line))
    if ascii_lines:
        keys.update(_ascii_keys(ascii_lines))
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
        counts.update(line_keys(text))
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


_FLOATING = re.compile(r"^\^?\.(?:\{0,\d+\}|\*)(?:\\b)?(?P<lit>[a-z][a-z ]{2,})")
"""A rule that may match anywhere in the first N characters ('^.{0,200}\\bcookies?\\b...')."""


def rule_guard(pattern: str) -> str | None:
    """A lowercase literal that every line a floating rule matches contains, else None.

    Floating rules ('^.{0,200}\\ball rights reserved\\b...') are the costly ones: each tries
    hundreds of start positions. A substring test on the guard skips them for most lines.
    """
    match = _FLOATING.match(pattern)
    if match is None:
        return None
    literal = match.group("lit")
    end = match.end("lit")
    if end < len(pattern) and pattern[end] in "?*{":  # the last letter is optional
        literal = literal[:-1]
    literal = literal.rstrip()
    return literal if len(literal) >= 3 else None


_SPECIAL = frozenset("\\.^$*+?{}[]()|")


def _alternatives(body: str) -> tuple[list[str], str] | None:
    """The top-level alternatives of the group that body starts with, and the text after it."""
    depth, start, parts, i = 0, 1, [], 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":  # a character class: skip to its end
            close = body.find("]", i + 2)
            if close < 0:
                return None
            i = close + 1
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                parts.append(body[start:i])
                return parts, body[i + 1 :]
        elif char == "|" and depth == 1:
            parts.append(body[start:i])
            start = i + 1
        i += 1
    return None


DIGIT = "\\d"
"""A first_chars entry: any decimal digit (what ``\\d`` matches in a str pattern, which is
exactly what str.isdecimal() accepts)."""


def first_chars(pattern: str) -> frozenset[str] | None:
    """The casefolded characters a line matched by the rule can start with (DIGIT: any decimal
    digit); None if unknown.

    Handles the usual rule shapes: '^literal...', '^\\d...', '^\\(literal...', top-level
    alternatives, and '^(alt|alt|(alt|alt)...)...' where an optional group ('(there are )?')
    adds the first characters of what follows it.
    """
    body = pattern.removeprefix("^")
    if body.startswith("(?") or not body:
        return None
    top = _alternatives(f"({body})")
    if top is None or top[1]:
        return None
    if len(top[0]) > 1:  # 'a|b': either alternative may start the line
        return _union(top[0])
    if body[0] == "(":
        found = _alternatives(body)
        if found is None or found[1].startswith("{0"):
            return None
        chars = _union(found[0])
        if chars is None or not found[1].startswith(("?", "*")):
            return chars
        after = first_chars(found[1][1:].removeprefix("?"))  # the group may match nothing
        return None if after is None else chars | after
    if body[0] == "\\":
        return _escape_chars(body)
    if body[0] in _SPECIAL or body[1:2] in ("?", "*", "{") or body[0].isspace():
        return None
    return frozenset({body[0].casefold()})


def _union(parts: Sequence[str]) -> frozenset[str] | None:
    """first_chars of any of several alternatives; None if one is unknown."""
    chars: set[str] = set()
    for part in parts:
        sub = first_chars(part)
        if sub is None:
            return None
        chars |= sub
    return frozenset(chars)


def _escape_chars(body: str) -> frozenset[str] | None:
    """first_chars of a body starting with a backslash: '\\d' or an escaped punctuation mark."""
    char = body[1:2]
    if not char or body[2:3] in ("?", "*", "{") or char.isspace():
        return None
    if char == "d":
        return frozenset({DIGIT})
    return None if char.isalnum() or char == "_" else frozenset({char})


Rules = tuple[re.Pattern[str], ...]


def _dispatch(rules: Sequence[re.Pattern[str]]) -> dict[str, Rules]:
    """Per first character: the rules a line starting with it can match ('' = any other
    character, DIGIT = any other decimal digit), as few patterns as possible (see
    combine_rules).

    Rules whose first character is unknown are in every entry.
    """
    starts = [first_chars(rule.pattern) for rule in rules]
    chars = sorted({c for found in starts if found for c in found} - {DIGIT})

    def entry(char: str) -> Rules:
        digit = char == DIGIT or char.isdecimal()
        return combine_rules(
            [
                r
                for r, found in zip(rules, starts, strict=True)
                if not found or char in found or (digit and DIGIT in found)
            ]
        )

    return {char: entry(char) for char in (*chars, DIGIT, "")}


_UNSAFE_TO_JOIN = re.compile(r"\\[1-9]|\(\?P[=<]|\(\?[aiLmsux-]+[:)]")
"""Backreferences, named groups and inline flags: such a rule is not merged with others."""
_JOIN_FLAGS = re.IGNORECASE | re.UNICODE


def combine_rules(rules: Sequence[re.Pattern[str]]) -> Rules:
    """Rules merged into one alternation where that is safe: a line matches the alternation
    exactly when one of the rules matches it (one regex call instead of a Python loop)."""
    plain = [r for r in rules if r.flags == _JOIN_FLAGS and not _UNSAFE_TO_JOIN.search(r.pattern)]
    if len(plain) < 2:
        return tuple(rules)
    try:
        joined = re.compile("|".join(f"(?:{r.pattern})" for r in plain), re.IGNORECASE)
    except (re.error, RecursionError, OverflowError):
        return tuple(rules)
    return (joined, *(r for r in rules if r not in plain))


@dataclass(frozen=True)
class BoilerplateModel:
    """Rules and repeated lines that mark a dump line as boilerplate (picklable)."""

    rules: tuple[re.Pattern[str], ...]
    repeated: frozenset[str]
    guarded: tuple[tuple[str, re.Pattern[str]], ...] = field(
        default=(), init=False, repr=False, compare=False
    )
    by_first: dict[str, Rules] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Index the rules by first character; floating rules get a substring guard instead."""
        plain: list[re.Pattern[str]] = []
        guarded: list[tuple[str, re.Pattern[str]]] = []
        for rule in self.rules:
            guard = rule_guard(rule.pattern)
            if guard is None:
                plain.append(rule)
            else:
                guarded.append((guard, rule))
        object.__setattr__(self, "guarded", tuple(guarded))
        object.__setattr__(self, "by_first", _dispatch(plain))

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

    def with_repeated(self, repeated: frozenset[str]) -> BoilerplateModel:
        """The same compiled rules with another set of repeated lines (no recompiling)."""
        model = copy.copy(self)
        object.__setattr__(model, "repeated", repeated)
        return model

    def matches_rule(self, line: str) -> bool:
        """True when a rule matches the trimmed line from its start (``re.match``).

        Lines longer than MAX_KEY_CHARS are prose and are not tested (that keeps ingest fast).
        """
        stripped = line.strip()
        if len(stripped) > MAX_KEY_CHARS:
            return False
        first = stripped[:1].casefold()
        rules = self.by_first.get(first)
        if rules is None:
            rules = self.by_first[DIGIT if first.isdecimal() else ""]
        for rule in rules:
            if rule.match(stripped) is not None:
                return True
        if self.guarded:
            low = stripped.lower()
            for guard, rule in self.guarded:
                if guard in low and rule.match(stripped) is not None:
                    return True
        return False

    def is_repeated(self, line: str) -> bool:
        """True when the line recurs across inputs of the batch or the archive."""
        if not self.repeated or len(line) > MAX_KEY_CHARS:
            return False
        return normalise_line(line) in self.repeated

    def is_boilerplate(self, line: str) -> bool:
        """True when a rule matches the line or it recurs across inputs."""
        return self.matches_rule(line) or self.is_repeated(line)
