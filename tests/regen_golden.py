"""Regenerate tests/golden/site/ on purpose: ``.venv/bin/python -m tests.regen_golden``.

Runs tests/test_golden_site.py with UPDATE_GOLDEN=1, which rebuilds the golden fixture and
replaces the committed tree; review the result with ``git diff tests/golden`` before committing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest


def main() -> int:
    """Rebuild the golden tree through the golden test; returns pytest's exit code."""
    os.environ["UPDATE_GOLDEN"] = "1"
    test = Path(__file__).resolve().parent / "test_golden_site.py"
    return int(pytest.main(["-q", "-p", "no:cacheprovider", str(test)]))


if __name__ == "__main__":
    sys.exit(main())
