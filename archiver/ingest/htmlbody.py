"""trafilatura's main-content tree -> safe Markdown blocks (links checked, '<' escaped)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

from archiver.ingest.htmlmeta import collapse
from archiver.ingest.htmlurls import safe_url

_HEADING = re.compile(r"^(#{1,6}) ")
_REFDEF = re.compile(r"^(\s{0,3})\[([^\]]+)\]:", re.M)
_INLINE_HTML = frozenset({"sub", "sup", "u", "mark", "ins", "small", "kbd", "abbr"})
_META_LINE = re.compile(r"^(?:topics|tags|filed under|categories|share this( article)?)\s*:", re.I)
_TAIL_HEADING = re.compile(
    r"^#+\s*\W*(?:you (?:might|may) (?:also )?like|related (?:stories|articles|content|posts)|"
    r"more (?:from|stories|on this)|"
    r"(?:more|other) (?:\w+ ){0,2}(?:columns|stories|articles|posts)\W*$|"
    r"recommended|most (?:popular|read)|trending|read next|"
    r"featured (?:slide|video|stories)|latest (?:news|stories)|sur le même sujet|"
    r"à lire aussi|lesen sie auch|mehr zum thema|te puede interesar|leia também)",
    re.I,
)
_QUOTE_MARK = "ꙮQUOTEꙮ"
_COPYRIGHT = re.compile(r"^(?:copyright\b|©|\(c\)\s*\d{4}).*(?:\d{4}|rights reserved)", re.I)
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")
_LIST_HEADING = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+#{1,6}\s")
_FOOTNOTE = re.compile(r"^\[.*\]$|^\W*$")
_STRAY_LT = re.compile(r"(?<!\]\()<")
_LIST_GAP = re.compile(r"^(\s*(?:[-*+]|\d+[.)]))[ \t]*\n[ \t]+(?=\S)", re.M)


def markdown_blocks(body: Any, page_url: str | None) -> tuple[list[str], float]:
    """Markdown blocks from trafilatura's tree (links made safe) and the link-text share."""
    from trafilatura.xml import xmltotxt

    if body is None:
        return [], 0.0
    total = len(collapse(" ".join(body.itertext())))
    linked = 0
    for ref in list(body.iter("ref")):
        label = collapse(" ".join(ref.itertext()))
        linked += len(label)
        target = ref.get("target")
        if target and target.startswith("#"):
            _drop_anchor(ref, label)
            continue
        absolute = safe_url(urljoin(page_url, target) if page_url and target else target)
        if absolute and not _FOOTNOTE.match(label):
            ref.set("target", absolute.replace("&", "&amp;"))
        else:
            _unwrap(ref)
    for graphic in list(body.iter("graphic")):
        graphic.text = None
        _unwrap(graphic)  # images are never hot-linked; their captions stay as text
    for hi in list(body.iter("hi")):
        if (hi.get("rend") or "").strip("#").lower() in _INLINE_HTML:
            _unwrap(hi)
    for node in body.iter():
        node.text = _pre_escape(node.text)
        node.tail = _pre_escape(node.tail)
    for quote in body.iter("quote"):
        quote.text = _QUOTE_MARK + (quote.text or "")
    text = xmltotxt(body, True).replace(_QUOTE_MARK, "\n\n" + _QUOTE_MARK)
    blocks = [_clean_block(b) for b in re.split(r"\n\s*\n", text)]
    return _drop_teasers([b for b in blocks if b]), (linked / total if total else 0.0)


def _drop_teasers(blocks: list[str]) -> list[str]:
    """Drop teaser galleries (lists of headings), repeated blocks and a dangling last heading."""
    kept: list[str] = []
    seen: set[str] = set()
    for block in blocks:
        items = [line for line in block.split("\n") if _LIST_ITEM.match(line)]
        if len(items) >= 3 and sum(1 for i in items if _LIST_HEADING.match(i)) * 2 >= len(items):
            continue
        key = collapse(block).casefold()
        if _META_LINE.match(key):
            continue
        if (key in seen and len(key) < 200) or (_COPYRIGHT.match(key) and len(key) < 300):
            continue
        seen.add(key)
        kept.append(block)
    return _cut_tail(kept)


def _cut_tail(blocks: list[str]) -> list[str]:
    """Cut a trailing 'You might also like' / 'Related' section (and a dangling last heading)."""
    total = sum(len(b) for b in blocks)
    seen = 0
    for index, block in enumerate(blocks):
        if seen > total * 0.6 and _HEADING.match(block) and _TAIL_HEADING.search(block):
            blocks = blocks[:index]
            break
        seen += len(block)
    while blocks and _HEADING.match(blocks[-1]):
        blocks.pop()
    return blocks


def _drop_anchor(ref: Any, label: str) -> None:
    """In-page anchor links: a paragraph that is only one ('Jump to search') goes, else unwrap."""
    parent = ref.getparent()
    if parent is not None and parent.tag == "p" and collapse(" ".join(parent.itertext())) == label:
        grand = parent.getparent()
        if grand is not None:
            grand.remove(parent)
            return
    _unwrap(ref)


def _pre_escape(text: str | None) -> str | None:
    """Escape text so trafilatura's final html.unescape leaves '&' as is and '<' as '&lt;'."""
    if not text or ("&" not in text and "<" not in text):
        return text
    return text.replace("&", "&amp;").replace("<", "&amp;lt;")


def _unwrap(element: Any) -> None:
    """Replace an element by its content (text, children, tail) inside its parent."""
    parent = element.getparent()
    if parent is None:
        return
    index = parent.index(element)
    text = element.text or ""
    if index == 0:
        parent.text = (parent.text or "") + text
    else:
        prev = parent[index - 1]
        prev.tail = (prev.tail or "") + text
    children = list(element)
    tail = element.tail or ""
    parent.remove(element)
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    if children:
        last = children[-1]
        last.tail = (last.tail or "") + tail
    elif index == 0:
        parent.text = (parent.text or "") + tail
    else:
        prev = parent[index - 1]
        prev.tail = (prev.tail or "") + tail


def _clean_block(block: str) -> str:
    """One Markdown block: stripped, '<' escaped, headings at least level 2, no ref definitions."""
    block = block.strip().replace("\u2424", "")
    if not block:
        return ""
    block = _LIST_GAP.sub(r"\1 ", _STRAY_LT.sub("&lt;", block))
    block = "\n".join(line.rstrip() for line in block.split("\n"))
    block = _REFDEF.sub(r"\1\\[\2]:", block)
    match = _HEADING.match(block)
    if match and len(match.group(1)) == 1:
        block = "#" + block
    if block.startswith(_QUOTE_MARK):
        lines = block[len(_QUOTE_MARK) :].strip().split("\n")
        block = "\n".join(f"> {line}".rstrip() for line in lines) if lines[0] else ""
    return block.replace(_QUOTE_MARK, "")
