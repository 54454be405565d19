"""Pausing Python's cyclic garbage collector around work that makes many long-lived objects.

A full collection walks every tracked container; while ~10^5 articles, contexts or postings
are being made and kept, the collector would rescan them again and again and find nothing.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (restored as it was afterwards); as
    ``@no_gc()``, for every call of a function."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
