"""URL checks shared by the HTML extractor: only absolute http(s) addresses get through."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_url(url: str | None) -> str | None:
    """An absolute http(s) URL without spaces or credentials, else None."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if parts.username or parts.password or any(ch.isspace() or ch in "<>\"'`" for ch in url):
        return None
    return url
