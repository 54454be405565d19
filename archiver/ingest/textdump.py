"""Clean a plain-text page dump ("select all, copy") into an article: title, dek, byline, body."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from archiver.errors import NotAnArticleError
from archiver.ingest import metadata as meta
from archiver.ingest.boilerplate import BoilerplateModel
from archiver.ingest.textfeatures import (
    BAD,
    GOOD,
    Line,
    analyse,
    escape_paragraph,
    language_of,
    stop_words,
    token_set,
    word_count,
)
from archiver.model import Extracted

GAP_COST = 0.0
"""Extra cost per line of a run of chrome: long runs of chrome separate articles from comments."""
MIN_PROSE_BEFORE_END = 400.0
"""Characters of paragraphs that must precede an end marker for it to end the article."""
RESUME_WINDOW = 10
"""An end marker followed within this many lines by two paragraphs is an inline box."""
HEAD_WINDOW = 45
"""How many lines above the main content the headline may sit."""
BARE_NAME_BEFORE = 6
"""How many lines above the headline a bare author name may sit."""
PAIR_MARGIN = 3.0
"""A headline may lose to the dek under it by this much and still be chosen."""
HEAD_AFTER = 1
"""How many lines into the main content the headline may sit (after a stray paragraph)."""

MIN_ARTICLE_WORDS = 40
"""Fewer words of non-boilerplate body text (2 CJK characters = 1 word) is not an article."""


@dataclass(frozen=True)
class Head:
    """The headline model's answer: title, dek and where the body starts."""

    title: str
    title_index: int
    summary: str | None
    body_start: int
    meta_lines: tuple[int, ...]


def extract_textdump(text: str, *, boilerplate: BoilerplateModel) -> Extracted:
    """Clean a decoded page dump into an Extracted article; NotAnArticleError if none is found."""
    lines = analyse(dump_lines(text), boilerplate)
    region = main_region(lines)
    if region is None:
        raise NotAnArticleError("boilerplate only: no article text found")
    start, end = region
    end = cut_at_end_marker(lines, start, end)
    head = find_head(lines, start, end)
    found = _credits(lines, head.title_index, end)
    credit = list(found.values())
    byline = _byline(lines, head)
    skip = set(head.meta_lines) | set(found)
    kept = [i for i in range(head.body_start, end + 1) if i not in skip and lines[i].kind != BAD]
    if not kept:
        raise NotAnArticleError("boilerplate only: no article text found")
    body = [escape_paragraph(lines[i].text) for i in kept]
    words = sum(lines[i].words for i in kept) + (word_count(head.summary) if head.summary else 0)
    if lines[head.title_index].kind == GOOD:  # a paragraph taken for a headline is text too
        words += lines[head.title_index].words
    if words < MIN_ARTICLE_WORDS:
        raise NotAnArticleError(f"boilerplate only: {words} words of article text")
    authors, credits, source = _merge_names(byline, credit)
    if source is None:
        source = next((s for ln in lines if (s := meta.source_from_copyright(ln.text))), None)
    published, date_origin = _published(lines, head)
    origins = {"title": "headline-model", "body": "text-density"}
    if head.summary:
        origins["summary"] = "dek"
    if published is not None:
        origins["published"] = date_origin
    if authors or credits:
        origins["authors"] = "byline"
    return Extracted(
        title=head.title,
        body=tuple(body),
        summary=head.summary,
        authors=tuple(authors),
        credits=tuple(credits),
        source=source,
        published=published,
        url=meta.find_url(ln.text for ln in lines),
        language=language_of(" ".join(lines[i].text for i in range(head.body_start, end + 1))),
        origins=origins,
    )


def dump_lines(text: str) -> list[str]:
    """The non-empty lines of a dump; hard-wrapped (indented) dumps are rejoined by blank lines."""
    raw = text.split("\n")
    filled = [ln for ln in raw if ln.strip()]
    indented = sum(1 for ln in filled if ln.startswith("   "))
    if filled and indented >= 0.4 * len(filled):
        blocks = re.split(r"\n\s*\n", text)
        return [" ".join(b.split()) for b in blocks if b.strip()]
    return [ln.strip() for ln in filled]


def main_region(lines: Sequence[Line]) -> tuple[int, int] | None:
    """The maximum-score run of lines (prose scores positive, chrome negative), or None."""
    best, best_range = 0.0, None
    run, run_start, gap = 0.0, 0, 0
    for i, line in enumerate(lines):
        if run <= 0:
            run, run_start = 0.0, i
        gap = gap + 1 if line.score < 0 else 0
        run += line.score - GAP_COST * min(gap, 12) if gap > 1 else line.score
        if run > best:
            best, best_range = run, (run_start, i)
    return best_range


def cut_at_end_marker(lines: Sequence[Line], start: int, end: int) -> int:
    """The region's new last line: the article stops at an end marker ('3 Comments', 'Related')
    seen after some prose, unless two paragraphs follow it at once (an inline box)."""
    prose = 0.0
    for i in range(start, end + 1):
        line = lines[i]
        if line.kind == GOOD:
            prose += line.size
        elif line.ends and prose >= MIN_PROSE_BEFORE_END and not _resumes(lines, i, end):
            return _best_end(lines, start, i - 1)
    return end


def _resumes(lines: Sequence[Line], i: int, end: int) -> bool:
    """True when two consecutive paragraphs (rule-matched lines between them ignored) start
    within RESUME_WINDOW other lines after line i."""
    seen, previous_good = 0, False
    for j in range(i + 1, end + 1):
        line = lines[j]
        if line.kind == BAD:
            continue
        if line.kind == GOOD:
            if previous_good:
                return True
            previous_good = True
        else:
            previous_good = False
        seen += 1
        if seen > RESUME_WINDOW:
            return False
    return False


def _best_end(lines: Sequence[Line], start: int, stop: int) -> int:
    """The last line of the best-scoring prefix of lines[start..stop]."""
    total, best, best_at = 0.0, float("-inf"), start
    for i in range(start, stop + 1):
        total += lines[i].score
        if total > best:
            best, best_at = total, i
    return best_at


def _is_meta(line: Line) -> bool:
    """A byline or date line of the article head."""
    return line.is_date or (line.is_byline and meta.parse_byline(line.text) is not None)


def _is_head_meta(line: Line) -> bool:
    """A head-zone meta line, where a bare list of names is a byline too."""
    if _is_meta(line):
        return True
    return line.size < 120 and meta.parse_byline(line.text, bare_names=True) is not None


_CAPTION = re.compile(
    r"getty images|/afp|/reuters|/ap\b|\b(photo(graph)?s?|image|pictured|source|foto|bild)\s*:|"
    r"^credit|\(photo|\bcredit\s*:",
    re.I,
)
_LABEL_LIST = re.compile(r"^[^:]{1,25}:\s*\S[^,]*,[^,]*,")
_LIST_ITEM = re.compile(r"^(\d+(\.\d+)+\s|[+•·*–-]\s|\d+\)\s)")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_NUMBERS = re.compile(r"^[\d\s.,:/+%-]*$")


@dataclass(frozen=True)
class _Context:
    """What the headline scorer compares a candidate with."""

    start: int
    body_tokens: frozenset[str]
    full_text: str
    meta: dict[int, bool]


def _shape_score(line: Line) -> float:
    """How much a line's own shape (length, punctuation, case, markers) fits a headline."""
    words, text = line.words, line.text
    score = {0: -3.0, 1: -1.5, 2: 0.3, 3: 1.0}.get(words, 2.0 if words <= 20 else 1.0)
    if words > 40:
        score = -3.0
    if text.endswith((".", "。")) and not text.endswith(".."):
        score -= 1.5
    if text.endswith((":", ",", ";")):
        score -= 1.5
    if text.count("|") >= 2 or (" " not in text and len(text) > 15 and words > 1):
        score -= 2.0
    if _CAPTION.search(text) or _LABEL_LIST.match(text) or "\t" in text:
        score -= 2.0
    if _LIST_ITEM.match(text):
        score -= 1.0
    if line.repeated:
        score -= 1.5
    last = text.rsplit(None, 1)[-1] if words > 2 else ""
    if last.islower() and last in stop_words():  # 'US & Canada is sponsored by'
        score -= 1.5
    if 0 < len(text) < 6 and not text.isascii() and _CJK.search(text):  # a CJK menu item
        score -= 2.0
    if line.caps:
        score -= 0.7
    if line.kind == GOOD and line.sentences > 1:
        score -= 1.5
    return score


def _title_score(lines: Sequence[Line], i: int, ctx: _Context) -> float:
    """How much line i looks like the headline of the content starting at ctx.start."""
    line = lines[i]
    if line.rule or line.size < 6 or line.is_byline or ctx.meta[i]:
        return -99.0
    score = _shape_score(line)
    tokens = token_set(line.text)
    share = len(tokens & ctx.body_tokens) / len(tokens) if tokens else 0.0
    score += 4.0 * share * min(1.0, len(tokens) / 4)
    if len(line.text) >= 15 and ctx.full_text.count(line.text) >= 2:
        score += 1.0
        if share >= 0.3 and line.kind != GOOD and _repeats_apart(lines, i, ctx.start):
            score += 1.5
    distance = sum(
        1
        for j in range(i + 1, ctx.start)
        if not ctx.meta[j] and lines[j].kind != BAD and not _NUMBERS.match(lines[j].text)
    )
    score -= 0.12 * min(40, max(0, distance - 1)) + (1.0 if i >= ctx.start else 0.0)
    near = [k for k in range(1, 7) if ctx.meta.get(i + k, False)]
    if near:
        score += 2.0 if near[0] <= 3 else 1.0
    return score


def _may_head(line: Line, i: int, start: int) -> bool:
    """Paragraphs are not headlines, except at the content start or a long non-sentence line."""
    return line.kind != GOOD or i <= start or (not line.terminal and line.words <= 25)


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
    meta_flags = {j: _is_head_meta(lines[j]) for j in range(lo, min(hi + 7, len(lines)))}
    full_text = "\n".join(ln.text for ln in lines)
    ctx = _Context(start, body_tokens, full_text, meta_flags)
    window = range(lo, hi)
    scored = [(_title_score(lines, i, ctx), -i, i) for i in window if _may_head(lines[i], i, start)]
    scored = [s for s in scored if s[0] > -50]
    if not scored:
        return Head(lines[start].text[:200], start, None, start, ())
    title_index = _prefer_first_of_pair(lines, scored, max(scored)[2])
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


_CRUMB = re.compile(r"\s+[>›»]\s+")


def _breadcrumb_tail(text: str) -> str:
    """The headline at the end of a breadcrumb line ('News > 2015 > Headline here')."""
    parts = _CRUMB.split(text)
    if len(parts) < 2:
        return text
    tail = parts[-1].strip()
    return tail if word_count(tail) >= 3 else text


def _prefer_first_of_pair(
    lines: Sequence[Line], scored: list[tuple[float, int, int]], best: int
) -> int:
    """Headline then dek: when the line above the winner is a close runner-up headline and the
    winner reads like a standfirst (a sentence, or longer), the line above is the headline."""
    scores = {i: score for score, _, i in scored}
    above, here = lines[best - 1] if best > 0 else None, lines[best]
    if above is None or best - 1 not in scores or scores[best - 1] < scores[best] - PAIR_MARGIN:
        return best
    if above.words < 4 or above.terminal or above.kind == GOOD:
        return best
    return best - 1 if here.terminal and here.words >= 8 else best


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


def _credits(lines: Sequence[Line], after: int, end: int) -> dict[int, meta.Credit]:
    """Credit lines ('X contributed to this report') from the title to just after the content."""
    found = {}
    for i in range(after + 1, min(len(lines), end + 6)):
        credit = meta.parse_credit_line(lines[i].text)
        if credit is not None:
            found[i] = credit
    return found


def _byline(lines: Sequence[Line], head: Head) -> list[meta.Credit]:
    """The article's byline: the first 'By' line of the head zone, else one near the headline,
    else the nearest line of bare person names around the headline."""
    for i in head.meta_lines:
        credit = meta.parse_byline(lines[i].text)
        if credit is not None and (credit.authors or credit.credits):
            return [credit]
    lo, hi = max(0, head.title_index - HEAD_WINDOW), min(len(lines), head.body_start + 3)
    near = sorted(range(lo, hi), key=lambda i: (i < head.title_index, abs(i - head.title_index)))
    for i in near:
        if lines[i].is_byline and not lines[i].rule:
            credit = meta.parse_byline(lines[i].text)
            if credit is not None and credit.authors:
                return [credit]
    lo = max(0, head.title_index - BARE_NAME_BEFORE)
    for i in sorted(range(lo, hi), key=lambda i: (i < head.title_index, abs(i - head.title_index))):
        if i == head.title_index or lines[i].rule or lines[i].size > 120:
            continue
        credit = meta.parse_byline(meta.without_dates(lines[i].text), bare_names=True)
        if credit is not None and credit.authors:
            return [credit]
    return []


def _merge_names(
    bylines: list[meta.Credit], credits: list[meta.Credit]
) -> tuple[list[str], list[str], str | None]:
    """Authors, credited organisations and publisher from bylines first, then credit lines."""
    authors: list[str] = []
    orgs: list[str] = []
    source = None
    for item in (*bylines, *credits):
        authors += [a for a in item.authors if a not in authors]
        orgs += [o for o in item.credits if o not in orgs]
        source = source or item.source
    return authors, orgs, source


_PUBLISHED = re.compile(r"^(published|posted|publié|publicado|veröffentlicht|publikováno)\b", re.I)


def _published(lines: Sequence[Line], head: Head) -> tuple[meta.DateValue | None, str]:
    """The stated publication date: head-zone date lines ('Published' first), else a byline date."""
    candidates = [i for i in head.meta_lines if lines[i].is_date or lines[i].has_date]
    candidates += [
        i for i in range(max(0, head.title_index - 2), head.title_index) if lines[i].is_date
    ]
    candidates.sort(key=lambda i: (not _PUBLISHED.match(lines[i].text), i))
    for i in candidates:
        value = meta.parse_date(lines[i].text)
        if value is not None:
            return value, "dateline"
    return None, ""
