"""Bylines, credit lines, publishers, stated dates and URLs in page text."""

from __future__ import annotations

import datetime as dt

import pytest

from archiver.ingest.byline import (
    clean_authors,
    parse_byline,
    parse_credit_line,
    source_from_copyright,
)
from archiver.ingest.metadata import find_url, is_date_line, parse_date

EST = dt.timezone(dt.timedelta(hours=-5))
EDT = dt.timezone(dt.timedelta(hours=-4))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Published December 19, 2024 6:24pm EST", dt.datetime(2024, 12, 19, 18, 24, tzinfo=EST)),
        (
            "Published 6:24 PM EST, Thu December 19, 2024",
            dt.datetime(2024, 12, 19, 18, 24, tzinfo=EST),
        ),
        ("Updated on: 2024-12-19 23:24 UTC", dt.datetime(2024, 12, 19, 23, 24, tzinfo=dt.UTC)),
        ("July 4, 2023 · 9:05 AM ET", dt.datetime(2023, 7, 4, 9, 5, tzinfo=EDT)),
        ("24 July 2015", dt.date(2015, 7, 24)),
        ("By JEFFREY GETTLEMAN JAN. 13, 2017", dt.date(2017, 1, 13)),
        ("Publié le 14 mars 2023 à 21h15", dt.datetime(2023, 3, 14, 21, 15)),
        ("19 de diciembre de 2024", dt.date(2024, 12, 19)),
        ("Veröffentlicht am 9. Januar 2024", dt.date(2024, 1, 9)),
        ("04.05.2015", dt.date(2015, 5, 4)),
        ("No date here, only 42 numbers", None),
        ("February 30, 2020", None),
    ],
)
def test_parse_date(text: str, expected: dt.date | None) -> None:
    assert parse_date(text) == expected


def test_is_date_line() -> None:
    assert is_date_line("Published December 19, 2024 6:24pm EST")
    assert is_date_line("Updated on: 2024-12-19 23:24 UTC")
    assert not is_date_line(
        "The council said on December 19, 2024 that the river plan would go ahead."
    )


MONTH_TRAPS = [
    "Published December 19, 2024 6:24pm EST",
    "2024-01-05 10:00 amjan. 5, 2024",  # the ISO date's 'am' leaves 'jan.' behind it
    "2024-01-05 10:00 pmdecember 5 2023 at 9:00",
    "Updated 3 March 2021 at 10:00 amjune 4, 2020",
    "Posted 05.03.2021 - 4th of July 2019",
    "The 2024 election results are in for the county",
    "Copyright 2023 Metro Daily Inc. All rights reserved.",
    "MAY 5, 2024",
    "xmay 5, 2024",
    "Août 2024, le 5 août 2024",
    "19 de diciembre de 2024",
    "3rd Sept. 2022",
    "Sept2022 5, 2022",
]


@pytest.mark.parametrize("text", MONTH_TRAPS)
def test_month_prefilter_changes_no_result(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Skipping the month-name patterns for ASCII lines without a month word gives the results
    of trying every pattern (strip_dates checks again after each substitution)."""
    from archiver.ingest import metadata

    fast = (parse_date(text), metadata.strip_dates(text), is_date_line.__wrapped__(text))
    monkeypatch.setattr(metadata, "_may_name_month", lambda _text: True)
    full = (parse_date(text), metadata.strip_dates(text), is_date_line.__wrapped__(text))
    assert fast == full


def test_month_prefilter() -> None:
    from archiver.ingest.metadata import _may_name_month

    assert _may_name_month("Updated Jan. 5")
    assert _may_name_month("5 août 2024")  # not ASCII: always tried
    assert not _may_name_month("Posted 2024-01-05 10:00 am")
    assert not _may_name_month("Mayor Marcher said 2024 was good")  # no whole month word
    assert _may_name_month("x-june")


def test_credit_line_splits_authors_credits_and_source() -> None:
    credit = parse_credit_line(
        "Fox News\u2019 Chris Pandolfo, Timothy H.J. Nerozzi and The Associated Press "
        "contributed to this report. "
    )
    assert credit is not None
    assert credit.authors == ("Chris Pandolfo", "Timothy H.J. Nerozzi")
    assert credit.credits == ("The Associated Press",)
    assert credit.source == "Fox News"
    other = parse_credit_line("Ana Lopez and Bo Li contributed reporting from Lagos.")
    assert other is not None and other.authors == ("Ana Lopez", "Bo Li") and other.source is None
    assert parse_credit_line("The minister said the plan would go ahead.") is None


@pytest.mark.parametrize(
    ("line", "authors", "source"),
    [
        ("By Ana Lopez and Bo Li | Channel 9 News", ("Ana Lopez", "Bo Li"), "Channel 9 News"),
        ("By JEFFREY GETTLEMAN JAN. 13, 2017", ("Jeffrey Gettleman",), None),
        ("Par Camille Dupont et Julien Moreau", ("Camille Dupont", "Julien Moreau"), None),
        ("Von Anna Schmidt", ("Anna Schmidt",), None),
        ("By Jane Roe, Senior Reporter", ("Jane Roe",), None),
    ],
)
def test_parse_byline(line: str, authors: tuple[str, ...], source: str | None) -> None:
    credit = parse_byline(line)
    assert credit is not None
    assert credit.authors == authors
    assert credit.source == source


def test_bare_names_only_when_asked() -> None:
    assert parse_byline("Ana Lopez and Grace B. M. Singh") is None
    credit = parse_byline("Ana Lopez and Grace B. M. Singh", bare_names=True)
    assert credit is not None and credit.authors == ("Ana Lopez", "Grace B. M. Singh")
    assert parse_byline("The river rose again.", bare_names=True) is None


def test_clean_authors_separates_organisations() -> None:
    persons, orgs = clean_authors(["By Jane Roe and Reuters", "John Smith; AP Staff"])
    assert persons == ["Jane Roe", "John Smith"]
    assert orgs == ["Reuters", "AP Staff"]


def test_url_and_copyright_source() -> None:
    lines = ["Menu", "https://example.org", "https://example.org/news/2024/river-plan", "Text."]
    assert find_url(lines) == "https://example.org/news/2024/river-plan"
    assert find_url(["Data & News supplied by www.cloudquote.io"]) is None
    assert source_from_copyright("© 2024 Metro Daily. All rights reserved.") == "Metro Daily"
    assert (
        source_from_copyright("Copyright 2024 The Associated Press. All rights reserved.") is None
    )


def test_byline_credentials_and_reviewers() -> None:
    from archiver.ingest.metadata import without_dates

    credit = parse_byline("By Brenda Goodman, MA")
    assert credit is not None and credit.authors == ("Brenda Goodman",)
    assert parse_byline("Medically Reviewed by Hansa D. Bhargava, MD") is None
    assert parse_byline("Edited by Betsy Beyer") is None
    credit = parse_byline("// By Arun Sai Krishnan • Nov 11, 2020")
    assert credit is not None and credit.authors == ("Arun Sai Krishnan",)
    assert without_dates("Sarah Gooding March 9, 2017 13") == "Sarah Gooding"


def test_places_and_headlines_are_not_bare_names() -> None:
    from archiver.ingest.byline import is_not_person

    for phrase in ("Middle East", "São Paulo", "United States", "On Recent Controversial Events"):
        assert is_not_person(phrase), phrase
        assert parse_byline(phrase, bare_names=True) is None, phrase
    for name in ("Mark Di Stefano", "Jean de La Fontaine", "Dan Goodin", "Jack Ma"):
        assert not is_not_person(name), name
    persons, _ = clean_authors(["By Middle East and Ana Lopez"])
    assert persons == ["Ana Lopez"]


@pytest.mark.parametrize(
    ("line", "authors"),
    [
        ("By ANNA KOWALSKA Morning Radio Show", ("Anna Kowalska",)),
        ("by Pedro Alves14 Mar 2019212", ("Pedro Alves",)),
        ("By Ana Lopez March 18 at 3:57 PM Follow @analopez", ("Ana Lopez",)),
        ("by Ana Lopez (reporting) and Bo Li (photography)", ("Ana Lopez",)),
        (
            "Par Claire Martin (avec Paul Roux et Léa Petit)",
            ("Claire Martin", "Paul Roux", "Léa Petit"),
        ),
        (
            "By Ana Maria Lopez, Senior Staff Technologist, Civic Speech, and Data Project",
            ("Ana Maria Lopez",),
        ),
    ],
)
def test_byline_noise_around_names(line: str, authors: tuple[str, ...]) -> None:
    credit = parse_byline(line)
    assert credit is not None and credit.authors == authors


def test_bare_names_with_times_handles_and_initials() -> None:
    from archiver.ingest.metadata import without_dates

    for line, name in (
        ("Ana Lopez 1 day ago", "Ana Lopez"),
        ("Bo Li • 8h", "Bo Li"),
        ("Carla Ruiz, @carlaruiz", "Carla Ruiz"),
        ("Richard (R.J.) Roe", "Richard Roe"),
    ):
        credit = parse_byline(without_dates(line), bare_names=True)
        assert credit is not None and credit.authors == (name,), line
    for chrome in ("Today’s Paper", "Resize Text"):
        assert parse_byline(chrome, bare_names=True) is None


def test_parse_bio() -> None:
    from archiver.ingest.byline import parse_bio

    credit = parse_bio("Tomas Novak is a staff reporter covering city hall and transport.")
    assert credit is not None and credit.authors == ("Tomas novak".title(),)
    assert parse_bio("New York is a city of writers and editors.") is None
    assert parse_bio("The plan is a reporter's dream.") is None


@pytest.mark.parametrize("line", ["Published ſept. 5, 2024", "ſeptember 5, 2024 6:24pm EST"])
def test_a_month_name_matched_only_case_insensitively_is_no_date_and_no_crash(line: str) -> None:
    """The long s folds to "s" in a case-insensitive match, but "ſept" names no month."""
    assert parse_date(line) is None
    assert parse_date(line.replace("ſ", "S")) is not None
