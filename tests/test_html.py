"""Golden tests for saved-HTML extraction (archiver.ingest.html) on pages written for us."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import markdown
import pytest

from archiver.errors import NotAnArticleError
from archiver.ingest.decode import declared_charset
from archiver.ingest.html import extract_html, repair_mojibake
from archiver.ingest.htmlchoose import bcp47, hostname, strip_site
from archiver.ingest.htmlmeta import parse_date
from archiver.ingest.htmlnames import clean_names
from archiver.ingest.htmlurls import safe_url
from archiver.model import Extracted

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
