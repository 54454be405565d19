"""The content store: front matter round trips, compatibility, slugs, safe paths."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from archiver import content
from archiver.content import (
    allocate_slug,
    load_articles,
    parse_article,
    serialise,
    store_original,
)
from archiver.errors import ContentError, UnsafePathError
from archiver.ingest.frontmatter import fast_front
from archiver.model import Article, DateLike
from archiver.paths import safe_join

HOSTILE = [
    "</script><script>alert(1)</script>",
    "Title: with colon # and hash",
    "'single' \"double\" --- yaml: [x, y] {a: b} & *ref !tag",
    "../../etc/passwd",
    "- leading dash",
    "null",
    "yes",
    "2024-01-01",
]


@pytest.mark.parametrize("title", HOSTILE)
def test_hostile_titles_round_trip(title: str) -> None:
    article = Article(
        title=title,
        slug=allocate_slug(title, set()),
        body="Body.\n",
        tags=(title,),
        authors=("O'Brien",),
        summary=title,
    )
    back = parse_article(serialise(article))
    assert back.title == title
    assert back.summary == title
    assert back.tags == (title,)
    assert "/" not in back.slug and ".." not in back.slug


def test_full_round_trip() -> None:
    article = Article(
        title="T",
        slug="t",
        body="One.\n\nTwo.\n",
        summary="S",
        published=dt.date(2024, 12, 19),
        archived=dt.datetime(2026, 11, 28, 14, 45, tzinfo=dt.UTC),
        source="Fox News",
        authors=("A B",),
        credits=("The Associated Press",),
        url="https://x.y/z",
        tags=("North Korea",),
        language="en",
        source_file="a.txt",
        source_sha256="0" * 64,
        also_seen=("b.txt",),
        extracted={"published": "json-ld"},
        extra={"note": "kept"},
    )
    back = parse_article(serialise(article))
    assert back.published == dt.date(2024, 12, 19)
    assert back.archived == article.archived
    assert back.extra == {"note": "kept"}
    assert serialise(back) == serialise(article)


def test_jekyll_and_hugo_and_pelican_styles() -> None:
    jekyll = parse_article(
        "---\ntitle: J\ndate: 2023-05-01 10:00:00 +0000\ntags: a, b\nauthor: Jane Roe\n---\nBody\n",
        Path("2023-05-01-my-post.md"),
    )
    assert jekyll.slug == "my-post" and jekyll.tags == ("a", "b")
    assert jekyll.authors == ("Jane Roe",) and jekyll.published is not None
    hugo = parse_article('+++\ntitle = "H"\ndate = 2022-01-02\ntags = ["x"]\n+++\nBody\n')
    assert hugo.title == "H" and hugo.tags == ("x",)
    pelican = parse_article("Title: P\nDate: 2021-03-04\nTags: one, two\n\nBody\n")
    assert pelican.title == "P" and pelican.tags == ("one", "two")


def test_a_jekyll_or_pelican_file_name_dates_an_undated_article() -> None:
    named = Path("posts/2021-03-04-my-post.md")
    assert parse_article("---\ntitle: T\n---\nBody\n", named).published == dt.date(2021, 3, 4)
    dated = parse_article("---\ntitle: T\ndate: 2020-01-02\n---\nBody\n", named)
    assert dated.published == dt.date(2020, 1, 2)  # the front matter wins
    # An article ingest wrote (it has `archived`) never gets a date it did not state.
    ingested = "---\ntitle: T\narchived: 2026-11-28T14:45:00Z\n---\nBody\n"
    assert parse_article(ingested, named).published is None
    assert parse_article("---\ntitle: T\n---\nB\n", Path("2021-02-30-x.md")).published is None
    assert parse_article("---\ntitle: T\n---\nB\n", Path("2021-notes.md")).published is None


def test_control_characters_are_dropped_from_every_field_and_the_body() -> None:
    article = parse_article(
        '---\ntitle: "Red \\e[31mtitle\\x07"\nsource: "S\\x9b"\ntags: ["A\\x00b", c]\n'
        'authors: ["Jane\\x1bRoe"]\n---\nBody \x1b[2J text\x7f.\n\tTabbed.\n'
    )
    assert (article.title, article.source, article.tags) == ("Red [31mtitle", "S", ("Ab", "c"))
    assert article.authors == ("JaneRoe",)
    assert article.body == "Body [2J text.\n\tTabbed.\n"


def test_a_hugo_page_bundle_is_named_by_its_folder() -> None:
    text = "---\ntitle: Same title\n---\nBody\n"
    first = parse_article(text, Path("/a/content/posts/first-trip/index.md"))
    second = parse_article(text, Path("/a/content/posts/2022-05-06-second-trip/index.md"))
    assert (first.slug, second.slug) == ("first-trip", "second-trip")
    assert second.published == dt.date(2022, 5, 6)
    assert parse_article(text, Path("index.md")).slug == "index-article"


@pytest.mark.parametrize(
    ("text", "draft"),
    [
        ("---\ntitle: T\ndraft: true\n---\nB\n", True),
        ("---\ntitle: T\ndraft: 'yes'\n---\nB\n", True),
        ('+++\ntitle = "T"\ndraft = true\n+++\nB\n', True),
        ("---\ntitle: T\npublished: false\n---\nB\n", True),
        ("Title: T\nStatus: draft\n\nB\n", True),
        ("---\ntitle: T\ndraft: false\n---\nB\n", False),
        ("---\ntitle: T\npublished: true\n---\nB\n", False),
        ("Title: T\nStatus: published\n\nB\n", False),
        ("---\ntitle: T\npublished: 2024-01-02\n---\nB\n", False),
    ],
)
def test_drafts_are_recognised_in_every_style(text: str, draft: bool) -> None:
    article = parse_article(text)
    assert content.is_draft(article) is draft
    assert article.published in (None, dt.date(2024, 1, 2))


def test_jekyll_published_false_round_trips_and_drafts_are_not_loaded(tmp_path: Path) -> None:
    text = "---\ntitle: Hidden\npublished: false\n---\nB\n"
    article = parse_article(text)
    assert content.is_draft(parse_article(serialise(article)))
    (tmp_path / "hidden.md").write_text(text)
    (tmp_path / "shown.md").write_text("---\ntitle: Shown\n---\nB\n")
    result = load_articles(tmp_path)
    assert [a.title for a in result.articles] == ["Shown"] and result.errors == ()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("---\ntitle: [unclosed\n---\nx\n", "broken YAML"),
        ("---\nsummary: s\n---\nx\n", "missing title"),
        ("---\ntitle: t\ntags: {a: 1}\n---\nx\n", "'tags' must be a list"),
        ("---\ntitle: t\npublished: someday\n---\nx\n", "'published' must be a date"),
        ("---\ntitle: t\ndate: 2024-13-45\n---\nx\n", "impossible value in the YAML"),
        ("---\ntitle: t\ndate: 0000-01-01\n---\nx\n", "year 0 is out of range"),
        ("---\ntitle: t\nx: " + "[" * 2000 + "]" * 2000 + "\n---\nx\n", "nesting"),
        ('+++\ntitle = "t"\ndate = 2024-13-45\n+++\nx\n', "broken TOML"),
        ("just text\n", "no front matter"),
        ("---\n- a\n- b\n---\n", "not a mapping"),
    ],
)
def test_bad_content_has_one_line_reason(text: str, reason: str) -> None:
    with pytest.raises(ContentError) as info:
        parse_article(text)
    assert reason in info.value.message


def test_yaml_is_loaded_safely() -> None:
    with pytest.raises(ContentError):
        parse_article("---\ntitle: !!python/object/apply:os.system ['echo hi']\n---\nx\n")


def test_slugs() -> None:
    taken: set[str] = set()
    assert allocate_slug("Hello World", taken) == "hello-world"
    assert allocate_slug("Hello, world!", taken) == "hello-world-2"
    assert allocate_slug("hello world", taken) == "hello-world-3"
    assert allocate_slug("Ünïcödé Straße", set()) == "unicode-strasse"
    assert allocate_slug("index", set()) == "index-article"
    emoji = allocate_slug("🎉🎉🎉", set())
    assert emoji.startswith("article-") and emoji == allocate_slug("🎉🎉🎉", set())
    long = allocate_slug("word " * 60, set())
    assert len(long) <= 80


def test_load_reports_bad_files_and_duplicate_slugs(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: A\nslug: same\n---\nx\n")
    (tmp_path / "b.md").write_text("---\ntitle: B\nslug: same\n---\nx\n")
    (tmp_path / "c.md").write_text("---\ntitle: [\n---\nx\n")
    (tmp_path / "d.md").write_bytes(b"---\ntitle: \xff\n---\n")
    result = load_articles(tmp_path)
    assert [a.title for a in result.articles] == ["A"]
    assert len(result.errors) == 3
    assert all(line.startswith(str(tmp_path)) for line in result.errors)
    assert any("duplicate slug 'same'" in line for line in result.errors)


def test_originals_are_kept_byte_for_byte(tmp_path: Path) -> None:
    data = b"\xff\xfe raw \x00 bytes"
    digest = store_original(tmp_path, data, ".TXT")
    assert (tmp_path / "originals" / f"{digest}.txt").read_bytes() == data


@pytest.mark.parametrize("rel", ["../x", "/etc/passwd", "a/../../b", "", "a\\b", "a/./b"])
def test_safe_join_refuses_escapes(tmp_path: Path, rel: str) -> None:
    with pytest.raises(UnsafePathError):
        safe_join(tmp_path, rel)


def test_safe_join_refuses_symlink_escape(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "link").symlink_to(tmp_path)
    with pytest.raises(UnsafePathError):
        safe_join(tmp_path / "root", "link/x.html")


# --- serialise's fast path writes exactly what PyYAML writes ---------------------------------

_PIECES = [
    "a",
    "Word",
    "x" * 40,
    "2024",
    "1.5",
    "0x1F",
    "yes",
    "No",
    "null",
    "~",
    "true",
    "=",
    "<<",
    "2024-01-01",
    "12:30",
    "1:2",
    "a:b",
    ": ",
    ":",
    "#",
    " #",
    "a#b",
    "-",
    "- ",
    "?",
    "? ",
    "--- ",
    "...",
    "'",
    '"',
    "[",
    "]",
    "{",
    "}",
    ",",
    "&",
    "*",
    "!",
    "|",
    ">",
    "%",
    "@",
    "`",
    " ",
    "  ",
    "\t",
    "\n",
    "\r",
    "\x85",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\xa0",
    "\x7f",
    "\x00",
    "é",
    "ß",
    "中文",
    "😀",
    "\ue000",
    "\ufffd",
    "\uffff",
    "Ärger",
    "O'Brien",
    "http://x.y/a?b=c",
]


def _hostile(rng: random.Random) -> str:
    """A string of random pieces, often long enough to wrap at the width."""
    parts = [rng.choice(_PIECES) for _ in range(rng.randint(0, 12))]
    words = [rng.choice(("word", "Wörter", "a-b", "x.y", "1,5")) for _ in range(rng.randint(0, 40))]
    mixed = parts + words
    rng.shuffle(mixed)
    return rng.choice((" ".join(mixed), "".join(parts), " ".join(words), rng.choice(_PIECES)))


def _random_article(rng: random.Random) -> Article:
    """An article with hostile values in every field serialise writes."""
    stamps: list[DateLike | None] = [
        None,
        dt.date(2024, rng.randint(1, 12), 3),
        dt.datetime(2021, 9, 1, 13, 44, tzinfo=dt.timezone(dt.timedelta(hours=-4))),
        dt.datetime(999, 1, 2, 3, 4, 5, 678, tzinfo=dt.UTC),
        dt.datetime(2020, 1, 1, 0, 0),
        dt.datetime(2020, 1, 1, tzinfo=dt.timezone(dt.timedelta(seconds=3601))),
    ]
    names = [_hostile(rng) for _ in range(rng.randint(0, 9))]
    return Article(
        title=_hostile(rng) or "t",
        slug=rng.choice(("a-slug", "2024", "x" * 90)),
        body="Body.",
        summary=rng.choice((None, _hostile(rng))),
        published=rng.choice(stamps),
        archived=rng.choice((None, dt.datetime(2025, 11, 24, 16, tzinfo=dt.UTC))),
        source=rng.choice((None, _hostile(rng))),
        authors=tuple(names[:3]),
        credits=tuple(names[3:5]),
        url=rng.choice((None, "https://example.com/a b?c=d#e", _hostile(rng))),
        tags=tuple(names),
        language=rng.choice((None, "en", "no", "zh-Hans")),
        also_seen=tuple(names[5:]),
        extracted={_hostile(rng): _hostile(rng) for _ in range(rng.randint(0, 7))},
        extra=rng.choice(({}, {"zeta": names, "alpha": _hostile(rng)})),
    )


def test_serialise_fast_path_matches_pyyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(20261129)
    articles = [_random_article(rng) for _ in range(1500)]
    fast = [serialise(article) for article in articles]
    monkeypatch.setattr(content, "_FAST", False)
    assert fast == [serialise(article) for article in articles]


@pytest.mark.parametrize(
    "value",
    ["A " + "long " * 30 + "title", "Plain title", "2024", "it's: quoted", "#tag", "中文 " * 40],
)
def test_serialise_fast_path_samples(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    article = Article(
        title=value,
        slug="s",
        body="B",
        summary=value,
        tags=(value, "b " * 30, "c"),
        extracted={"title": value, "body": "x " * 60},
    )
    fast = serialise(article)
    monkeypatch.setattr(content, "_FAST", False)
    assert fast == serialise(article)
    assert fast_front({"title": "Plain title", "tags": ["a"]}) == (
        "title: Plain title\ntags: [a]\n"
    )
