"""Markdown -> safe HTML (Python-Markdown, then the nh3 allowlist), plain text, reading time."""

from __future__ import annotations

import functools
import html
import re
import threading
from typing import TYPE_CHECKING

import nh3

if TYPE_CHECKING:
    import markdown

EXTENSIONS = ("tables", "fenced_code", "sane_lists")
"""Cheap, deterministic extensions (smarty and footnotes are left out: slow / id clashes)."""

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "dfn",
        "div", "dl", "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i",
        "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span",
        "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr",
        "u", "ul", "var",
    }
)  # fmt: skip
"""No h1 (the page title is the only h1), no script/style/iframe/form/object/embed."""

ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start", "reversed"},
    "time": {"datetime"},
    "q": {"cite"},
    "blockquote": {"cite"},
}
"""No event handlers, no style, no class, no id (ids could hijack the page's own anchors)."""

URL_SCHEMES = frozenset({"http", "https", "mailto"})
"""Relative URLs are kept; javascript:, data:, vbscript: and every other scheme are dropped."""

_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags={"script", "style", "iframe", "object", "embed", "template", "noscript"},
    attributes=ALLOWED_ATTRIBUTES,
    link_rel=None,
    url_schemes=set(URL_SCHEMES),
    strip_comments=True,
)
_LOCAL = threading.local()
_POST = re.compile(r"<(a|img)\b([^>]*)>|</a>")
_ATTR = re.compile(r'([a-z]+)="([^"]*)"')
_EXTERNAL = re.compile(r"^(?:https?:)?//", re.I)
_HEADING_1 = re.compile(r"<(/?)h1>")


def _converter() -> markdown.Markdown:
    """One Markdown instance per thread (instances are not thread-safe but are reusable)."""
    md: markdown.Markdown | None = getattr(_LOCAL, "md", None)
    if md is None:
        import markdown  # imported on first use: plain bodies never need it

        md = markdown.Markdown(extensions=list(EXTENSIONS), output_format="html")
        _LOCAL.md = md
    return md


def render_markdown(text: str) -> str:
    """Markdown -> HTML that is safe to embed: converted, then cleaned by the nh3 allowlist."""
    fast = plain_paragraphs(text)
    return convert_markdown(text) if fast is None else fast


def convert_markdown(text: str) -> str:
    """The full conversion (Python-Markdown, nh3, post-processing), whatever the text holds."""
    md = _converter()
    md.reset()
    raw = md.convert(text)
    raw = _HEADING_1.sub(r"<\1h2>", raw)
    clean: str = _CLEANER.clean(raw)
    return _postprocess(clean)


_PLAIN_ASCII = re.compile("[^\n \"$%'-)+-;=?-Z^a-z]")
"""Outside the ASCII characters no Markdown rule, sanitiser rule or post-processing step touches:
markup (\\ ` * _ [ ] { } < > & ! | ~ #), tabs and control characters."""


@functools.cache
def _plain_text() -> re.Pattern[str]:
    """_PLAIN_ASCII plus the non-ASCII characters outside NBSP, line separators, private-use
    marks, surrogates and non-characters (anything that any stage might treat specially);
    compiled on first use: a large Unicode class is slow to compile, ASCII text never needs it."""
    return re.compile(
        "[^\n \"$%'-)+-;=?-Z^a-z\xa1-\u2027\u202a-\ud7ff\uf900-\ufdcf\ufdf0-\ufefe\uff00-\ufffd"
        "\U00010000-\U000effff]"
    )


_PLAIN_LINE_START = re.compile(r"\n(?:[ \-+=>*#]|\d+[.)])")
"""A line start that could open a block: indent, list, quote, heading, setext underline, rule."""
_BLANK_LINES = re.compile(r"\n{2,}")


def plain_paragraphs(text: str) -> str | None:
    """The HTML of a text made only of plain paragraphs, without Python-Markdown; else None.

    Only text that no Markdown rule, sanitiser rule or post-processing step can touch takes
    this path (no special character, no block-opening line start, no hard line break), so the
    result is byte-identical to convert_markdown (tests/test_markup.py compares the two on
    corpora and adversarial strings). About 20x cheaper: most ingested bodies are like this.
    """
    chars = _PLAIN_ASCII if text.isascii() else _plain_text()
    if chars.search(text) or " \n" in text or text.endswith(" "):
        return None
    if _PLAIN_LINE_START.search("\n" + text):
        return None
    text = text.strip("\n")
    blocks = _BLANK_LINES.split(text) if "\n\n\n" in text else text.split("\n\n")
    return "\n".join(f"<p>{block}</p>" for block in blocks if block)


def _postprocess(clean: str) -> str:
    """Mark external links nofollow and turn images into links (never hot-linked)."""
    depth = 0

    def fix(match: re.Match[str]) -> str:
        nonlocal depth
        tag, rest = match.group(1), match.group(2) or ""
        if tag is None:
            depth = max(0, depth - 1)
            return match.group(0)
        attrs = dict(_ATTR.findall(rest))
        if tag == "a":
            depth += 1
            if _EXTERNAL.match(html.unescape(attrs.get("href", ""))):
                return f'<a{rest} rel="nofollow noopener">'
            return match.group(0)
        alt = html.unescape(attrs.get("alt", "")).strip()
        label = html.escape(f"[Image: {alt}]" if alt else "[Image]", quote=False)
        src = attrs.get("src", "")
        if depth or not _EXTERNAL.match(html.unescape(src)):
            return label  # relative image paths point at files the archive does not have
        return f'<a class="image-link" href="{src}" rel="nofollow noopener">{label}</a>'

    return _POST.sub(fix, clean)


_FENCE = re.compile(r"^[ \t]*(```|~~~).*$", re.M)
_IMAGE_MD = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK_MD = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_REF_LINK = re.compile(r"\[([^\]]*)\]\[[^\]]*\]")
_LINK_DEF = re.compile(r"^[ \t]{0,3}\[[^\]]+\]:\s*\S+.*$", re.M)
_TAG = re.compile(r"<[^>]{0,2000}>")
_LINE_MARK = re.compile(r"^[ \t]{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d{1,9}[.)]\s+)", re.M)
_EMPHASIS = re.compile(r"(\*{1,3}|_{2,3}|`+|~~)")
_RULE = re.compile(r"^[ \t]{0,3}(?:[-*_][ \t]*){3,}$", re.M)
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~])")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


@functools.cache
def _cjk() -> re.Pattern[str]:
    """CJK characters (compiled on first use, as _plain_text)."""
    return re.compile(
        r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f]"
    )


def plain_text(markdown_text: str, *, paragraphs: bool = False) -> str:
    """Markdown -> readable plain text (summaries, reading time, search excerpts).

    Links keep their text, images their alt text; markup, HTML and backslash escapes go.
    One line, or with ``paragraphs`` one blank line between paragraphs.
    """
    text = _FENCE.sub("", markdown_text)
    text = _LINK_DEF.sub("", text)
    if "](" in text or "][" in text:
        text = _REF_LINK.sub(r"\1", _LINK_MD.sub(r"\1", _IMAGE_MD.sub(r"\1", text)))
    if "<" in text:
        text = _TAG.sub(" ", text)
    text = _RULE.sub("", text)
    text = _LINE_MARK.sub("", text)
    text = _EMPHASIS.sub("", text)
    if "\\" in text:
        text = _ESCAPE.sub(r"\1", text)
    if "&" in text:
        text = html.unescape(text)
    if not paragraphs:
        return " ".join(text.split())
    blocks = (" ".join(block.split()) for block in _PARAGRAPH_BREAK.split(text))
    return "\n\n".join(block for block in blocks if block)


def summarise(text: str, limit: int = 200) -> str:
    """Shorten plain text to about limit characters at a word boundary, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:.-–—")
    return (cut or text[:limit]) + "…"


def reading_time(text: str, *, wpm: int = 230, cjk_cpm: int = 500) -> int:
    """Minutes to read text (at least 1): words at wpm, CJK characters at cjk_cpm."""
    words, cjk = text_size(text)
    return read_minutes(words, cjk, wpm=wpm, cjk_cpm=cjk_cpm)


def read_minutes(words: int, cjk: int, *, wpm: int = 230, cjk_cpm: int = 500) -> int:
    """Minutes to read so many words and CJK characters (at least 1)."""
    return max(1, round(words / wpm + cjk / cjk_cpm))


def text_size(text: str) -> tuple[int, int]:
    """(words, CJK characters) of a text; CJK characters are not counted as words."""
    if text.isascii() or not _cjk().search(text):
        return len(text.split()), 0
    cjk = len(_cjk().findall(text))
    return len(_cjk().sub(" ", text).split()), cjk


def html_text(fragment: str) -> str:
    """The visible text of a sanitised HTML fragment (for reading time from rendered bodies)."""
    return html.unescape(_TAG.sub(" ", fragment))
