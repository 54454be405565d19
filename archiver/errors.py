"""One error tree, rooted in click.ClickException so users see one clean line, never a traceback."""

from __future__ import annotations

import click


class ArchiverError(click.ClickException):
    """Base of every error archiver reports to the user (exit code 1)."""

    exit_code = 1


class UsageError(ArchiverError):
    """Bad flags or arguments (exit code 2)."""

    exit_code = 2


class ConfigError(ArchiverError):
    """archiver.toml is unreadable or invalid; the message lists every problem at once."""

    exit_code = 2


class InputError(ArchiverError):
    """One input file cannot be used; the message is ``FILE: reason``."""


class ContentError(ArchiverError):
    """One content file is invalid (broken YAML, wrong types, missing title, ...)."""


class UnsafePathError(ArchiverError):
    """An output path would escape its root folder."""


class LockedError(ArchiverError):
    """Another archiver process holds the archive's lock."""


class BuildError(ArchiverError):
    """The build failed; the previous site is left untouched."""


class NotAnArticleError(InputError):
    """The input is readable but holds no article (boilerplate only, index page, login wall)."""
