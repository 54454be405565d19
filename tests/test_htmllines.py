"""Cross-document boilerplate from saved HTML pages: site-keyed visible lines, end to end."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner

from archiver.cli import cli
from archiver.content import content_files, read_article
from archiver.ingest.htmllines import (
    SITE_SEP,
    drop_repeated,
    page_keys,
    plain_line,
    site_of,
    visible_text,
)

PROMO = "Support independent local journalism: become a member of the Courier today."
STORIES = {
    "trains": (
        "Night trains return to the valley",
        "The sleeper service between the two cities returned to the timetable on Friday after "
        "an absence of twenty years, with the first train leaving shortly before midnight.",
        "Rail officials said bookings for the first month were already close to full, and a "
        "second weekly departure could be added in the summer if demand held up.",
    ),
    "bridge": (
        "Old bridge reopens after two years of repairs",
        "The stone bridge over the river reopened to walkers and cyclists on Monday after two "
        "years of repairs that cost more than the council had first budgeted for the work.",
        "Engineers replaced the crumbling parapets and strengthened the arches, and the deck "
        "was resurfaced with granite setts taken from the old market square last spring.",
    ),
    "library": (
        "Library extends opening hours for exam season",
        "The central library will stay open until ten in the evening for the six weeks of the "
        "exam season, the council announced, after students asked for more quiet places.",
        "Extra staff have been hired for the late shifts, and the café on the ground floor will "
        "serve hot drinks until nine, a spokeswoman for the library service said on Tuesday.",
    ),
    "market": (
        "Farmers market moves to the harbour front",
        "The weekly farmers market is moving from the car park behind the town hall to the "
        "harbour front, where stallholders say they expect twice as many visitors in summer.",
        "The move follows a survey of shoppers in which most said they would visit more often "
        "if the market were closer to the ferry terminal and the new cycle path along the quay.",
    ),
}


def page(site: str, slug: str, promo: str = PROMO) -> str:
    """A saved article page whose promo box sits inside the article, where extractors keep it."""
    title, first, second = STORIES[slug]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - Courier</title>
<link rel="canonical" href="https://www.{site}/news/{slug}">
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="2023-05-0{len(slug)}T08:00:00Z">
<script>var promo = "{promo}";</script>
</head><body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
<main><article><h1>{title}</h1>
<p>{first}</p>
<p><strong>{promo}</strong></p>
<p>{second}</p>
</article></main>
<footer><p>Contact the newsroom</p></footer></body></html>
"""


def ingest(inputs: Path, root: Path) -> None:
    """Run `archiver ingest` on a folder from an archive root."""
    old = os.getcwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(cli, ["ingest", str(inputs)], catch_exceptions=False)
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output


def bodies(root: Path) -> dict[str, str]:
    """Each ingested article's body by title."""
    found = {}
    for path in content_files(root / "content"):
        article = read_article(path)
        found[article.title] = article.body
    return found


def test_visible_text_skips_hidden_parts_and_splits_blocks() -> None:
    text = visible_text(page("courier.example", "trains"))
    lines = [line for line in text.split("\n") if line]
    assert lines[:3] == ["Home News", "Night trains return to the valley", STORIES["trains"][1]]
    assert lines[3] == PROMO
    assert "var promo" not in text and "- Courier" not in text  # script and <title> are hidden
    assert visible_text("<p>Fish &amp; chips<br>tonight</p>") == "\nFish & chips\ntonight"


def test_site_of_prefers_canonical_and_refuses_non_http() -> None:
    assert site_of(page("courier.example", "trains")) == "courier.example"
    og = '<meta content="https://News.Example.org/a" property="og:url">'
    assert site_of(og) == "news.example.org"
    assert site_of('<link rel="canonical" href="javascript:alert(1)">' + og) == "news.example.org"
    assert site_of("<p>no address</p>") == ""
    saved = "<!-- saved from url=(0035)https://www.courier.example/a/b -->\n<html>"
    assert site_of(saved) == "courier.example"
    assert page_keys("<p>Subscribe to our newsletter</p>") == ()  # no site: no evidence


def test_page_keys_are_site_prefixed_normalised_lines() -> None:
    keys = page_keys(page("courier.example", "trains"))
    promo_key = "courier.example" + SITE_SEP + PROMO.casefold()
    assert promo_key in keys
    assert all(key.startswith("courier.example" + SITE_SEP) for key in keys)


def test_plain_line_removes_markdown() -> None:
    assert plain_line("**Sign up** for [our newsletter](https://x.example/n)") == (
        "Sign up for our newsletter"
    )
    assert plain_line("- Read more: *the full story*") == "Read more: the full story"
    assert plain_line("## Fish &amp; chips") == "Fish & chips"


def test_drop_repeated_keeps_pages_it_would_empty() -> None:
    long = "A long paragraph of the article that another page of the batch also carries. " * 2
    repeated = {"s" + SITE_SEP + "promo", "s" + SITE_SEP + " ".join(long.casefold().split())}
    assert drop_repeated(["promo", "story text"], "s", repeated) == ["story text"]
    assert drop_repeated(["promo", "story text"], "other", repeated) == ["promo", "story text"]
    assert drop_repeated([long, "promo"], "s", repeated) == [long, "promo"]  # a re-scrape
    assert drop_repeated(["promo", "story"], "", repeated) == ["promo", "story"]  # no site


def test_code_tables_and_punctuation_are_never_dropped() -> None:
    keys = ("}", "| a | b |", "a b", "return x", "see also")
    repeated = {"s" + SITE_SEP + key for key in keys}
    blocks = ["```\nreturn x\n```", "```js\nf()\n", "return x\n}\n```", "}", "| a | b |"]
    blocks += ["## See also", "story"]
    assert drop_repeated(blocks, "s", repeated) == blocks
    assert drop_repeated(["return x", "story"], "s", repeated) == ["story"]


def test_batch_drops_a_line_repeated_on_three_pages_of_one_site(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for slug in ("trains", "bridge", "library"):
        (inputs / f"courier-{slug}.html").write_text(page("courier.example", slug), "utf-8")
    (inputs / "other-market.html").write_text(page("gazette.example", "market"), "utf-8")
    root = tmp_path / "archive"
    root.mkdir()
    ingest(inputs, root)
    found = bodies(root)
    assert len(found) == 4
    for slug in ("trains", "bridge", "library"):
        title, first, second = STORIES[slug]
        assert found[title] == f"{first}\n\n{second}\n"  # golden: the promo is gone
    market = found[STORIES["market"][0]]
    assert PROMO in market  # another site's page keeps it: one page is no evidence


def test_a_single_page_keeps_its_promo_line(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "one.html").write_text(page("courier.example", "trains"), "utf-8")
    root = tmp_path / "archive"
    root.mkdir()
    ingest(inputs, root)
    assert PROMO in bodies(root)[STORIES["trains"][0]]


def test_evidence_persists_across_batches(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    root.mkdir()
    for slug in ("trains", "bridge", "library"):
        batch = tmp_path / f"in-{slug}"
        batch.mkdir()
        (batch / f"{slug}.html").write_text(page("courier.example", slug), "utf-8")
        ingest(batch, root)
    batch = tmp_path / "in-market"
    batch.mkdir()
    (batch / "market.html").write_text(page("courier.example", "market"), "utf-8")
    ingest(batch, root)
    found = bodies(root)
    assert PROMO not in found[STORIES["market"][0]]  # the archive already saw it three times
    assert PROMO in found[STORIES["trains"][0]]  # earlier articles are never rewritten
