"""Where the default theme lives: packaged in the wheel, or the repository's top-level templates/."""

from __future__ import annotations

from pathlib import Path


def theme_dir() -> Path:
    """The default theme folder (``archiver/_theme`` in a wheel, ``templates/`` in a checkout)."""
    packaged = Path(__file__).resolve().parent / "_theme"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"
