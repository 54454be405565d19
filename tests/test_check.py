"""``archiver check``: every failure mode is one 'FILE: reason' line and exit code 1."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from archiver.check import check_archive
from archiver.cli_workflow import check
from archiver.config import Settings
from archiver.linkcheck import check_site_links, page_links, resolve
from archiver.report import SilentReporter

GOOD = """---
title: {title}
slug: {slug}
tags: [{tags}]
source_sha256: {sha}
---
Some text about {title}.
"""


def write_article(content: Path, slug: str, tags: str = "Energy", original: bytes = b"") -> None:
    """One valid article, with its kept original when original bytes are given."""
    sha = hashlib.sha256(original or slug.encode()).hexdigest()
    if original:
        (content / "originals").mkdir(exist_ok=True)
        (content / "originals" / f"{sha}.txt").write_bytes(original)
    text = GOOD.format(title=slug.title(), slug=slug, tags=tags, sha=sha)
    (content / f"{slug}.md").write_text(text, encoding="utf-8")


def make_clean_archive(root: Path) -> Settings:
    """Two good articles with their originals, and no site yet."""
    content = root / "content"
    content.mkdir()
    write_article(content, "alpha", "Energy, Policy", b"raw alpha")
    write_article(content, "beta", "Energy", b"raw beta")
    return Settings(root=root)


def make_site(site: Path) -> None:
    """A tiny hand-made site with good and broken internal links."""
    (site / "articles").mkdir(parents=True)
    (site / "tags" / "energy").mkdir(parents=True)
    (site / "tags" / "energy" / "index.html").write_text("<p>tag</p>")
    (site / "static").mkdir()
    (site / "static" / "style.css").write_text("body{}")
    (site / "index.html").write_text(
        '<link href="static/style.css" rel="stylesheet"><a href="articles/alpha.html#top">a</a>'
        '<a href="https://example.org/x">ext</a><a href="mailto:a@b.c">m</a><a href="#x">h</a>'
        '<a href="tags/energy/">t</a><a href=articles/missing.html>gone</a>'
        "<p>&lt;img src=nothing&gt; is text, not a link</p>"
        '<script>var s = "<a href=\\"nowhere.html\\">";</script><!-- <a href="old.html"> -->'
    )
    (site / "articles" / "alpha.html").write_text(
        '<a href="../index.html">home</a><a href="../../outside.html">out</a>'
        '<img src="../static/missing.png"><a href="../tags/nothing/">t</a>'
    )


def invoke(settings: Settings, *args: str) -> Result:
    """Run ``check`` under a root group like the real one."""

    @click.group()
    @click.pass_context
    def root(ctx: click.Context) -> None:
        ctx.obj = {"settings": settings, "reporter": SilentReporter()}

    root.add_command(check)
    return CliRunner().invoke(root, ["check", *args], catch_exceptions=False)


def test_clean_archive_passes(tmp_path: Path) -> None:
    settings = make_clean_archive(tmp_path)
    result = invoke(settings)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    report = check_archive(settings)
    assert report.ok and report.counts["articles"] == 2
    assert any("not built yet" in note for note in report.notes)


def test_every_content_problem_is_one_line(tmp_path: Path) -> None:
    settings = make_clean_archive(tmp_path)
    content = tmp_path / "content"
    (content / "broken.md").write_text("---\ntitle: [oops\n---\nx\n", encoding="utf-8")
    (content / "notitle.md").write_text("---\nsummary: s\n---\nx\n", encoding="utf-8")
    (content / "nodate.md").write_text(
        "---\ntitle: N\ndate: 2024-13-45\n---\nx\n", encoding="utf-8"
    )
    (content / "latin1.md").write_bytes("---\ntitle: café\n---\nx\n".encode("latin-1"))
    (content / "copy.md").write_text("---\ntitle: Copy\nslug: alpha\n---\nx\n", encoding="utf-8")
    (content / "empty.md").write_text("---\ntitle: Empty\nurl: ftp://x\n---\n", encoding="utf-8")
    write_article(content, "gamma", "ENERGY, énergie", b"")  # original never kept
    write_article(content, "delta", "energy, Énergie", b"raw delta")
    sha_delta = hashlib.sha256(b"raw delta").hexdigest()
    (content / "originals" / f"{sha_delta}.txt").write_bytes(b"tampered")
    result = invoke(settings)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    expected = [
        f"{content / 'broken.md'}: broken YAML front matter",
        f"{content / 'copy.md'}: duplicate slug 'alpha' (also used by {content / 'alpha.md'})",
        f"{content / 'latin1.md'}: not valid UTF-8",
        f"{content / 'notitle.md'}: missing title",
        f"{content / 'nodate.md'}: impossible value in the YAML front matter: month must be in",
        f"{content / 'empty.md'}: 'url' must be an http(s) address, not 'ftp://x'",
        f"{content / 'empty.md'}: no article text after the front matter",
        f"{content}: tags differ only in case or accents: 'Energy' (2), 'ENERGY' (1), "
        "'energy' (1); fix: archiver tags merge Energy ENERGY energy",
        f"{content}: tags differ only in case or accents: 'Énergie' (1), 'énergie' (1); "
        "fix: archiver tags merge 'Énergie' 'énergie'",
        f"{content / 'gamma.md'}: original {hashlib.sha256(b'gamma').hexdigest()[:12]}… is "
        "missing from originals/",
        f"{content / 'originals' / (sha_delta + '.txt')}: sha256 does not match its name: "
        "the kept original was changed or corrupted",
    ]
    for line in expected:
        assert any(got.startswith(line) for got in lines), line
    assert len(lines) == len(expected)


def test_broken_links_in_built_site(tmp_path: Path) -> None:
    settings = make_clean_archive(tmp_path)
    site = tmp_path / "site"
    make_site(site)
    report = check_site_links(site)
    assert report.pages == 3
    (site / "tags" / "empty").mkdir()
    (site / "articles" / "alpha.html").write_text(
        (site / "articles" / "alpha.html").read_text() + '<a href="../tags/empty/">e</a>'
    )
    report = check_site_links(site)
    alpha, index = str(site / "articles" / "alpha.html"), str(site / "index.html")
    assert sorted(report.problems) == [
        (alpha, "broken link (folder without index.html): ../tags/empty/"),
        (alpha, "broken link: ../static/missing.png"),
        (alpha, "broken link: ../tags/nothing/"),
        (alpha, "link points outside the site: ../../outside.html"),
        (index, "broken link: articles/missing.html"),
    ]
    result = invoke(settings, "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False and len(data["problems"]) == 6  # 5 links + missing search index
    assert data["problems"][-1]["reason"] == "search index missing; run archiver build"


def test_link_helpers() -> None:
    assert page_links("<a href=\"a&amp;b.html\">x</a> <img SRC='i.png'>") == ["a&b.html", "i.png"]
    assert resolve("tags/x.html", "../index.html?q=1#top") == "index.html"
    assert resolve("tags/x.html", "/static/a.css") == "static/a.css"
    assert resolve("index.html", "data:text/plain,hi") is None
    assert resolve("index.html", "//cdn.example/x.js") is None
    assert resolve("a/b.html", "my%20file.html") == "a/my file.html"


def test_search_index_staleness_from_real_build(tmp_path: Path) -> None:
    from archiver.build import build_site

    settings = make_clean_archive(tmp_path)
    build_site(settings, reporter=SilentReporter())
    first = check_archive(settings)
    assert [p for p in first.problems if "search index" in p[1]] == []
    alpha = tmp_path / "content" / "alpha.md"
    alpha.write_text(alpha.read_text().replace("Some text", "Edited text"), encoding="utf-8")
    write_article(tmp_path / "content", "omega", "Energy", b"raw omega")
    stale = check_archive(settings)
    index_lines = [p for p in stale.problems if "search index" in p[1]]
    assert index_lines == [
        (
            str(tmp_path / ".archiver" / "index"),
            "search index out of date (1 changed, 1 new: alpha, omega); run archiver build",
        )
    ]


def test_a_built_archive_with_drafts_passes(tmp_path: Path) -> None:
    from archiver.build import build_site

    settings = make_clean_archive(tmp_path)
    (tmp_path / "content" / "wip.md").write_text(
        "---\ntitle: Work in progress\ndraft: true\n---\nNot yet.\n", encoding="utf-8"
    )
    build_site(settings, reporter=SilentReporter())
    report = check_archive(settings)
    assert report.ok, report.problems
    assert report.counts["articles"] == 2


def test_worker_processes_give_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import archiver.check as check_module

    settings = make_clean_archive(tmp_path)
    for n in range(6):
        write_article(tmp_path / "content", f"extra-{n}", "Energy", b"")
    serial = check_archive(settings)
    monkeypatch.setattr(check_module, "PARALLEL_MIN", 1)
    monkeypatch.setattr(check_module, "_CHUNK", 2)
    parallel = check_archive(settings)
    assert parallel == serial
    assert len(parallel.problems) == 6  # six missing originals


# -- the check cache ------------------------------------------------------------------------------


@pytest.fixture
def trusting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the cache store files written a moment ago (normally they are too fresh to trust)."""
    import archiver.checkcache as checkcache

    monkeypatch.setattr(checkcache, "RACY_NS", 0)


def cached_entries(settings: Settings) -> dict[str, int]:
    """How many entries each table of the stored check cache holds."""
    import pickle

    from archiver.checkcache import CACHE_NAME

    stored = pickle.loads((settings.state_path / CACHE_NAME).read_bytes())
    return {table: len(entries) for table, entries in stored["tables"].items()}


def rewrite_same_stat(path: Path, data: bytes) -> None:
    """Replace a file's bytes in place, keeping its size and mtime (only ctime moves)."""
    import os

    before = path.stat()
    assert len(data) == before.st_size
    path.write_bytes(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_cache_never_hides_a_changed_content_file_or_original(
    tmp_path: Path, trusting: None
) -> None:
    settings = make_clean_archive(tmp_path)
    assert check_archive(settings).ok
    assert cached_entries(settings) == {"content": 2, "originals": 2}
    alpha = tmp_path / "content" / "alpha.md"
    text = alpha.read_bytes()
    body = b"Some text about Alpha."
    rewrite_same_stat(alpha, text.replace(body, b"\n" * len(body)))
    sha = hashlib.sha256(b"raw beta").hexdigest()
    rewrite_same_stat(tmp_path / "content" / "originals" / f"{sha}.txt", b"raw bet!")
    report = check_archive(settings)
    assert [reason for _, reason in report.problems] == [
        "no article text after the front matter",
        "sha256 does not match its name: the kept original was changed or corrupted",
    ]
    assert report == check_archive(settings, use_cache=False)


def test_cached_pages_are_checked_against_the_site_as_it_is_now(
    tmp_path: Path, trusting: None
) -> None:
    settings = make_clean_archive(tmp_path)
    site = tmp_path / "site"
    make_site(site)
    first = check_archive(settings)
    assert cached_entries(settings)["pages"] == 3
    (site / "static" / "style.css").unlink()  # an unchanged page now links to a missing file
    index = site / "index.html"
    index.write_text(index.read_text() + '<a href="tags/gone/">new</a>')  # an edited page
    second = check_archive(settings)
    added = sorted(set(second.problems) - set(first.problems))
    assert added == [
        (str(index), "broken link: static/style.css"),
        (str(index), "broken link: tags/gone/"),
    ]
    assert second.counts["links"] == first.counts["links"] + 1
    assert second == check_archive(settings, use_cache=False)


def test_fresh_damaged_or_foreign_caches_are_not_trusted(tmp_path: Path) -> None:
    import pickle

    from archiver.checkcache import CACHE_NAME, code_version

    settings = make_clean_archive(tmp_path)
    make_site(tmp_path / "site")
    expected = check_archive(settings, use_cache=False)
    assert check_archive(settings) == expected
    assert cached_entries(settings) == {}  # every file was written within the racy window
    path = settings.state_path / CACHE_NAME
    path.write_bytes(b"not a pickle")
    assert check_archive(settings) == expected
    alpha = str(tmp_path / "content" / "alpha.md")
    lie = {"content": {alpha: ((0, 0, 0, 0), (None, None, "lie"))}}
    path.write_bytes(pickle.dumps({"version": "other code", "tables": lie}))
    assert check_archive(settings) == expected
    path.write_bytes(pickle.dumps({"version": code_version(), "tables": lie}))
    assert check_archive(settings) == expected  # the stat key does not match the file


def test_articles_come_from_the_build_cache_only_for_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import archiver.check as check_module
    from archiver.build import build_site

    settings = make_clean_archive(tmp_path)
    build_site(settings, reporter=SilentReporter())
    expected = check_archive(settings, use_cache=False)
    alpha = tmp_path / "content" / "alpha.md"
    alpha.write_text(alpha.read_text().replace("Some text about Alpha.", ""), encoding="utf-8")
    parsed: list[Path] = []
    real_read = check_module.read_for_check

    def spy(path: Path) -> Any:
        parsed.append(path)
        return real_read(path)

    monkeypatch.setattr(check_module, "BUILD_CACHE_MIN", 1)
    monkeypatch.setattr(check_module, "read_for_check", spy)
    report = check_archive(settings, use_cache=False)
    assert parsed == [alpha]  # beta came from the build's cache; alpha changed since the build
    problems = [p for p in report.problems if "search index" not in p[1]]
    assert problems == [(str(alpha), "no article text after the front matter")]
    assert [p for p in expected.problems if "search index" not in p[1]] == []


def test_no_cache_flag_reads_everything_again(tmp_path: Path, trusting: None) -> None:
    settings = make_clean_archive(tmp_path)
    assert invoke(settings).exit_code == 0
    sha = hashlib.sha256(b"raw beta").hexdigest()
    (tmp_path / "content" / "originals" / f"{sha}.txt").write_bytes(b"changed")
    cached, fresh = invoke(settings), invoke(settings, "--no-cache")
    assert cached.exit_code == fresh.exit_code == 1
    assert cached.output == fresh.output
    assert "sha256 does not match its name" in fresh.output


def test_a_missing_content_folder_is_a_problem(tmp_path: Path) -> None:
    report = check_archive(Settings(root=tmp_path))
    assert report.problems == ((str(tmp_path / "content"), "no such content folder"),)
