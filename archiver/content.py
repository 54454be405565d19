"""The content store: Article <-> ``content/<slug>.md`` (safe YAML), originals, slug allocation."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from slugify import slugify

from archiver.errors import ContentError
from archiver.ingest.frontmatter import fast_front
from archiver.model import Article, DateLike
from archiver.paths import ORIGINALS as ORIGINALS
from archiver.paths import atomic_write, atomic_write_text, safe_join

# libyaml's safe loader/dumper when available (same safety, ~10x faster), else the pure-Python ones.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SafeDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
YAML_VALUE_ERRORS = (ValueError, OverflowError, RecursionError)
"""What YAML that parses can still raise while building values: a date that does not exist
(2024-13-45), a year out of range, nesting too deep."""
MAX_SLUG = 80
RESERVED_SLUGS = frozenset(
    {
        "index",
        "search",
        "404",
        "tags",
        "sources",
        "authors",
        "archive",
        "static",
        "articles",
        "feed",
        "sitemap",
        "robots",
        "originals",
        "con",
        "prn",
        "aux",
        "nul",
        "com1",
        "lpt1",
    }
)
FIELD_ORDER = (
    "title",
    "slug",
    "summary",
    "published",
    "archived",
    "source",
    "authors",
    "credits",
    "url",
    "tags",
    "language",
    "source_file",
    "source_sha256",
    "also_seen",
    "extracted",
)
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)(?:\r?\n)?^(?:---|\.\.\.)[ \t]*\r?$\n?", re.S | re.M)
_TOML_FRONT = re.compile(r"\A\+\+\+[ \t]*\r?\n(.*?)^\+\+\+[ \t]*\r?$\n?", re.S | re.M)
_PELICAN_LINE = re.compile(r"^([A-Za-z][A-Za-z_ -]{0,30}):[ \t]*(.*)$")


@dataclass(frozen=True)
class LoadResult:
    """Articles read from a content folder plus one ``FILE: reason`` line per bad file."""

    articles: tuple[Article, ...]
    errors: tuple[str, ...]


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split YAML (---), TOML (+++) or Pelican-style (Key: value) front matter from the body."""
    text = text.lstrip("\ufeff")
    match = _FRONT.match(text)
    if match:
        try:
            data = yaml.load(match.group(1), Loader=_SafeLoader) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 2})" if mark is not None else ""
            problem = getattr(exc, "problem", None) or "syntax error"
            raise ContentError(f"broken YAML front matter{where}: {problem}") from None
        except YAML_VALUE_ERRORS as exc:
            raise ContentError(f"impossible value in the YAML front matter: {exc}") from None
        if not isinstance(data, dict):
            raise ContentError("front matter is not a mapping of keys to values")
        return {str(k): v for k, v in data.items()}, text[match.end() :]
    match = _TOML_FRONT.match(text)
    if match:
        import tomllib

        try:
            return tomllib.loads(match.group(1)), text[match.end() :]
        except tomllib.TOMLDecodeError as exc:
            raise ContentError(f"broken TOML front matter: {exc}") from None
    return _pelican_header(text)


def _pelican_header(text: str) -> tuple[dict[str, Any], str]:
    """Read Pelican/Python-Markdown ``Key: value`` header lines at the top of a file."""
    data: dict[str, Any] = {}
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        match = _PELICAN_LINE.match(lines[index])
        if not match:
            break
        data[match.group(1).strip().lower().replace(" ", "_")] = match.group(2).strip()
        index += 1
    if not data or "title" not in data or (index < len(lines) and lines[index].strip()):
        return {}, text
    return data, "\n".join(lines[index + 1 :])


def parse_article(text: str, path: Path | None = None) -> Article:
    """Build an Article from a content file's text; raises ContentError with the reason."""
    data, body = split_front_matter(text)
    if not data:
        raise ContentError("no front matter (expected a '---' YAML block with at least a title)")
    return article_from_mapping(data, body.strip("\n") + "\n", path)


def article_from_mapping(data: Mapping[str, Any], body: str, path: Path | None) -> Article:
    """Check front matter types and map Jekyll/Hugo/Pelican names onto the archiver contract."""
    data = dict(data)
    title = _text(data.pop("title", None), "title")
    if not title or not title.strip():
        raise ContentError("missing title")
    published_raw = data.pop("published", None)
    if isinstance(published_raw, bool):  # Jekyll's switch: kept as it is, false makes a draft
        data["published"], published_raw = published_raw, None
    date_raw = data.pop("date", None)
    published = _date(published_raw if published_raw is not None else date_raw, "published")
    if published is None and "archived" not in data and path is not None:
        published = filename_date(path)
    authors = _names(data.pop("authors", None), "authors")
    if not authors and "author" in data:
        authors = _names(data.pop("author"), "author")
    tags = _names(data.pop("tags", None), "tags")
    if "categories" in data or "category" in data:
        extra = _names(data.pop("categories", None) or data.pop("category", None), "categories")
        tags = tags + tuple(t for t in extra if t not in tags)
    summary = _text(data.pop("summary", None), "summary")
    if summary is None:
        summary = _text(data.pop("description", None), "description")
    slug_raw = _text(data.pop("slug", None), "slug")
    slug = clean_slug(slug_raw) if slug_raw else slug_from_path(path, title)
    archived = _date(data.pop("archived", None), "archived")
    if archived is not None and not isinstance(archived, dt.datetime):
        archived = dt.datetime(archived.year, archived.month, archived.day, tzinfo=dt.UTC)
    extracted = data.pop("extracted", None) or {}
    if not isinstance(extracted, dict):
        raise ContentError("'extracted' must be a mapping")
    return Article(
        title=" ".join(title.split()),
        slug=slug,
        body=_CONTROL.sub("", body),
        summary=summary,
        published=published,
        archived=archived,
        source=_text(data.pop("source", None), "source"),
        authors=authors,
        credits=_names(data.pop("credits", None), "credits"),
        url=_text(data.pop("url", None), "url"),
        tags=tags,
        language=_text(data.pop("language", None) or data.pop("lang", None), "language"),
        source_file=_text(data.pop("source_file", None), "source_file"),
        source_sha256=_text(data.pop("source_sha256", None), "source_sha256"),
        also_seen=_names(data.pop("also_seen", None), "also_seen"),
        extracted={str(k): str(v) for k, v in extracted.items()},
        extra=data,
        path=path,
    )


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Control characters (not tab or line breaks): invalid in HTML and XML, and a terminal obeys
them; a hand-made or hostile content file may hold them, and they are dropped."""


def _text(value: Any, key: str) -> str | None:
    """A scalar front matter value as text (numbers allowed, control characters dropped)."""
    if value is None:
        return None
    if isinstance(value, bool | list | dict):
        raise ContentError(f"'{key}' must be text, not {type(value).__name__}")
    if isinstance(value, dt.date):
        return value.isoformat()
    return _CONTROL.sub("", str(value))


def _names(value: Any, key: str) -> tuple[str, ...]:
    """A list of names: a YAML list, or a comma-separated string (Jekyll/Pelican style)."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        items: list[Any] = [v for v in value.split(",")] if "," in value else [value]
    elif isinstance(value, list):
        items = value
    else:
        raise ContentError(f"'{key}' must be a list of names, not {type(value).__name__}")
    out: list[str] = []
    for item in items:
        if isinstance(item, bool | list | dict) or item is None:
            raise ContentError(f"'{key}' must be a list of names")
        name = " ".join(_CONTROL.sub("", str(item)).split())
        if name and name not in out:
            out.append(name)
    return tuple(out)


def _date(value: Any, key: str) -> DateLike | None:
    """A YAML date/datetime or an ISO-8601 string."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        for parse in (dt.datetime.fromisoformat, dt.date.fromisoformat):
            try:
                return parse(text)
            except ValueError:
                continue
        for fmt in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d"):
            try:
                return dt.datetime.strptime(text, fmt)
            except ValueError:
                continue
    raise ContentError(f"'{key}' must be a date like 2024-12-19, not {value!r}")


def serialise(article: Article) -> str:
    """Front matter (safe YAML, fixed key order) plus body: the text of a content file."""
    data: dict[str, Any] = {}
    values: dict[str, Any] = {
        "title": article.title,
        "slug": article.slug,
        "summary": article.summary,
        "published": article.published,
        "archived": _iso(article.archived),
        "source": article.source,
        "authors": list(article.authors),
        "credits": list(article.credits),
        "url": article.url,
        "tags": list(article.tags),
        "language": article.language,
        "source_file": article.source_file,
        "source_sha256": article.source_sha256,
        "also_seen": list(article.also_seen),
        "extracted": dict(sorted(article.extracted.items())),
    }
    for key in FIELD_ORDER:
        value = values[key]
        if value is None or (value == [] and key not in ("authors", "tags", "also_seen")):
            continue
        if value == {}:
            continue
        data[key] = value
    for key in sorted(article.extra):
        data[key] = article.extra[key]
    front = fast_front(data) if _FAST and not article.extra else None
    if front is None:
        front = _dump(data)
    return f"---\n{front}---\n\n{article.body.strip()}\n"


_FAST = hasattr(yaml, "CSafeDumper")  # the fast path follows libyaml's rules


def _dump(data: Mapping[str, Any]) -> str:
    """PyYAML's front matter: the reference the fast path must match byte for byte."""
    return yaml.dump(
        data,
        Dumper=_SafeDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=None,
        width=100,
    )


def _iso(value: dt.datetime | None) -> str | None:
    """An aware datetime as ``2026-11-28T14:45:00Z``."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def clean_slug(text: str) -> str:
    """ASCII slug of at most 80 characters, never empty, never a reserved name."""
    slug = slugify(text, max_length=MAX_SLUG, word_boundary=True, save_order=True)
    if not slug:
        slug = "article-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    if slug in RESERVED_SLUGS:
        slug = f"{slug}-article"
    return slug


def slug_from_path(path: Path | None, title: str) -> str:
    """Slug for a file without one: its name minus a Jekyll date prefix, else its title.

    An ``index.md`` is named by its folder (a Hugo page bundle: ``posts/my-trip/index.md``).
    """
    stem = "" if path is None else _file_stem(path)
    return clean_slug(_DATE_PREFIX.sub("", stem) or title)


def _file_stem(path: Path) -> str:
    """What names a content file: its stem, or its folder's name for an ``index.md``."""
    if path.stem.lower() == "index" and path.parent.name:
        return path.parent.name
    return path.stem


_DATE_PREFIX = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-")


def filename_date(path: Path) -> dt.date | None:
    """The date a content file's name (or an index.md's folder name) starts with, if any."""
    return _filename_date(_file_stem(path))


def _filename_date(stem: str) -> dt.date | None:
    """The date a Jekyll or Pelican file name starts with (``2021-03-04-my-post``), if valid."""
    match = _DATE_PREFIX.match(stem)
    if match is None:
        return None
    try:
        return dt.date(*map(int, match.groups()))
    except ValueError:
        return None


def is_draft(article: Article) -> bool:
    """Whether the front matter keeps the article unpublished: Hugo's ``draft: true``,
    Jekyll's ``published: false`` or Pelican's ``status: draft``."""
    extra = article.extra
    draft = extra.get("draft")
    if isinstance(draft, str):
        draft = draft.strip().lower() in ("true", "yes")
    status = extra.get("status")
    return (
        draft is True
        or extra.get("published") is False
        or (isinstance(status, str) and status.strip().lower() == "draft")
    )


def allocate_slug(title: str, taken: set[str]) -> str:
    """A fresh slug for title: collisions get -2, -3, ... (deterministic); adds it to taken."""
    return claim_slug(clean_slug(title), taken)


def claim_slug(base: str, taken: set[str]) -> str:
    """The first of base, base-2, base-3, ... not in taken (cut to fit MAX_SLUG); adds it."""
    slug, n = base, 2
    while slug in taken:
        suffix = f"-{n}"
        slug = base[: MAX_SLUG - len(suffix)].rstrip("-") + suffix
        n += 1
    taken.add(slug)
    return slug


def content_file(content_dir: Path, slug: str) -> Path:
    """The Markdown file of a slug, through the one safe join."""
    return safe_join(content_dir, f"{slug}.md")


def write_article(content_dir: Path, article: Article) -> Path:
    """Write one article atomically; returns its path."""
    path = content_file(content_dir, article.slug)
    atomic_write_text(path, serialise(article))
    return path


def store_original(content_dir: Path, data: bytes, suffix: str) -> str:
    """Keep a raw input byte-for-byte as ``originals/<sha256><suffix>``; returns the sha256."""
    digest = hashlib.sha256(data).hexdigest()
    ext = suffix.lower() if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix.lower()) else ".bin"
    path = safe_join(content_dir, f"{ORIGINALS}/{digest}{ext}")
    if not path.exists():
        atomic_write(path, data)
    return digest


def content_files(content_dir: Path) -> list[Path]:
    """Every article file in the content folder (originals and hidden files excluded), sorted."""
    if not content_dir.is_dir():
        return []
    out: list[Path] = []
    for folder, dirs, files in os.walk(content_dir):
        top = folder == str(content_dir)
        dirs[:] = [d for d in dirs if not d.startswith((".", "_")) and not (top and d == ORIGINALS)]
        out.extend(
            Path(folder, name)
            for name in files
            if not name.startswith((".", "_")) and name.lower().endswith((".md", ".markdown"))
        )
    return sorted(out)


def read_article(path: Path) -> Article:
    """Read and validate one content file; raises ContentError naming the reason."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ContentError("not valid UTF-8") from None
    except OSError as exc:
        raise ContentError(f"cannot read: {exc.strerror}") from None
    return parse_article(text, path)


def load_articles(content_dir: Path, files: Iterable[Path] | None = None) -> LoadResult:
    """Read every content file; bad ones become ``FILE: reason`` lines, duplicate slugs too."""
    articles: list[Article] = []
    errors: list[str] = []
    seen: dict[str, Path] = {}
    for path in files if files is not None else content_files(content_dir):
        try:
            article = read_article(path)
        except ContentError as exc:
            errors.append(f"{path}: {exc.message}")
            continue
        if is_draft(article):
            continue
        if article.slug in seen:
            other = seen[article.slug]
            errors.append(f"{path}: duplicate slug '{article.slug}' (also used by {other})")
            continue
        seen[article.slug] = path
        articles.append(article)
    return LoadResult(tuple(articles), tuple(errors))
