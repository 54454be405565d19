"""CSL-JSON citation data for the "Cite this" block of article pages."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from archiver.cite import citation_text, csl_json, csl_json_text, csl_name
from archiver.config import Settings
from archiver.model import Article

ARTICLE = Article(
    title="Blinken: US has 'real concerns' about Russia-North Korea partnership",
    slug="blinken-us-has-real-concerns",
    body="Text.\n",
    summary="Secretary of State Antony Blinken says ...",
    published=dt.datetime(2023, 11, 9, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    archived=dt.datetime(2026, 11, 28, 14, 45, tzinfo=dt.UTC),
    source="Fox News",
    authors=("Chris Pandolfo", "Timothy H.J. Nerozzi"),
    url="https://www.foxnews.com/politics/blinken",
    tags=("Antony Blinken", "North Korea"),
)


def test_csl_json_golden() -> None:
    settings = Settings(base_url="https://archive.example.org/news/", title="My Archive")
    assert csl_json(ARTICLE, settings) == {
        "id": "blinken-us-has-real-concerns",
        "type": "article-newspaper",
        "title": "Blinken: US has 'real concerns' about Russia-North Korea partnership",
        "container-title": "Fox News",
        "publisher": "Fox News",
        "author": [
            {"family": "Pandolfo", "given": "Chris"},
            {"family": "Nerozzi", "given": "Timothy H.J."},
        ],
        "issued": {"date-parts": [[2023, 11, 9]]},
        "accessed": {"date-parts": [[2026, 11, 28]]},
        "URL": "https://www.foxnews.com/politics/blinken",
        "abstract": "Secretary of State Antony Blinken says ...",
        "language": "en",
        "keyword": "Antony Blinken, North Korea",
        "archive": "My Archive",
        "archive_location": "https://archive.example.org/news/articles/blinken-us-has-real-concerns.html",
    }


def test_minimal_article_has_no_invented_fields() -> None:
    article = Article(title="Untitled note", slug="note", body="x\n")
    assert csl_json(article, Settings(language="")) == {
        "id": "note",
        "type": "article-newspaper",
        "title": "Untitled note",
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Chris Pandolfo", {"family": "Pandolfo", "given": "Chris"}),
        ("Ludwig van Beethoven", {"family": "van Beethoven", "given": "Ludwig"}),
        ("Martin Luther King Jr.", {"family": "King", "given": "Martin Luther", "suffix": "Jr."}),
        ("The Associated Press", {"literal": "The Associated Press"}),
        ("Reuters", {"literal": "Reuters"}),
    ],
)
def test_csl_name(name: str, expected: dict[str, str]) -> None:
    assert csl_name(name) == expected


def test_script_text_cannot_close_the_script_element() -> None:
    hostile = Article(title="</script><script>alert(1)</script> & more", slug="x", body="b\n")
    text = csl_json_text(hostile, Settings())
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text)[0]["title"] == hostile.title


def test_citation_text() -> None:
    assert citation_text(ARTICLE, Settings()) == (
        "Pandolfo, C., & Nerozzi, T. H. J. (2023-11-09). Blinken: US has 'real concerns' about "
        "Russia-North Korea partnership. Fox News. https://www.foxnews.com/politics/blinken"
    )
