"""Archive -> page specs (template + plain-data context) -> bytes, through Jinja2.

Context keys (every value is plain JSON data, so the engine can hash contexts):

Every HTML page:
  site  {title, description, language, base_url}
  root  prefix from the page back to the site root: "", "../", "../../" (404 with base_url: it)
  nav   {home, tags, sources, authors, archive, search, feed, style, icon}: root-relative hrefs
  page  {path, title, kind, lang, description, canonical ("" unless base_url), feed (root-relative
        href of the page's Atom feed or ""), ...}
  (Keys win over dict methods in ThemeEnvironment, but avoid "items"/"keys"/"values" anyway.)
  Every ``href`` in a context is relative to the site root: templates write
  ``{{ root }}{{ href }}``.
Item (a list entry): {title, href, date: {iso, text}|None, summary, source: {name, href}|None,
  reading_time}; lite (a reference): {title, href, date}.
Per template:
  index.html / term.html  listing {kind: home|tags|sources|authors, name (term name, "" on
                          home), label ("Tag", "Source", "Author" or ""), count, articles: [item],
                          pagination {number, total, newer, older, first, last} (hrefs or "")}
  terms.html     terms {kind, heading, rows: [{name, href, count}] (by name),
                 top: [same] (by count)}
  article.html   article {title, slug, summary, lang, url, source, authors, credits, tags,
                 published, archived, reading_time, html (sanitised, safe), related [lite],
                 newer lite|None, older lite|None, provenance {source_file, sha256, original
                 (root-relative href of the plain-text copy or ""), also_seen}, jsonld (dict),
                 og [{property, content}]}
  archive.html   archive {years: [{year, href, count, months: [{month, name, count, href, width}]}],
                 undated: [item]}
  archive_year.html   year {year, count, months: [{month, name, href, articles: [lite]}],
                      newer, older}
  archive_month.html  month {year, month, name, year_href, articles: [item]}
  search.html / search-unavailable.html, 404.html: the common keys only
  feed.atom      site {title, description}, feed {title, id, updated, self, alternate, entries:
                 [{title, id, link, updated, published, summary, authors, categories, content}]}
  sitemap.xml    urls [{loc, lastmod}] (empty without base_url: sitemaps need absolute URLs)
  robots.txt     sitemap (absolute URL or "")
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import jinja2
import markupsafe
from jinja2.compiler import CodeGenerator

from archiver.config import Settings
from archiver.links import MONTHS, Links, paged
from archiver.memory import no_gc
from archiver.model import Article, Term
from archiver.pages import Context, Contexts
from archiver.taxonomy import Archive
from archiver.theme import theme_dir

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
TAXONOMIES = (
    ("tags", "Tags", "Tag"),
    ("sources", "Sources", "Source"),
    ("authors", "Authors", "Author"),
)


@dataclass(frozen=True)
class PageSpec:
    """One output file to render: its path, its template and its plain-data context."""

    path: str
    template: str
    context: dict[str, Any]


_ESCAPE_TEXT: Callable[[str], str] | None = getattr(markupsafe, "_escape_inner", None)
"""markupsafe's own escaping of a plain str (its C speedup), without the Markup wrapper."""


def escape_output(value: Any) -> Any:
    """What ``{{ value }}`` prints under autoescape: markupsafe.escape(value), as a plain str
    when value is a plain str (the common case: no Markup object to build)."""
    if type(value) is str and _ESCAPE_TEXT is not None:
        return _ESCAPE_TEXT(value)
    return markupsafe.escape(value)


class _OutputCodeGenerator(CodeGenerator):
    """Compiles autoescaped ``{{ ... }}`` to environment.escape_output(...) instead of escape().

    An output value is only ever joined into the page (or into a macro's or block's buffer,
    which Jinja wraps in Markup as a whole), never escaped again, so a plain str serves as well
    as Markup there; about a fifth of the rendering time was spent building Markup objects."""

    def _output_child_pre(self, node: Any, frame: Any, finalize: Any) -> None:
        """The start of an output expression (see CodeGenerator._output_child_pre)."""
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape:
            super()._output_child_pre(node, frame, finalize)
            return
        self.write("environment.escape_output(")
        if finalize.src is not None:
            self.write(finalize.src)


class ThemeEnvironment(jinja2.Environment):
    """Jinja2 environment tuned for plain-dict contexts: ``a.b`` looks up the key first."""

    code_generator_class = _OutputCodeGenerator
    escape_output = staticmethod(escape_output)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """Dict keys before attributes (9x faster for our contexts; same result otherwise)."""
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


def make_environment(settings: Settings) -> jinja2.Environment:
    """Jinja2 environment: the archive's templates first, then the default theme; strict."""
    folders = [settings.path(settings.templates_dir), theme_dir()]
    unique = list(dict.fromkeys(str(f) for f in folders if f.is_dir()))
    env = ThemeEnvironment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(f) for f in unique]),
        autoescape=jinja2.select_autoescape(("html", "xml", "atom"), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters["xml"] = xml_text
    return env


def xml_text(value: object) -> str:
    """Text without the control characters XML 1.0 forbids (for feeds and sitemaps)."""
    return _XML_INVALID.sub("", str(value))


def render_page(env: jinja2.Environment, spec: PageSpec) -> bytes:
    """Render one page spec to bytes (UTF-8)."""
    return env.get_template(spec.template).render(spec.context).encode("utf-8")


def plan_pages(
    archive: Archive,
    settings: Settings,
    *,
    html_of: Callable[[Article], str],
    originals: Collection[str] | None = None,
) -> list[PageSpec]:
    """Every page of the site, in a fixed order; no rendering happens here."""
    return plan_contexts(make_contexts(archive, settings, html_of=html_of, originals=originals))


def make_contexts(
    archive: Archive,
    settings: Settings,
    *,
    html_of: Callable[[Article], str],
    originals: Collection[str] | None = None,
) -> Contexts:
    """The context builder plan_contexts uses (kept by the engine for per-article data)."""
    if originals is None:
        originals = kept_originals(settings)
    return Contexts(archive, settings, html_of, frozenset(originals))


@no_gc()  # hundreds of thousands of small long-lived dicts: collections would rescan all
def plan_contexts(ctx: Contexts) -> list[PageSpec]:
    """Every page of the site from a context builder, in a fixed order."""
    archive, settings = ctx.archive, ctx.settings
    specs: list[PageSpec] = []
    specs += _listing(ctx, "index", "index.html", archive.articles, kind="home", title="")
    for article in archive.articles:
        path = ctx.links.file(f"articles/{article.slug}")
        specs.append(PageSpec(path, "article.html", ctx.article(article, path)))
    for kind, heading, label in TAXONOMIES:
        specs += _taxonomy(ctx, getattr(archive, kind), kind, heading, label)
    specs += _archive_pages(ctx)
    specs += _special_pages(ctx, settings)
    specs.append(_sitemap(ctx, specs))
    return specs


def kept_originals(settings: Settings) -> frozenset[str]:
    """The sha256 names of the kept originals (content/originals/<sha256>.<ext>)."""
    folder = settings.content_path / "originals"
    try:
        names = os.listdir(folder)
    except OSError:
        return frozenset()
    return frozenset(n.split(".", 1)[0] for n in names if not n.startswith("."))


def _listing(
    ctx: Contexts,
    name: str,
    template: str,
    articles: Sequence[Article],
    *,
    kind: str,
    title: str,
    label: str = "",
    feed: str = "",
) -> list[PageSpec]:
    """A paginated list of articles: name.html, then name/page/2.html ..."""
    per = ctx.settings.per_page
    total = max(1, -(-len(articles) // per))
    links = ctx.links
    specs = []
    for number in range(1, total + 1):
        path = links.file(paged(name, number))
        chunk = articles[(number - 1) * per : number * per]
        heading = f"{label}: {title}" if label else title or ctx.settings.title
        page_title = heading if number == 1 else f"{heading} (page {number} of {total})"
        pagination = {
            "number": number,
            "total": total,
            "newer": links.href(paged(name, number - 1)) if number > 1 else "",
            "older": links.href(paged(name, number + 1)) if number < total else "",
            "first": links.href(name) if number > 1 else "",
            "last": links.href(paged(name, total)) if number < total else "",
        }
        listing = {
            "kind": kind,
            "name": title,
            "label": label,
            "count": len(articles),
            "articles": [ctx.item(a) for a in chunk],
            "pagination": pagination,
        }
        common = ctx.common(path, page_title, kind, href=links.href(paged(name, number)), feed=feed)
        specs.append(PageSpec(path, template, {**common, "listing": listing}))
    return specs


def _taxonomy(
    ctx: Contexts, terms: dict[Term, tuple[Article, ...]], kind: str, heading: str, label: str
) -> list[PageSpec]:
    """Index of a taxonomy with counts, one paginated page per term, and tag feeds."""
    links = ctx.links
    ordered = sorted(terms.items(), key=lambda kv: (kv[0].name.casefold(), kv[0].key))
    rows: list[Context] = [
        {"name": t.name, "href": links.href(f"{kind}/{t.slug}"), "count": len(a)}
        for t, a in ordered
    ]
    by_count = sorted(range(len(ordered)), key=lambda i: (-len(ordered[i][1]), i))
    top = [rows[i] for i in by_count[:20]]
    path = links.file(f"{kind}/index")
    common = ctx.common(path, heading, "terms", href=links.href(f"{kind}/index"))
    terms_ctx = {"kind": kind, "heading": heading, "rows": rows, "top": top}
    specs = [PageSpec(path, "terms.html", {**common, "terms": terms_ctx})]
    for term, articles in terms.items():
        name = f"{kind}/{term.slug}"
        feed = f"{kind}/{term.slug}.atom" if kind == "tags" else ""
        specs += _listing(
            ctx, name, "term.html", articles, kind=kind, title=term.name, label=label, feed=feed
        )
        if feed:
            title = f"{ctx.settings.title}: {term.name}"
            context = ctx.feed(feed, title, articles, full=False, alternate=links.href(name))
            specs.append(PageSpec(feed, "feed.atom", context))
    return specs


def _archive_pages(ctx: Contexts) -> list[PageSpec]:
    """The date archive: index with a per-month histogram, one page per year and month."""
    links, years = ctx.links, ctx.archive.years
    peak = max((len(a) for months in years.values() for a in months.values()), default=1)
    order = sorted(years, reverse=True)
    rows, specs = [], []
    for index, year in enumerate(order):
        months = years[year]
        month_rows = []
        for month in range(1, 13):
            count = len(months.get(month, ()))
            month_rows.append(
                {
                    "month": month,
                    "name": MONTHS[month - 1],
                    "count": count,
                    "href": links.href(f"archive/{year}/{month:02d}") if count else "",
                    "width": f"{round(100 * count / peak)}%",
                }
            )
        count = sum(len(a) for a in months.values())
        rows.append(
            {
                "year": year,
                "href": links.href(f"archive/{year}"),
                "count": count,
                "months": month_rows,
            }
        )
        newer = links.href(f"archive/{order[index - 1]}") if index > 0 else ""
        older = links.href(f"archive/{order[index + 1]}") if index + 1 < len(order) else ""
        specs.append(_year_page(ctx, year, months, count, newer, older))
        specs += _month_pages(ctx, year, months)
    path = links.file("archive/index")
    undated = [ctx.item(a) for a in ctx.archive.undated]
    common = ctx.common(path, "Archive", "archive", href=links.href("archive/index"))
    specs.insert(
        0,
        PageSpec(path, "archive.html", {**common, "archive": {"years": rows, "undated": undated}}),
    )
    return specs


def _year_page(
    ctx: Contexts,
    year: int,
    months: dict[int, tuple[Article, ...]],
    count: int,
    newer: str,
    older: str,
) -> PageSpec:
    """One year: its months (newest first) with their articles' titles."""
    links = ctx.links
    path = links.file(f"archive/{year}")
    month_rows = [
        {
            "month": m,
            "name": MONTHS[m - 1],
            "href": links.href(f"archive/{year}/{m:02d}"),
            "articles": [ctx.lite(a) for a in months[m]],
        }
        for m in sorted(months, reverse=True)
    ]
    data = {"year": year, "count": count, "months": month_rows, "newer": newer, "older": older}
    common = ctx.common(path, f"Archive: {year}", "year", href=links.href(f"archive/{year}"))
    return PageSpec(path, "archive_year.html", {**common, "year": data})


def _month_pages(
    ctx: Contexts, year: int, months: dict[int, tuple[Article, ...]]
) -> list[PageSpec]:
    """One page per month of a year that has articles."""
    links, specs = ctx.links, []
    for month, articles in months.items():
        name = f"archive/{year}/{month:02d}"
        path = links.file(name)
        title = f"{MONTHS[month - 1]} {year}"
        data = {
            "year": year,
            "month": month,
            "name": title,
            "year_href": links.href(f"archive/{year}"),
            "articles": [ctx.item(a) for a in articles],
        }
        common = ctx.common(path, f"Archive: {title}", "month", href=links.href(name))
        specs.append(PageSpec(path, "archive_month.html", {**common, "month": data}))
    return specs


def _special_pages(ctx: Contexts, settings: Settings) -> list[PageSpec]:
    """search.html, 404.html, feed.atom, robots.txt."""
    links = ctx.links
    search = "search.html" if has_template(settings, "search.html") else "search-unavailable.html"
    feed = ctx.feed(
        "feed.atom", settings.title, ctx.archive.articles, full=True, alternate=links.href("index")
    )
    robots = {"sitemap": links.absolute("sitemap.xml")}
    return [
        PageSpec(
            "search.html", search, ctx.common("search.html", "Search", "search", href="search.html")
        ),
        PageSpec("404.html", "404.html", ctx.common("404.html", "Page not found", "404")),
        PageSpec("feed.atom", "feed.atom", feed),
        PageSpec("robots.txt", "robots.txt", robots),
    ]


def _sitemap(ctx: Contexts, specs: list[PageSpec]) -> PageSpec:
    """sitemap.xml: every HTML page but 404 and search, with absolute URLs (needs base_url)."""
    urls: list[Context] = []
    if ctx.settings.base_url:
        for spec in specs:
            page = spec.context.get("page")
            if not spec.path.endswith(".html") or page is None or not page["canonical"]:
                continue
            if page["kind"] in ("404", "search"):
                continue
            article = spec.context.get("article")
            lastmod = ""
            if article and (article["published"] or article["archived"]):
                lastmod = (article["published"] or article["archived"])["iso"][:10]
            urls.append({"loc": page["canonical"], "lastmod": lastmod})
    return PageSpec("sitemap.xml", "sitemap.xml", {"urls": urls})


def has_template(settings: Settings, name: str) -> bool:
    """Whether the archive's templates or the default theme provide a template."""
    return any(
        (folder / name).is_file() for folder in (settings.path(settings.templates_dir), theme_dir())
    )


__all__ = [
    "Links",
    "PageSpec",
    "has_template",
    "kept_originals",
    "make_contexts",
    "make_environment",
    "plan_contexts",
    "plan_pages",
    "render_page",
]
