"""The site writer: one claim per path, hard links for unchanged files, atomic swap."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from archiver.errors import UnsafePathError
from archiver.writer import (
    SiteWriter,
    _fill,
    body_pattern,
    body_placeholder,
    clean_stale,
    context_text,
)

NONCE = "0123456789abcdef"
SHA = "ab" * 32


def test_second_claim_of_a_path_is_refused_naming_both(tmp_path: Path) -> None:
    writer = SiteWriter(tmp_path / "site", {})
    assert writer.claim("tags/c.html", "d1", "term.html (C)")
    assert not writer.claim("tags/c.html", "d2", "term.html (C#)")
    (line,) = writer.errors
    assert line.startswith("tags/c.html: ") and "(C)" in line and "(C#)" in line
    assert writer.outputs == {"tags/c.html": "d1"}
    writer.abort()


def test_unsafe_paths_are_refused(tmp_path: Path) -> None:
    writer = SiteWriter(tmp_path / "site", {})
    for bad in ("../escape.html", "/etc/passwd", "a/../../b"):
        with pytest.raises(UnsafePathError):
            writer.write(bad, b"x")
    writer.abort()
    assert not (tmp_path / "escape.html").exists()


def test_unchanged_files_are_hard_linked_and_changed_ones_written(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "a").mkdir(parents=True)
    (site / "a/keep.html").write_bytes(b"old")
    (site / "a/change.html").write_bytes(b"old")
    writer = SiteWriter(site, {"a/keep.html": "same", "a/change.html": "before"})
    writer.claim("a/keep.html", "same", "x")
    writer.claim("a/change.html", "after", "y")
    assert writer.reuse("a/keep.html")
    assert not writer.reuse("a/change.html")
    writer.write("a/change.html", b"new")
    writer.swap()
    assert (site / "a/keep.html").read_bytes() == b"old"
    assert (site / "a/change.html").read_bytes() == b"new"
    assert (writer.reused, writer.written) == (1, 1)
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_swap_replaces_the_site_and_keeps_permissions_usable(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "stale.html").write_bytes(b"x")
    writer = SiteWriter(site, {})
    writer.write("index.html", b"hello")
    writer.swap()
    assert sorted(os.listdir(site)) == ["index.html"]
    assert os.stat(site).st_mode & 0o055  # not the 0700 of a plain mkdtemp
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_abort_leaves_the_previous_site(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_bytes(b"old")
    writer = SiteWriter(site, {})
    writer.write("index.html", b"new")
    writer.abort()
    assert (site / "index.html").read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_clean_stale_removes_only_leftovers(tmp_path: Path) -> None:
    for name in ("site", "site.tmp-1x_2y3z4", "site.old-0a1b2c3d", "siteX.tmp-3x_2y3z4"):
        (tmp_path / name).mkdir()
    clean_stale(tmp_path / "site")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site", "siteX.tmp-3x_2y3z4"]


def test_clean_stale_in_the_background_removes_leftovers_too(tmp_path: Path) -> None:
    for name in ("site", "site.tmp-1x_2y3z4", "site.old-0a1b2c3d", "siteX.tmp-3x_2y3z4"):
        (tmp_path / name / "deep").mkdir(parents=True)
        (tmp_path / name / "deep" / "page.html").write_bytes(b"x")
    clean_stale(tmp_path / "site", background=True)
    for _ in range(500):  # the detached rm -rf finishes on its own; poll for its result
        if sorted(p.name for p in tmp_path.iterdir()) == ["site", "siteX.tmp-3x_2y3z4"]:
            break
        time.sleep(0.01)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site", "siteX.tmp-3x_2y3z4"]
    assert (tmp_path / "site" / "deep" / "page.html").read_bytes() == b"x"


def test_placeholder_is_filled_raw_or_escaped() -> None:
    body = '<p>A & "B"</p>'
    holder = body_placeholder(NONCE, SHA)
    pattern = body_pattern(NONCE)
    raw = f"<main>{holder}</main>".encode()
    escaped = f"<content>{holder.replace('<', '&lt;')}</content>".encode()
    assert pattern.sub(lambda m: _fill(m, {SHA: body}), raw) == f"<main>{body}</main>".encode()
    assert pattern.sub(lambda m: _fill(m, {SHA: body}), escaped) == (
        b"<content>&lt;p&gt;A &amp; &#34;B&#34;&lt;/p&gt;</content>"
    )
    assert body_pattern(NONCE, text=True).findall(context_text({"html": holder})) == [SHA]
