"""``archiver export``: JSON Lines and CSV of the archive's metadata, with filters."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click
from click.testing import CliRunner, Result

from archiver.cli_workflow import export
from archiver.config import Settings
from archiver.export import csv_cell
from archiver.report import SilentReporter

ARTICLES = {
    "old.md": """---
title: An old story
slug: old-story
published: 2019-03-01
source: Daily Planet
authors: [Lois Lane]
tags: [Élysée, Politics]
---
Four words of text.
""",
    "new.md": """---
title: "=HYPERLINK(\\"http://evil.example\\")"
slug: new-story
published: 2024-05-06T10:00:00Z
archived: 2024-05-07T00:00:00Z
tags: [elysee]
url: https://example.org/new
---
Two words.
""",
    "undated.md": """---
title: Undated
tags: [Politics]
---
Body.
""",
}


def make_archive(root: Path) -> Settings:
    """A small archive of three articles."""
    content = root / "content"
    content.mkdir()
    for name, text in ARTICLES.items():
        (content / name).write_text(text, encoding="utf-8")
    return Settings(root=root)


def invoke(settings: Settings, *args: str, reporter: SilentReporter | None = None) -> Result:
    """Run ``export`` under a root group like the real one."""

    @click.group()
    @click.pass_context
    def root(ctx: click.Context) -> None:
        ctx.obj = {"settings": settings, "reporter": reporter or SilentReporter()}

    root.add_command(export)
    return CliRunner().invoke(root, ["export", *args], catch_exceptions=False)


def test_jsonl_golden(tmp_path: Path) -> None:
    result = invoke(make_archive(tmp_path))
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["slug"] for r in rows] == ["new-story", "old-story", "undated"]
    assert rows[1] == {
        "slug": "old-story",
        "title": "An old story",
        "summary": None,
        "published": "2019-03-01",
        "archived": None,
        "source": "Daily Planet",
        "authors": ["Lois Lane"],
        "credits": [],
        "url": None,
        "tags": ["Élysée", "Politics"],
        "language": None,
        "words": 4,
        "page": "articles/old-story.html",
        "file": "content/old.md",
        "source_file": None,
        "source_sha256": None,
        "also_seen": [],
    }
    assert "Élysée" in result.stdout  # UTF-8, not \\u escapes


def test_filters_by_tag_ignoring_case_and_accents_and_by_date(tmp_path: Path) -> None:
    settings = make_archive(tmp_path)
    by_tag = invoke(settings, "--tag", "ELYSEE")
    assert [json.loads(x)["slug"] for x in by_tag.stdout.splitlines()] == ["new-story", "old-story"]
    both = invoke(settings, "--tag", "elysée", "--tag", "politics")
    assert [json.loads(x)["slug"] for x in both.stdout.splitlines()] == ["old-story"]
    since = invoke(settings, "--since", "2020-01-01")
    assert [json.loads(x)["slug"] for x in since.stdout.splitlines()] == ["new-story"]


def test_csv_with_text_to_file(tmp_path: Path) -> None:
    settings = make_archive(tmp_path)
    out = tmp_path / "out.csv"
    result = invoke(settings, "--format", "csv", "--with-text", "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["slug"] for r in rows] == ["new-story", "old-story", "undated"]
    assert rows[0]["title"] == '\'=HYPERLINK("http://evil.example")'
    assert rows[1]["tags"] == "Élysée; Politics"
    assert rows[1]["text"] == "Four words of text."
    assert rows[2]["published"] == ""
    assert list(rows[0])[-1] == "text"


def test_bad_content_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    settings = make_archive(tmp_path)
    (tmp_path / "content" / "broken.md").write_text("---\ntitle: [x\n---\n", encoding="utf-8")
    reporter = SilentReporter()
    result = invoke(settings, reporter=reporter)
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 3
    assert len(reporter.problems) == 1 and "broken.md: broken YAML" in reporter.problems[0]


def test_bad_flags_are_usage_errors(tmp_path: Path) -> None:
    settings = make_archive(tmp_path)
    assert invoke(settings, "--format", "xml").exit_code == 2
    assert invoke(settings, "--since", "yesterday").exit_code == 2


def test_csv_cell_neutralises_formulas() -> None:
    assert csv_cell("=1+1") == "'=1+1"
    assert csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert csv_cell("-5") == "-5"
    assert csv_cell("-cmd") == "'-cmd"
    assert csv_cell(["a", "b"]) == "a; b"
    assert csv_cell(None) == ""
