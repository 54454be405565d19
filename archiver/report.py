"""All progress and problems go through a Reporter; library code never prints."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

import click

T = TypeVar("T")
_BREAKS = {c: f"\\x{c:02x}" for c in (*range(32), 127)} | {
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def one_line(text: str) -> str:
    """text with line breaks and other control characters escaped (a file name may hold them)."""
    return text.translate(_BREAKS)


class Reporter:
    """Console reporter: progress bars on a terminal, one line per problem on stderr."""

    def __init__(self, verbosity: int = 0, *, color: bool | None = None) -> None:
        self.verbosity = verbosity
        self.color = color
        self.problems: list[str] = []

    def info(self, message: str) -> None:
        """A normal status line (hidden by -q)."""
        if self.verbosity >= 0:
            click.echo(message, err=True, color=self.color)

    def detail(self, message: str) -> None:
        """A line shown only with -v."""
        if self.verbosity > 0:
            click.echo(message, err=True, color=self.color)

    def problem(self, line: str) -> None:
        """One ``FILE: reason`` line; always shown, and remembered."""
        self.problems.append(line)
        click.secho(one_line(line), err=True, fg="yellow", color=self.color)

    def progress(self, items: Iterable[T], length: int, label: str) -> Iterator[T]:
        """Iterate with a progress bar when stderr is a terminal and not quiet."""
        if self.verbosity < 0 or not sys.stderr.isatty() or length < 20:
            yield from items
            return
        with click.progressbar(items, length=length, label=label, file=sys.stderr) as bar:
            yield from bar


class SilentReporter(Reporter):
    """A reporter that records problems and messages without printing (tests, library use)."""

    def __init__(self) -> None:
        super().__init__(verbosity=-1)
        self.messages: list[str] = []

    def info(self, message: str) -> None:
        """Record the message."""
        self.messages.append(message)

    def detail(self, message: str) -> None:
        """Record the message."""
        self.messages.append(message)

    def problem(self, line: str) -> None:
        """Record the problem."""
        self.problems.append(line)
