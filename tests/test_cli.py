"""The command line as a whole: help text everywhere, README coverage, clean errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from archiver.cli import cli

REPO = Path(__file__).resolve().parent.parent


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    """Every command and subcommand with its full name ("tags rename")."""
    found = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        found.append((full, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, f"{full} "))
    return found


COMMANDS = _commands(cli)


def test_the_expected_commands_exist() -> None:
    names = {name for name, _ in COMMANDS}
    assert {
        "init",
        "ingest",
        "build",
        "search",
        "serve",
        "check",
        "tags",
        "tags rename",
        "tags merge",
        "export",
    } <= names


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_has_help_with_examples(name: str, command: click.Command) -> None:
    assert command.help and len(command.help.strip()) > 20, f"{name} lacks help text"
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output, f"'archiver {name} --help' shows no examples"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"option {param.opts} of '{name}' has no help"


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_is_in_the_readme(name: str, command: click.Command) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"archiver {name}" in readme, f"'archiver {name}' is missing from README.md"


def test_readme_starts_with_the_two_commands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("```sh\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(block) == 2
    assert "pip install" in block[0] and "archiver build" in block[0]
    assert block[1] == "bash .ci/run"
    assert "tests/run.sh" in (REPO / ".ci" / "run").read_text()


def test_bad_config_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "archiver.toml").write_text("per_page = 'x'\nnope = 1\n")
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(tmp_path / "archiver.toml"), "build"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    (line,) = [ln for ln in result.output.splitlines() if ln.startswith("Error:")]
    assert "per_page" in line and "nope" in line


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["frobnicate"])
    assert result.exit_code == 2


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and "archiver" in result.output


def _console(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed console script (archiver.cli:main) in a real process."""
    code = "import sys; from archiver.cli import main; sys.argv[0] = 'archiver'; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_a_refusal_of_the_system_is_one_line_naming_the_path(tmp_path: Path) -> None:
    """The system refusing a write (here a file where the state folder goes; a full disk is the
    same OSError) is one line and exit 1, never a traceback."""
    archive = tmp_path / "a"
    assert _console(["init", str(archive)], tmp_path).returncode == 0
    (archive / ".archiver").write_text("not a folder", encoding="utf-8")
    failed = _console(["build"], archive)
    assert failed.returncode == 1
    assert failed.stderr.strip() == f"Error: {archive / '.archiver'}: File exists"


def test_console_script_exits_with_status_and_full_output(tmp_path: Path) -> None:
    """main() skips the heap teardown: the exit status and every byte of output still arrive."""
    archive = tmp_path / "a"
    assert _console(["init", str(archive)], tmp_path).returncode == 0
    built = _console(["build"], archive)
    assert built.returncode == 0, built.stderr
    assert "build:" in built.stdout + built.stderr
    assert (archive / "site" / "index.html").is_file()
    listed = _console(["tags", "--json"], archive)
    assert listed.returncode == 0
    assert isinstance(json.loads(listed.stdout), list | dict)  # complete, parseable output
    bad = _console(["build", "--no-such-flag"], archive)
    assert bad.returncode == 2
    assert "No such option" in bad.stderr
    (archive / "content" / "broken.md").write_text("---\ntitle: [\n---\nbody\n", encoding="utf-8")
    failed = _console(["build"], archive)
    assert failed.returncode == 1
    assert "broken.md" in failed.stderr


def test_search_results_cannot_send_terminal_escapes(tmp_path: Path) -> None:
    """Titles, sources and snippets come from hostile pages: control characters are shown
    escaped, never sent to the terminal."""
    archive = tmp_path / "a"
    assert _console(["init", str(archive)], tmp_path).returncode == 0
    (archive / "content" / "evil.md").write_text(
        '---\ntitle: "Red \\e[31mtitle"\nsource: "S\\e]0;owned\\a"\n---\n'
        "Body \x1b[2J with zebraword.\n",
        encoding="utf-8",
    )
    assert _console(["build"], archive).returncode == 0
    found = _console(["search", "zebraword"], archive)
    assert found.returncode == 0, found.stderr
    assert "\x1b" not in found.stdout and "\x07" not in found.stdout
    assert "Red [31mtitle" in found.stdout and "S]0;owned" in found.stdout
    assert "Body [2J with zebraword." in found.stdout
    site = (archive / "site" / "articles" / "evil.html").read_text(encoding="utf-8")
    assert "\x1b" not in site and "Red [31mtitle" in site


def test_an_empty_archive_builds_and_searches_and_a_missing_one_is_refused(
    tmp_path: Path,
) -> None:
    (tmp_path / "content").mkdir()
    assert _console(["build"], tmp_path).returncode == 0
    found = _console(["search", "anything"], tmp_path)  # an empty index: no traceback
    assert (found.returncode, found.stdout, found.stderr.strip()) == (0, "", "no results")
    missing = _console(["build", "--content", "contnet"], tmp_path)
    assert missing.returncode == 1
    assert missing.stderr.startswith(f"Error: {tmp_path / 'contnet'}: no such content folder")
    assert len(missing.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "contnet").exists() and (tmp_path / "site" / "index.html").is_file()
