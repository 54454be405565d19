"""Terminal search (archiver.search.query.search) against a real index built from articles."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from archiver.config import Settings
from archiver.model import Article
from archiver.report import SilentReporter
from archiver.search.index import IndexMissingError, update_index
from archiver.search.query import Hit, QuerySyntaxError, search, snippet


def sample_articles() -> list[Article]:
    """A handful of articles with distinct words, tags, sources and dates."""
    return [
        Article(
            title="Volcano erupts near Reykjavik",
            slug="volcano-erupts",
            body="Lava flows reached the **coastal** road. Scientists measured sulphur.",
            summary="An eruption in Iceland.",
            published=dt.date(2023, 11, 10),
            source="Nordic Wire",
            authors=("Anna Jónsdóttir",),
            tags=("Iceland", "Volcanoes"),
        ),
        Article(
            title="Central bank raises interest rates",
            slug="bank-rates",
            body="The central bank raised rates to fight inflation. Markets fell sharply.",
            published=dt.datetime(2022, 5, 4, 9, 30, tzinfo=dt.UTC),
            source="Money Daily",
            authors=("Piet de Vries",),
            tags=("Economy", "Inflation"),
        ),
        Article(
            title="Football final ends in penalties",
            slug="football-final",
            body="The final went to penalties after extra time. Fans celebrated in the streets.",
            published=dt.date(2021, 7, 11),
            source="Sport Now",
            tags=("Football",),
        ),
    ]


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """An archive folder with an index of the sample articles."""
    root = tmp_path_factory.mktemp("archive")
    settings = Settings(root=root)
    update_index(
        settings,
        sample_articles(),
        changed=set(),
        deleted=set(),
        clean=True,
        reporter=SilentReporter(),
    )
    return settings


def slugs(hits: list[Hit]) -> list[str]:
    """The slugs of hits, in order."""
    return [h.slug for h in hits]


def test_word_search_returns_hit_with_path_date_source_and_snippet(settings: Settings) -> None:
    (hit,) = search(settings, "lava")
    assert hit.slug == "volcano-erupts"
    assert hit.title == "Volcano erupts near Reykjavik"
    assert hit.path == "articles/volcano-erupts.html"
    assert hit.published == dt.date(2023, 11, 10)
    assert hit.source == "Nordic Wire"
    assert ("Lava", True) in hit.snippet
    assert hit.snippet_text() == "Lava flows reached the coastal road. Scientists measured sulphur."
    assert hit.snippet_text(lambda t: f"[{t}]").startswith("[Lava] flows")
    assert hit.to_json()["matches"] == ["Lava"]


def test_stemming_and_accent_folding(settings: Settings) -> None:
    assert slugs(search(settings, "raising rate")) == ["bank-rates"]
    assert slugs(search(settings, "jonsdottir")) == ["volcano-erupts"]
    assert slugs(search(settings, "Reykjavík")) == ["volcano-erupts"]


def test_query_language(settings: Settings) -> None:
    assert slugs(search(settings, '"extra time"')) == ["football-final"]
    assert search(settings, '"time extra"') == []
    assert slugs(search(settings, "penalties OR inflation", sort="date")) == [
        "bank-rates",
        "football-final",
    ]
    assert slugs(search(settings, "final NOT penalties")) == []
    assert slugs(search(settings, "tag:inflation")) == ["bank-rates"]
    assert slugs(search(settings, 'source:"money daily"')) == ["bank-rates"]
    assert slugs(search(settings, "title:volcano")) == ["volcano-erupts"]
    assert slugs(search(settings, "celebr*")) == ["football-final"]
    assert slugs(search(settings, "penaltise~")) == ["football-final"]


def test_filters(settings: Settings) -> None:
    everything = "the OR lava OR bank OR final"
    assert slugs(search(settings, everything, tag="ECONOMY")) == ["bank-rates"]
    assert slugs(search(settings, everything, source="sport now")) == ["football-final"]
    assert slugs(search(settings, everything, author="de vries")) == ["bank-rates"]
    since = search(settings, everything, since=dt.date(2022, 1, 1), sort="date")
    assert slugs(since) == ["volcano-erupts", "bank-rates"]
    until = search(settings, everything, until=dt.date(2022, 5, 4))
    assert set(slugs(until)) == {"bank-rates", "football-final"}
    assert len(search(settings, everything, limit=1)) == 1


def test_title_match_outranks_body_match(settings: Settings) -> None:
    assert slugs(search(settings, "final"))[0] == "football-final"


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ('"unclosed phrase', "unbalanced double quote"),
        ("(lava", "unbalanced parenthesis"),
        ("colour:red", "unknown field 'colour:'"),
        ("   ", "empty query"),
        ("the", "nothing to search for"),
    ],
)
def test_syntax_errors_are_one_line(settings: Settings, query: str, reason: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        search(settings, query)
    assert reason in caught.value.message
    assert "\n" not in caught.value.message


def test_bad_sort_and_missing_index(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(QuerySyntaxError):
        search(settings, "lava", sort="title")
    with pytest.raises(IndexMissingError, match="run 'archiver build' first"):
        search(Settings(root=tmp_path), "lava")


def test_snippet_window_marks_words_and_cuts_long_text() -> None:
    text = ("filler words here " * 30) + "the zebra crossed " + ("more filler " * 40)
    parts = snippet(text, frozenset({"zebra"}), width=80)
    assert parts[0] == ("…", False) and parts[-1] == ("…", False)
    assert ("zebra", True) in parts
    assert len("".join(t for t, _ in parts)) <= 90
