"""The workflow commands' help: every command has a description, examples and exit codes."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from archiver.cli_workflow import check, export, serve, tags
from archiver.config import Settings
from archiver.report import SilentReporter


def root_group() -> click.Group:
    """A root group like archiver.cli's, holding the workflow commands."""

    @click.group()
    @click.pass_context
    def root(ctx: click.Context) -> None:
        ctx.obj = {"settings": Settings(), "reporter": SilentReporter()}

    for command in (serve, check, tags, export):
        root.add_command(command)
    return root


@pytest.mark.parametrize(
    "argv",
    [["serve"], ["check"], ["tags"], ["tags", "rename"], ["tags", "merge"], ["export"]],
)
def test_every_command_has_help_with_examples(argv: list[str]) -> None:
    result = CliRunner().invoke(root_group(), [*argv, "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output
    assert "Exit codes: 0 ok, 1 some inputs or checks failed, 2 usage error." in " ".join(
        result.output.split()
    )
    for line in result.output.splitlines():
        if line.strip().startswith("archiver "):
            assert line.strip().split()[1] in {"serve", "check", "tags", "export", "--config"}


def test_merge_help_says_which_tag_stays() -> None:
    result = CliRunner().invoke(root_group(), ["tags", "merge", "--help"])
    assert "the first tag named is the one that stays" in result.output


def test_unknown_flag_is_exit_2() -> None:
    assert CliRunner().invoke(root_group(), ["check", "--nope"]).exit_code == 2


def test_renaming_or_merging_a_tag_no_article_has_is_a_problem(tmp_path: Path) -> None:
    """A typo in a tag name is said, not a silent "0 file(s)"."""
    content = tmp_path / "content"
    content.mkdir()
    (content / "a.md").write_text("---\ntitle: A\ntags: [Energy, Policy]\n---\nx\n")

    @click.group()
    @click.pass_context
    def root(ctx: click.Context) -> None:
        ctx.obj = {"settings": Settings(root=tmp_path), "reporter": SilentReporter()}

    root.add_command(tags)
    runner = CliRunner()
    typo = runner.invoke(root, ["tags", "rename", "Enrgy", "Power"])
    merged = runner.invoke(root, ["tags", "merge", "Energy", "Policy", "Polcy"])
    same = runner.invoke(root, ["tags", "rename", "ENERGY", "Energy"])
    assert typo.exit_code == 1
    assert merged.exit_code == 0  # one of the merged tags was there: the merge happened
    assert same.exit_code == 0  # already spelled so: nothing to do, but the tag exists
    assert (content / "a.md").read_text() == "---\ntitle: A\ntags: [Energy]\n---\nx\n"
