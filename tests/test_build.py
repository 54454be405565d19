"""The build engine: incremental == clean, only what changed re-rendered, atomic, locked."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import archiver.build as build_module
from archiver.build import BuildHooks, BuildReport, build_site
from archiver.config import Settings
from archiver.errors import BuildError, LockedError
from archiver.manifest import MANIFEST_NAME, load_manifest, save_manifest
from archiver.paths import archive_lock
from archiver.quick import QuickBuild
from archiver.quickstate import external_digest
from archiver.theme import theme_dir

ARTICLES = {
    "alpha.md": ("Alpha rises", "2023-01-05", ["Energy", "Europe"], "Wire One", "Alpha body."),
    "beta.md": ("Beta falls", "2023-02-11", ["Energy"], "Wire Two", "Beta body text."),
    "gamma.md": ("Gamma waits", "2024-03-20", ["Asia"], "Wire One", "Gamma *body*."),
    "delta.md": ("Delta speaks", "2024-07-02", ["Europe", "Asia"], "Wire Three", "Delta body."),
}


def write_article(folder: Path, name: str, title: str, date: str, tags: list[str], source: str,
                  body: str) -> Path:  # fmt: skip
    """One content file with YAML front matter."""
    path = folder / name
    tag_list = ", ".join(tags)
    path.write_text(
        f"---\ntitle: {title}\npublished: {date}\ntags: [{tag_list}]\nsource: {source}\n---\n\n"
        f"{body}\n",
        encoding="utf-8",
    )
    return path


def make_archive(root: Path) -> Settings:
    """A small archive folder with four articles."""
    content = root / "content"
    content.mkdir(parents=True)
    for name, fields in ARTICLES.items():
        write_article(content, name, *fields)
    return Settings(root=root)


def tree(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under root."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def build(settings: Settings, **kwargs: object) -> tuple[BuildReport, list[str]]:
    """Build in-process (jobs=1) and record which pages were rendered."""
    rendered: list[str] = []
    hooks = BuildHooks(on_rendered=rendered.append)
    report = build_site(settings, jobs=1, hooks=hooks, **kwargs)  # type: ignore[arg-type]
    return report, rendered


@pytest.fixture(autouse=True)
def _fixed_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_archive(tmp_path / "archive")


def test_first_build_writes_every_page(settings: Settings) -> None:
    report, rendered = build(settings)
    site = settings.output_path
    assert report.errors == ()
    assert report.articles == 4
    assert report.reused == 0
    assert {"index.html", "articles/alpha.html", "feed.atom", "static/style.css"} <= set(tree(site))
    assert "<em>body</em>" in (site / "articles/gamma.html").read_text(encoding="utf-8")
    assert report.written == len(tree(site))
    copied = {p for p in tree(site) if p.startswith(("static/", "search/"))}
    assert sorted(rendered) == sorted(set(tree(site)) - copied)


def test_nothing_changed_reuses_everything(settings: Settings) -> None:
    first, _ = build(settings)
    before = tree(settings.output_path)
    second, rendered = build(settings)
    assert (second.written, rendered) == (0, [])
    assert second.reused == first.written
    assert tree(settings.output_path) == before


def test_edit_rerenders_only_the_article_and_pages_showing_it(settings: Settings) -> None:
    build(settings)
    content = settings.content_path
    write_article(content, "beta.md", *ARTICLES["beta.md"][:4], "Beta body, edited.")
    report, rendered = build(settings)
    assert "articles/beta.html" in rendered
    for other in ("alpha", "gamma", "delta"):
        assert f"articles/{other}.html" not in rendered
    assert "tags/asia.html" not in rendered  # beta is not tagged Asia
    search_files = [p for p in tree(settings.output_path) if p.startswith("search/")]
    assert len(rendered) <= report.written <= len(rendered) + len(search_files)
    assert report.reused > report.written
    assert "Beta body, edited." in (settings.output_path / "articles/beta.html").read_text()


def _summarised(content: Path, name: str, body: str, **front: str) -> None:
    """Rewrite one test article with a summary (so body edits keep its list entries)."""
    title, date, tags, source, _ = ARTICLES[name]
    fields = {"title": title, "published": date, "tags": f"[{', '.join(tags)}]",
              "source": source, "summary": f"About {title}."}  # fmt: skip
    fields.update(front)
    head = "".join(f"{key}: {value}\n" for key, value in fields.items())
    (content / name).write_text(f"---\n{head}---\n\n{body}\n", encoding="utf-8")


def _mixed(content: Path) -> None:
    """The original scenario: an edit that moves an article, a deletion and an addition."""
    write_article(content, "beta.md", "Beta falls further", "2023-02-12", ["Energy", "Asia"],
                  "Wire Two", "Beta body, edited.")  # fmt: skip
    (content / "delta.md").unlink()
    write_article(content, "epsilon.md", "Epsilon", "2022-05-05", ["Oceans"], "Wire Four", "E.")


LONG = " ".join(["word"] * 700)


def _two_bodies(content: Path) -> None:
    _summarised(content, "beta.md", "Beta two.")
    _summarised(content, "alpha.md", "A2.")


def _edit_and_delete(content: Path) -> None:
    _summarised(content, "beta.md", "Beta two.")
    (content / "gamma.md").unlink()


def _broken(content: Path) -> None:
    (content / "beta.md").write_text("---\ntitle: [x\n---\n", encoding="utf-8")


EDITS: dict[str, tuple[Callable[[Path], None], bool]] = {
    # name: (the edit, whether the one-edit fast path may take it)
    "body": (lambda c: _summarised(c, "beta.md", "Beta body, *edited*."), True),
    "body-appended": (lambda c: _summarised(c, "beta.md", "Beta body.\n\nAnd more."), True),
    "reading-time": (lambda c: _summarised(c, "beta.md", LONG), True),
    "title": (lambda c: _summarised(c, "beta.md", "Beta body.", title="Beta soars"), True),
    "tags": (lambda c: _summarised(c, "beta.md", "Beta body.", tags="[Energy, Asia]"), True),
    "summary": (lambda c: _summarised(c, "beta.md", "Beta body.", summary="New."), True),
    "two-bodies": (_two_bodies, True),
    "edit-and-delete": (_edit_and_delete, False),
    "broken": (_broken, False),
    "to-draft": (lambda c: _summarised(c, "beta.md", "Beta body.", draft="true"), False),
    "mixed": (_mixed, False),
}


@pytest.mark.parametrize("case", sorted(EDITS))
def test_incremental_build_is_byte_identical_to_a_clean_build(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    content = settings.content_path
    for name in ("alpha.md", "beta.md"):
        _summarised(content, name, ARTICLES[name][4])
    build(settings)
    edit, fast = EDITS[case]
    edit(content)
    taken: list[bool] = []
    real_run = QuickBuild.run

    def spy(self: QuickBuild, *args: Any, **kwargs: Any) -> Any:
        taken.append(True)
        return real_run(self, *args, **kwargs)

    monkeypatch.setattr(QuickBuild, "run", spy)
    incremental, rendered = build(settings)
    assert bool(taken) == fast
    if fast:
        assert incremental.written >= 1 and incremental.reused > 0
        assert "articles/beta.html" in rendered
    other = tmp_path / "other"
    shutil.copytree(content, other / "content")
    clean, _ = build(Settings(root=other), clean=True)
    assert clean.reused == 0
    assert tree(settings.output_path) == tree(other / "site")
    # the manifest and state the fast path leaves behind serve the next build as well
    again, _ = build(settings)
    assert again.written == 0 and tree(settings.output_path) == tree(other / "site")
    _summarised(content, "beta.md", "Beta body, a third time.")
    build(settings)
    shutil.copy(content / "beta.md", other / "content" / "beta.md")
    build(Settings(root=other), clean=True)
    assert tree(settings.output_path) == tree(other / "site")
    if fast:  # a normal build after the fast path reuses the pages it wrote
        write_article(content, "delta.md", "Delta shouts", *ARTICLES["delta.md"][1:])
        _, rendered = build(settings)
        assert "articles/delta.html" in rendered and "articles/beta.html" not in rendered


def test_pool_build_matches_in_process_build(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build_module, "POOL_MIN", 1)
    report = build_site(settings, jobs=2)
    assert report.errors == ()
    other = tmp_path / "other"
    shutil.copytree(settings.content_path, other / "content")
    build(Settings(root=other))
    assert tree(settings.output_path) == tree(other / "site")


def test_template_override_rerenders_only_pages_using_it(settings: Settings) -> None:
    build(settings)
    templates = settings.path(settings.templates_dir)
    (templates / "static").mkdir(parents=True)
    robots = (theme_dir() / "robots.txt").read_text(encoding="utf-8")
    (templates / "robots.txt").write_text(robots + "# custom\n", encoding="utf-8")
    (templates / "static" / "style.css").write_text("body { color: red }\n", encoding="utf-8")
    report, rendered = build(settings)
    assert rendered == ["robots.txt"]
    assert report.written == 2  # robots.txt and static/style.css
    site = settings.output_path
    assert (site / "robots.txt").read_text(encoding="utf-8").endswith("# custom\n")
    assert (site / "static/style.css").read_text(encoding="utf-8") == "body { color: red }\n"


def test_config_change_rerenders_pages(settings: Settings) -> None:
    build(settings)
    renamed = Settings(root=settings.root, title="Another Title")
    _, rendered = build(renamed)
    assert "index.html" in rendered and "articles/alpha.html" in rendered
    assert "Another Title" in (settings.output_path / "index.html").read_text(encoding="utf-8")


def test_deleted_article_page_disappears(settings: Settings) -> None:
    build(settings)
    (settings.content_path / "gamma.md").unlink()
    report, _ = build(settings)
    assert not (settings.output_path / "articles/gamma.html").exists()
    assert report.articles == 3 and report.deleted >= 1


def test_clean_rebuilds_everything(settings: Settings) -> None:
    first, _ = build(settings)
    report, _ = build(settings, clean=True)
    assert report.reused == 0 and report.written == first.written


def test_same_size_edit_in_the_same_second_is_noticed(settings: Settings) -> None:
    build(settings)
    path = settings.content_path / "alpha.md"
    stat = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("Alpha body.", "Alpha BODY."))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    build(settings)
    assert "Alpha BODY." in (settings.output_path / "articles/alpha.html").read_text()


def test_missing_output_file_is_restored(settings: Settings) -> None:
    build(settings)
    (settings.output_path / "articles/alpha.html").unlink()
    _, rendered = build(settings)
    assert rendered == ["articles/alpha.html"]
    assert (settings.output_path / "articles/alpha.html").is_file()


@pytest.mark.parametrize("failure", [RuntimeError("boom"), KeyboardInterrupt()])
def test_failure_mid_build_leaves_previous_site_identical(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    build(settings)
    before = tree(settings.output_path)
    write_article(settings.content_path, "alpha.md", "Alpha changed", "2023-01-05", ["Energy"],
                  "Wire One", "New body.")  # fmt: skip
    import archiver.render

    real = archiver.render.render_page
    calls = {"n": 0}

    def flaky(env: object, spec: object) -> bytes:
        calls["n"] += 1
        if calls["n"] == 3:
            raise failure
        return real(env, spec)  # type: ignore[arg-type]

    monkeypatch.setattr(archiver.render, "render_page", flaky)
    expected = BuildError if isinstance(failure, Exception) else KeyboardInterrupt
    with pytest.raises(expected):
        build(settings)
    assert tree(settings.output_path) == before
    assert sorted(p.name for p in settings.root.iterdir()) == [".archiver", "content", "site"]
    monkeypatch.setattr(archiver.render, "render_page", real)
    build(settings)
    assert "Alpha changed" in (settings.output_path / "articles/alpha.html").read_text()


def test_failure_before_swap_hook_keeps_site(settings: Settings) -> None:
    build(settings)
    before = tree(settings.output_path)
    (settings.content_path / "beta.md").unlink()

    def stop(tmp: Path) -> None:
        assert tmp.is_dir() and not (tmp / "articles/beta.html").exists()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_site(settings, jobs=1, hooks=BuildHooks(before_swap=stop))
    assert tree(settings.output_path) == before


def test_second_build_while_one_runs_is_refused(settings: Settings) -> None:
    with archive_lock(settings.state_path, "test"), pytest.raises(LockedError) as info:
        build_site(settings, jobs=1)
    assert "\n" not in info.value.message
    assert not settings.output_path.exists()


def test_stale_temporary_folders_are_removed_and_nothing_else(settings: Settings) -> None:
    stale = settings.root / "site.tmp-dead_0k9"
    (stale / "articles").mkdir(parents=True)
    old = settings.root / "site.old-0123beef"
    old.mkdir()
    backups = [settings.root / name for name in ("site.old-2024", "site.tmp-mine", "site.old-x")]
    for backup in backups:
        backup.mkdir()
        (backup / "keep.txt").write_text("mine", encoding="utf-8")
    build(settings)
    assert not stale.exists() and not old.exists()
    assert all((backup / "keep.txt").is_file() for backup in backups)


def test_bad_content_files_are_reported_and_skipped(settings: Settings) -> None:
    content = settings.content_path
    (content / "broken.md").write_text("---\ntitle: [oops\n---\nBody\n", encoding="utf-8")
    (content / "types.md").write_text("---\ntitle: Fine\ntags: 5\n---\nBody\n", encoding="utf-8")
    (content / "notitle.md").write_text("---\nsummary: x\n---\nBody\n", encoding="utf-8")
    (content / "latin1.md").write_bytes(b"---\ntitle: caf\xe9\n---\nBody\n")
    report, _ = build(settings)
    assert report.articles == 4
    assert len(report.errors) == 4
    for name in ("broken.md", "types.md", "notitle.md", "latin1.md"):
        assert any(line.startswith(f"{content / name}: ") for line in report.errors), name
    assert all("\n" not in line for line in report.errors)
    assert (settings.output_path / "articles/alpha.html").is_file()
    again, _ = build(settings)
    assert again.errors == report.errors and again.written == 0


def test_drafts_are_left_out_quietly_and_appear_once_published(
    settings: Settings, tmp_path: Path
) -> None:
    content = settings.content_path
    (content / "hidden.md").write_text(
        "---\ntitle: Hidden plans\ndraft: true\ntags: [Secret]\n---\nSecretword.\n",
        encoding="utf-8",
    )
    (content / "later.md").write_text(
        "---\ntitle: Later\npublished: false\n---\nUnpublished text.\n", encoding="utf-8"
    )
    report, _ = build(settings)
    assert (report.articles, report.errors) == (4, ())
    site = tree(settings.output_path)
    assert not any("hidden" in p or "later" in p or "secret" in p for p in site)
    for path in settings.output_path.rglob("*"):
        data = path.read_bytes() if path.is_file() else b""
        assert b"Secretword" not in data and b"Hidden plans" not in data, path
    assert "hidden" not in _index_docs(settings)
    (content / "hidden.md").write_text(
        "---\ntitle: Hidden plans\ndraft: false\ntags: [Secret]\n---\nSecretword.\n",
        encoding="utf-8",
    )
    published, _ = build(settings)
    assert published.articles == 5 and (settings.output_path / "articles/hidden.html").is_file()
    other = tmp_path / "other"
    shutil.copytree(content, other / "content")
    build(Settings(root=other), clean=True)
    assert tree(settings.output_path) == tree(other / "site")


def test_new_parsing_code_refreshes_the_search_index(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An archiver upgrade that reads a file differently re-indexes it, though its bytes are
    the same (the content cache starts empty when the parsing code changed)."""
    import sqlite3

    import archiver.content as content_module
    from archiver.cache import CACHE_NAME

    (settings.content_path / "2022-06-07-dated.md").write_text(
        "---\ntitle: Dated by its name\n---\nBody.\n", encoding="utf-8"
    )
    monkeypatch.setattr(content_module, "_filename_date", lambda stem: None)  # the old code
    build(settings)
    before = _index_docs(settings)["dated"]
    monkeypatch.undo()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    db = sqlite3.connect(settings.state_path / CACHE_NAME)
    db.execute("UPDATE meta SET value = 'older code' WHERE key = 'code'")
    db.commit()
    db.close()
    manifest = load_manifest(settings.state_path)  # the older code's build fingerprint
    save_manifest(settings.state_path, replace(manifest, fingerprint="older code"))
    build(settings)
    from archiver.content import read_article
    from archiver.search.index import fingerprint

    now = fingerprint(read_article(settings.content_path / "2022-06-07-dated.md"))
    assert _index_docs(settings)["dated"] == now != before
    other = tmp_path / "other"
    shutil.copytree(settings.content_path, other / "content")
    build(Settings(root=other), clean=True)
    assert tree(settings.output_path) == tree(other / "site")


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        ("content", "would replace the content folder"),
        (".", "would replace the archive folder"),
        ("..", "would replace the archive folder"),
        ("content/site", "lies inside the content folder"),
        (".archiver", "would replace the build state folder"),
        (".archiver/site", "lies inside the build state folder"),
        ("templates", "would replace the templates folder"),
    ],
)
def test_an_output_folder_that_would_swallow_the_archive_is_refused(
    tmp_path: Path, output: str, reason: str
) -> None:
    settings = replace(make_archive(tmp_path / "archive"), output_dir=output)
    before = tree(tmp_path)
    with pytest.raises(BuildError, match=reason):
        build(settings)
    assert tree(tmp_path) == before


def test_a_folder_of_other_files_is_never_replaced_by_a_site(
    settings: Settings, tmp_path: Path
) -> None:
    docs = settings.root / "docs"
    docs.mkdir()
    (docs / "notes.txt").write_text("mine", encoding="utf-8")
    elsewhere = replace(settings, output_dir="docs")
    with pytest.raises(BuildError, match=r"holds files archiver did not write \(notes.txt\)"):
        build(elsewhere)
    with pytest.raises(BuildError, match="holds files"):
        build(elsewhere, clean=True)
    assert (docs / "notes.txt").read_text(encoding="utf-8") == "mine"
    (docs / "notes.txt").unlink()
    build(elsewhere)  # an empty folder is fine, and so is a site archiver wrote:
    shutil.rmtree(settings.state_path)  # even without the state (a fresh clone of a repo)
    report, _ = build(elsewhere)
    assert report.errors == () and (docs / "index.html").is_file()


def test_strict_stops_and_leaves_site_alone(settings: Settings) -> None:
    build(settings)
    before = tree(settings.output_path)
    (settings.content_path / "broken.md").write_text("---\ntitle: [x\n---\n", encoding="utf-8")
    write_article(settings.content_path, "alpha.md", "Changed", "2023-01-05", [], "S", "B.")
    with pytest.raises(BuildError, match="strict"):
        build(settings, strict=True)
    assert tree(settings.output_path) == before


def test_duplicate_slug_never_overwrites(settings: Settings) -> None:
    content = settings.content_path
    (content / "a-first.md").write_text("---\ntitle: First\nslug: same\n---\nOne\n")
    (content / "b-second.md").write_text("---\ntitle: Second\nslug: same\n---\nTwo\n")
    report, _ = build(settings)
    page = (settings.output_path / "articles/same.html").read_text(encoding="utf-8")
    assert "First" in page and "Second" not in page
    (line,) = [e for e in report.errors if "duplicate slug" in e]
    assert str(content / "b-second.md") in line and str(content / "a-first.md") in line


def test_originals_are_served_as_plain_text(settings: Settings) -> None:
    data = b"<script>alert(1)</script>"
    sha = hashlib.sha256(data).hexdigest()
    originals = settings.content_path / "originals"
    originals.mkdir()
    (originals / f"{sha}.html").write_bytes(data)
    (settings.content_path / "alpha.md").write_text(
        f"---\ntitle: Alpha\nsource_sha256: {sha}\n---\nBody\n", encoding="utf-8"
    )
    build(settings)
    site = settings.output_path
    assert (site / f"originals/{sha}.txt").read_bytes() == data
    assert not list(site.rglob("*.html.txt")) and not (site / f"originals/{sha}.html").exists()
    assert f"originals/{sha}.txt" in (site / "articles/alpha.html").read_text(encoding="utf-8")


def test_builds_are_deterministic(settings: Settings, tmp_path: Path) -> None:
    build(settings)
    other = tmp_path / "copy"
    shutil.copytree(settings.content_path, other / "content")
    build(Settings(root=other))
    assert tree(settings.output_path) == tree(other / "site")


def test_hostile_placeholder_text_is_not_filled(settings: Settings) -> None:
    build(settings)
    nonce = (settings.state_path / "body-nonce").read_text()
    fake = "\ue000" + "0" * 16 + "a" * 64 + "<\ue001"
    write_article(settings.content_path, "alpha.md", "Alpha", "2023-01-05", [], "S", fake)
    report, _ = build(settings)
    assert report.errors == ()
    assert nonce not in (settings.output_path / "articles/alpha.html").read_text()


# -- the one-edit fast path (archiver/quick.py) ------------------------------------------------


def _prepared(settings: Settings) -> Path:
    """Alpha and beta with summaries, built once; returns the content folder."""
    content = settings.content_path
    for name in ("alpha.md", "beta.md"):
        _summarised(content, name, ARTICLES[name][4])
    build(settings)
    return content


def test_external_digest_ignores_the_body_but_not_what_lists_show() -> None:
    from archiver.model import Article

    base = Article(title="T", slug="t", body="One two.", summary="S", tags=("a",))
    same = external_digest(base)
    assert external_digest(replace(base, body="Three four.")) == same
    assert external_digest(replace(base, path=Path("elsewhere.md"))) == same
    for changed in (
        replace(base, title="U"),
        replace(base, tags=("b",)),
        replace(base, summary="Other"),
        replace(base, summary=None),  # the shown summary now comes from the body
        replace(base, body="word " * 1000),  # reading time
        replace(base, url="https://example.org/"),
        replace(base, extra={"sample": True}),
    ):
        assert external_digest(changed) != same, changed


def test_fast_path_render_error_changes_nothing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = _prepared(settings)
    before = tree(settings.output_path)
    manifest = (settings.state_path / MANIFEST_NAME).read_bytes()
    _summarised(content, "beta.md", "Beta body, edited.")
    import archiver.render

    def broken(env: object, spec: Any) -> bytes:
        raise RuntimeError("template exploded")

    monkeypatch.setattr(archiver.render, "render_page", broken)
    with pytest.raises(BuildError, match=r"articles/beta\.html: cannot render"):
        build(settings)
    assert tree(settings.output_path) == before
    assert (settings.state_path / MANIFEST_NAME).read_bytes() == manifest
    monkeypatch.undo()
    build(settings)
    assert "Beta body, edited." in (settings.output_path / "articles/beta.html").read_text()


def test_fast_path_updates_the_full_feed_and_search(settings: Settings) -> None:
    content = _prepared(settings)
    _summarised(content, "alpha.md", "Alpha body with zanzibarite.")
    report, rendered = build(settings)
    assert sorted(rendered) == ["articles/alpha.html", "feed.atom"]
    assert report.deleted == 0 and report.reused > report.written
    assert "zanzibarite" in (settings.output_path / "feed.atom").read_text(encoding="utf-8")
    assert _hits(settings, "zanzibarite") == ["alpha"]


def test_fast_path_notices_a_same_size_edit_in_the_same_second(settings: Settings) -> None:
    content = _prepared(settings)
    path = content / "alpha.md"
    stat = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("Alpha body.", "Alpha BODY."))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    _, rendered = build(settings)
    assert "articles/alpha.html" in rendered
    assert "Alpha BODY." in (settings.output_path / "articles/alpha.html").read_text()


def test_fast_path_refuses_a_damaged_site_or_state(settings: Settings) -> None:
    content = _prepared(settings)
    (settings.output_path / "tags/asia.html").unlink()
    _summarised(content, "beta.md", "Beta body, edited.")
    _, rendered = build(settings)
    assert "tags/asia.html" in rendered  # the normal build repaired the site
    (settings.state_path / "quick-state.pickle").write_bytes(b"not a pickle")
    _summarised(content, "beta.md", "Beta body, edited again.")
    report, _ = build(settings)
    assert report.errors == ()
    assert "edited again" in (settings.output_path / "articles/beta.html").read_text()


def test_fast_path_with_pretty_urls_and_base_url(tmp_path: Path) -> None:
    options = {"pretty_urls": True, "base_url": "https://example.org/archive/"}
    settings = Settings(root=make_archive(tmp_path / "a").root, **options)  # type: ignore[arg-type]
    content = _prepared(settings)
    _summarised(content, "beta.md", "Beta body, edited.")
    _, rendered = build(settings)
    assert sorted(rendered) == ["articles/beta/index.html", "feed.atom"]
    other = tmp_path / "other"
    shutil.copytree(content, other / "content")
    build(Settings(root=other, **options), clean=True)  # type: ignore[arg-type]
    assert tree(settings.output_path) == tree(other / "site")


# -- the fast path without every article: forked Whoosh update, edited-only client index ------


def _same_as_clean(settings: Settings, tmp_path: Path) -> None:
    """The site (and search results) equal a clean build of the same content."""
    other = tmp_path / "clean"
    shutil.rmtree(other, ignore_errors=True)
    shutil.copytree(settings.content_path, other / "content")
    build(Settings(root=other), clean=True)
    assert tree(settings.output_path) == tree(other / "site")


def _hits(settings: Settings, word: str) -> list[str]:
    """Slugs the Whoosh index finds for one word."""
    from whoosh.qparser import QueryParser

    from archiver.search.index import open_index

    ix = open_index(settings)
    try:
        with ix.searcher() as searcher:
            query = QueryParser("body", ix.schema).parse(word)
            return sorted(hit["slug"] for hit in searcher.search(query))
    finally:
        ix.close()


def _fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget the articles this process remembers, as in a fresh `archiver build`."""
    import archiver.quickstate as quickstate

    monkeypatch.setattr(quickstate, "_MEMORY", {})


def test_fast_path_in_a_fresh_process_forks_the_index_update(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import archiver.quickchild as quickchild
    import archiver.search.client as client

    content = _prepared(settings)
    _fresh_process(monkeypatch)
    started: list[object] = []
    edited_pages: list[object] = []
    real_start, real_edited = quickchild.IndexChild.start, client.client_pages_edited

    def start(*args: Any, **kwargs: Any) -> Any:
        started.append(real_start(*args, **kwargs))
        return started[-1]

    def edited(*args: Any, **kwargs: Any) -> Any:
        edited_pages.append(real_edited(*args, **kwargs))
        return edited_pages[-1]

    monkeypatch.setattr(quickchild.IndexChild, "start", start)
    monkeypatch.setattr(client, "client_pages_edited", edited)
    _summarised(content, "alpha.md", "Alpha body with zanzibarite.")
    _, rendered = build(settings)
    assert sorted(rendered) == ["articles/alpha.html", "feed.atom"]
    assert started and started[0] is not None, "the Whoosh update was not forked"
    assert started[0].client is not None, "the client index took the slow path"
    assert _hits(settings, "zanzibarite") == ["alpha"]
    assert _hits(settings, "gamma") == ["gamma"]
    _same_as_clean(settings, tmp_path)
    assert _index_docs(settings) == _index_docs(Settings(root=tmp_path / "clean"))


def _index_docs(settings: Settings) -> Any:
    """The Whoosh index's record of every indexed article (slug -> fingerprint)."""
    from archiver.search.index import _read_meta, index_path

    meta = _read_meta(index_path(settings))
    assert meta is not None
    return meta["docs"]


def test_fast_path_index_update_without_snapshot_needs_an_intact_index(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slug-only stand-ins are used only when the index already holds every other article."""
    import json

    import archiver.quickchild as quickchild
    from archiver.search.index import META_NAME, index_path

    content = _prepared(settings)
    _fresh_process(monkeypatch)
    meta_path = index_path(settings) / META_NAME
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["docs"]["gamma"] = ""  # as if gamma were not indexed: it must be indexed for real
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    attempts: list[bool] = []
    real = quickchild._update_indexed

    def spy(*args: Any) -> bool:
        attempts.append(real(*args))
        return attempts[-1]

    monkeypatch.setattr(quickchild, "_update_indexed", spy)
    _summarised(content, "alpha.md", "Alpha body with zanzibarite.")
    build(settings)
    assert _hits(settings, "zanzibarite") == ["alpha"]
    assert _hits(settings, "gamma") == ["gamma"]
    _same_as_clean(settings, tmp_path)
    assert _index_docs(settings) == _index_docs(Settings(root=tmp_path / "clean"))


def test_stale_client_state_cannot_produce_wrong_bytes(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client index state of another build (a crash after saving it) is never trusted."""
    from archiver.search.clientcache import CACHE_NAME

    content = _prepared(settings)
    _fresh_process(monkeypatch)
    stale = (settings.state_path / CACHE_NAME).read_bytes()
    _summarised(content, "alpha.md", "Alpha body with quokkas.")
    build(settings)
    (settings.state_path / CACHE_NAME).write_bytes(stale)  # knows nothing of the quokkas
    _summarised(content, "beta.md", "Beta body with wombats.")
    _, rendered = build(settings)
    assert "articles/beta.html" in rendered and "index.html" not in rendered
    _same_as_clean(settings, tmp_path)


def test_fast_path_index_failure_is_one_line_and_changes_nothing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import archiver.search.index as search_index

    content = _prepared(settings)
    _fresh_process(monkeypatch)
    before = tree(settings.output_path)
    manifest = (settings.state_path / MANIFEST_NAME).read_bytes()

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk\non fire")

    monkeypatch.setattr(search_index, "update_index", broken)
    _summarised(content, "beta.md", "Beta body, edited.")
    with pytest.raises(BuildError, match=r"^search index update failed: disk on fire$"):
        build(settings)
    assert tree(settings.output_path) == before
    assert (settings.state_path / MANIFEST_NAME).read_bytes() == manifest

    def locked(*args: Any, **kwargs: Any) -> None:
        raise LockedError("index: the search index is being written by another process")

    monkeypatch.setattr(search_index, "update_index", locked)
    with pytest.raises(LockedError, match="being written by another process"):
        build(settings)
    assert tree(settings.output_path) == before
    monkeypatch.undo()
    _fresh_process(monkeypatch)
    build(settings)
    assert "Beta body, edited." in (settings.output_path / "articles/beta.html").read_text()


def test_fast_path_with_a_missing_snapshot_builds_normally(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archiver.quickstate import SNAPSHOT_NAME

    content = _prepared(settings)
    _fresh_process(monkeypatch)
    (settings.state_path / SNAPSHOT_NAME).unlink()
    _summarised(content, "beta.md", "Beta body with axolotls.")
    _, rendered = build(settings)
    assert "articles/beta.html" in rendered
    assert _hits(settings, "axolotls") == ["beta"]
    _same_as_clean(settings, tmp_path)


def test_snapshot_without_bodies_has_every_field_but_the_body(settings: Settings) -> None:
    """The planning snapshot leaves bodies out (reading one fails loudly); the full one has them."""
    from archiver.content import load_articles
    from archiver.quickstate import BODIES_NAME, load_snapshot, load_state, with_bodies

    _prepared(settings)
    state = load_state(settings.state_path)
    assert state is not None
    full = load_snapshot(settings.state_path, state)
    lite = load_snapshot(settings.state_path, state, bodies=False)
    assert full is not None and lite is not None
    on_disk = {a.slug: a for a in load_articles(settings.content_path).articles}
    assert full.keys() == lite.keys() == on_disk.keys()
    for slug, article in on_disk.items():
        assert full[slug] == replace(article, path=None)
        assert "body" not in lite[slug].__dict__
        with pytest.raises(AttributeError):
            _ = lite[slug].body
        assert (lite[slug].title, lite[slug].tags, lite[slug].published) == (
            article.title,
            article.tags,
            article.published,
        )
    assert with_bodies(settings.state_path, state, list(lite.values())) == list(full.values())
    (settings.state_path / BODIES_NAME).write_bytes(b"damaged")
    assert with_bodies(settings.state_path, state, list(lite.values())) is None
    assert load_snapshot(settings.state_path, state) is None


@pytest.mark.parametrize("summaries", [True, False])
def test_metadata_edit_in_a_fresh_process_plans_without_bodies(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, summaries: bool
) -> None:
    """A title edit in a fresh process plans from the bodiless snapshot when the last build
    recorded what the pages would read from a body, else from the full one; same site."""
    import archiver.quickmeta as quickmeta

    content = settings.content_path
    if summaries:
        _prepared(settings)
    else:
        build(settings)  # the gamma article has no summary of its own: recorded by the build
    asked: list[bool] = []
    real = quickmeta.load_snapshot

    def spy(state_dir: Path, state: Any, *, bodies: bool = True) -> Any:
        asked.append(bodies)
        return real(state_dir, state, bodies=bodies)

    monkeypatch.setattr(quickmeta, "load_snapshot", spy)
    _fresh_process(monkeypatch)
    text = (content / "alpha.md").read_text(encoding="utf-8")
    title = ARTICLES["alpha.md"][0]
    (content / "alpha.md").write_text(text.replace(title, "A renamed alpha"), encoding="utf-8")
    _, rendered = build(settings)
    assert asked == [False]  # the bodiless snapshot was enough
    assert "articles/alpha.html" in rendered
    assert "A renamed alpha" in (settings.output_path / "articles/alpha.html").read_text()
    _same_as_clean(settings, tmp_path)


def test_background_index_and_pooled_words_match_an_in_process_build(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large build: Whoosh in a forked child, client words from the pool: same results."""
    import archiver.search.client as client
    from archiver.report import SilentReporter
    from archiver.search.index import IndexJob

    started: list[object] = []
    given: list[int] = []
    real_start, real_pages = IndexJob.start, client.client_pages

    def start(*args: Any, **kwargs: Any) -> Any:
        started.append(real_start(*args, **kwargs))
        return started[-1]

    def pages(*args: Any, **kwargs: Any) -> Any:
        given.append(len(kwargs.get("words") or {}))
        return real_pages(*args, **kwargs)

    monkeypatch.setattr(IndexJob, "start", start)
    monkeypatch.setattr(client, "client_pages", pages)
    monkeypatch.setattr(build_module, "BACKGROUND_INDEX", 1)
    monkeypatch.setattr(build_module, "POOL_MIN", 1)
    reporter = SilentReporter()
    report = build_site(settings, jobs=2, reporter=reporter)
    assert report.errors == () and len(started) == 1 and started[0] is not None
    assert given == [len(ARTICLES)], "the client index did not get the pool's words"
    other = tmp_path / "other"
    shutil.copytree(settings.content_path, other / "content")
    build(Settings(root=other))
    assert tree(settings.output_path) == tree(other / "site")
    assert _index_docs(settings) == _index_docs(Settings(root=other))
    assert _hits(settings, "gamma") == ["gamma"] and _hits(settings, "energy") == _hits(
        Settings(root=other), "energy"
    )


def test_a_rebuild_that_reorders_updates_the_client_index_in_a_child_as_in_process(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An article added (the doc ids after it shift): the client index is made in a forked
    child while the build plans; the site equals a clean in-process build's."""
    import archiver.search.client as client

    started: list[object] = []
    real_start = client.PagesJob.start

    def start(*args: Any, **kwargs: Any) -> Any:
        started.append(real_start(*args, **kwargs))
        return started[-1]

    build_site(settings, jobs=2)
    monkeypatch.setattr(client.PagesJob, "start", start)
    monkeypatch.setattr(build_module, "BACKGROUND_CLIENT", 1)
    write_article(settings.content_path, "epsilon.md", "Epsilon arrives", "2024-08-01",
                  ["Europe"], "Wire Three", "Epsilon body.")  # fmt: skip
    report = build_site(settings, jobs=2)
    assert report.errors == () and len(started) == 1 and started[0] is not None
    other = tmp_path / "other"
    shutil.copytree(settings.content_path, other / "content")
    build(Settings(root=other), clean=True)
    assert tree(settings.output_path) == tree(other / "site")
    assert _hits(settings, "epsilon") == ["epsilon"]


def test_a_client_index_child_failure_is_one_line_and_changes_nothing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import archiver.search.client as client

    build(settings)
    before = tree(settings.output_path)
    manifest = (settings.state_path / MANIFEST_NAME).read_bytes()

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk\non fire")

    monkeypatch.setattr(client, "client_pages", broken)
    monkeypatch.setattr(build_module, "BACKGROUND_CLIENT", 1)
    write_article(settings.content_path, "epsilon.md", "Epsilon arrives", "2024-08-01",
                  ["Europe"], "Wire Three", "Epsilon body.")  # fmt: skip
    with pytest.raises(BuildError, match=r"^client search index update failed: disk on fire$"):
        build_site(settings, jobs=2)
    assert tree(settings.output_path) == before
    assert (settings.state_path / MANIFEST_NAME).read_bytes() == manifest


def test_index_job_replays_the_childs_notices(settings: Settings) -> None:
    from archiver.content import load_articles
    from archiver.report import SilentReporter
    from archiver.search.index import IndexJob

    articles = list(load_articles(settings.content_path).articles)
    reporter = SilentReporter()
    job = IndexJob.start(
        settings, articles, changed=set(), deleted=set(), clean=False, reporter=reporter
    )
    assert job is not None
    job.wait()
    assert (
        len(reporter.messages) == 1 and "search index missing; creating it" in reporter.messages[0]
    )
    assert _hits(settings, "gamma") == ["gamma"]


@pytest.mark.parametrize(
    ("error", "expected", "message"),
    [
        (OSError("disk\non fire"), BuildError, r"^search index update failed: disk on fire$"),
        (LockedError("index: being written by another process"), LockedError, "being written"),
    ],
)
def test_background_index_failure_is_one_line_and_changes_nothing(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    expected: type[Exception],
    message: str,
) -> None:
    import archiver.search.index as search_index

    build(settings)
    before = tree(settings.output_path)
    manifest = (settings.state_path / MANIFEST_NAME).read_bytes()

    def broken(*args: Any, **kwargs: Any) -> None:
        raise error

    monkeypatch.setattr(search_index, "update_index", broken)
    monkeypatch.setattr(build_module, "BACKGROUND_INDEX", 1)
    write_article(settings.content_path, "alpha.md", "Alpha changed", "2023-01-05", ["Energy"],
                  "Wire One", "New body.")  # fmt: skip
    with pytest.raises(expected, match=message):
        build(settings, clean=True)
    assert tree(settings.output_path) == before
    assert (settings.state_path / MANIFEST_NAME).read_bytes() == manifest
    assert sorted(p.name for p in settings.root.iterdir()) == [".archiver", "content", "site"]


def test_files_confirmed_unchanged_are_trusted_by_size_and_time_next_time(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build_module, "RACY_NS", 500_000_000)
    written = time.time() - 0.3  # written just before the first build: too recent to trust
    for path in settings.content_path.glob("*.md"):
        os.utime(path, (written, written))
    build(settings)
    hashed: list[str] = []
    real = build_module._Build._sha
    monkeypatch.setattr(
        build_module._Build, "_sha", lambda b, rel: hashed.append(rel) or real(b, rel)
    )
    time.sleep(0.3)  # the files are now older than the racy window before the next scan
    report, _ = build(settings)
    assert report.written == 0 and len(hashed) == len(list(settings.content_path.glob("*.md")))
    hashed.clear()
    report, _ = build(settings)
    assert report.written == 0 and hashed == []  # the second build recorded its scan time
