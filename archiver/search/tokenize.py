"""Text rules shared by the Whoosh index, the client index and search.js: folding, stop words.

The client tokenizer here and ``wordsOf`` in ``templates/static/search.js`` must stay in step:
lower-case, Unicode NFKD with combining marks removed, possessive ``'s`` dropped, other
apostrophes removed, then runs of letters and digits; one-letter words (except digits) are dropped.
"""

from __future__ import annotations

import re
import unicodedata

from archiver import markup

STOP_WORDS: frozenset[str] = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its itself
    just me more most my myself no nor not now of off on once only or other our ours ourselves out
    over own same she should so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours yourself yourselves
    """.split()
)
"""English function words: never worth a lookup unless a query holds nothing else."""

MAX_WORD = 40
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_POSSESSIVE = re.compile(r"['\u2019]s\b")
_APOSTROPHE = re.compile(r"['\u2019]")
_WORD = re.compile(r"[^\W_]{2,}|\d")

_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def fold(text: str) -> str:
    """Lower-case and strip accents (NFKD without combining marks), as search.js does."""
    if text.isascii():
        return text.lower()
    return _MARKS.sub("", unicodedata.normalize("NFKD", text.lower()))


def words(text: str) -> list[str]:
    """The client index's words of a text, in order (folded; stop words kept)."""
    folded = _APOSTROPHE.sub("", _POSSESSIVE.sub("", fold(text)))
    found = _WORD.findall(folded)
    if found and max(map(len, found)) > MAX_WORD:
        return [w[:MAX_WORD] for w in found]
    return found


def plain_text(markdown_text: str) -> str:
    """Readable plain text of a Markdown body, paragraphs kept (see archiver.markup)."""
    return markup.plain_text(markdown_text, paragraphs=True)


def index_words(markdown_text: str) -> list[str]:
    """Words of a Markdown body for the client index (link targets and images left out)."""
    if "](" in markdown_text:
        markdown_text = _MD_LINK.sub(r"\1", _MD_IMAGE.sub(r"\1", markdown_text))
    return words(markdown_text)


def excerpt(text: str, limit: int) -> str:
    """The first ``limit`` characters of text, cut at a word boundary, with an ellipsis if cut."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat.rfind(" ", 0, limit)
    if cut < limit // 2:
        cut = limit
    return flat[:cut].rstrip(" ,;:.-") + "…"
