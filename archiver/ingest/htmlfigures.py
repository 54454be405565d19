"""Images and captions of a saved page, put back beside the kept text they belong to.

trafilatura runs without images (with them its choice of the main block gets worse), so figures
are read from the page itself and placed between the extracted blocks they sit next to. An image
becomes a Markdown *link* ``[Image: alt](https://...)`` (never ``![...]``: nothing is hot-linked),
or its alt text alone when it has no safe http(s) address. A caption becomes a paragraph, or,
right after its image, the text of the image's link: ``[caption](https://... "Image")``.
Decorative images (no alt text, icons, avatars, logos, tracking pixels) are skipped.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urljoin

from lxml import etree
from lxml.html import HtmlElement

from archiver.ingest.htmlmeta import collapse
from archiver.ingest.htmlurls import safe_url

_GAP = 200
"""Letters and digits of page text allowed between a figure and the kept text it joins."""
_MAX_FIGURES = 40
_PROBE = 40
_INVISIBLE = frozenset({"script", "style", "noscript", "template", "svg", "select", "textarea"})
_OFF_ARTICLE = frozenset({"nav", "aside", "footer", "form", "button"})
_DECOR = re.compile(
    r"(?:^|[\s_-])(?:related|promo|teaser|recommend\w*|sidebar|widget|share|sharing|social|"
    r"author|avatar|byline|logo|icons?|advert\w*|ads?|sponsor\w*|newsletter|comments?|gravatar|"
    r"emoji|badge|sprite|profile)(?:$|[\s_-])",
    re.I,
)
_TRACKER = re.compile(
    r"pixel|spacer|beacon|tracking|blank\.gif|1x1|transparent\.(?:gif|png)|/ads?/|doubleclick|"
    r"gravatar|emoji|/icons?/|/logos?/|favicon|\.svg(?:$|\?)",
    re.I,
)
_FILE_NAME = re.compile(r"^(?:\S*[\d_.-]\S*|\S+\.(?:jpe?g|png|gif|webp))$", re.I)
_DECOR_ALT = re.compile(
    r"^(?:logo|icon|avatar|headshot|spacer|pixel)\b|\b(?:logo|icon|avatar)$|"
    r"\b(?:photo(?:graph)? of the author|author (?:photo|image|picture)|profile (?:photo|picture))",
    re.I,
)
_IMAGE_FILE = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|tiff?)(?:$|[?#])", re.I)
_SRC_ATTRS = ("src", "data-src", "data-lazy-src", "data-original", "data-url")
_SRCSET_ATTRS = ("srcset", "data-srcset", "data-lazy-srcset")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]])")
_BLOCK_START = re.compile(r"^(\s*)([#>+-]|\d+[.)]|=+$)")
_ALT_LABEL = re.compile(r"^\[Image: (?:[^\]\\]|\\.)*\]")
_MD_URL = re.compile(r"\]\([^)]*\)")


@dataclass(frozen=True)
class Figure:
    """An image, a caption, or an image with its caption, at its offset in the page's text key.

    ``markdown`` is the block to insert; ``key`` the caption's text key (to skip captions the
    extractor already kept), and ``fallback`` the block to use instead in that case; ``alt``
    and ``url`` are an image's alt text and address.
    """

    start: int
    end: int
    markdown: str
    key: str = ""
    fallback: str = ""
    alt: str = ""
    url: str = ""


@dataclass(frozen=True)
class PageFigures:
    """Every usable figure of a page and the page's text key (letters and digits only)."""

    figures: tuple[Figure, ...]
    page_key: str


def text_key(text: str) -> str:
    """Comparison key: case-folded letters and digits only (positions survive Markdown)."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _has_figures(root: HtmlElement) -> bool:
    """Cheap pre-check: does the page have any image or caption at all?"""
    for _element in root.iter("img", "figcaption"):
        return True
    return False


def collect_figures(tree: HtmlElement, page_url: str | None) -> PageFigures:
    """Walk the page once: its text key, with each usable image and caption at its offset."""
    root = tree.find("body")
    if root is None:
        root = tree
    if not _has_figures(root):
        return PageFigures((), "")
    pieces: list[str] = []
    size = 0
    figures: list[Figure] = []
    seen: set[str] = set()
    caption: tuple[HtmlElement, int] | None = None
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        tag = element.tag
        if event == "start" and not isinstance(tag, str):
            continue  # comments and processing instructions: only their tail is text
        if event == "start":
            if tag in _INVISIBLE or element.get("hidden") is not None:
                walker.skip_subtree()
                continue
            if caption is None and _is_caption(element):
                caption = (element, size)
            elif tag == "img" and len(figures) < _MAX_FIGURES:
                figures.extend(_image_figure(element, page_url, size, seen))
            if element.text:
                piece = text_key(element.text)
                pieces.append(piece)
                size += len(piece)
            continue
        if event == "end" and caption is not None and caption[0] is element:
            _add_caption(figures, element, caption[1], size, seen)
            caption = None
        if element.tail:
            piece = text_key(element.tail)
            pieces.append(piece)
            size += len(piece)
    return PageFigures(tuple(figures), "".join(pieces))


def _image_figure(img: HtmlElement, page_url: str | None, at: int, seen: set[str]) -> list[Figure]:
    """The figure of one content image (nothing for decorative or repeated ones)."""
    found = image_markdown(img, page_url)
    if found is None or found[0] in seen:
        return []
    seen.add(found[0])
    url = found[0].rsplit("](", 1)[1][:-1] if found[0].startswith("[") else ""
    return [Figure(at, at, found[0], alt=found[1], url=url)]


def _is_caption(element: HtmlElement) -> bool:
    """A <figcaption>, or an element whose class says it is a caption."""
    if element.tag == "figcaption":
        return True
    return "caption" in (element.get("class") or "").lower() and element.tag != "table"


def _add_caption(
    figures: list[Figure], element: HtmlElement, start: int, end: int, seen: set[str]
) -> None:
    """Add a caption; one right after its image becomes the image's link text."""
    text = collapse(element.text_content())
    key = text_key(text)
    last = figures[-1] if figures else None
    own = last is not None and not last.key and start - 20 <= last.start <= end
    if key in seen and own:
        figures.pop()  # the same picture again (another crop or size), same caption
    if not 2 <= len(text) <= 600 or not key or key in seen or _off_article(element):
        return
    seen.add(key)
    if last and own and last.url:
        url = last.url
        linked = f'[{_escape_label(text)}]({url} "Image")'
        figures[-1] = Figure(last.start, end, linked, key, fallback=f"[Image]({url})")
        return
    figures.append(Figure(start, end, _escape_block(text), key))


def image_markdown(img: HtmlElement, page_url: str | None) -> tuple[str, str] | None:
    """(``[Image: alt](url)``, alt) for a content image (``Image: alt`` without a safe URL).

    A captioned image is ``[Image](url)``: its caption says what it shows. None for decorative
    images (no alt text and no caption, icons, avatars, logos, tracking pixels).
    """
    if _decorative(img):
        return None
    alt = collapse(img.get("alt") or "")
    if _FILE_NAME.match(alt) or _DECOR_ALT.search(alt):
        alt = ""  # 'IMG_0042.jpg', 'update_graphic_red_bar', 'logo': not a description
    captioned = _captioned(img)
    if not alt and not captioned:
        return None
    url = image_url(img, page_url)
    if url is None:
        return None if captioned or not alt else (f"Image: {_escape_label(alt[:300])}", alt)
    label = "Image" if captioned else f"Image: {_escape_label(alt[:300])}"
    return f"[{label}]({url})", "" if captioned else alt


def _decorative(img: HtmlElement) -> bool:
    """Icons, avatars, logos, tracking pixels, hidden images and teaser thumbnails."""
    if (img.get("role") or "").lower() == "presentation" or img.get("aria-hidden") == "true":
        return True
    for name in ("width", "height"):
        value = (img.get(name) or "").strip().removesuffix("px")
        if value.isdigit() and int(value) <= 50:
            return True
    marks = f"{img.get('class') or ''} {img.get('id') or ''}"
    if _DECOR.search(marks) or _TRACKER.search(img.get("src") or ""):
        return True
    return _off_article(img) or _teaser_link(img)


def _off_article(element: HtmlElement) -> bool:
    """True inside navigation, asides, footers, forms or blocks marked as promos/avatars/ads."""
    for depth, parent in enumerate(element.iterancestors()):
        if parent.tag in _OFF_ARTICLE:
            return True
        if depth < 8 and _DECOR.search(f"{parent.get('class') or ''} {parent.get('id') or ''}"):
            return True
    return False


def _teaser_link(img: HtmlElement) -> bool:
    """An image inside a link to another page (a teaser), not to a larger image."""
    for parent in img.iterancestors("a"):
        return not _IMAGE_FILE.search(parent.get("href") or "")
    return False


def _captioned(img: HtmlElement) -> bool:
    """True when a caption goes with the image (in its <figure>, or right after it)."""
    element = img
    for _depth in range(4):
        following = element.getnext()
        if following is not None and _is_caption(following):
            return True
        parent = element.getparent()
        if parent is None:
            return False
        kids = parent.iter("figcaption", "p", "div", "span") if parent.tag == "figure" else ()
        if any(_is_caption(e) for e in kids):
            return True
        element = parent
    return False


def image_url(img: HtmlElement, page_url: str | None) -> str | None:
    """The image's absolute http(s) address (src, lazy-load attributes, srcset), else None."""
    raw = _raw_src(img)
    if raw is None:
        twin = _noscript_twin(img)
        raw = _raw_src(twin) if twin is not None else None
    if not raw:
        return None
    raw = raw.strip()
    if raw.startswith("//"):
        raw = "https:" + raw
    url = safe_url(urljoin(page_url, raw) if page_url else raw)
    if url is None or len(url) > 2000 or _TRACKER.search(url):
        return None
    return url.replace("(", "%28").replace(")", "%29")


def _raw_src(img: HtmlElement) -> str | None:
    """The image's own address: src or a lazy-load attribute, else the widest srcset entry."""
    raw = next((v for a in _SRC_ATTRS if _usable(v := img.get(a) or "")), None)
    return raw if raw is not None else _from_srcset(img)


def _noscript_twin(img: HtmlElement) -> HtmlElement | None:
    """The real <img> of a lazy-loading placeholder, kept in a <noscript> right after it."""
    for element in (img, img.getparent()):
        following = element.getnext() if element is not None else None
        if following is not None and following.tag == "noscript":
            for twin in following.iter("img"):
                return twin
    return None


def _usable(value: str) -> bool:
    """A src worth trying: not empty, not an inline data: placeholder."""
    value = value.strip().lower()
    return bool(value) and not value.startswith(("data:", "about:", "javascript:"))


def _from_srcset(img: HtmlElement) -> str | None:
    """The widest candidate of the image's srcset (or of its <picture> sources)."""
    sets = [img.get(a) for a in _SRCSET_ATTRS]
    for picture in img.iterancestors("picture"):  # libxml2 may nest <img> inside <source>
        sets += [s.get("srcset") for s in picture.iter("source")]
        break
    best: tuple[float, str] | None = None
    for srcset in sets:
        for candidate in (srcset or "").split(","):
            parts = candidate.split()
            if not parts or not _usable(parts[0]):
                continue
            width = _descriptor(parts[1] if len(parts) > 1 else "1x")
            if best is None or width > best[0]:
                best = (width, parts[0])
    return best[1] if best else None


def _descriptor(text: str) -> float:
    """A srcset descriptor ('640w', '2x') as a number to compare."""
    try:
        return float(text[:-1])
    except ValueError:
        return 0.0


def _escape_label(text: str) -> str:
    """Text safe inside a Markdown link label."""
    return _MD_SPECIAL.sub(r"\\\1", text).replace("<", "&lt;")


def _escape_block(text: str) -> str:
    """Text safe as a Markdown paragraph (no accidental heading, list, quote or markup)."""
    text = _escape_label(text)
    return _BLOCK_START.sub(r"\1\\\2", text, count=1)


def place_figures(blocks: list[str], found: PageFigures, title: str = "") -> list[str]:
    """Insert each figure before the first kept block after it, if it sits next to kept text."""
    if not found.figures or not blocks:
        return blocks
    spans = _block_spans(blocks, found.page_key)
    kept = "".join(text_key(_MD_URL.sub("]", b)) for b in blocks)
    plain = _plain_alts(found.figures, title)
    inserts: dict[int, list[str]] = {}
    for figure in _attached(found.figures, [s for s in spans if s is not None]):
        markdown = figure.markdown
        if figure.key and figure.key[:_PROBE] in kept:
            markdown = figure.fallback  # the caption is already part of the kept text
        elif figure.alt in plain:
            markdown = _ALT_LABEL.sub("[Image]", markdown) if "](" in markdown else ""
        if not markdown:
            continue
        index = next(
            (i for i, s in enumerate(spans) if s is not None and s[0] >= figure.end), len(blocks)
        )
        inserts.setdefault(index, []).append(markdown)
    if not inserts:
        return blocks
    out: list[str] = []
    for index, block in enumerate(blocks):
        out.extend(inserts.get(index, ()))
        out.append(block)
    out.extend(inserts.get(len(blocks), ()))
    return out


def _plain_alts(figures: tuple[Figure, ...], title: str) -> set[str]:
    """Alt texts that say nothing: the headline again, or one text on several images."""
    counts = Counter(f.alt for f in figures if f.alt)
    plain = {alt for alt, n in counts.items() if n > 1}
    title_key = text_key(title)
    plain.update(alt for alt in counts if title_key and text_key(alt) == title_key)
    return plain


def _block_spans(blocks: list[str], page_key: str) -> list[tuple[int, int] | None]:
    """Where each block's text starts and ends in the page key (None when not found)."""
    spans: list[tuple[int, int] | None] = []
    cursor = 0
    for block in blocks:
        key = text_key(_MD_URL.sub("]", block).replace("&lt;", "<"))
        if len(key) < 8:
            spans.append(None)
            continue
        start = page_key.find(key[:_PROBE], cursor)
        if start < 0:
            spans.append(None)
            continue
        end = start + len(key)
        tail = page_key.find(key[-_PROBE:], start)
        if 0 <= tail < start + len(key) * 2:
            end = tail + len(key[-_PROBE:])
        spans.append((start, end))
        cursor = start + 1
    return spans


def _attached(figures: tuple[Figure, ...], spans: list[tuple[int, int]]) -> list[Figure]:
    """Figures within _GAP of kept text (directly, or through a chain of attached figures)."""
    if not spans:
        return []
    items = sorted(
        [(s, e, None) for s, e in spans] + [(f.start, f.end, f) for f in figures],
        key=lambda item: (item[0], item[2] is not None),
    )
    chosen: set[int] = set()
    reach: int | None = None
    for start, end, figure in items:
        if figure is None or (reach is not None and start - reach <= _GAP):
            reach = end if reach is None else max(reach, end)
            if figure is not None:
                chosen.add(id(figure))
    reach = None
    for start, end, figure in reversed(items):
        if figure is None or (reach is not None and reach - end <= _GAP):
            reach = start if reach is None else min(reach, start)
            if figure is not None:
                chosen.add(id(figure))
    return [f for f in figures if id(f) in chosen]
