"""The command line: a thin click layer over the library (flags -> settings -> call -> report)."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from archiver import __version__
from archiver.cliutil import EPILOG, context_objects, verbosity
from archiver.config import Settings, load_settings
from archiver.report import Reporter, one_line


def settings_of(ctx: click.Context) -> Settings:
    """The settings loaded by the root group (archiver.toml or defaults)."""
    return context_objects(ctx)[0]


def reporter_of(ctx: click.Context) -> Reporter:
    """The shared reporter."""
    return context_objects(ctx)[1]


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EPILOG)
@click.version_option(__version__, prog_name="archiver")
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Settings file (default: ./archiver.toml if present).",
)
@click.option("-q", "--quiet", count=True, help="Only print problems.")
@click.option("-v", "--verbose", count=True, help="Say more (repeatable).")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, quiet: int, verbose: int) -> None:
    """Turn scraped news articles into a clean, tagged, searchable static archive.

    \b
    Typical session:
      archiver init my-archive && cd my-archive
      archiver ingest ~/scrapes/           # raw .txt/.html/.md -> content/*.md
      archiver build                       # content/ -> site/ (+ search indexes)
      archiver search "north korea"        # full-text search in the terminal
      archiver serve --open                # preview with live reload
    """
    obj = ctx.ensure_object(dict)
    obj["reporter"] = Reporter(verbose - quiet)
    obj["config"] = config
    obj["settings"] = load_settings(config)


@cli.command(epilog=EPILOG)
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@verbosity
@click.pass_context
def init(ctx: click.Context, directory: Path) -> None:
    """Create a ready archive folder: archiver.toml, content/, templates/, .gitignore.

    \b
    Examples:
      archiver init my-archive
      archiver init            # in the current folder
    """
    from archiver.scaffold import create_archive

    for line in create_archive(directory):
        reporter_of(ctx).info(line)


@cli.command(epilog=EPILOG)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--content",
    "content_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Content folder to write into (default: from archiver.toml, else content/).",
)
@click.option("--dry-run", is_flag=True, help="Clean and report, but write nothing.")
@click.option(
    "--force",
    is_flag=True,
    help="Re-clean inputs seen before (files edited by hand are still never touched).",
)
@click.option("--jobs", "-j", type=click.IntRange(1, 256), help="Worker processes (default: CPUs).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
@verbosity
@click.pass_context
def ingest(
    ctx: click.Context,
    paths: tuple[Path, ...],
    content_dir: Path | None,
    dry_run: bool,
    force: bool,
    jobs: int | None,
    as_json: bool,
) -> None:
    """Clean raw scrapes (.txt page dumps, saved .html, .md) into content/<slug>.md.

    PATHS are files or folders (searched recursively). Every input ends up in the
    report: new, updated, unchanged, duplicate, kept (edited by hand), skipped or failed.

    \b
    Examples:
      archiver ingest ~/scrapes/2024/
      archiver ingest page.txt saved.html --dry-run
      archiver ingest raw/ --json > report.json
    """
    from archiver.ingest.pipeline import ingest as run_ingest
    from archiver.paths import archive_lock

    settings, reporter = settings_of(ctx), reporter_of(ctx)
    with archive_lock(settings.state_path, "ingest"):
        report = run_ingest(
            list(paths),
            settings,
            content_dir=content_dir,
            dry_run=dry_run,
            force=force,
            jobs=jobs,
            reporter=reporter,
        )
    for line in report.problems():
        reporter.problem(line)
    for outcome in report.outcomes:
        if outcome.status not in ("failed", "skipped"):
            reporter.detail(
                f"{outcome.input}: {outcome.status}"
                + (f" -> {outcome.slug}" if outcome.slug else "")
            )
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, sort_keys=True, ensure_ascii=False))
    reporter.info(report.summary() + (" (dry run: nothing written)" if dry_run else ""))
    if report.failed:
        ctx.exit(1)


@cli.command(epilog=EPILOG)
@click.option(
    "--content",
    "content_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Content folder (default: from archiver.toml, else content/).",
)
@click.option(
    "--output",
    "output_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Site folder (default: from archiver.toml, else site/).",
)
@click.option("--clean", is_flag=True, help="Ignore caches and rebuild everything.")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), help="Worker processes (default: CPUs).")
@click.option("--strict", is_flag=True, help="Stop at the first bad content file.")
@verbosity
@click.pass_context
def build(
    ctx: click.Context,
    content_dir: Path | None,
    output_dir: Path | None,
    clean: bool,
    jobs: int | None,
    strict: bool,
) -> None:
    """Render content/ into the static site in site/ (and update the search indexes).

    Only what changed is re-rendered; the new site is swapped in at the end, so a
    failed or interrupted build leaves the previous site as it was.

    \b
    Examples:
      archiver build
      archiver build --clean --jobs 4
      archiver build --content articles/ --output public/
    """
    import dataclasses

    from archiver.build import build_site

    settings, reporter = settings_of(ctx), reporter_of(ctx)
    overrides: dict[str, Any] = {}
    if content_dir is not None:
        overrides["content_dir"] = str(content_dir.resolve())
    if output_dir is not None:
        overrides["output_dir"] = str(output_dir.resolve())
    if overrides:
        settings = dataclasses.replace(settings, **overrides)
    report = build_site(settings, clean=clean, jobs=jobs, strict=strict, reporter=reporter)
    for line in report.errors:
        reporter.problem(line)
    reporter.info(
        f"build: {report.articles} articles, {report.written} pages written, "
        f"{report.reused} reused, {report.deleted} removed in {report.seconds:.2f} s "
        f"-> {report.output}"
    )
    if report.errors:
        ctx.exit(1)


@cli.command(epilog=EPILOG)
@click.argument("query", nargs=-1, required=True)
@click.option("--tag", help="Only articles with this tag.")
@click.option("--source", help="Only articles from this source (publisher).")
@click.option("--author", help="Only articles by this author.")
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m", "%Y"]),
    help="Published on or after (YYYY[-MM[-DD]]).",
)
@click.option(
    "--until",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m", "%Y"]),
    help="Published on or before (YYYY[-MM[-DD]]).",
)
@click.option(
    "--sort",
    type=click.Choice(["relevance", "date"]),
    default="relevance",
    show_default=True,
    help="Order of results.",
)
@click.option(
    "--limit",
    "-n",
    type=click.IntRange(1, 10_000),
    default=10,
    show_default=True,
    help="Most results to show.",
)
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON on stdout.")
@verbosity
@click.pass_context
def search(
    ctx: click.Context,
    query: tuple[str, ...],
    tag: str | None,
    source: str | None,
    author: str | None,
    since: Any,
    until: Any,
    sort: str,
    limit: int,
    as_json: bool,
) -> None:
    """Full-text search of the archive (Whoosh query language).

    \b
    Query language: words are ANDed; OR, NOT, "exact phrases", field:value
    (title:, tags:, source:, authors:, body:), prefix*, fuzzy~ and ranges
    such as published:[2023 to 2024].

    \b
    Examples:
      archiver search "north korea" missiles
      archiver search 'title:blinken OR tags:"south korea"' --sort date
      archiver search sanctions --tag Russia --since 2023-01 --json
    """
    from archiver.search.query import search as run_search

    settings = settings_of(ctx)
    hits = run_search(
        settings,
        " ".join(query),
        tag=tag,
        source=source,
        author=author,
        since=since.date() if since else None,
        until=until.date() if until else None,
        sort=sort,
        limit=limit,
    )
    if as_json:
        click.echo(json.dumps([h.to_json() for h in hits], indent=2, ensure_ascii=False))
        return
    if not hits:
        reporter_of(ctx).info("no results")
        return
    color = sys.stdout.isatty()
    for number, hit in enumerate(hits, 1):
        _print_hit(number, hit, settings, color)


def _print_hit(number: int, hit: Any, settings: Settings, color: bool) -> None:
    """Print one hit: title line, metadata line, highlighted snippet."""
    date = hit.published.isoformat()[:10] if hit.published else "undated"
    title = f"{number}. {one_line(hit.title)}"  # content is hostile: no terminal escapes
    click.echo(click.style(title, bold=True) if color else title)
    source = one_line(hit.source or "unknown source")
    click.echo(f"   {date} · {source} · {Path(settings.output_dir) / one_line(hit.path)}")
    mark: Callable[[str], str] = one_line
    if color:
        mark = lambda text: click.style(one_line(text), bold=True, fg="yellow")  # noqa: E731
    text = "".join(mark(t) if m else one_line(t) for t, m in hit.snippet).strip()
    if text:
        click.echo(f"   {text}")
    click.echo()


def _register_workflow() -> None:
    """Add the everyday-workflow commands: serve, check, tags, export (cli_workflow.py)."""
    from archiver import cli_workflow

    for command in (cli_workflow.serve, cli_workflow.check, cli_workflow.tags, cli_workflow.export):
        cli.add_command(command)


_register_workflow()


def main() -> None:
    """Console-script entry point: run the command, then exit without tearing the heap down."""
    try:
        cli(prog_name="archiver")  # standalone mode: always ends in SystemExit
    except SystemExit as done:
        _exit_now(done.code)
    except OSError as exc:  # the system refused (disk full, not a folder, ...): one line
        where = f"{exc.filename}: " if exc.filename else ""
        print(one_line(f"Error: {where}{exc.strerror or exc}"), file=sys.stderr)
        _exit_now(1)


def _exit_now(code: object) -> NoReturn:
    """Exit with SystemExit's status, skipping the interpreter's teardown of every object.

    A build holds some 10,000 articles; freeing them one by one at exit costs a quarter of a
    second of a one-second rebuild. The exit handlers still run and the streams are flushed;
    while other threads are alive the normal exit (which waits for them) is used instead.
    """
    if threading.active_count() > 1:
        raise SystemExit(code)
    status = 0 if code is None else code if isinstance(code, int) else 1
    if not isinstance(code, int | None):
        print(code, file=sys.stderr)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status)
