"""Golden tests for saved-HTML extraction (archiver.ingest.html) on pages written for us."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import lxml.html
import markdown
import pytest

from archiver.config import Settings
from archiver.errors import NotAnArticleError
from archiver.ingest.decode import declared_charset
from archiver.ingest.html import extract_html, repair_mojibake
from archiver.ingest.htmlchoose import bcp47, hostname, strip_site
from archiver.ingest.htmlfigures import image_markdown
from archiver.ingest.htmlmeta import parse_date
from archiver.ingest.htmlnames import clean_names
from archiver.ingest.htmlurls import safe_url
from archiver.markup import render_markdown
from archiver.model import Extracted
from archiver.render import make_environment, plan_pages, render_page
from archiver.taxonomy import build_archive

FIXTURES = Path(__file__).parent / "fixtures" / "html"
DEVSET = Path(__file__).resolve().parents[1].parent / "shared" / "devset"


def load(name: str) -> Extracted:
    """Decode a fixture with its declared charset and extract it."""
    data = (FIXTURES / name).read_bytes()
    return extract_html(data.decode(declared_charset(data) or "utf-8"))


def body_text(found: Extracted) -> str:
    """The whole Markdown body as one string."""
    return "\n\n".join(found.body)


def test_jsonld_graph_page() -> None:
    found = load("jsonld.html")
    assert found.title == "New breakwater halves storm damage"
    assert found.authors == ("Marta Lindqvist", "Jonas Berg")
    assert found.credits == ("Nordic Press Agency",)
    assert found.source == "Harbor Gazette"
    assert found.published == dt.datetime(
        2024, 3, 5, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))
    )
    assert found.url == "https://www.harborgazette.example.org/news/breakwater-storm-damage"
    assert found.language == "en-GB"
    assert found.summary == (
        "Three winters of building pay off for the town's fishing fleet, "
        "the harbour authority says."
    )
    assert dict(found.origins) == {
        "title": "h1+json-ld",
        "authors": "json-ld",
        "published": "json-ld",
        "source": "json-ld",
        "summary": "meta-description",
        "language": "html-lang",
        "url": "canonical",
    }


def test_jsonld_page_keeps_structure_as_markdown() -> None:
    found = load("jsonld.html")
    text = body_text(found)
    assert found.body[0].startswith("The harbour authority said on Tuesday")
    assert "## What comes next" in found.body
    assert "- A vote in the regional assembly in April about the northern quay extension." in text
    assert re.search(r"^> .*We used to lose three boats a winter", text, re.M)
    assert "| Winter | Boats damaged |" in text
    report = "https://www.harborgazette.example.org/reports/breakwater.pdf"
    assert f"[full engineering report]({report})" in text
    for junk in ("Home", "Sport", "Privacy", "All rights reserved", "By Marta"):
        assert junk not in text
    assert found.title not in text


def test_opengraph_only_page() -> None:
    found = load("opengraph.html")
    assert found.title == "Night trains return to the valley"
    assert found.authors == ("Priya Raman",)
    assert found.source == "Valley Courier"
    assert found.published == dt.datetime(
        2022, 11, 18, 6, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))
    )
    assert found.url == "https://valleycourier.example.com/travel/night-trains"
    assert found.language == "en-US"
    assert found.summary is not None and found.summary.startswith("After twenty years")
    assert found.origins["published"] == "article:published_time"
    assert found.origins["authors"] == "meta-author"
    assert len(found.body) == 4


def test_byline_in_text_with_two_authors() -> None:
    found = load("byline.html")
    assert found.title == "Library opens its archive of hand-drawn maps"
    assert found.authors == ("Ana Souza", "Pedro Lima")
    assert found.origins["authors"] == "byline"
    assert found.published is None
    assert found.source is None
    assert "Follow" not in body_text(found)


def test_no_date_even_with_copyright_year() -> None:
    found = load("nodate.html")
    assert found.published is None
    assert "published" not in found.origins
    assert found.source == "Hill Farmer"
    assert found.authors == ()
    assert "©" not in body_text(found)


def test_declared_latin1_charset() -> None:
    data = (FIXTURES / "latin1.html").read_bytes()
    assert declared_charset(data) == "cp1252"  # browsers read latin-1 labels as windows-1252
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    found = load("latin1.html")
    assert found.title == "Café crème à Genève : la fête des vendanges"
    assert found.language == "fr"
    assert "La fête des vendanges a réuni des milliers de visiteurs à Genève" in found.body[0]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xef\xbb\xbf<html><meta charset='iso-8859-1'>", "utf-8"),
        (b"\xff\xfe<\x00h\x00", "utf-16-le"),
        (b'<meta charset="windows-1252">', "cp1252"),
        (b'<meta content="text/html; charset=Shift_JIS" http-equiv="Content-Type">', "shift_jis"),
        (b"<meta charset=nonsense-charset>", None),
        (b"<html><body>no declaration</body></html>", None),
        (b" " * 5000 + b'<meta charset="koi8-r">', None),
    ],
)
def test_declared_charset(data: bytes, expected: str | None) -> None:
    assert declared_charset(data) == expected


def test_mojibake_repaired_only_when_present() -> None:
    assert repair_mojibake("CafÃ© crÃ¨me â€” done") == "Café crème — done"
    assert repair_mojibake("Ærøskøbing, Ürümqi") == "Ærøskøbing, Ürümqi"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("index.html", "not an article: index page"),
        ("login.html", "not an article: login wall"),
        ("empty.html", "not an article: empty page"),
    ],
)
def test_non_articles_are_refused(name: str, reason: str) -> None:
    with pytest.raises(NotAnArticleError) as caught:
        load(name)
    assert caught.value.message == reason


def test_blank_input_is_an_empty_page() -> None:
    with pytest.raises(NotAnArticleError, match="empty page"):
        extract_html("  \n ")


def test_hostile_markup_does_not_survive() -> None:
    found = load("hostile.html")
    text = body_text(found)
    assert found.title == "Council approves bicycle lanes"
    assert found.url is None  # javascript: canonical refused
    assert "[official plan](https://city.example.org/plan)" in text
    assert "council minutes" in text and "summary sheet" in text
    assert "Construction of the first lanes" in text
    for bad in ("<script", "<img", "<iframe", "onerror", "onclick", "onload", "evil.example"):
        assert bad not in text
    assert not re.search(r"(?<!\\)\]\((?!https://city)", text)  # every live link is safe
    assert "&lt;script>a turning point&lt;/script>" in text
    rendered = markdown.markdown(text)
    assert "<script" not in rendered
    hrefs = re.findall(r'href="([^"]*)"', rendered)
    assert hrefs == ["https://city.example.org/plan"]


def test_base_href_is_not_used_for_links() -> None:
    page = (FIXTURES / "jsonld.html").read_text(encoding="utf-8")
    page = page.replace("<head>", '<head><base href="https://evil.example.net/">')
    text = body_text(extract_html(page))
    assert "evil.example" not in text
    assert "(https://www.harborgazette.example.org/reports/breakwater.pdf)" in text


def test_url_argument_wins_and_resolves_links() -> None:
    page = (FIXTURES / "jsonld.html").read_text(encoding="utf-8")
    found = extract_html(page, url="https://mirror.example.com/a/b.html")
    assert found.url == "https://mirror.example.com/a/b.html"
    assert found.origins["url"] == "argument"
    assert "(https://mirror.example.com/reports/breakwater.pdf)" in body_text(found)


class _Model:
    """A stand-in boilerplate model: drops one known line."""

    repeated: frozenset[str] = frozenset()

    def is_boilerplate(self, line: str) -> bool:
        return line.startswith("Passengers on the first journey")


def test_boilerplate_model_drops_blocks() -> None:
    page = (FIXTURES / "opengraph.html").read_text(encoding="utf-8")
    found = extract_html(page, boilerplate=_Model())  # type: ignore[arg-type]
    assert len(found.body) == 3
    assert "Passengers" not in body_text(found)


@pytest.mark.parametrize(
    ("raw", "publisher", "persons", "orgs"),
    [
        (["By Jane Doe and John Roe"], None, ("Jane Doe", "John Roe"), ()),
        (["Jane Doe, Senior Reporter | Follow"], None, ("Jane Doe",), ()),
        (["By Nathan Willis March 25, 2015"], None, ("Nathan Willis",), ()),
        (["Email the author"], None, (), ()),
        (["Associated Press"], None, (), ("Associated Press",)),
        (["Metro Daily"], "Metro Daily", (), ("Metro Daily",)),
        (
            ["Par Martin Dupont (avec Léa Roux et Paul Petit)"],
            None,
            ("Martin Dupont", "Léa Roux", "Paul Petit"),
            (),
        ),
        (["Written by Rob Smith Edited by Ann Lee"], None, ("Rob Smith",), ()),
        (["Nelson D. Schwartz"], None, ("Nelson D. Schwartz",), ()),
        (["https://example.com/author/jane", "@jane"], None, (), ()),
    ],
)
def test_clean_names(
    raw: list[str], publisher: str | None, persons: tuple[str, ...], orgs: tuple[str, ...]
) -> None:
    assert clean_names(raw, publisher) == (persons, orgs)


def test_parse_date_keeps_local_day_and_refuses_nonsense() -> None:
    assert parse_date("2015-07-24T05:36:09+01:00") == dt.datetime(
        2015, 7, 24, 5, 36, 9, tzinfo=dt.timezone(dt.timedelta(hours=1))
    )
    assert parse_date("2024-06-25") == dt.date(2024, 6, 25)
    assert parse_date("20170223") == dt.date(2017, 2, 23)
    assert parse_date("1066-10-14") is None
    assert parse_date("2020-13-45") is None
    assert parse_date("© 2023") is None


def test_title_site_suffix_and_helpers() -> None:
    assert strip_site("How to Build a Terrarium | eHow", ["eHow"]) == "How to Build a Terrarium"
    assert strip_site("A - B - The New York Times", ["The New York Times"]) == "A - B"
    assert strip_site("Mozilla - Wikipedia", [], guess=True) == "Mozilla - Wikipedia"
    assert hostname("https://money.cnn.com/x") == "cnn.com"
    assert hostname("https://www.bbc.co.uk/news") == "bbc.co.uk"
    assert hostname("javascript:alert(1)") is None
    assert bcp47("en_us") == "en-US" and bcp47("zh-hant") == "zh-Hant" and bcp47("??") is None
    assert safe_url("https://a.example/x") == "https://a.example/x"
    assert safe_url("javascript:alert(1)") is None and safe_url("data:text/html,x") is None


def test_devset_sample_scores() -> None:
    """A few real pages from the dev set come out with the right metadata."""
    pages = DEVSET / "html"
    if not pages.is_dir():
        pytest.skip(f"dev set not found at {DEVSET} (it ships beside the repository)")
    found = extract_html((pages / "aclu.html").read_text(encoding="utf-8"))
    assert found.authors == ("Daniel Kahn Gillmor",)
    assert found.published is not None and found.published.isoformat().startswith("2018-04-0")
    assert len(body_text(found)) > 3000


IMAGES_BODY = [
    "[The glacier tongue in August, seen from the north ridge.]"
    '(https://alpinepost.example.com/media/glacier-2024.jpg "Image")',
    "Survey flights over the valley this summer show that the glacier has lost another forty "
    "metres of length since last year, the regional survey office said on Friday.",
    "The office has photographed the glacier from the same flight path every August since 1994, "
    "which lets its staff compare the pictures frame by frame.",
    "[Image: The same view in 1994](https://images.example.org/archive/1994.jpg)",
    "Comparing the photographs shows the tongue has retreated by more than a kilometre in thirty "
    "years, and that the retreat has sped up in the last decade.",
    "Image: A chart of the length",  # javascript: src: the alt text only
    "Image: A map of the valley",  # data: src: the alt text only
    "[Image: Meltwater streams below the tongue](https://images.example.org/melt-1280.jpg)",
    "Meltwater now forms a lake below the tongue that did not exist when the flights began, and "
    "hikers are warned to keep away from its unstable shores.",
    r"[Image: &lt;script>alert(1)&lt;/script> the hut\](javascript:alert(2))]"
    "(https://images.example.org/hut.jpg)",
    "The survey office will publish the full set of pictures in an online archive next spring, "
    "together with measurements from the ground.",
]


def test_images_become_links_with_alt_text_or_captions() -> None:
    """Images are links (never ![..]), placed where they stood; decorative ones are dropped."""
    found = load("images.html")
    assert list(found.body) == IMAGES_BODY
    text = body_text(found)
    assert "![" not in text
    for gone in ("logo", "p.gif", "pixel", "decor.jpg", "eva.jpg", "other.jpg", "Another story"):
        assert gone not in text


def test_images_render_as_links_and_never_as_img(tmp_path: Path) -> None:
    """The article page built from an extracted page has no <img>, and only http(s) links."""
    found = load("images.html")
    article = found.to_article("glacier", source_file="images.html", source_sha256="0" * 64)
    settings = Settings(root=tmp_path)  # type: ignore[call-arg]
    specs = plan_pages(
        build_archive([article]), settings, html_of=lambda a: render_markdown(a.body)
    )
    env = make_environment(settings)
    page = next(spec for spec in specs if spec.path.startswith("articles/"))
    rendered = render_page(env, page).decode("utf-8")
    assert "The glacier tongue in August" in rendered
    tree = lxml.html.fromstring(rendered)
    assert tree.xpath("//img") == []
    assert tree.xpath("//*[@src][ancestor::main or ancestor::article]") == []
    hrefs = [a.get("href") for a in tree.xpath("//a[contains(@href, 'example.org')]")]
    assert hrefs == [
        "https://images.example.org/archive/1994.jpg",
        "https://images.example.org/melt-1280.jpg",
        "https://images.example.org/hut.jpg",
    ]
    assert "javascript:" not in rendered.replace("javascript:alert(2))", "")
    assert "<script>alert" not in rendered


def _img(markup: str, url: str | None = "https://news.example.com/a/story.html") -> str | None:
    """image_markdown of the first <img> in a snippet."""
    tree = lxml.html.fromstring(f"<div>{markup}</div>")
    found = image_markdown(tree.xpath("//img")[0], url)
    return found[0] if found else None


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ('<img src="pic.jpg" alt="A boat">', "[Image: A boat](https://news.example.com/a/pic.jpg)"),
        (
            '<img src="//cdn.example.com/b.jpg" alt="B">',
            "[Image: B](https://cdn.example.com/b.jpg)",
        ),
        ('<img src="javascript:alert(1)" alt="A boat">', "Image: A boat"),
        ('<img src="data:image/png;base64,AAAA" alt="A boat">', "Image: A boat"),
        ('<img src="vbscript:x" srcset="javascript:y 2x" alt="A boat">', "Image: A boat"),
        ('<img src="https://t.example.net/pixel.gif" alt="x y">', None),
        ('<img src="https://a.example/1.gif" width="1" height="1" alt="Tracking">', None),
        ('<img src="https://a.example/b.jpg" alt="">', None),
        ('<img src="https://a.example/b.jpg">', None),
        ('<img src="https://a.example/b.jpg" alt="A boat" aria-hidden="true">', None),
        ('<img src="https://a.example/b.jpg" alt="DSC_0042.JPG">', None),
        ('<img class="avatar" src="https://a.example/b.jpg" alt="Jane Doe">', None),
        ('<img src="https://a.example/icons/share.png" alt="Share on X">', None),
        ('<a href="/other-story"><img src="https://a.example/b.jpg" alt="Teaser"></a>', None),
        (
            '<a href="https://a.example/big.jpg"><img src="https://a.example/b.jpg" alt="Z"></a>',
            "[Image: Z](https://a.example/b.jpg)",
        ),
        (
            '<img srcset="s.jpg 320w, l.jpg 1024w, m.jpg 640w" alt="Srcset only">',
            "[Image: Srcset only](https://news.example.com/a/l.jpg)",
        ),
        (
            '<picture><source srcset="https://a.example/p.webp 1x, https://a.example/p2.webp 2x">'
            '<img src="data:image/gif;base64,R0lG" alt="In a picture"></picture>',
            "[Image: In a picture](https://a.example/p2.webp)",
        ),
        (
            '<span><img src="data:image/gif;base64,R0lG" alt="Lazy"></span>'
            '<noscript><img src="https://a.example/real.jpg" alt="Lazy"></noscript>',
            "[Image: Lazy](https://a.example/real.jpg)",
        ),
        (
            '<img src="https://a.example/(b).jpg" alt="Paren [x] *y*">',
            r"[Image: Paren \[x\] \*y\*](https://a.example/%28b%29.jpg)",
        ),
    ],
)
def test_image_markdown(markup: str, expected: str | None) -> None:
    assert _img(markup) == expected


def test_relative_image_without_page_url_keeps_alt_text_only() -> None:
    assert _img('<img src="pic.jpg" alt="A boat">', None) == "Image: A boat"
    assert _img('<img src="pic.jpg" alt="">', None) is None


def test_devset_figure_captions_are_kept() -> None:
    """Captions of a real page come back, each linked to its image."""
    page = DEVSET / "html" / "ehow-1.html"
    if not page.is_file():
        pytest.skip(f"dev set not found at {DEVSET} (it ships beside the repository)")
    text = body_text(extract_html(page.read_text(encoding="utf-8")))
    assert re.search(r"^\[Glass cloche terrariums \(Lucy Akins\)\]\(http://\S+\.jpg", text, re.M)
    assert "![" not in text
