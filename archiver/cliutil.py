"""Pieces every command shares: -q/-v flags, the settings and reporter in the click context."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from archiver.config import Settings
from archiver.report import Reporter

F = TypeVar("F", bound=Callable[..., Any])

EPILOG = "Exit codes: 0 ok, 1 some inputs or checks failed, 2 usage error. Manual: README.md."


def verbosity(func: F) -> F:
    """Add -q/--quiet and -v/--verbose to a command (they adjust the shared reporter)."""

    def apply(ctx: click.Context, param: click.Parameter, value: int) -> int:
        if value:
            reporter: Reporter = ctx.ensure_object(dict)["reporter"]
            reporter.verbosity = value if param.name == "verbose" else -value
        return value

    for flag, name, text in (
        ("-v", "--verbose", "Say more (repeatable)."),
        ("-q", "--quiet", "Only print problems."),
    ):
        func = click.option(flag, name, count=True, expose_value=False, callback=apply, help=text)(
            func
        )
    return func


def context_objects(ctx: click.Context) -> tuple[Settings, Reporter]:
    """The settings and reporter the root group put in ctx.obj."""
    obj = ctx.ensure_object(dict)
    return obj["settings"], obj["reporter"]
