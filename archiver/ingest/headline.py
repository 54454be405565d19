"""The headline model of a page dump: headline, dek and byline zone above the main content."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice

from archiver.ingest import byline as names
from archiver.ingest.textfeatures import BAD, GOOD, Line, stop_words, token_set, word_count

HEAD_WINDOW = 45
"""How many lines above the main content the headline may sit."""
PAIR_MARGIN = 3.0
"""A headline may lose to the dek under it by this much and still be chosen."""
HEAD_AFTER = 1
DEK_LONGER = 1.15
"""A runner-up line this much longer than the headline-shaped line above it is its dek..."""
DEK_SHARED = 3
"""...when that line shares this many content words with the body."""
DEEP_HEAD = 30
"""How many lines into the main content a headline may sit when a byline or date follows it
(the content run then started at a cookie notice or a sign-in box above the article)."""
LEDE_WORDS = 8
"""A line the first paragraph starts with is its subject when it has at most this many words."""
LEDES = 3
"""How many of the page's first paragraphs are tested for a subject line."""
LEDE_BONUS = 6.0
"""Score of being the subject of the page's first paragraph."""
NAME_LIST_SPAN = 4
"""Bare-name lines with two others this close form a list of people, not a byline."""
DEEP_PROSE = 3
"""At most this many paragraphs may precede such a deep headline in the main content."""
FULLER_REACH = 3
"""How many lines from the winner a fuller copy of the headline may sit."""
FULLER_MARGIN = 2.0
"""How much a fuller copy of the headline may score below the winner and still be chosen."""
"""How many lines into the main content the headline may sit (after a stray paragraph)."""


@dataclass(frozen=True)
class Head:
    """The headline model's answer: title, dek and where the body starts."""

    title: str
    title_index: int
    summary: str | None
    body_start: int
    meta_lines: tuple[int, ...]


def _is_meta(line: Line) -> bool:
    """A byline or date line of the article head."""
    return line.is_date or (line.is_byline and names.parse_byline(line.text) is not None)


def _is_head_meta(line: Line) -> bool:
    """A head-zone meta line, where a bare list of names is a byline too."""
    if _is_meta(line):
        return True
    return line.size < 120 and names.parse_byline(line.text, bare_names=True) is not None


def _is_head_meta_at(lines: Sequence[Line], i: int) -> bool:
    """_is_head_meta of line i, except that a capitalised phrase right above a 'By' line is the
    headline it bylines ('Monitoring Distributed Systems' / 'Written by Rob Ewaschuk')."""
    line = lines[i]
    if _is_meta(line):
        return True
    if not _is_head_meta(line):
        return False
    below = lines[i + 1] if i + 1 < len(lines) else None
    return below is None or not (below.is_byline and _is_meta(below))


def _meta_flags(lines: Sequence[Line], lo: int, hi: int) -> dict[int, bool]:
    """Head-meta flags of lines lo..hi-1; a run of bare-name lines is a list of people (cast,
    characters, staff), not a byline: only a lone one counts."""
    flags = {j: _is_head_meta_at(lines, j) for j in range(lo, hi)}
    bare = [j for j, flag in flags.items() if flag and not _is_meta(lines[j])]
    for j in bare:
        if sum(1 for k in bare if k != j and abs(k - j) <= NAME_LIST_SPAN) >= 2:
            flags[j] = False
    return flags


_CAPTION = re.compile(
    r"getty images|/afp|/reuters|/ap\b|\b(photo(graph)?s?|image|pictured|source|foto|bild)\s*:|"
    r"^credit|\(photo|\bcredit\s*:",
    re.I,
)
_LABEL_LIST = re.compile(r"^[^:]{1,25}:\s*\S[^,]*,[^,]*,")
_LIST_ITEM = re.compile(r"^(\d+(\.\d+)+\s|[+•·*–-]\s|\d+\)\s)")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_NUMBERS = re.compile(r"^[\d\s.,:/+%-]*$")
_LEDE_GAP = frozenset(" (,")
"""What follows the subject at the start of a lede ('Mozilla is', 'New Zealand (Maori')."""
_GLUED = re.compile(r"[a-zß-ÿ]{3,}[A-ZÀ-Þ][a-zß-ÿ]")
"""Words run together ('LeídasBuenos AiresSeguridad'): menu items the dump printed unspaced."""


@dataclass(frozen=True)
class _Context:
    """What the headline scorer compares a candidate with."""

    start: int
    body_tokens: frozenset[str]
    full_text: str
    meta: dict[int, bool]
    ledes: dict[int, int]


def _cjk_share(text: str) -> int:
    """CJK characters of a line when they are at least half of it, else 0."""
    cjk = len(_CJK.findall(text)) if not text.isascii() else 0
    return cjk if cjk * 2 >= len(text) else 0


def _length_score(line: Line, cjk: int) -> float:
    """Headline-likeness of a line's length: words, or characters for CJK text."""
    if cjk:
        return -2.0 if cjk < 6 else 0.5 if cjk < 8 else 2.0 if cjk <= 60 else -1.0
    words = line.words
    if words > 40:
        return -3.0
    return {0: -3.0, 1: -1.5, 2: 0.3, 3: 1.0}.get(words, 2.0 if words <= 20 else 1.0)


def _shape_score(line: Line) -> float:
    """How much a line's own shape (length, punctuation, case, markers) fits a headline."""
    words, text = line.words, line.text
    cjk = _cjk_share(text)
    score = _length_score(line, cjk)
    if text.endswith((".", "。")) and not text.endswith(".."):
        score -= 1.5
    if text.endswith((":", ",", ";")):
        score -= 1.5
    if text.count("|") >= 2 or (" " not in text and len(text) > 15 and words > 1 and not cjk):
        score -= 2.0
    if _is_breadcrumb(text):
        score -= 3.0
    if _CAPTION.search(text) or _LABEL_LIST.match(text) or "\t" in text:
        score -= 2.0
    if _LIST_ITEM.match(text):
        score -= 1.0
    if len(_GLUED.findall(text)) >= 2:
        score -= 2.0
    if line.repeated:
        score -= 1.5
    last = text.rsplit(None, 1)[-1] if words > 2 else ""
    if last.islower() and last in stop_words():  # 'US & Canada is sponsored by'
        score -= 1.5
    if line.caps:
        score -= 0.7
    if line.kind == GOOD and line.sentences > 1:
        score -= 1.5
    return score


def _title_score(lines: Sequence[Line], i: int, ctx: _Context) -> float:
    """How much line i looks like the headline of the content starting at ctx.start."""
    line = lines[i]
    if line.rule or line.size < 6 or line.is_byline or ctx.meta.get(i, False):
        return -99.0
    score = _shape_score(line)
    tokens = token_set(line.text)
    share = len(tokens & ctx.body_tokens) / len(tokens) if tokens else 0.0
    score += 4.0 * share * min(1.0, len(tokens) / 4)
    if len(line.text) >= 15 and ctx.full_text.count(line.text) >= 2:
        score += 1.0
        if share >= 0.3 and line.kind != GOOD and _repeats_apart(lines, i, ctx.start):
            score += 1.5
    anchor = ctx.ledes.get(i, ctx.start)
    if i in ctx.ledes:
        score += LEDE_BONUS
    distance = sum(
        1
        for j in range(i + 1, anchor)
        if not ctx.meta.get(j, False) and lines[j].kind != BAD and not _NUMBERS.match(lines[j].text)
    )
    score -= 0.12 * min(40, max(0, distance - 1)) + (1.0 if i >= ctx.start else 0.0)
    deep = i > ctx.start + HEAD_AFTER and _meta_next(lines, i)  # see _deep_candidates
    if i > ctx.start and not _above_chrome(lines, i + 1) and not deep:
        score -= 3.0  # in the body, only a line above a share bar or a byline may be the headline
    if i + 1 < len(lines) and _restated_below(line, lines[i + 1], tokens):
        score += 1.0
    near = [k for k in range(1, 7) if ctx.meta.get(i + k, False)]
    if near:
        score += 2.0 if near[0] <= 3 else 1.0
    return score


def _deep_candidates(lines: Sequence[Line], start: int, lo: int, hi: int) -> list[int]:
    """Lines inside the main content that sit right above a byline or date line, with few
    paragraphs before them: the real head of an article whose content run starts too early."""
    found, prose = [], 0
    for i in range(start, hi + 1):
        line = lines[i]
        if line.kind == GOOD:
            prose += 1
            if prose > DEEP_PROSE:
                break
        elif i >= lo and _may_be_deep_head(lines, i):
            found.append(i)
    return found


def _may_be_deep_head(lines: Sequence[Line], i: int) -> bool:
    """A headline-shaped line (no caption, no final period) right above a byline or date."""
    text = lines[i].text
    if lines[i].words < 3 or text.endswith(".") or _CAPTION.search(text):
        return False
    return _meta_next(lines, i)


def _meta_next(lines: Sequence[Line], i: int) -> bool:
    """True when the line after line i is a byline or a date line."""
    return i + 1 < len(lines) and _is_meta(lines[i + 1])


def _lede_subjects(lines: Sequence[Line], lo: int) -> dict[int, int]:
    """Short lines above line lo (beyond the headline window) that one of the first paragraphs
    of the page starts with ('New Zealand' over 'New Zealand (Maori: Aotearoa) is a country'),
    mapped to that paragraph's index: the subject of an encyclopedic lede is the page's title,
    however far above the main content it is printed."""
    if lo <= 0:
        return {}
    firsts = list(islice((k for k, line in enumerate(lines) if line.kind == GOOD), LEDES))
    found: dict[int, int] = {}
    for i in range(min(lo, firsts[-1] if firsts else 0)):
        line, text = lines[i], lines[i].text
        if line.rule or line.words > LEDE_WORDS or len(text) < 4 or not text[0].isupper():
            continue
        for k in firsts:
            lede = lines[k].text
            if k > i and lede.startswith(text) and lede[len(text) : len(text) + 1] in _LEDE_GAP:
                found.setdefault(i, k)
    return found


def _may_head(line: Line, i: int, start: int) -> bool:
    """Paragraphs are not headlines, except at the content start or a long non-sentence line."""
    return line.kind != GOOD or i <= start or (not line.terminal and line.words <= 25)


def _above_chrome(lines: Sequence[Line], j: int) -> bool:
    """True when line j is interface chrome (a rule or batch-repeated line, not a date)."""
    if j >= len(lines):
        return False
    line = lines[j]
    return (line.rule or line.repeated) and not line.has_date


def _restated_below(line: Line, below: Line, tokens: frozenset[str]) -> bool:
    """True when the next line reads like a dek of this one: longer, and on the same subject."""
    if below.kind == BAD or below.words <= line.words or below.sentences > 3 or not tokens:
        return False
    return bool(tokens & token_set(below.text))


def _repeats_apart(lines: Sequence[Line], i: int, start: int) -> bool:
    """True when line i recurs verbatim above the main content, not just next to itself
    (a headline is often printed twice: in a breadcrumb or share text and as the h1)."""
    text = lines[i].text
    return any(lines[j].text == text and abs(j - i) > 1 for j in range(start))


def find_head(lines: Sequence[Line], start: int, end: int) -> Head:
    """Pick the headline above (or at the top of) the main content, then the dek and byline."""
    sample = " ".join(ln.text for ln in lines[start + 1 : min(end + 1, start + 12)])
    body_tokens = token_set(sample[:4000])
    lo, hi = max(0, start - HEAD_WINDOW), min(start + HEAD_AFTER, end)
    meta_flags = _meta_flags(lines, lo, min(hi + 7, len(lines)))
    deep = _deep_candidates(lines, start, hi + 1, min(start + DEEP_HEAD, end))
    for j in {j for i in deep for j in range(i, min(i + 7, len(lines)))} - meta_flags.keys():
        meta_flags[j] = _is_head_meta_at(lines, j)
    full_text = "\n".join(ln.text for ln in lines)
    ledes = _lede_subjects(lines, lo)
    meta_flags.update({i: _is_meta(lines[i]) for i in ledes})  # 'Jane Roe' of a biography
    ctx = _Context(start, body_tokens, full_text, meta_flags, ledes)
    window = [*range(lo, hi + 1), *deep]
    window += list(ledes)
    scored = [(_title_score(lines, i, ctx), -i, i) for i in window if _may_head(lines[i], i, start)]
    scored = [s for s in scored if s[0] > -50]
    if not scored:
        return Head(lines[start].text[:200], start, None, start, ())
    title_index = _prefer_first_of_pair(lines, scored, max(scored)[2], body_tokens)
    title_index = _prefer_fuller(lines, scored, title_index)
    body_start = max(start, title_index + 1)
    summary, meta_lines = None, []
    i = title_index + 1
    while i <= end and (i < start or i < body_start + 4):
        line = lines[i]
        if _is_head_meta(line) or (line.kind == BAD and i < start):
            meta_lines.append(i)
        elif summary is None and (i < start or not meta_lines) and _is_dek(lines, i, start, end):
            summary = line.text
            meta_lines.append(i)
        elif i >= start:
            break
        i += 1
    body_start = max(body_start, i) if i > start else body_start
    title = _breadcrumb_tail(lines[title_index].text)
    return Head(title, title_index, summary, body_start, tuple(meta_lines))


_CRUMB = re.compile(r"\s+(?:>>?|[›»])\s+")


def _is_breadcrumb(text: str) -> bool:
    """A navigation trail ('Home > News > Article') whose last step is no headline."""
    parts = _CRUMB.split(text)
    return len(parts) >= 3 and word_count(parts[-1]) < 3


def _breadcrumb_tail(text: str) -> str:
    """The headline at the end of a breadcrumb line ('News > 2015 > Headline here')."""
    parts = _CRUMB.split(text)
    if len(parts) < 2:
        return text
    tail = parts[-1].strip()
    return tail if word_count(tail) >= 3 else text


def _prefer_first_of_pair(
    lines: Sequence[Line], scored: list[tuple[float, int, int]], best: int, body: frozenset[str]
) -> int:
    """Headline then dek: when the line above the winner is a close runner-up headline and the
    winner reads like a standfirst (a sentence; or, without a final period, a longer line under
    a headline that shares words with the body), the line above is the headline."""
    scores = {i: score for score, _, i in scored}
    above, here = lines[best - 1] if best > 0 else None, lines[best]
    if above is None or best - 1 not in scores or scores[best - 1] < scores[best] - PAIR_MARGIN:
        return best
    if above.words < 4 or above.terminal or above.kind == GOOD:
        return best
    if here.words < 8:
        return best
    if here.terminal:
        return best - 1
    shared = token_set(above.text) & body  # the headline is about the body too
    longer = len(here.text) >= DEK_LONGER * len(above.text)
    return best - 1 if longer and len(shared) >= DEK_SHARED else best


def _prefer_fuller(lines: Sequence[Line], scored: list[tuple[float, int, int]], best: int) -> int:
    """A shortened copy of the headline (a share text, a social title) may win; when a nearby
    close runner-up holds all of the winner's words and more, it is the full headline."""
    mine = token_set(lines[best].text)
    if not mine:
        return best
    top = next(score for score, _, i in scored if i == best)
    for score, _, i in sorted(scored, reverse=True):
        if i == best or abs(i - best) > FULLER_REACH or score < top - FULLER_MARGIN:
            continue
        line = lines[i]
        if line.kind != GOOD and not line.text.endswith(".") and mine < token_set(line.text):
            return i
    return best


def _is_dek(lines: Sequence[Line], i: int, start: int, end: int) -> bool:
    """A standfirst: a sentence right under the headline, followed by byline/date or restated."""
    line = lines[i]
    if line.size < 30 or line.kind == BAD or line.sentences > 3:
        return False
    if i < start:
        return line.terminal
    following = lines[i + 1 : min(end + 1, i + 4)]
    if not following:
        return False
    if any(_is_head_meta(ln) for ln in following[:2]):
        return True
    nxt = following[0]
    mine = token_set(line.text)
    return bool(mine) and len(mine & token_set(nxt.text)) / len(mine) >= 0.5
