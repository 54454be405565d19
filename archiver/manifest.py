"""The build manifest: what the last build read and wrote, so the next build redoes only changes."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

from archiver.config import Settings
from archiver.memory import no_gc
from archiver.paths import atomic_write

MANIFEST_NAME = "build-manifest.pickle"
FORMAT = 2
RACY_NS = 2_000_000_000
"""A file modified this close to the scan that recorded it is re-hashed, never trusted by stat."""

ENGINE_MODULES = (
    "model", "config", "content", "markup", "taxonomy", "links", "pages", "render",
    "theme", "build", "cache", "manifest", "writer", "quick", "quickstate", "quickmeta", "cite",
    "quickorder", "quickrelate", "quickterms", "quickclient", "quickwords", "quickchild",
)  # fmt: skip
"""Modules (besides archiver/search/) whose code shapes the site; editing one re-renders all."""

Stat = tuple[int, int, str]
"""(mtime_ns, size, sha256) of one content file."""


@dataclass
class Manifest:
    """Inputs and outputs of the last successful build of one site folder."""

    output: str = ""
    fingerprint: str = ""
    scanned_ns: int = 0
    content: dict[str, Stat] = field(default_factory=dict)
    """Content file (relative POSIX path) -> (mtime_ns, size, sha256)."""
    outputs: dict[str, str] = field(default_factory=dict)
    """Site file (relative POSIX path) -> digest of everything that produced it."""
    articles: dict[str, str] = field(default_factory=dict)
    """Article slug -> sha256 of its content file (tells search what changed)."""
    errors: list[str] = field(default_factory=list)
    article_count: int = 0
    quick: str = ""
    """Token of the one-edit fast path's state saved with this manifest (archiver/quick.py)."""


def load_manifest(state_dir: Path) -> Manifest:
    """The stored manifest, or an empty one when missing, unreadable or of another format."""
    try:
        with no_gc():  # ~10^5 long-lived objects: collections would only rescan them
            raw = pickle.loads((state_dir / MANIFEST_NAME).read_bytes())
        if raw.pop("format", None) != FORMAT:
            return Manifest()
        return Manifest(**raw)
    except Exception:  # our own file in .archiver/: damaged or missing means a full build
        return Manifest()


def save_manifest(state_dir: Path, manifest: Manifest) -> None:
    """Write the manifest atomically (a pickle: a tenth of the time JSON takes at 10^4 pages)."""
    data = {"format": FORMAT, **vars(manifest)}  # plain fields: no deep copy needed
    atomic_write(state_dir / MANIFEST_NAME, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))


def forget_manifest(state_dir: Path) -> None:
    """Remove the manifest (done just before a swap, so a crash can never leave a stale one)."""
    with contextlib.suppress(FileNotFoundError):
        (state_dir / MANIFEST_NAME).unlink()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_files(root: Path) -> dict[str, Path]:
    """Every regular file under root by relative POSIX path (hidden files skipped), sorted."""
    found: dict[str, Path] = {}
    if not root.is_dir():
        return found
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        base = Path(folder)
        for name in sorted(files):
            if not name.startswith("."):
                path = base / name
                found[path.relative_to(root).as_posix()] = path
    return dict(sorted(found.items()))


def layered_files(*roots: Path) -> dict[str, Path]:
    """Files of several folders merged by relative path; an earlier root wins (overrides)."""
    merged: dict[str, Path] = {}
    for root in reversed(roots):
        merged.update(tree_files(root))
    return dict(sorted(merged.items()))


def digest_files(files: dict[str, Path]) -> dict[str, str]:
    """Relative path -> sha256 of the file's bytes."""
    return {rel: sha256_file(path) for rel, path in files.items()}


def code_fingerprint(modules: tuple[str, ...] = ENGINE_MODULES, *, search: bool = True) -> str:
    """Hash of the code that shapes the site, so an upgrade never reuses stale pages."""
    package = Path(__file__).resolve().parent
    sources = [package / f"{name}.py" for name in modules]
    if search and (package / "search").is_dir():
        sources += sorted((package / "search").rglob("*.py"))
    digest = hashlib.sha256()
    for path in sources:
        with contextlib.suppress(OSError):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def config_fingerprint(settings: Settings) -> str:
    """Hash of every setting that can change a page, plus SOURCE_DATE_EPOCH."""
    values = dataclasses.asdict(settings)
    for key in ("root", "content_dir", "output_dir", "state_dir"):
        values.pop(key, None)
    values["SOURCE_DATE_EPOCH"] = os.environ.get("SOURCE_DATE_EPOCH", "")
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def combine(*parts: str) -> str:
    """One hex digest of several strings (order matters)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8") + b"\0")
    return digest.hexdigest()
