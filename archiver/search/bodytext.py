"""The body text the Whoosh index stores: ``markup.plain_text(body, paragraphs=True)``, faster.

markup's emphasis pass is one regex alternation scanned over every character (about a third of
plain_text's time on the 10k corpus). Here ``*`` and backtick runs, which that pattern removes
whole, go with ``str.replace``, and only ``__``/``___``/``~~`` runs need the (literal-prefixed,
fast) regex; the other steps are markup's own patterns. tests/test_search_segment.py checks that
the result is identical to markup.plain_text on the sample content, the fixtures and edge cases.
"""

from __future__ import annotations

import html
import re

from archiver import markup

_RUNS = re.compile(r"_{2,3}|~~")
_MARK_AFTER_NEWLINE = re.compile(r"\n[ \t]{0,3}[-#>*+_\d]")
_MARK_AT_START = re.compile(r"[ \t]{0,3}[-#>*+_\d]")
"""Where markup's line patterns (_LINE_MARK, _RULE) could match: a line whose first character
after at most three blanks is a list, quote, heading or rule mark or a digit. Their multi-line
``^`` makes the regex engine try every position; this literal-led hint skips them in one pass."""


def _may_mark_lines(text: str) -> bool:
    """Whether markup._LINE_MARK or markup._RULE can match anywhere in text."""
    return bool(_MARK_AT_START.match(text) or _MARK_AFTER_NEWLINE.search(text))


def strip_emphasis(text: str) -> str:
    """markup._EMPHASIS.sub("", text) without scanning every character with the regex engine."""
    if "__" in text or "~~" in text:
        text = _RUNS.sub("", text)  # first: removing * and ` could join underscore runs
    if "*" in text:
        text = text.replace("*", "")
    if "`" in text:
        text = text.replace("`", "")
    return text


def body_text(markdown_text: str) -> str:
    """Readable plain text of a Markdown body, paragraphs kept (= markup.plain_text)."""
    text = markdown_text
    if "```" in text or "~~~" in text:
        text = markup._FENCE.sub("", text)
    if "]:" in text:
        text = markup._LINK_DEF.sub("", text)
    if "](" in text or "][" in text:
        text = markup._IMAGE_MD.sub(r"\1", text)
        text = markup._REF_LINK.sub(r"\1", markup._LINK_MD.sub(r"\1", text))
    if "<" in text:
        text = markup._TAG.sub(" ", text)
    if _may_mark_lines(text):
        text = markup._RULE.sub("", text)
        text = markup._LINE_MARK.sub("", text)
    text = strip_emphasis(text)
    if "\\" in text:
        text = markup._ESCAPE.sub(r"\1", text)
    if "&" in text:
        text = html.unescape(text)
    blocks = (" ".join(block.split()) for block in markup._PARAGRAPH_BREAK.split(text))
    return "\n\n".join(block for block in blocks if block)
