"""Allow ``python -m archiver``."""

from __future__ import annotations

from archiver.cli import main

main()
