"""Clean a plain-text page dump ("select all, copy") into an article: title, dek, byline, body."""

from __future__ import annotations

import re
from collections.abc import Sequence

from archiver.errors import NotAnArticleError
from archiver.ingest import byline as names
from archiver.ingest import metadata as meta
from archiver.ingest.boilerplate import BoilerplateModel
from archiver.ingest.headline import HEAD_WINDOW, Head, find_head
from archiver.ingest.textfeatures import (
    BAD,
    GOOD,
    Line,
    analyse,
    escape_paragraph,
    language_of,
    word_count,
)
from archiver.model import Extracted

GAP_COST = 0.0
"""Extra cost per line of a run of chrome: long runs of chrome separate articles from comments."""
MIN_PROSE_BEFORE_END = 400.0
"""Characters of paragraphs that must precede an end marker for it to end the article."""
RESUME_WINDOW = 10
"""An end marker followed within this many lines by two paragraphs is an inline box."""
BARE_NAME_BEFORE = 6
"""How many lines above the headline a bare author name may sit."""

BYLINE_INTO_BODY = 8
"""How many lines into the body a 'By' line may sit (after a lede photo and its caption)."""
BIO_AFTER = 15
"""How many lines after the body an author's bio line may sit."""
_PIPE_BY = re.compile(r"\s[|·•]\s+(?:by|par|von|por|door)\s+[A-ZÀ-Þ]", re.I)

MIN_ARTICLE_WORDS = 40
"""Fewer words of non-boilerplate body text (2 CJK characters = 1 word) is not an article."""


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
    byline = _byline(lines, head, end)
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
        source = next(
            (
                s
                for ln in lines
                if ln.text[:1] in names.COPYRIGHT_START  # dump lines are stripped
                and (s := names.source_from_copyright(ln.text))
            ),
            None,
        )
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
        out: list[str] = []
        for block in re.split(r"\n\s*\n", text):
            rows = [row for row in block.split("\n") if row.strip()]
            if sum(1 for row in rows if row.startswith("   ")) * 2 >= len(rows):
                out += _unwrap(rows)
            else:  # a flush-left block of a page that only has indented code: keep its lines
                out += [row.strip() for row in rows]
        return out
    return [ln.strip() for ln in filled]


def _indent(row: str) -> int:
    """Leading spaces of a dump row."""
    return len(row) - len(row.lstrip(" "))


def _unwrap(rows: Sequence[str]) -> list[str]:
    """One hard-wrapped block as lines: its rows joined, except that a first row of a few words
    with the next row dedented and capitalised is a headline set over its dek in another column
    (a wrapped paragraph's rows keep or deepen their indent, and break mid-sentence)."""
    if len(rows) > 1 and _indent(rows[1]) < _indent(rows[0]):
        first, second = rows[0].strip(), rows[1].strip()
        if len(first.split()) >= 3 and not first.endswith(_WRAP_OPEN) and second[:1].isupper():
            return [first, " ".join(" ".join(rows[1:]).split())]
    return [" ".join(" ".join(rows).split())]


_WRAP_OPEN = tuple(":;,-\\(")
"""Row ends that continue onto the next row: such a row does not stand alone."""


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


def _credits(lines: Sequence[Line], after: int, end: int) -> dict[int, names.Credit]:
    """Credit lines ('X contributed to this report') from the title to just after the content."""
    first = after + 1
    texts = [line.text for line in lines[first : min(len(lines), end + 6)]]
    return {first + k: credit for k, credit in names.credit_lines(texts).items()}


def _byline(lines: Sequence[Line], head: Head, end: int) -> list[names.Credit]:
    """The article's byline: the first 'By' line of the head zone, else one near the headline,
    else the nearest line of bare person names around the headline, else an author's bio line
    in or just after the body ('X is a reporter at ...')."""
    for i in head.meta_lines:
        credit = names.parse_byline(lines[i].text)
        if credit is not None and (credit.authors or credit.credits):
            return [credit]
    lo = max(0, head.title_index - HEAD_WINDOW)
    hi = min(len(lines), head.body_start + BYLINE_INTO_BODY)
    near = sorted(range(lo, hi), key=lambda i: (i < head.title_index, abs(i - head.title_index)))
    for i in near:
        line = lines[i]
        if (line.is_byline or _PIPE_BY.search(line.text)) and not line.rule:
            credit = names.parse_byline(line.text)
            if credit is not None and credit.authors:
                return [credit]
    hi = min(len(lines), head.body_start + 3)
    lo = max(0, head.title_index - BARE_NAME_BEFORE)
    for i in sorted(range(lo, hi), key=lambda i: (i < head.title_index, abs(i - head.title_index))):
        if i == head.title_index or lines[i].rule or lines[i].size > 120:
            continue
        credit = names.parse_byline(meta.without_dates(lines[i].text), bare_names=True)
        if credit is not None and credit.authors:
            return [credit]
    for i in range(head.body_start, min(len(lines), end + BIO_AFTER)):
        credit = names.parse_bio(lines[i].text)
        if credit is not None:
            return [credit]
    return []


def _merge_names(
    bylines: list[names.Credit], credits: list[names.Credit]
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
