"""archiver: turn scraped news articles into a clean, tagged, searchable static archive."""

from __future__ import annotations

__version__ = "0.1.0"
