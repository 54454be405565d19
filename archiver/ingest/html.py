"""Saved HTML pages -> Extracted: trafilatura for the main text, our own metadata and cleaning."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lxml.html import HtmlElement

from archiver.errors import NotAnArticleError
from archiver.ingest import htmlchoose as choose
from archiver.ingest.htmlbody import markdown_blocks
from archiver.ingest.htmlfigures import collect_figures, place_figures
from archiver.ingest.htmllines import drop_repeated, site_of
from archiver.ingest.htmlmeta import ARTICLE_TYPES, PageMeta, collapse, itemprop_authors, read_meta
from archiver.ingest.htmlurls import safe_url
from archiver.model import Extracted

if TYPE_CHECKING:
    from archiver.ingest.boilerplate import BoilerplateModel

_MOJIBAKE = re.compile("[ÃÂâ][\u0080-\u00bf€™œžŸ“”˜…¢£¤¥¦§¨©ª«¬®¯°±²³´µ¶·¸¹º»¼½¾]|â€")
_MIN_BODY = 120
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def repair_mojibake(text: str) -> str:
    """Undo UTF-8-read-as-cp1252/latin-1 mojibake with ftfy, only when the text clearly has it."""
    if not _MOJIBAKE.search(text):
        return text
    import ftfy

    return str(ftfy.fix_text(text, normalization="NFC"))


def extract_html(
    text: str, *, boilerplate: BoilerplateModel | None = None, url: str | None = None
) -> Extracted:
    """Extract the article (Markdown blocks) and its metadata from a decoded HTML page."""
    tree = parse_html(text)
    if tree is None:
        raise NotAnArticleError("not an article: empty page")
    meta = read_meta(tree)
    page_url = safe_url(url) or safe_url(meta.canonical) or safe_url(meta.meta.get("og:url"))
    url_origin = (
        "argument" if safe_url(url) else "canonical" if safe_url(meta.canonical) else "og:url"
    )
    body_tree = _main_content(tree, page_url)
    blocks, link_share = markdown_blocks(body_tree, page_url)
    if boilerplate is not None:
        blocks = _drop_boilerplate(blocks, boilerplate)
        blocks = drop_repeated(blocks, site_of(text), boilerplate.repeated)
    _refuse_non_articles(tree, meta, blocks, link_share)
    return _assemble(tree, meta, blocks, page_url, url_origin)


def parse_html(text: str) -> HtmlElement | None:
    """Parse decoded HTML with lxml (the tree trafilatura also works on)."""
    from trafilatura.utils import load_html

    if not text.strip():
        return None
    tree = load_html(text)
    return tree if isinstance(tree, HtmlElement) else None


def _main_content(tree: HtmlElement, page_url: str | None) -> Any:
    """trafilatura's main-content tree (its XML dialect) or None."""
    import trafilatura

    document = trafilatura.bare_extraction(
        tree,
        url=page_url,
        output_format="markdown",
        with_metadata=False,
        include_comments=False,
        include_tables=True,
        include_links=True,
        include_images=False,
        include_formatting=True,
        favor_recall=True,
        fast=True,
    )
    return getattr(document, "body", None)


def _drop_boilerplate(blocks: list[str], model: BoilerplateModel) -> list[str]:
    """Drop blocks (or single list lines) the batch's boilerplate model recognises."""
    kept: list[str] = []
    for block in blocks:
        if model.is_boilerplate(block):
            continue
        lines = block.split("\n")
        if len(lines) > 1:
            lines = [line for line in lines if not model.is_boilerplate(line)]
            block = "\n".join(lines).strip()
        if block:
            kept.append(block)
    return kept


def _refuse_non_articles(
    tree: HtmlElement, meta: PageMeta, blocks: list[str], link_share: float
) -> None:
    """Raise NotAnArticleError for login walls, empty shells and link-list index pages."""
    size = sum(len(b) for b in blocks)
    has_password = bool(tree.xpath('//input[@type="password" or @type="PASSWORD"]'))
    if has_password and size < 1500:
        raise NotAnArticleError("not an article: login wall")
    if size < _MIN_BODY:
        raise NotAnArticleError("not an article: empty page")
    if max(link_share, _page_link_share(tree)) > 0.7 and not _claims_article(meta):
        raise NotAnArticleError("not an article: index page")


def _page_link_share(tree: HtmlElement) -> float:
    """Share of the body text inside links (index pages are mostly links)."""
    body = tree.find(".//body")
    if body is None:
        return 0.0
    total = sum(len(t.strip()) for t in body.itertext(None, with_tail=True))
    linked = sum(len(a.text_content().strip()) for a in body.iter("a"))
    return linked / total if total else 0.0


def _claims_article(meta: PageMeta) -> bool:
    """True when the markup says the page is an article (og:type, JSON-LD, a published date)."""
    if meta.meta.get("og:type", "").lower() == "article":
        return True
    kind = meta.jsonld.kind or ""
    return kind in ARTICLE_TYPES or choose.choose_published(meta) is not None


def _assemble(
    tree: HtmlElement, meta: PageMeta, blocks: list[str], page_url: str | None, url_origin: str
) -> Extracted:
    """Choose every field, drop the headline from the body and build the Extracted."""
    origins: dict[str, str] = {}
    source = _record(origins, "source", choose.choose_source(meta, page_url))
    title = _record(origins, "title", choose.choose_title(meta, source))
    if not title:
        title = _first_line(blocks)
        origins["title"] = "body"
    blocks = _drop_title(blocks, title)
    authors, credits, author_origin = choose.choose_authors(
        meta, source, lambda: itemprop_authors(tree), lambda: _dom_byline(tree)
    )
    blocks = _drop_byline(blocks, authors)
    blocks = place_figures(blocks, collect_figures(tree, page_url), title)
    if author_origin:
        origins["authors"] = author_origin
    published = choose.choose_published(meta)
    if published:
        origins["published"] = published[1]
    summary = _record(origins, "summary", choose.choose_summary(meta))
    language = _record(origins, "language", choose.choose_language(meta))
    if language is None and blocks:
        language = _detect_language(blocks)
        origins["language"] = "detector"
    if page_url:
        origins["url"] = url_origin
    fix = repair_mojibake
    return Extracted(
        title=fix(title),
        body=tuple(fix(b) for b in blocks),
        summary=fix(summary) if summary else None,
        authors=tuple(fix(a) for a in authors),
        credits=credits,
        source=fix(source) if source else None,
        published=published[0] if published else None,
        url=page_url,
        language=language,
        origins=origins,
    )


def _record(origins: dict[str, str], key: str, choice: choose.Choice) -> str | None:
    """Store a choice's origin under ``key`` and return its value."""
    if choice is None:
        return None
    origins[key] = choice[1]
    return choice[0]


def _first_line(blocks: list[str]) -> str:
    """Fallback title: the first block's first line without Markdown markers."""
    first = blocks[0].split("\n")[0] if blocks else ""
    return collapse(first.lstrip("#>*- ")[:200]) or "Untitled"


def _drop_title(blocks: list[str], title: str) -> list[str]:
    """Remove a leading block that repeats the headline."""
    key = choose.norm(title)
    for index, block in enumerate(blocks[:3]):
        if choose.norm(block.lstrip("#").strip().replace("\\", "")) == key:
            return blocks[:index] + blocks[index + 1 :]
    return blocks


def _drop_byline(blocks: list[str], authors: tuple[str, ...]) -> list[str]:
    """Drop a leading block that only names the authors ('By Jane Doe and John Roe')."""
    if not authors:
        return blocks
    names = sorted((choose.norm(a) for a in authors), key=len, reverse=True)
    for index, block in enumerate(blocks[:4]):
        text = choose.norm(_MD_LINK.sub(r"\1", block).replace("\\", ""))
        for name in names:
            text = text.replace(name, " ")
        rest = re.sub(r"\b(?:by|and|von|par|por|und|et|y|e|with)\b|[\W_]", "", text)
        if len(rest) <= 2 and len(block) < 200:
            return blocks[:index] + blocks[index + 1 :]
    return blocks


def _dom_byline(tree: HtmlElement) -> str | None:
    """The raw byline text found with trafilatura's XPaths (rel=author, .byline, .author ...)."""
    from copy import deepcopy

    from trafilatura.htmlprocessing import prune_unwanted_nodes
    from trafilatura.metadata import extract_metainfo
    from trafilatura.xpaths import AUTHOR_DISCARD_XPATHS, AUTHOR_XPATHS

    subtree = prune_unwanted_nodes(deepcopy(tree), AUTHOR_DISCARD_XPATHS)
    found = extract_metainfo(subtree, AUTHOR_XPATHS, len_limit=120)
    return str(found) if found else None


def _detect_language(blocks: list[str]) -> str | None:
    """py3langid's guess on the first few thousand characters of the body."""
    import py3langid

    sample = " ".join(blocks)[:3000]
    lang, _score = py3langid.classify(sample)
    return str(lang) if lang else None
