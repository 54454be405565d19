"""The shipped name tables behind entity tags: places, organisations, names, titles, stop words."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from archiver.model import term_key

Key = tuple[str, ...]
"""A name as a tuple of normalised words (possessives and curly apostrophes normalised)."""
GAZETTEER, NAME, WORD, COMMON = 0, 1, 2, 3
Event = tuple[int, str, bool]
"""(GAZETTEER | NAME | WORD | COMMON, canonical or surface form, starts at the run's first word).

COMMON is a single common word: evidence only as a bare surname of a full name ("Singh")."""
Parsed = tuple[tuple[Event, ...], int]
"""The events of one run and its count of capitalised words outside table entries."""
RUN_CACHE_SIZE = 50_000

CONNECTORS = frozenset(
    "of the and for on de du des da das do dos di del della van von der den la le "
    "bin ibn al el y e und et zu ter ten".split()
)
"""Lower-case words allowed inside a capitalised sequence ("Bank of England", "Ursula von
der Leyen")."""

ABBREVIATIONS = frozenset(
    "Mr Mrs Ms Dr St Sen Sens Rep Reps Gen Lt Col Gov Capt Sgt Prof Rev Jr Sr Mt Ft Adm Maj Cmdr "
    "Supt Mme Msgr Pres Inc Corp Co Ltd No Vol".split()
)
"""Capitalised abbreviations whose period does not end a sentence."""
PARTICLES = frozenset(
    "un una la le les el los las de del da das do dos di du des van von der den ter ten al bin ibn "
    "e y i o a san santa jr sr".split()
)
"""Stop words that split a capitalised sequence only at its start, never inside ("Kim Jong Un")."""
SPLITTERS = frozenset({"and", "&", "for", "the", "y", "und", "et", "e", "on"})
"""Connectors that join two names rather than belong to one ("Park Jin and Kim Yung-ho")."""

_CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
HAS_CJK = re.compile(f"[{_CJK_CHARS}]")
_POSSESSIVE = re.compile(r"(?:['’]s|['’])$")


def _upper_class() -> str:
    """A regex character class body matching every upper- or title-case letter of Unicode's BMP."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x41, 0x10000):
        char = chr(code)
        if char.isupper() or char.istitle():
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(
        re.escape(chr(low)) + ("-" + re.escape(chr(high)) if high > low else "")
        for low, high in ranges
    )


UPPER = _upper_class()
_W = rf"[^\W{_CJK_CHARS}]"
"""A word character that is not CJK (CJK text has no spaces: "DeepMind的AlphaGo" is two names)."""
_CAPWORD = rf"[{UPPER}](?:\.(?:[{UPPER}]\.)*|{_W}*(?:['’\-&]{_W}+)*(?:['’](?!\w))?)"
_CONNECTOR = "|".join(sorted(CONNECTORS, key=lambda c: (-len(c), c)))
RUN_RE = re.compile(rf"{_CAPWORD}(?:[ \t]+(?:(?:{_CONNECTOR})[ \t]+){{0,2}}{_CAPWORD})*")
"""A maximal sequence of capitalised words ("U.S.", "Kim Yung-ho", "People's"), with connectors."""


def norm_token(token: str) -> str:
    """The lookup form of one word: curly apostrophes straightened, a possessive 's dropped."""
    token = token.replace("’", "'")
    if token.endswith("'s") and len(token) > 2:
        return token[:-2]
    return token.rstrip("'") or token


def is_possessive(token: str) -> bool:
    """True when a word ends in a possessive apostrophe ("Korea's", "News’")."""
    return len(token) > 2 and bool(_POSSESSIVE.search(token))


def key_of(text: str) -> Key:
    """The lookup key of a name: its normalised words."""
    return tuple(norm_token(token) for token in text.split())


@dataclass(frozen=True, eq=False)
class Gazetteer:
    """Lookup tables: variant word sequences -> canonical tag, plus the word lists."""

    lookup: dict[Key, str]
    """Variant words -> canonical name; an empty name means "consume, but no tag" (stop phrases)."""
    kinds: dict[str, str]
    """Canonical name -> country | place | org."""
    by_key: dict[str, str]
    """term_key of every variant and canonical name -> canonical name (for canonical_tag)."""
    cjk: dict[str, str]
    """CJK variants (matched as substrings) -> canonical name."""
    names: frozenset[str]
    titles: frozenset[str]
    common: frozenset[str]
    stop: frozenset[str]
    """Casefolded single stop words (separators inside a capitalised sequence)."""
    stop_phrases: frozenset[str] = field(default_factory=frozenset)
    cjk_re: re.Pattern[str] | None = None
    starts: dict[str, int] = field(default_factory=dict)
    """First word of every lookup entry -> the longest entry starting with it."""
    runs: dict[str, Parsed] = field(default_factory=dict)
    """Cache of parsed runs (they repeat a lot within and across articles)."""

    def __post_init__(self) -> None:
        for key in self.lookup:
            if len(key) > self.starts.get(key[0], 0):
                self.starts[key[0]] = len(key)

    def parse(self, run: str) -> Parsed:
        """Cut a capitalised sequence into table hits and candidate names (cached)."""
        parsed = self.runs.get(run)
        if parsed is None:
            if len(self.runs) >= RUN_CACHE_SIZE:
                self.runs.clear()
            parsed = self.runs[run] = _RunParser(self).parse(run)
        return parsed

    def common_word(self, word: str) -> bool:
        """A common word of a major language, a title or a connector: no evidence of a name."""
        folded = word.casefold()
        if folded in self.common or folded in self.titles or folded in CONNECTORS:
            return True
        parts = folded.split("-")
        return len(parts) > 1 and all(p in self.common for p in parts)

    def with_aliases(self, aliases: tuple[tuple[str, str], ...]) -> Gazetteer:
        """This gazetteer extended with user aliases (variant -> canonical)."""
        return _extended(self, aliases)


def _data_lines(name: str) -> Iterator[str]:
    """Non-comment, non-blank lines of a shipped data file."""
    text = resources.files("archiver").joinpath("data", name).read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            yield line


def _words(name: str) -> Iterator[str]:
    """Whitespace-separated words of a shipped data file."""
    for line in _data_lines(name):
        yield from line.split()


def _plural(demonym: str) -> str | None:
    """English plural of a demonym, when it has one ("Russians"; not "Chinese", "Swiss")."""
    if demonym.endswith(("ese", "sh", "ch", "ss", "s", "Thai", "Lao", "Kazakh")):
        return None
    if demonym.endswith("man"):
        return demonym[:-3] + "men"
    return demonym + "s"


def _entries() -> Iterator[tuple[str, str, list[str]]]:
    """(canonical, kind, variants) for every row of the shipped place and organisation tables."""
    for line in _data_lines("entities_countries.tsv"):
        canonical, demonyms, others = [*line.split("\t"), "", ""][:3]
        variants = [v for v in others.split("|") if v]
        for demonym in filter(None, demonyms.split("|")):
            variants.append(demonym)
            plural = _plural(demonym)
            if plural:
                variants.append(plural)
        yield canonical, "country", variants
    for kind, name in (("place", "entities_places.tsv"), ("org", "entities_orgs.tsv")):
        for line in _data_lines(name):
            canonical, others = [*line.split("\t"), ""][:2]
            yield canonical, kind, [v for v in others.split("|") if v]


def _add(lookup: dict[Key, str], cjk: dict[str, str], variant: str, canonical: str) -> None:
    """Register one variant spelling of a canonical name."""
    if HAS_CJK.search(variant):
        cjk[variant] = canonical
        return
    key = key_of(variant)
    if key:
        lookup[key] = canonical
        if key[0] in ("The", "the") and len(key) > 1:
            lookup.setdefault(key[1:], canonical)


def _cjk_pattern(cjk: dict[str, str]) -> re.Pattern[str] | None:
    """One alternation of all CJK variants, longest first."""
    if not cjk:
        return None
    return re.compile("|".join(re.escape(v) for v in sorted(cjk, key=lambda v: (-len(v), v))))


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    """Read the shipped tables once per process."""
    lookup: dict[Key, str] = {}
    cjk: dict[str, str] = {}
    kinds: dict[str, str] = {}
    by_key: dict[str, str] = {}
    for canonical, kind, variants in _entries():
        kinds.setdefault(canonical, kind)
        for variant in [canonical, *variants]:
            _add(lookup, cjk, variant, canonical)
            by_key.setdefault(term_key(variant), canonical)
    stop_words, stop_phrases = _stop_tables()
    for phrase in stop_phrases:
        for variant in _case_variants(phrase):
            lookup.setdefault(key_of(variant), "")
    titles = frozenset(
        norm_token(line.strip()).casefold() for line in _data_lines("entities_titles.txt")
    )
    names = frozenset(_words("entities_names.txt"))
    return Gazetteer(
        lookup=lookup,
        kinds=kinds,
        by_key=by_key,
        cjk=cjk,
        names=names,
        titles=titles,
        common=frozenset(_words("entities_common.txt")),
        stop=frozenset(stop_words),
        stop_phrases=frozenset(term_key(p) for p in stop_phrases),
        cjk_re=_cjk_pattern(cjk),
    )


def _stop_tables() -> tuple[set[str], list[str]]:
    """The [words] and [phrases] sections of tag_stop.txt."""
    words: set[str] = set()
    phrases: list[str] = []
    section = "words"
    for line in _data_lines("tag_stop.txt"):
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif section == "words":
            words.update(word.casefold() for word in line.split())
        else:
            phrases.append(line.strip())
    return words, phrases


def _case_variants(phrase: str) -> set[str]:
    """A lower-case stop phrase as it appears in text: as is, Sentence case, Title Case."""
    words = phrase.split()
    title = [w if w in CONNECTORS and i else w[:1].upper() + w[1:] for i, w in enumerate(words)]
    return {phrase, phrase[:1].upper() + phrase[1:], " ".join(title)}


@lru_cache(maxsize=32)
def _extended(base: Gazetteer, aliases: tuple[tuple[str, str], ...]) -> Gazetteer:
    """A copy of ``base`` that also knows the user's alias variants (they win over shipped ones)."""
    lookup, cjk, by_key, kinds = (
        dict(base.lookup),
        dict(base.cjk),
        dict(base.by_key),
        dict(base.kinds),
    )
    variants_of: dict[str, list[Key]] = {}
    for entry, value in base.lookup.items():
        variants_of.setdefault(value, []).append(entry)
    canonicals = {term_key(name): name for name in base.kinds}
    for variant, target in aliases:
        target = " ".join(target.split())
        if not variant.strip() or not target:
            continue
        canonical = canonicals.get(term_key(target), target)  # the user's value is the tag
        kinds.setdefault(canonical, "user")
        by_key.setdefault(term_key(canonical), canonical)
        redirected = canonicals.get(term_key(variant))
        if redirected is not None:  # "Moscow" = "Russia": Moscow's variants go along
            for entry in variants_of.get(redirected, ()):
                lookup[entry] = canonical
            for name_key, value in base.by_key.items():
                if value == redirected:
                    by_key[name_key] = canonical
        _add(lookup, cjk, variant, canonical)
        by_key[term_key(variant)] = canonical
    return Gazetteer(
        lookup=lookup,
        kinds=kinds,
        by_key=by_key,
        cjk=cjk,
        names=base.names,
        titles=base.titles,
        common=base.common,
        stop=base.stop,
        stop_phrases=base.stop_phrases,
        cjk_re=_cjk_pattern(cjk),
    )


def alias_items(aliases: Iterable[tuple[str, str]] | None) -> tuple[tuple[str, str], ...]:
    """A hashable, sorted form of the user's alias table."""
    return tuple(sorted(aliases or ()))


class _RunParser:
    """Cuts one capitalised sequence into table hits and leftover names."""

    def __init__(self, gaz: Gazetteer) -> None:
        self.gaz = gaz
        self.events: list[Event] = []
        self.capitalised = 0

    def parse(self, run: str) -> Parsed:
        """Walk the words left to right: longest table entry first, else part of a name."""
        tokens = self._split_hyphens(run.split())
        norms = [norm_token(t) for t in tokens]
        segment: list[str] = []
        seg_initial = True
        i = 0
        while i < len(tokens):
            if tokens[i] in CONNECTORS:
                segment.append(tokens[i])
                i += 1
                continue
            match = self._match(norms, i)
            if match is not None and not self._name_part(norms, i, match, segment):
                self._segment(segment, seg_initial)
                segment, seg_initial = [], False
                if match[1]:
                    self.events.append((GAZETTEER, match[1], False))
                i += match[0]
                continue
            folded = norms[i].casefold()
            if (folded in self.gaz.stop and (not segment or folded not in PARTICLES)) or _elided(
                folded
            ):
                self._segment(segment, seg_initial)
                segment, seg_initial = [], False
            else:
                segment.append(norms[i])
                self.capitalised += 1
                if is_possessive(tokens[i]):
                    self._segment(segment, seg_initial)
                    segment, seg_initial = [], False
            i += 1
        self._segment(segment, seg_initial)
        return tuple(self.events), self.capitalised

    def _split_hyphens(self, tokens: list[str]) -> list[str]:
        """Split "Russia-North" into "Russia", "North" when a part opens a table entry."""
        starts = self.gaz.starts
        out: list[str] = []
        for token in tokens:
            parts = token.split("-")
            if len(parts) > 1 and token not in starts and parts[0] in starts:
                out.extend(p for p in parts if p)
            else:
                out.append(token)
        return out

    def _match(self, norms: list[str], i: int) -> tuple[int, str] | None:
        """The longest table entry starting at word ``i``: (length, canonical)."""
        longest = self.gaz.starts.get(norms[i])
        if longest is None:
            return None
        lookup = self.gaz.lookup
        for length in range(min(longest, len(norms) - i), 0, -1):
            canonical = lookup.get(tuple(norms[i : i + length]))
            if canonical is not None:
                return length, canonical
        return None

    def _name_part(
        self, norms: list[str], i: int, match: tuple[int, str], segment: list[str]
    ) -> bool:
        """A one-word place that is part of a person's name ("Lloyd Austin", "Sofia Diaz")."""
        if match[0] != 1 or not match[1]:
            return False
        names = self.gaz.names
        if segment and segment[-1] in names:
            return True
        return (
            norms[i] in names
            and i + 1 < len(norms)
            and norms[i + 1] not in CONNECTORS
            and norms[i + 1] not in self.gaz.starts
        )

    def _segment(self, segment: list[str], initial: bool) -> None:
        """Strip a job title from a leftover segment, split it at "and", record its names."""
        if not segment:
            return
        stripped = _strip_title(segment, self.gaz)
        if stripped is not segment:
            initial = False
        part: list[str] = []
        for token in [*stripped, "and"]:
            if token in SPLITTERS:
                self._name(part, initial)
                part, initial = [], False
            else:
                part.append(token)

    def _name(self, words: Sequence[str], initial: bool) -> None:
        """Record one candidate name, unless it is made of common words only."""
        gaz = self.gaz
        start, end = 0, len(words)
        while start < end and words[start] in CONNECTORS:
            start += 1
        while end > start and words[end - 1] in CONNECTORS:
            end -= 1
        while end - start > 1 and gaz.common_word(words[start]) and words[start] not in gaz.names:
            start += 1
            initial = False
        kept = words[start:end]
        if not kept or len(kept) > 6 or any(c.isdigit() for w in kept for c in w):
            return
        if len(kept) == 1:
            word = kept[0]
            if len(word) < 2 or (word.isupper() and len(word) < 3):
                return
            self.events.append((COMMON if gaz.common_word(word) else WORD, word, initial))
        elif kept[0] in gaz.names and "of" in kept:  # "Jamie Werner of Ngātiwai"
            self._name(kept[: kept.index("of")], initial)
        elif kept[0] in gaz.names or not all(gaz.common_word(w) for w in kept):
            self.events.append((NAME, " ".join(kept), initial))


def _strip_title(segment: list[str], gaz: Gazetteer) -> list[str]:
    """Drop a job title and what precedes it: "Foreign Minister Park Jin" -> "Park Jin"."""
    last = -1
    for index, token in enumerate(segment):
        if token.casefold() in gaz.titles:
            last = index
    if last < 0:
        return segment
    rest = segment[last + 1 :]
    if rest and rest[0] in ("of", "for"):
        rest = rest[1:]
        while len(rest) > 1 and gaz.common_word(rest[0]) and rest[0] not in gaz.names:
            rest = rest[1:]
    return rest


def _elided(word: str) -> bool:
    """A French/Italian elided article before a common noun ("L'avis", "D'après")."""
    return len(word) > 2 and word[1] in "'’" and word[0] in "ldjmnstc" and word[2:3].islower()
