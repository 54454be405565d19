"""The site's URL scheme: page names -> output files and root-relative links (file:// friendly)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from archiver.model import DateLike, as_datetime

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


@dataclass(frozen=True)
class Links:
    """Maps logical page names ("articles/x", "tags/index") to files and hrefs.

    Every href is relative to the site root, without a leading slash; a page turns it into a
    working relative link by prefixing its own ``root`` ("", "../", "../../" ...). Plain mode
    links files (``tags/x.html``) so the site works from disk; pretty mode links folders
    (``tags/x/``) backed by ``tags/x/index.html``.
    """

    pretty: bool = False
    base_url: str = ""

    def file(self, name: str) -> str:
        """Output path of a logical page name."""
        if name == "index" or name.endswith("/index") or not self.pretty:
            return f"{name}.html"
        return f"{name}/index.html"

    def href(self, name: str) -> str:
        """Root-relative link to a logical page name."""
        if not self.pretty:
            return f"{name}.html"
        if name == "index":
            return "./"
        if name.endswith("/index"):
            return name[: -len("index")]
        return f"{name}/"

    def absolute(self, href: str) -> str:
        """Absolute URL of a root-relative href ("" when no base_url is configured)."""
        if not self.base_url:
            return ""
        tail = "" if href == "./" else href
        return f"{self.base_url.rstrip('/')}/{tail}"

    def external(self, href: str, root: str) -> str:
        """Absolute URL when base_url is set, else the href relative to a page at root."""
        return self.absolute(href) or root + href


def root_of(path: str) -> str:
    """The prefix that leads from the page at path back to the site root."""
    return "../" * path.count("/")


def paged(name: str, number: int) -> str:
    """Logical name of page number of a paginated list (1 is the list itself)."""
    if number <= 1:
        return name
    base = "" if name == "index" else f"{name}/"
    return f"{base}page/{number}"


def date_info(value: DateLike | None) -> dict[str, str] | None:
    """A date for templates: machine ``iso`` (for <time datetime>) and human ``text``."""
    if value is None:
        return None
    text = f"{value.day} {MONTHS[value.month - 1]} {value.year}"
    if isinstance(value, dt.datetime):
        iso = as_datetime(value).strftime("%Y-%m-%dT%H:%M:%SZ")
    else:
        iso = value.isoformat()
    return {"iso": iso, "text": text}


def atom_date(value: DateLike | None) -> str:
    """RFC 3339 timestamp in UTC, as Atom requires."""
    return as_datetime(value).strftime("%Y-%m-%dT%H:%M:%SZ")
