"""Typed settings from ``archiver.toml``; every problem is collected and reported at once."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from archiver.errors import ConfigError

CONFIG_NAME = "archiver.toml"


def _doc(text: str, default: Any = dataclasses.MISSING, factory: Any = dataclasses.MISSING) -> Any:
    """A dataclass field with a one-line description (shown by ``archiver init`` and the README)."""
    if factory is not dataclasses.MISSING:
        return field(default_factory=factory, metadata={"doc": text})
    return field(default=default, metadata={"doc": text})


@dataclass(frozen=True)
class IngestSettings:
    """The ``[ingest]`` table."""

    max_bytes: int = _doc("Inputs larger than this many bytes are refused.", 20_000_000)
    boilerplate_rules: list[str] = _doc(
        "Extra regular expressions; a dump line matching one is boilerplate.", factory=list
    )
    boilerplate_min_repeat: int = _doc(
        "A line found verbatim in at least this many inputs (batch + archive) is boilerplate.", 3
    )
    max_tags: int = _doc("Most automatic entity tags per article.", 8)
    near_duplicate_threshold: float = _doc(
        "Jaccard similarity of body shingles above which two inputs are the same article.", 0.8
    )


@dataclass(frozen=True)
class TagSettings:
    """The ``[tags]`` table."""

    aliases: dict[str, str] = _doc(
        'Variant -> canonical tag, e.g. "DPRK" = "North Korea"; extends the shipped table.',
        factory=dict,
    )
    stop: list[str] = _doc("Words or names that must never become tags.", factory=list)


@dataclass(frozen=True)
class SearchSettings:
    """The ``[search]`` table."""

    index_dir: str = _doc(
        "Where the Whoosh index lives, relative to the archive.", ".archiver/index"
    )
    client_index: bool = _doc("Write the in-browser search index into the site.", True)


@dataclass(frozen=True)
class Settings:
    """The whole of ``archiver.toml``."""

    title: str = _doc("Site title shown in the header, feeds and metadata.", "Article Archive")
    description: str = _doc(
        "One sentence about the collection (home page, feeds, metadata).",
        "A tagged, searchable archive of collected news articles.",
    )
    base_url: str = _doc("Absolute site address; used only for feeds, sitemap, canonical.", "")
    language: str = _doc("Default language code of the site.", "en")
    content_dir: str = _doc("Folder of article Markdown files.", "content")
    output_dir: str = _doc("Folder the site is built into.", "site")
    state_dir: str = _doc("Build state (manifest, lock); never published.", ".archiver")
    templates_dir: str = _doc(
        "Templates that override the default theme by file name.", "templates"
    )
    per_page: int = _doc("Articles per page on the home, tag, source and author pages.", 20)
    pretty_urls: bool = _doc("Link folders (tags/x/) instead of files; for hosted sites.", False)
    feed_size: int = _doc("Entries per Atom feed.", 50)
    related_count: int = _doc("Related articles shown on an article page.", 5)
    ingest: IngestSettings = _doc("Ingest settings.", factory=IngestSettings)
    tags: TagSettings = _doc("Tag settings.", factory=TagSettings)
    search: SearchSettings = _doc("Search settings.", factory=SearchSettings)
    root: Path = field(default=Path("."), metadata={"internal": True})
    """The archive folder (where archiver.toml is, else the current folder)."""

    def path(self, name: str) -> Path:
        """Resolve a configured folder relative to the archive root."""
        return (self.root / name).resolve()

    @property
    def content_path(self) -> Path:
        """The content folder."""
        return self.path(self.content_dir)

    @property
    def output_path(self) -> Path:
        """The site folder."""
        return self.path(self.output_dir)

    @property
    def state_path(self) -> Path:
        """The build-state folder."""
        return self.path(self.state_dir)


def load_settings(config: Path | None = None, cwd: Path | None = None) -> Settings:
    """Load archiver.toml (given, or found in the current folder); defaults when there is none."""
    cwd = cwd or Path.cwd()
    if config is None:
        candidate = cwd / CONFIG_NAME
        if not candidate.is_file():
            return Settings(root=cwd.resolve())
        config = candidate
    import tomllib  # here: an archive without archiver.toml never needs it

    try:
        raw = tomllib.loads(config.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{config}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config}: invalid TOML: {exc}") from None
    errors: list[str] = []
    values = _convert(Settings, raw, "", errors)
    if errors:
        raise ConfigError(f"{config}: " + "; ".join(errors))
    settings = Settings(**values, root=config.parent.resolve())
    _cross_check(settings, config)
    return settings


def _convert(cls: type[Any], raw: dict[str, Any], prefix: str, errors: list[str]) -> dict[str, Any]:
    """Check one table against a settings dataclass, appending every problem to errors."""
    hints = get_type_hints(cls)
    known = {f.name: f for f in fields(cls) if not f.metadata.get("internal")}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = f"{prefix}{key}"
        if key not in known:
            errors.append(f"unknown key '{name}'")
            continue
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, dict):
                errors.append(f"'{name}' must be a table")
                continue
            out[key] = hint(**_convert(hint, value, f"{name}.", errors))  # type: ignore[operator,arg-type]
        elif _matches(hint, value):
            out[key] = value
        else:
            errors.append(f"'{name}' must be {_describe(hint)}, not {type(value).__name__}")
    return out


def _matches(hint: Any, value: Any) -> bool:
    """Whether a TOML value fits a simple type hint (str, int, float, bool, list[str], dict)."""
    origin = get_origin(hint)
    if origin is list:
        (item,) = get_args(hint)
        return isinstance(value, list) and all(_matches(item, v) for v in value)
    if origin is dict:
        _, item = get_args(hint)
        return isinstance(value, dict) and all(_matches(item, v) for v in value.values())
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, hint)


def _describe(hint: Any) -> str:
    """Human name of a type hint."""
    origin = get_origin(hint)
    if origin is list:
        return "a list of " + {str: "strings", int: "integers"}.get(get_args(hint)[0], "values")
    if origin is dict:
        return "a table"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        hint, str(hint)
    )


def _cross_check(settings: Settings, config: Path) -> None:
    """Refuse dangerous combinations (an output folder that holds the content, and so on)."""
    problems = []
    if settings.per_page < 1:
        problems.append("'per_page' must be at least 1")
    if settings.ingest.max_bytes < 1:
        problems.append("'ingest.max_bytes' must be at least 1")
    overlap = output_overlap(settings)
    if overlap is not None:
        problems.append(f"'output_dir': {overlap}")
    if settings.base_url and not settings.base_url.startswith(("http://", "https://")):
        problems.append("'base_url' must start with http:// or https://")
    if problems:
        raise ConfigError(f"{config}: " + "; ".join(problems))


def output_overlap(settings: Settings) -> str | None:
    """Why the output folder cannot hold the site (None when it can): a build replaces the
    whole folder, so it must not be or hold the archive, its content, state or templates, nor
    lie inside the content, state or templates folders."""
    out = settings.output_path
    guarded = {
        "the archive folder": settings.root.resolve(),
        "the content folder": settings.content_path,
        "the build state folder": settings.state_path,
        "the templates folder": settings.path(settings.templates_dir),
    }
    for name, folder in guarded.items():
        if folder.is_relative_to(out):
            return f"the output folder {out} would replace {name} ({folder})"
        if name != "the archive folder" and out.is_relative_to(folder):
            return f"the output folder {out} lies inside {name} ({folder})"
    return None


def describe_settings() -> list[tuple[str, str, str]]:
    """Every setting as (dotted key, default, description), for docs and ``archiver init``."""
    rows: list[tuple[str, str, str]] = []

    def walk(cls: type[Any], prefix: str) -> None:
        for f in fields(cls):
            if f.metadata.get("internal"):
                continue
            if f.default_factory is not dataclasses.MISSING and dataclasses.is_dataclass(
                f.default_factory
            ):
                walk(f.default_factory, f"{prefix}{f.name}.")  # type: ignore[arg-type]
                continue
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc,operator]
            rows.append((f"{prefix}{f.name}", repr(default), f.metadata.get("doc", "")))

    walk(Settings, "")
    return rows
