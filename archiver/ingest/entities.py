"""Automatic entity tags: people, places and organisations named in an article, ranked by salience.

Capitalised word sequences are found with one regex; the gazetteer cuts each into table hits
(countries with demonyms and foreign names, places, organisations, stop phrases) and leftover
names stripped of job titles. A later bare surname counts towards its full name; mentions weigh
more in the title, the summary and the lead; the publisher, credits and authors are never tags.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from functools import lru_cache

from archiver.ingest.gazetteer import (
    ABBREVIATIONS,
    COMMON,
    GAZETTEER,
    HAS_CJK,
    NAME,
    RUN_CACHE_SIZE,
    RUN_RE,
    Gazetteer,
    alias_items,
    load_gazetteer,
    norm_token,
)
from archiver.model import term_key

__all__ = ["canonical_tag", "entity_tags"]

TITLE_WEIGHT, SUMMARY_WEIGHT, LEAD_WEIGHT, BODY_WEIGHT = 3.0, 2.0, 1.5, 1.0
"""A mention's weight by where it is; body blocks decay from LEAD_WEIGHT towards BODY_WEIGHT."""
SPREAD_BONUS = 0.5
"""Added per further block an entity appears in."""
MIN_SALIENCE = 1.0
"""A tag needs at least this salience (one mention late in the body scores about 1)..."""
RELATIVE_SALIENCE = 0.3
"""... and this share of the top entity's salience,"""
BLOCKS_PER_POINT = 10
"""... but never more than one point per this many body blocks: in a short piece every named
entity counts, in a long one a passing mention does not."""
NOUN_CAPITALISING_RATIO = 0.12
"""Above this share of capitalised non-table words mid-sentence, the text is German-like: a
capitalised single word is no evidence of a name there."""
GERMAN_MIN_WORDS = 60
"""Shorter texts are too small to tell."""
SHORT_BLOCK = 160
"""Blocks shorter than this (in characters) without closing punctuation are checked for Title
Case, like headlines."""
_CLOSERS = (".", "!", "?", ":", '"', "”", "»", ")")
_LINK_TARGET = re.compile(r"\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")
"""The target of a Markdown link or image: a URL, not prose."""
_SENTENCE_END = frozenset(".!?:;\n")
_OPENERS = frozenset(" \t\"“”‘’'([«»*_#>-")


@lru_cache(maxsize=65_536)
def _key(name: str) -> str:
    """term_key, cached: tag names repeat across articles."""
    return term_key(name)


def _sentence_initial(text: str, start: int) -> bool:
    """True when the word at ``start`` opens a sentence, a line or a quotation-led sentence."""
    i = start - 1
    while i >= 0 and text[i] in _OPENERS:
        i -= 1
    if i < 0 or text[i] == "\n":
        return True
    if text[i] not in _SENTENCE_END:
        return False
    if text[i] == ".":
        word_start = text.rfind(" ", 0, i) + 1
        return text[word_start:i] not in ABBREVIATIONS
    return True


def _is_title_case(text: str) -> bool:
    """A Headline Where Most Words Are Capitalised: capitals there say nothing about names."""
    words = [w for w in text.split() if len(w) > 3 and w[0].isalpha()]
    if len(words) < 3 or len(words) > 25:
        return False
    return sum(1 for w in words if w[0].isupper()) >= 0.75 * len(words)


class _Candidate:
    """Evidence gathered for one tag."""

    __slots__ = ("forms", "gazetteer", "mentions", "mid", "score", "strong", "zones")

    def __init__(self, gazetteer: bool) -> None:
        self.gazetteer = gazetteer
        self.forms: dict[str, int] = {}
        self.score = 0.0
        self.zones: set[int] = set()
        self.mentions = 0
        self.mid = 0
        """Mentions not at a sentence start."""
        self.strong = False
        """Seen at least once outside a title-case headline."""

    def add(self, form: str, zone: int, weight: float, initial: bool, strong: bool) -> None:
        """Record one mention."""
        self.forms[form] = self.forms.get(form, 0) + 1
        self.score += weight
        self.zones.add(zone)
        self.mentions += 1
        if not initial:
            self.mid += 1
        if strong:
            self.strong = True

    def absorb(self, other: _Candidate) -> None:
        """Take over another candidate's mentions (a bare surname joining its full name)."""
        self.score += other.score
        self.zones |= other.zones
        self.mentions += other.mentions
        self.mid += other.mid
        self.strong = self.strong or other.strong

    @property
    def name(self) -> str:
        """The most frequent surface form (the first one seen on a tie)."""
        if len(self.forms) == 1:
            return next(iter(self.forms))
        return max(self.forms.items(), key=lambda item: item[1])[0]

    @property
    def salience(self) -> float:
        """Weighted mentions plus a bonus for spread over blocks."""
        return self.score + SPREAD_BONUS * (len(self.zones) - 1)


class _Collector:
    """Scans the blocks of one article and gathers candidates."""

    def __init__(self, gaz: Gazetteer) -> None:
        self.gaz = gaz
        self.found: dict[str, _Candidate] = {}
        """Canonical name (table hits) or key (other names) -> evidence."""
        self.singles: dict[str, _Candidate] = {}
        self.common: list[tuple[str, int, float]] = []
        """Capitalised common words: they count only as bare surnames ("Singh", "Park")."""
        self.words = 0
        self.capitalised = 0
        self.seen: set[str] = set()

    def scan(self, blocks: Sequence[tuple[str, float, bool]]) -> None:
        """Find the entities of all blocks, given as (text, weight, is a headline), in one pass."""
        texts: list[str] = []
        zones: list[tuple[int, int, float, bool]] = []  # (start offset, zone, weight, strong)
        offset = 0
        seen, cjk = self.seen, self.gaz.cjk_re is not None
        for zone, (text, weight, headline) in enumerate(blocks):
            if not text or (text.isupper() and len(text) > 12) or text in seen:
                continue  # a shouted teaser or banner, or a repeated (boilerplate) line
            seen.add(text)
            if "](" in text:
                text = _LINK_TARGET.sub("]", text)
            short = len(text) < SHORT_BLOCK and not text.rstrip().endswith(_CLOSERS)
            strong = not ((headline or short) and _is_title_case(text))
            if cjk and not text.isascii():
                self._cjk_hits(text, zone, weight, strong)
            texts.append(text)
            zones.append((offset, zone, weight, strong))
            offset += len(text) + 1
        if texts:
            joined = "\n".join(texts)
            self._block_stats(joined, len(texts))
            self._runs(joined, zones)

    def _block_stats(self, joined: str, blocks: int) -> None:
        """Word counts of the blocks, joined by line breaks (no count below spans two blocks)."""
        self.words += joined.count(" ") + blocks
        # Sentence openers are capitalised in any language: not evidence of German-like nouns.
        self.capitalised -= joined.count(". ") + joined.count("? ") + blocks

    def _cjk_hits(self, text: str, zone: int, weight: float, strong: bool) -> None:
        """The CJK table hits of one block (CJK has no capitals)."""
        gaz = self.gaz
        if gaz.cjk_re is not None and HAS_CJK.search(text):
            for match in gaz.cjk_re.finditer(text):
                _mention(self.found, gaz.cjk[match.group()], True, zone, weight, False, strong)

    def _runs(self, text: str, zones: list[tuple[int, int, float, bool]]) -> None:
        """Record the capitalised sequences of the joined blocks."""
        found, singles, common = self.found, self.singles, self.common
        plans, gaz = _plans_for(self.gaz), self.gaz
        index, (_, zone, weight, strong) = 0, zones[0]
        following = zones[1][0] if len(zones) > 1 else len(text) + 1
        capitalised = 0
        for match in RUN_RE.finditer(text):
            start = match.start()
            while start >= following:
                index += 1
                _, zone, weight, strong = zones[index]
                following = zones[index + 1][0] if index + 1 < len(zones) else len(text) + 1
            if start and text[start - 1].isalnum() and text[start - 1] < "\u3000":
                continue  # a capital inside a word ("iPhone", "eBay")
            run = match.group()
            plan = plans.get(run)
            if plan is None:
                plan = _plan(plans, run, gaz)
            capitalised += plan[0]
            for key, name, in_table in plan[1]:  # inlined _mention (and _Candidate.add)
                candidate = found.get(key)
                if candidate is None:
                    candidate = found[key] = _Candidate(in_table)
                forms = candidate.forms
                forms[name] = forms.get(name, 0) + 1
                candidate.score += weight
                candidate.zones.add(zone)
                candidate.mentions += 1
                candidate.mid += 1
                if strong:
                    candidate.strong = True
            for name in plan[2]:
                common.append((name, zone, weight))
            for name, first in plan[3]:
                initial = first and _sentence_initial(text, start)
                _mention(singles, name, False, zone, weight, initial, strong)
        self.capitalised += capitalised


_Plan = tuple[int, tuple[tuple[str, str, bool], ...], tuple[str, ...], tuple[tuple[str, bool], ...]]
"""What one capitalised run records: its capitalised-word count, (table key, name, is a table
hit) of its table hits and names, its common words, and (word, starts the run) of its single
words; Gazetteer.parse's events in their order, split by where they are recorded."""
_PLANS: dict[str, _Plan] = {}
_PLANS_OWNER: list[Gazetteer] = []


def _plans_for(gaz: Gazetteer) -> dict[str, _Plan]:
    """The run plans of one gazetteer (cleared when the gazetteer changes or they grow big)."""
    if not _PLANS_OWNER or _PLANS_OWNER[0] is not gaz or len(_PLANS) >= RUN_CACHE_SIZE:
        _PLANS.clear()
        _PLANS_OWNER[:] = [gaz]
    return _PLANS


def _plan(plans: dict[str, _Plan], run: str, gaz: Gazetteer) -> _Plan:
    """Parse a run into its plan and remember it."""
    events, capitalised = gaz.parse(run)
    table: list[tuple[str, str, bool]] = []
    common: list[str] = []
    words: list[tuple[str, bool]] = []
    for kind, name, first in events:
        if kind == GAZETTEER:
            table.append((name, name, True))
        elif kind == NAME:
            table.append((_key(name) or name, name, False))
        elif kind == COMMON:
            common.append(name)
        else:
            words.append((name, first))
    plan = plans[run] = (capitalised, tuple(table), tuple(common), tuple(words))
    return plan


def _mention(
    table: dict[str, _Candidate],
    name: str,
    gazetteer: bool,
    zone: int,
    weight: float,
    initial: bool,
    strong: bool,
    key: str | None = None,
) -> None:
    """Record a mention in ``table`` under ``key`` (default: the name itself)."""
    candidate = table.get(key or name)
    if candidate is None:
        candidate = table[key or name] = _Candidate(gazetteer)
    candidate.add(name, zone, weight, initial, strong)


def _surname_index(
    found: Mapping[str, _Candidate], people: Sequence[str], gaz: Gazetteer
) -> dict[str, set[str]]:
    """Last word of each person-like name (and of each author) -> the keys of those names."""
    index: dict[str, set[str]] = {}
    for key, candidate in found.items():
        if candidate.gazetteer or not candidate.strong:
            continue
        words = candidate.name.split()
        if 2 <= len(words) <= 5 and (words[0] in gaz.names or not gaz.common_word(words[0])):
            index.setdefault(words[-1], set()).add(key)
    for person in people:
        words = person.split()
        if len(words) >= 2:
            index.setdefault(norm_token(words[-1]), set()).add(_key(person))
    return index


def _resolve_singles(collector: _Collector, people: Sequence[str], german_like: bool) -> None:
    """Fold bare surnames into full names; keep other single words only on repeated evidence."""
    found = collector.found
    surnames = _surname_index(found, people, collector.gaz)
    for word, zone, weight in collector.common:
        owners = surnames.get(word)
        if owners is not None and len(owners) == 1:
            owner = found.get(next(iter(owners)))
            if owner is not None:
                owner.score += weight
                owner.zones.add(zone)
                owner.mentions += 1
    for word, single in sorted(collector.singles.items()):
        owners = surnames.get(word, set())
        if len(owners) == 1:
            owner = found.get(next(iter(owners)))
            if owner is not None:
                owner.absorb(single)
            continue
        if owners or german_like or single.mentions < 2 or single.mid < 1:
            continue
        key = _key(word)
        if key in found:
            found[key].absorb(single)
        else:
            found[key] = single


def _excluded_keys(source: str | None, credits: Sequence[str], authors: Sequence[str]) -> set[str]:
    """Keys of names that must not be tags: the publisher, credited agencies, the authors."""
    keys: set[str] = set()
    for name in [source or "", *credits, *authors]:
        if name.strip():
            keys.add(_key(name))
            keys.add(_key(canonical_tag(name)))
    return keys


def _evident(key: str, candidate: _Candidate, excluded: set[str], german_like: bool) -> bool:
    """Whether a candidate has enough evidence to be a tag (salience aside)."""
    if candidate.gazetteer:
        return True
    if not candidate.strong or any(key.startswith(e + " ") for e in excluded):
        return False
    return not german_like or candidate.mentions >= 2


def entity_tags(
    title: str,
    summary: str | None,
    body: Sequence[str],
    *,
    source: str | None = None,
    credits: Sequence[str] = (),
    authors: Sequence[str] = (),
    max_tags: int = 8,
    aliases: Mapping[str, str] | None = None,
    stop: Collection[str] = (),
) -> tuple[str, ...]:
    """The article's people, places and organisations, most salient first (at most ``max_tags``)."""
    gaz = load_gazetteer()
    if aliases:
        gaz = gaz.with_aliases(alias_items(aliases.items()))
    collector = _Collector(gaz)
    blocks = [(title, TITLE_WEIGHT, True), (summary or "", SUMMARY_WEIGHT, False)]
    for index, block in enumerate(body):
        weight = BODY_WEIGHT + (LEAD_WEIGHT - BODY_WEIGHT) / (1 + index)
        blocks.append((block, weight, block.startswith("#")))
    collector.scan(blocks)
    german_like = (
        collector.words >= GERMAN_MIN_WORDS
        and collector.capitalised > NOUN_CAPITALISING_RATIO * collector.words
    )
    _resolve_singles(collector, authors, german_like)
    excluded = _excluded_keys(source, credits, authors)
    stopped = {_key(word) for word in stop} | gaz.stop_phrases
    ranked: dict[str, tuple[float, str]] = {}
    for candidate in collector.found.values():
        surface_key = _key(candidate.name)
        if not _evident(surface_key, candidate, excluded, german_like):
            continue
        name = (
            candidate.name if candidate.gazetteer else gaz.by_key.get(surface_key, candidate.name)
        )
        key = _key(name)
        if key in excluded or key in stopped or surface_key in stopped or surface_key in excluded:
            continue
        best = ranked.get(key)
        if best is None or candidate.salience > best[0]:
            ranked[key] = (candidate.salience, name)
    top = max((salience for salience, _ in ranked.values()), default=0.0)
    threshold = max(MIN_SALIENCE, min(RELATIVE_SALIENCE * top, len(body) / BLOCKS_PER_POINT))
    ranked = {k: v for k, v in ranked.items() if v[0] >= threshold}
    order = sorted(ranked.values(), key=lambda item: (-item[0], item[1].casefold(), item[1]))
    return tuple(name for _, name in order[: max(max_tags, 0)])


def canonical_tag(name: str, aliases: Mapping[str, str] | None = None) -> str:
    """The canonical display form of a tag: "DPRK" -> "North Korea", "U.S." -> "United States"."""
    gaz = load_gazetteer()
    if aliases:
        gaz = gaz.with_aliases(alias_items(aliases.items()))
    cleaned = " ".join(name.split())
    return gaz.by_key.get(_key(cleaned), cleaned)
