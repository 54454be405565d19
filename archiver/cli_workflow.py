"""The everyday commands: ``serve``, ``check``, ``tags`` (list/rename/merge) and ``export``.

Registered on the root group by archiver.cli; each receives ``settings`` and ``reporter`` through
``ctx.obj``. Exit codes: 0 ok, 1 problems found or some work failed, 2 usage error.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO, cast

import click

from archiver.cliutil import EPILOG, context_objects, verbosity
from archiver.config import Settings
from archiver.report import Reporter


def _obj(ctx: click.Context) -> tuple[Settings, Reporter]:
    """The settings and reporter the root group put in ctx.obj."""
    return context_objects(ctx)


def _show(path: str) -> str:
    """A path relative to the current folder when it lies inside it."""
    try:
        return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd()) else path
    except ValueError:
        return path


@click.command(epilog=EPILOG)
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="0: any free."
)
@click.option("--open", "open_browser", is_flag=True, help="Open the site in a web browser.")
@verbosity
@click.pass_context
def serve(ctx: click.Context, port: int, open_browser: bool) -> None:
    """Build and preview the site on 127.0.0.1, rebuilding and reloading on every change.

    Watches content/, templates/ and archiver.toml. Open pages reload by themselves
    after a rebuild; a failed rebuild is printed here and shown over the page while
    the last good site stays up. The reload script is only added while serving:
    files in site/ are never changed. Ctrl-C stops.

    \b
    Examples:
      archiver serve
      archiver serve --port 8001 --open
      archiver --config other.toml serve -v
    """
    from archiver.serve import serve as run_serve

    settings, reporter = _obj(ctx)
    config = ctx.ensure_object(dict).get("config")
    run_serve(settings, reporter, port=port, open_browser=open_browser, config=config)


@click.command(epilog=EPILOG)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
@click.option(
    "--no-cache", is_flag=True, help="Read every file again (ignore the check cache in .archiver/)."
)
@verbosity
@click.pass_context
def check(ctx: click.Context, as_json: bool, no_cache: bool) -> None:
    """Check the archive and print one 'FILE: reason' line per problem (exit 1 if any).

    \b
    Checks:
      - front matter of every content file (YAML, types, title, dates, url)
      - duplicate slugs
      - tags differing only in case or accents (with the merge command to fix them)
      - broken internal links in the built site/
      - kept originals whose sha256 no longer matches, or that are missing
      - a search index out of date with the content

    \b
    Examples:
      archiver check
      archiver check --json | jq '.problems[].reason'
      archiver check -q || echo "archive needs attention"   # in CI
      archiver check --no-cache    # re-read everything, e.g. after restoring a backup
    """
    from archiver.check import check_archive

    settings, reporter = _obj(ctx)
    report = check_archive(settings, reporter=reporter, use_cache=not no_cache)
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2, sort_keys=True, ensure_ascii=False))
    else:
        for file, reason in report.problems:
            click.echo(f"{_show(file)}: {reason}")
    for note in report.notes:
        reporter.detail(note)
    counts = report.counts
    reporter.info(
        f"Checked {counts.get('files', 0)} content files and {counts.get('pages', 0)} pages "
        f"({counts.get('links', 0)} links): {len(report.problems) or 'no'} problem(s)"
    )
    if not report.ok:
        ctx.exit(1)


@click.group(invoke_without_command=True, epilog=EPILOG)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON on stdout.")
@verbosity
@click.pass_context
def tags(ctx: click.Context, as_json: bool) -> None:
    """List tags with their article counts, most used first; or rename and merge them.

    Spellings that differ only in case or accents count as one tag (all are shown).

    \b
    Examples:
      archiver tags
      archiver tags --json > tags.json
      archiver tags rename "DPRK" "North Korea" --dry-run
      archiver tags merge "North Korea" "DPRK" "N. Korea"
    """
    if ctx.invoked_subcommand is not None:
        return
    from archiver.tagops import tag_counts

    settings, reporter = _obj(ctx)
    loaded = _load(settings)
    counts = tag_counts(loaded.articles)
    if as_json:
        data = [t.as_json() for t in counts]
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        width = len(str(counts[0].count)) if counts else 1
        for tag in counts:
            others = [name for name, _ in tag.variants[1:]]
            extra = f"  (also: {', '.join(others)})" if others else ""
            click.echo(f"{tag.count:>{width}}  {tag.name}{extra}")
    _finish(ctx, reporter, loaded.errors, f"{len(counts)} tags")


@tags.command(epilog=EPILOG)
@click.argument("old")
@click.argument("new")
@click.option("--dry-run", is_flag=True, help="Show the diff of every file; write nothing.")
@verbosity
@click.pass_context
def rename(ctx: click.Context, old: str, new: str, dry_run: bool) -> None:
    """Rename tag OLD (any case/accents) to NEW in every content file's front matter.

    Only the tags line or block is rewritten: comments, key order and other hand
    edits stay as they are. Each file is written atomically.

    \b
    Examples:
      archiver tags rename "kim jong un" "Kim Jong Un"
      archiver tags rename DPRK "North Korea" --dry-run
    """
    from archiver.tagops import rename_mapping

    _retag(ctx, rename_mapping(old, new), dry_run, f"renamed '{old}' to '{new}'", (old,))


@tags.command(epilog=EPILOG)
@click.argument("target")
@click.argument("sources", nargs=-1, required=True)
@click.option("--dry-run", is_flag=True, help="Show the diff of every file; write nothing.")
@verbosity
@click.pass_context
def merge(ctx: click.Context, target: str, sources: tuple[str, ...], dry_run: bool) -> None:
    """Merge tags SOURCES... into TARGET: the first tag named is the one that stays.

    Every spelling of TARGET and of each SOURCE (any case/accents) becomes TARGET
    exactly as typed; an article that had several of them keeps one.

    \b
    Examples:
      archiver tags merge "North Korea" DPRK "N. Korea"
      archiver tags merge "Kim Jong Un" "kim jong un" "Kim Jong-un" --dry-run
    """
    from archiver.tagops import merge_mapping

    _retag(ctx, merge_mapping(target, sources), dry_run, f"merged into '{target}'", sources)


def _retag(
    ctx: click.Context, mapping: dict[str, str], dry_run: bool, what: str, named: Sequence[str]
) -> None:
    """Plan the rewrite, then print diffs (dry run) or apply it under the archive lock; a tag
    named (the one renamed, those merged) that no article has is a problem (a typo?)."""
    from archiver.paths import archive_lock
    from archiver.tagops import apply_edits, plan_retag

    settings, reporter = _obj(ctx)
    plan = plan_retag(settings.content_path, mapping)
    if dry_run:
        for edit in plan.edits:
            click.echo(edit.diff(settings.root.resolve()), nl=False)
        result = plan
        summary = f"Dry run: would change {len(plan.edits)} file(s); nothing written"
    else:
        with archive_lock(settings.state_path, "tags"):
            result = apply_edits(plan_retag(settings.content_path, mapping))
        summary = f"Tags {what} in {len(result.edits)} file(s)"
        if result.edits:
            summary += "; run 'archiver build' to update the site"
    lines = [f"{_show(file)}: {reason}" for file, reason in result.problems]
    if not plan.edits:
        lines += _unknown_tags(settings, named)
    _finish(ctx, reporter, lines, summary)


def _unknown_tags(settings: Settings, named: Sequence[str]) -> list[str]:
    """One line per tag named that no article has (any case or accents)."""
    from archiver.model import term_key
    from archiver.tagops import tag_counts

    known = {term_key(tag.name) for tag in tag_counts(_load(settings).articles)}
    return [
        f"{_show(str(settings.content_path))}: no article has the tag '{name}'"
        for name in named
        if term_key(name) not in known
    ]


@click.command(epilog=EPILOG)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv"]),
    default="jsonl",
    show_default=True,
    help="JSON Lines (one object per article) or CSV (lists joined by '; ').",
)
@click.option(
    "--tag", "tag_filter", multiple=True, help="Only articles with this tag (repeat: all)."
)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Only articles published (else archived) on or after this date.",
)
@click.option("--with-text", is_flag=True, help="Add the article text (plain text) as 'text'.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Write to this file (atomically) instead of standard output.",
)
@verbosity
@click.pass_context
def export(
    ctx: click.Context,
    fmt: str,
    tag_filter: tuple[str, ...],
    since: dt.datetime | None,
    with_text: bool,
    output: Path | None,
) -> None:
    """Export article metadata (and optionally text), newest first, for pandas or spreadsheets.

    Tags match whatever their case or accents. In CSV, list fields are joined with
    '; ' and cells that a spreadsheet would run as a formula get a leading "'".

    \b
    Examples:
      archiver export > articles.jsonl
      archiver export --format csv --tag "North Korea" --since 2023-01-01 -o nk.csv
      archiver export --with-text -o articles.jsonl
      python -c "import pandas; print(pandas.read_json('articles.jsonl', lines=True))"
    """
    from archiver.export import ExportFilter
    from archiver.export import export as run_export

    settings, reporter = _obj(ctx)
    loaded = _load(settings)
    where = ExportFilter(tags=tag_filter, since=since.date() if since else None)
    root = str(settings.root.resolve())
    options: dict[str, Any] = {"fmt": fmt, "where": where, "with_text": with_text, "root": root}
    target = str(output) if output is not None else "-"
    with click.open_file(target, "w", encoding="utf-8", atomic=target != "-") as handle:
        count = run_export(loaded.articles, cast(TextIO, handle), **options)
    _finish(ctx, reporter, loaded.errors, f"Exported {count} article(s) as {fmt}")


def _load(settings: Settings) -> Any:
    """Every article of the archive (bad files come back as 'FILE: reason' lines)."""
    from archiver.check import load_fast

    return load_fast(settings.content_path)


def _finish(ctx: click.Context, reporter: Reporter, problems: Sequence[str], summary: str) -> None:
    """Print problems and the summary; exit 1 when there were problems."""
    for line in problems:
        reporter.problem(line)
    reporter.info(summary + (f" ({len(problems)} problem(s))" if problems else ""))
    if problems:
        ctx.exit(1)
