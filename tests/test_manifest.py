"""The build manifest and the fingerprints that decide what a build may reuse."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from archiver.cache import scan_content
from archiver.config import Settings
from archiver.content import content_files
from archiver.manifest import (
    FORMAT,
    MANIFEST_NAME,
    Manifest,
    config_fingerprint,
    layered_files,
    load_manifest,
    save_manifest,
)


def test_manifest_round_trip(tmp_path: Path) -> None:
    manifest = Manifest(
        output="/x/site",
        fingerprint="f",
        scanned_ns=5,
        content={"a.md": (1, 2, "s")},
        outputs={"index.html": "d"},
        articles={"a": "s"},
        errors=["a.md: bad"],
        article_count=1,
    )
    save_manifest(tmp_path, manifest)
    assert load_manifest(tmp_path) == manifest


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"{",
        pickle.dumps({"format": 99}),
        pickle.dumps([1, 2]),
        pickle.dumps({"format": FORMAT, "unknown": 1}),
        pickle.dumps({"format": 1, "output": "site"}),
    ],
)
def test_unreadable_manifest_is_empty(tmp_path: Path, data: bytes) -> None:
    (tmp_path / MANIFEST_NAME).write_bytes(data)
    assert load_manifest(tmp_path) == Manifest()


def test_config_fingerprint_follows_settings_and_source_date_epoch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    base = config_fingerprint(Settings())
    assert config_fingerprint(Settings(root=Path("/elsewhere"))) == base
    assert config_fingerprint(Settings(title="Other")) != base
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1")
    assert config_fingerprint(Settings()) != base


def test_archive_templates_override_the_theme(tmp_path: Path) -> None:
    own, theme = tmp_path / "own", tmp_path / "theme"
    for folder in (own, theme):
        (folder / "static").mkdir(parents=True)
        (folder / "base.html").write_text(folder.name)
    (theme / "static/style.css").write_text("css")
    (own / ".hidden").write_text("x")
    files = layered_files(own, theme)
    assert files == {"base.html": own / "base.html", "static/style.css": theme / "static/style.css"}


def test_scan_selects_the_same_files_as_content_files(tmp_path: Path) -> None:
    for rel in ("a.md", "B.MARKDOWN", "sub/c.md", "_draft.md", ".hidden/d.md", "originals/e.md",
                "sub/originals/f.md", "notes.txt", "_x/g.md"):  # fmt: skip
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    expected = [p.relative_to(tmp_path).as_posix() for p in content_files(tmp_path)]
    assert list(scan_content(tmp_path)) == expected
