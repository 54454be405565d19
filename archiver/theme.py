"""Where the default theme lives: in the wheel, or the top-level templates/ of a checkout."""

from __future__ import annotations

from pathlib import Path


def theme_dir() -> Path:
    """The default theme folder (``archiver/_theme`` in a wheel, ``templates/`` in a checkout)."""
    packaged = Path(__file__).resolve().parent / "_theme"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"
