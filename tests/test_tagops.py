"""Tag curation: counts, rename and merge rewriting only the tags of each front matter."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from archiver.cli_workflow import tags
from archiver.config import Settings
from archiver.content import parse_article
from archiver.report import SilentReporter
from archiver.tagops import (
    TagEditError,
    merge_mapping,
    rename_mapping,
    retag_text,
    tag_counts,
)

FLOW = """---
title: One  # a comment on the title
slug: one
tags: [Russia, kim jong un, Ukraine]  # keep me
zeta: 1
alpha: 2
---

Body of one.
"""
BLOCK = """---
# a comment at the top
title: Two
tags:
  - Russia   # the country
  - "Kim Jong Un"
  # an inner comment
  - russia
other: x
---
Body of two.
"""
COMMA_CRLF = "---\r\ntitle: Three\r\ntags: Russia, Ukraine\r\n---\r\nBody.\r\n"
WRAPPED = """---
title: Four
tags: [Antony Blinken, North Korea, Russia, South Korea, Ukraine, Kim Jong Un, aaaaaa, bbbbbbbb,
  ccc]
source: X
---
b
"""


def test_flow_list_keeps_comments_and_key_order() -> None:
    new = retag_text(FLOW, merge_mapping("Moscow", ["russia", "Ukraine"]))
    assert new == FLOW.replace(
        "tags: [Russia, kim jong un, Ukraine]  # keep me", "tags: [Moscow, kim jong un]  # keep me"
    )


def test_block_list_is_edited_item_by_item() -> None:
    new = retag_text(BLOCK, merge_mapping("Moscow", ["Russia"]))
    assert new == BLOCK.replace("  - Russia   #", "  - Moscow   #").replace("  - russia\n", "")
    assert parse_article(new).tags == ("Moscow", "Kim Jong Un")


def test_comma_string_and_crlf_line_ends_are_kept() -> None:
    new = retag_text(COMMA_CRLF, rename_mapping("UKRAINE", "Kyiv, Ukraine"))
    assert new == "---\r\ntitle: Three\r\ntags: [Russia, 'Kyiv, Ukraine']\r\n---\r\nBody.\r\n"
    assert parse_article(new).tags == ("Russia", "Kyiv, Ukraine")
    plain = retag_text(COMMA_CRLF, rename_mapping("Ukraine", "Kyiv"))
    assert plain == "---\r\ntitle: Three\r\ntags: Russia, Kyiv\r\n---\r\nBody.\r\n"


def test_wrapped_flow_list() -> None:
    new = retag_text(WRAPPED, rename_mapping("russia", "Russian Federation"))
    article = parse_article(new)
    assert article.tags[2] == "Russian Federation" and len(article.tags) == 9
    assert new.endswith("source: X\n---\nb\n")


def test_accents_and_case_are_one_tag() -> None:
    text = "---\ntitle: T\ntags: [Élysée, elysee, ELYSÉE Palace]\n---\nb\n"
    new = retag_text(text, rename_mapping("elysee", "Élysée Palace"))
    assert parse_article(new).tags == ("Élysée Palace", "ELYSÉE Palace")


def test_categories_are_rewritten_too() -> None:
    text = "---\ntitle: T\ntags: [a]\ncategories: [Russia]\n---\nb\n"
    new = retag_text(text, rename_mapping("russia", "Moscow"))
    assert "categories: [Moscow]" in new


def test_unchanged_text_is_returned_as_is() -> None:
    assert retag_text(FLOW, rename_mapping("Nowhere", "Else")) is FLOW


def test_unsafe_yaml_is_refused() -> None:
    anchored = "---\ntitle: T\nbase: &t [Russia]\ntags: *t\n---\nb\n"
    with pytest.raises(TagEditError, match="edit"):
        retag_text(anchored, rename_mapping("Russia", "Moscow"))
    toml = '+++\ntitle = "T"\ntags = ["Russia"]\n+++\nb\n'
    with pytest.raises(TagEditError, match="only YAML"):
        retag_text(toml, rename_mapping("Russia", "Moscow"))


def test_tag_counts_group_spellings() -> None:
    articles = [
        parse_article("---\ntitle: A\ntags: [Russia, Ukraine]\n---\nx\n"),
        parse_article("---\ntitle: B\ntags: [russia]\n---\nx\n"),
        parse_article("---\ntitle: C\ntags: [Russia]\n---\nx\n"),
    ]
    counts = tag_counts(articles)
    assert [(t.name, t.count) for t in counts] == [("Russia", 3), ("Ukraine", 1)]
    assert counts[0].as_json() == {
        "name": "Russia",
        "slug": "russia",
        "count": 3,
        "variants": {"Russia": 2, "russia": 1},
    }


# --- the commands, through CliRunner on a real archive in a temporary folder ----------------


def make_archive(root: Path) -> Settings:
    """A small archive: four content files in several front matter styles, one broken."""
    content = root / "content"
    content.mkdir()
    (content / "one.md").write_text(FLOW, encoding="utf-8")
    (content / "two.md").write_text(BLOCK, encoding="utf-8")
    (content / "three.md").write_bytes(COMMA_CRLF.encode())
    (content / "four.md").write_text(WRAPPED, encoding="utf-8")
    os.chmod(content / "one.md", 0o644)
    return Settings(root=root)


def run(settings: Settings, *args: str) -> click.testing.Result:
    """Invoke ``tags`` under a root group like the real one."""

    @click.group()
    @click.pass_context
    def root(ctx: click.Context) -> None:
        ctx.obj = {"settings": settings, "reporter": SilentReporter()}

    root.add_command(tags)
    return CliRunner().invoke(root, ["tags", *args], catch_exceptions=False)


def test_cli_lists_counts(tmp_path: Path) -> None:
    settings = make_archive(tmp_path)
    result = run(settings, "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data[0] == {
        "name": "Russia",
        "slug": "russia",
        "count": 4,
        "variants": {"Russia": 4},
    }
    text = run(settings)
    assert text.stdout.splitlines()[0] == "4  Russia"


def test_cli_dry_run_shows_diff_and_writes_nothing(tmp_path: Path) -> None:
    settings = make_archive(tmp_path)
    before = {p.name: p.read_bytes() for p in (tmp_path / "content").iterdir()}
    result = run(settings, "rename", "russia", "Moscow", "--dry-run")
    assert result.exit_code == 0
    assert "--- a/content/one.md\n+++ b/content/one.md\n" in result.stdout
    assert "-tags: [Russia, kim jong un, Ukraine]  # keep me\n" in result.stdout
    assert "+tags: [Moscow, kim jong un, Ukraine]  # keep me\n" in result.stdout
    assert {p.name: p.read_bytes() for p in (tmp_path / "content").iterdir()} == before


def test_cli_rename_rewrites_atomically_keeping_mode(tmp_path: Path) -> None:
    settings = make_archive(tmp_path)
    result = run(settings, "rename", "russia", "Moscow")
    assert result.exit_code == 0, result.output
    one = tmp_path / "content" / "one.md"
    assert one.read_text(encoding="utf-8") == FLOW.replace("[Russia,", "[Moscow,")
    assert one.stat().st_mode & 0o777 == 0o644
    three = (tmp_path / "content" / "three.md").read_bytes()
    assert three == b"---\r\ntitle: Three\r\ntags: Moscow, Ukraine\r\n---\r\nBody.\r\n"
    assert not list((tmp_path / "content").glob(".*"))


def test_cli_merge_into_first_name(tmp_path: Path) -> None:
    settings = make_archive(tmp_path)
    result = run(settings, "merge", "Eastern Europe", "Russia", "UKRAINE")
    assert result.exit_code == 0, result.output
    assert parse_article((tmp_path / "content" / "one.md").read_text()).tags == (
        "Eastern Europe",
        "kim jong un",
    )


def test_cli_merge_needs_two_names(tmp_path: Path) -> None:
    settings = make_archive(tmp_path)
    result = CliRunner().invoke(_group(settings), ["tags", "merge", "Russia"])
    assert result.exit_code == 2
    assert "Missing argument 'SOURCES...'" in result.output


def test_cli_reports_files_it_cannot_rewrite(tmp_path: Path) -> None:
    settings = make_archive(tmp_path)
    bad = tmp_path / "content" / "bad.md"
    bad.write_text("---\ntitle: [Russia\n---\nx\n", encoding="utf-8")
    reporter = SilentReporter()
    result = CliRunner().invoke(_group(settings, reporter), ["tags", "rename", "Russia", "Moscow"])
    assert result.exit_code == 1
    assert len(reporter.problems) == 1
    assert reporter.problems[0].startswith(f"{bad}: broken YAML front matter")
    assert "Moscow" in (tmp_path / "content" / "one.md").read_text()


def test_cli_empty_name_is_a_usage_error(tmp_path: Path) -> None:
    settings = make_archive(tmp_path)
    result = CliRunner().invoke(_group(settings), ["tags", "rename", " ", "x"])
    assert result.exit_code == 2
    assert "must not be empty" in result.output


def _group(settings: Settings, reporter: SilentReporter | None = None) -> click.Group:
    """A root group holding ``tags``."""

    @click.group()
    @click.pass_context
    def root(ctx: click.Context) -> None:
        ctx.obj = {"settings": settings, "reporter": reporter or SilentReporter()}

    root.add_command(tags)
    return root


def test_untouched_flow_items_keep_their_quoting() -> None:
    text = '---\ntitle: T\ntags: ["Q&A \\"Special\\"", Policy, \'<i>x</i>\']  # c\n---\nb\n'
    new = retag_text(text, rename_mapping("policy", "Public policy"))
    assert (
        new
        == '---\ntitle: T\ntags: ["Q&A \\"Special\\"", Public policy, \'<i>x</i>\']  # c\n---\nb\n'
    )
