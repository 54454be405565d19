"""``archiver init``: a ready archive folder with a documented archiver.toml."""

from __future__ import annotations

from pathlib import Path

from archiver.config import CONFIG_NAME, describe_settings
from archiver.errors import ArchiverError
from archiver.paths import atomic_write_text

GITIGNORE = "site/\n.archiver/\n"


def config_text() -> str:
    """archiver.toml with every setting commented out at its default, each with its description."""
    lines = ["# archiver settings. Every key is optional; the values shown are the defaults.", ""]
    table = ""
    for key, default, doc in describe_settings():
        section, _, name = key.rpartition(".")
        if section != table:
            lines += ["", f"[{section}]"]
            table = section
        value = default.replace("'", '"').replace("True", "true").replace("False", "false")
        lines += [f"# {doc}", f"# {name} = {value}"]
    return "\n".join(lines) + "\n"


def create_archive(directory: Path) -> list[str]:
    """Create the folder layout; never overwrites an existing file. Returns what it did."""
    if directory.exists() and not directory.is_dir():
        raise ArchiverError(f"{directory}: exists and is not a folder")
    done: list[str] = []
    for sub in ("content/originals", "templates", "raw"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    for name, text in ((CONFIG_NAME, config_text()), (".gitignore", GITIGNORE)):
        path = directory / name
        if path.exists():
            done.append(f"kept existing {path}")
            continue
        atomic_write_text(path, text)
        done.append(f"created {path}")
    done.append(
        f"archive ready in {directory}: put raw scrapes in {directory / 'raw'}, then run "
        "'archiver ingest raw' and 'archiver build' there"
    )
    return done
