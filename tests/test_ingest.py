"""`archiver ingest` end to end on real files: the seed, a synthetic batch, bad inputs."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.config import Settings
from archiver.content import content_files, read_article
from archiver.ingest.report import Outcome

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEED = SHARED / "fixtures" / "raw" / "000_f939df497fa72000.txt"
EXPECTED = SHARED / "fixtures" / "expected" / "000_f939df497fa72000.json"


def run(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run the CLI in a folder; returns (exit code, stdout, stderr)."""
    runner = CliRunner()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        result = runner.invoke(cli, args, catch_exceptions=False)
    finally:
        os.chdir(old)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic corpus with known answers (make_corpus.py from ../shared)."""
    if not (SHARED / "bench" / "make_corpus.py").is_file():
        pytest.fail("../shared/bench/make_corpus.py is missing: the CI copy of shared/ is required")
    out = tmp_path_factory.mktemp("corpus")
    subprocess.run(
        [
            sys.executable,
            str(SHARED / "bench" / "make_corpus.py"),
            "--n",
            "60",
            "--out",
            str(out / "raw"),
            "--manifest",
            str(out / "m.jsonl"),
        ],
        check=True,
        capture_output=True,
    )
    return out


def _norm(text: str) -> str:
    for a, b in (("“", '"'), ("”", '"'), ("‘", "'"), ("’", "'"), ("\u00a0", " ")):
        text = text.replace(a, b)
    return " ".join(text.split())


def test_seed_article_meets_every_expectation(tmp_path: Path) -> None:
    code, _, err = run(["ingest", str(SEED), "--content", str(tmp_path / "content")], tmp_path)
    assert code == 0, err
    expected = json.loads(EXPECTED.read_text())
    (path,) = content_files(tmp_path / "content")
    article = read_article(path)
    assert _norm(article.title) == _norm(expected["title"])
    assert _norm(article.summary or "") == _norm(expected["summary"])
    assert article.source == expected["source"]
    assert list(article.authors) == expected["authors"]
    assert list(article.credits) == expected["credits"]
    assert article.published is None and article.archived is not None
    paragraphs = [p for p in article.body.split("\n\n") if p.strip()]
    assert len(paragraphs) == expected["body_paragraph_count"]
    assert _norm(paragraphs[0]).startswith(_norm(expected["body_first_paragraph_starts_with"]))
    assert _norm(paragraphs[-1]).endswith(_norm(expected["body_last_paragraph_ends_with"]))
    for junk in expected["body_must_not_contain"]:
        assert junk not in article.body
    for tag in expected["tags_must_include"]:
        assert tag in article.tags
    for tag in expected["tags_must_not_include"]:
        assert tag not in article.tags
    assert article.source_file == SEED.name
    original = tmp_path / "content" / "originals" / f"{article.source_sha256}.txt"
    assert original.read_bytes() == SEED.read_bytes()


def test_synthetic_batch_duplicates_and_bad_inputs(corpus: Path, tmp_path: Path) -> None:
    content = tmp_path / "content"
    code, out, err = run(
        ["ingest", str(corpus / "raw"), "--content", str(content), "--json"], tmp_path
    )
    assert code == 1  # the empty and blank files fail; the rest is written
    report = json.loads(out)
    manifest = [json.loads(line) for line in (corpus / "m.jsonl").read_text().splitlines()]
    status = {item["input"]: item for item in report["inputs"]}
    for entry in manifest:
        got = status[entry["file"]]
        if entry["kind"] in ("exact_dup", "near_dup"):
            assert got["status"] == "duplicate", entry
        elif entry["kind"] in ("empty", "blank", "stub"):
            assert got["status"] == "failed" and got["reason"], entry
        else:
            assert got["status"] == "new", (entry, got)
    written = {read_article(p).title for p in content_files(content)}
    originals = [
        e for e in manifest if e["kind"] not in ("exact_dup", "near_dup", "empty", "blank", "stub")
    ]
    assert len(written) == len(originals)  # no false merge: every distinct article kept
    for line in err.splitlines():
        if ": " in line and "ingest:" not in line:
            assert "\n" not in line and "Traceback" not in line


def test_rerun_is_unchanged_and_hand_edits_survive_force(corpus: Path, tmp_path: Path) -> None:
    content = tmp_path / "content"
    run(["ingest", str(corpus / "raw"), "--content", str(content)], tmp_path)
    before = {p: p.read_bytes() for p in content.rglob("*") if p.is_file()}
    _, out, _ = run(["ingest", str(corpus / "raw"), "--content", str(content), "--json"], tmp_path)
    counts = json.loads(out)["counts"]
    assert counts["new"] == 0 and counts["updated"] == 0 and counts["unchanged"] > 40
    assert {p: p.read_bytes() for p in content.rglob("*") if p.is_file()} == before
    edited = content_files(content)[0]
    edited.write_text(edited.read_text().replace("title:", "title: EDITED", 1))
    edited_bytes = edited.read_bytes()
    _, out, _ = run(
        ["ingest", str(corpus / "raw"), "--content", str(content), "--force", "--json"], tmp_path
    )
    assert json.loads(out)["counts"]["kept"] == 1
    assert edited.read_bytes() == edited_bytes


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    code, _, err = run(
        ["ingest", str(SEED), "--content", str(tmp_path / "c"), "--dry-run"], tmp_path
    )
    assert code == 0 and "1 new" in err
    assert not (tmp_path / "c").exists() or not any((tmp_path / "c").rglob("*.md"))


def test_hostile_and_bad_inputs(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    body = "\n\n".join(
        f"This is paragraph {i} of a perfectly ordinary article about municipal budgets, "
        "with enough words to look like real reporting from the city council meeting."
        for i in range(8)
    )
    (raw / "xss.txt").write_text(f"</script><script>alert(1)</script> Budget fight\n\n{body}\n")
    (raw / "traversal.txt").write_text(f"../../../etc/passwd\n\n{body.replace('budgets', 'x')}\n")
    (raw / "yaml.txt").write_text(
        f"title: [x] --- &a *a !!python/object\n\n{body.replace('budgets', 'parks')}\n"
    )
    (raw / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (raw / "fake.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (raw / "empty.txt").write_bytes(b"")
    (raw / "big.txt").write_text("x" * 5000)
    (tmp_path / "archiver.toml").write_text("[ingest]\nmax_bytes = 4000\n")
    code, out, err = run(["ingest", "raw", "--json"], tmp_path)
    assert code == 1
    items = {i["input"]: i for i in json.loads(out)["inputs"]}
    assert items["image.png"]["status"] == "skipped"
    assert "PNG" in items["fake.txt"]["reason"]
    assert "empty" in items["empty.txt"]["reason"]
    assert "too large" in items["big.txt"]["reason"]
    content = tmp_path / "content"
    files = content_files(content)
    assert len(files) == 3
    assert all(p.parent == content for p in files)
    titles = {read_article(p).title for p in files}
    assert any("<script>" in t for t in titles)  # kept as text; escaped at render time
    assert "Traceback" not in err


def test_unknown_path_and_usage_errors(tmp_path: Path) -> None:
    code, _, err = run(["ingest", "nope", "--content", str(tmp_path / "c")], tmp_path)
    assert code == 1 and "nope: no such file or folder" in err
    code, _, _ = run(["ingest"], tmp_path)
    assert code == 2
    code, _, _ = run(["ingest", "x", "--jobs", "0"], tmp_path)
    assert code == 2


def test_markdown_inputs_are_validated_and_imported(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "good.md").write_text("---\ntitle: Imported piece\ntags: [Alpha, Beta]\n---\nText.\n")
    (raw / "bad.md").write_text("---\ntitle: [broken\n---\nText.\n")
    code, out, _ = run(["ingest", "raw", "--json"], tmp_path)
    assert code == 1
    items = {i["input"]: i for i in json.loads(out)["inputs"]}
    assert items["good.md"]["status"] == "new"
    assert "broken YAML" in items["bad.md"]["reason"]
    (path,) = content_files(tmp_path / "content")
    assert read_article(path).tags == ("Alpha", "Beta")


def test_an_imported_jekyll_post_keeps_the_date_its_file_name_gives(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "2021-03-04-first-post.md").write_text("---\ntitle: First post\n---\nText one.\n")
    (raw / "2021-05-06-dated.md").write_text("---\ntitle: Dated\ndate: 2020-01-02\n---\nTwo.\n")
    code, _, _ = run(["ingest", "raw"], tmp_path)
    assert code == 0
    found = {a.title: a for a in map(read_article, content_files(tmp_path / "content"))}
    assert found["First post"].published == dt.date(2021, 3, 4)
    assert found["Dated"].published == dt.date(2020, 1, 2)
    assert all(a.archived is not None for a in found.values())


def test_folder_links_are_followed_once_and_broken_links_are_one_line(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    (raw / "sub").mkdir(parents=True)
    (raw / "sub" / "seed.txt").write_bytes(SEED.read_bytes())
    (raw / "sub" / "loop").symlink_to("..")  # a link to an enclosing folder
    (raw / "again.txt").symlink_to(raw / "sub" / "seed.txt")  # the same file twice
    (raw / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    code, out, _ = run(["ingest", "raw", "--json"], tmp_path)
    assert code == 1
    items = {i["input"]: i for i in json.loads(out)["inputs"]}
    assert items["gone.txt"] == {
        "input": "gone.txt",
        "reason": "broken link (its target does not exist)",
        "status": "failed",
    }
    assert items["sub/loop"]["status"] == "skipped"
    assert [i for i in items.values() if i["status"] == "new"] == [items["again.txt"]]
    assert "sub/seed.txt" not in items  # one input per file, whichever way it is reached
    assert len(content_files(tmp_path / "content")) == 1


def test_ingesting_the_archive_folder_skips_its_own_folders(tmp_path: Path) -> None:
    """`archiver ingest .` must not take the archive's articles, site pages or templates."""
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "seed.txt").write_bytes(SEED.read_bytes())
    assert run(["ingest", "raw"], tmp_path)[0] == 0
    for folder, name in (("site", "index.html"), ("templates", "base.html")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / name).write_text("<html><body><p>page</p></body></html>")
    before = _tree(tmp_path / "content")
    code, out, _ = run(["ingest", ".", "--json"], tmp_path)
    assert code == 0
    items = {i["input"]: i for i in json.loads(out)["inputs"]}
    own = "one of the archive's own folders (content, site, state or templates): not an input"
    for folder in ("content", "site", "templates"):
        assert items[folder] == {"input": folder, "reason": own, "status": "skipped"}
    assert items["raw/seed.txt"]["status"] == "unchanged"
    assert _tree(tmp_path / "content") == before


def test_a_saved_complete_page_skips_its_files_folder_in_one_line(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    for folder in ("story_files", "story-Dateien", "story_archive"):
        (raw / folder).mkdir(parents=True)
    (raw / "story.html").write_bytes(
        (REPO / "samples" / "raw" / "valley-library-reopens.html").read_bytes()
    )
    for name in ("a.css", "b.js", "c.png", "frame.html"):
        (raw / "story_files" / name).write_text("x")
    (raw / "story-Dateien" / "d.js").write_text("x")
    (raw / "story_archive" / "seed.txt").write_bytes(SEED.read_bytes())  # not a companion
    code, out, _ = run(["ingest", "raw", "--json"], tmp_path)
    assert code == 0
    items = {i["input"]: i for i in json.loads(out)["inputs"]}
    reason = "the images, styles and scripts of a saved page beside it"
    for folder in ("story_files", "story-Dateien"):
        assert items[folder] == {"input": folder, "reason": reason, "status": "skipped"}
    assert items["story.html"]["status"] == items["story_archive/seed.txt"]["status"] == "new"
    assert len(items) == 4


def test_a_line_break_in_a_file_name_cannot_split_its_problem_line(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "two\nlines\x1b[2J.txt").write_bytes(b"")
    result = subprocess.run(
        [sys.executable, "-m", "archiver", "ingest", "raw"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert "two\\nlines\\x1b[2J.txt: empty file (0 bytes)" in lines


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_pool_and_in_process_runs_write_the_same_bytes(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    trees = []
    for jobs in ("1", "2"):
        content = tmp_path / f"content-{jobs}"
        code, out, _ = run(
            ["ingest", str(corpus / "raw"), "--content", str(content), "-j", jobs, "--json"],
            tmp_path,
        )
        assert code == 1  # the corpus holds an empty and a blank file
        trees.append((_tree(content), json.loads(out)))
    (one, report_one), (two, report_two) = trees
    assert one == two and len(one) > 100
    assert report_one == report_two


def test_workers_refuse_an_input_that_changed_after_it_was_hashed(tmp_path: Path) -> None:
    import hashlib

    from archiver.ingest import workers

    page = tmp_path / "page.txt"
    page.write_text("Headline\n\nSome text.\n")
    sha = hashlib.sha256(page.read_bytes()).hexdigest()
    scanned = workers.scan(workers.Job(str(page), "text", sha))
    assert isinstance(scanned, workers.Scanned) and "headline" in (scanned.keys or ())
    assert scanned.text == "Headline\n\nSome text.\n"
    workers.init_worker(Settings())
    towns = ("Brest", "Lorient", "Vannes", "Quimper", "Morlaix", "Lannion")
    story = "Storm hits the coast\n\n" + "".join(  # pass 2 cleans the text it is given
        f"In {town}, the storm cut power to {n} thousand homes on Monday evening, officials"
        f" said, and rescue teams worked through the night to reach the villages nearby.\n\n"
        for n, town in enumerate(towns, 2)
    )
    with workers.shared_model((), frozenset()) as model:
        cleaned = workers.clean_scanned(model, (workers.Job(str(page), "text", sha), story))
    assert not Path(model.path).exists()  # the batch's model file goes with the batch
    assert isinstance(cleaned, workers.Cleaned) and cleaned.title == "Storm hits the coast"
    page.write_text("Another text entirely\n")
    reason = workers.scan(workers.Job(str(page), "text", sha))
    assert isinstance(reason, str) and "changed while it was being ingested" in reason
    workers.init_worker(Settings())
    assert "changed" in str(workers.clean(None, workers.Job(str(page), "text", sha)))


def test_workers_write_the_article_and_keep_the_original(tmp_path: Path) -> None:
    import hashlib

    from archiver.ingest import workers
    from archiver.model import Article

    page = tmp_path / "page.txt"
    page.write_bytes(b"raw \xc3\xa9 bytes\n")
    sha = hashlib.sha256(page.read_bytes()).hexdigest()
    content = tmp_path / "content"
    article = Article(title="T", slug="t", body="Body.")
    job = workers.WriteJob(str(content), "t", article, (workers.Job(str(page), "text", sha),))
    written = workers.write(job)
    assert written.problems == ()
    assert written.file_sha256 == hashlib.sha256((content / "t.md").read_bytes()).hexdigest()
    assert (content / "originals" / f"{sha}.txt").read_bytes() == page.read_bytes()
    stale = workers.WriteJob(str(content), "u", None, (workers.Job(str(page), "text", "0" * 64),))
    assert workers.write(stale).problems[0][0] == str(page)


_PROSE = [
    "The harbour council voted on Tuesday to rebuild the old pier after storms damaged it",
    "Farmers in the valley said the late frost had cut this year's apple harvest by half",
    "A local choir won the regional contest with a programme of songs about the river",
]


def _page(folder: Path, name: str, topic: int, chrome: str) -> None:
    """A page dump whose article text is its own, with one shared chrome line in it."""
    paragraphs = [f"{_PROSE[topic]}, sentence {i} of the report said." for i in range(8)]
    paragraphs.insert(4, chrome)
    folder.mkdir(parents=True, exist_ok=True)
    title = f"Headline number {topic} about {_PROSE[topic].split()[1]}"
    text = "\n\n".join([title, *paragraphs])
    (folder / name).write_text(f"{text}\n", encoding="utf-8")


def test_lines_seen_once_are_remembered_as_hashes_and_count_in_later_batches(
    tmp_path: Path,
) -> None:
    from archiver.ingest.pipeline import ingest
    from archiver.ingest.state import STATE_NAME, load_state

    chrome = "The Quayside Trading Company supports local reporting."
    _page(tmp_path / "a", "a.txt", 0, chrome)
    _page(tmp_path / "b", "b.txt", 1, chrome)
    _page(tmp_path / "b", "c.txt", 2, chrome)
    settings = Settings()
    content = tmp_path / "content"
    ingest([tmp_path / "a"], settings, content_dir=content, jobs=1)
    raw = (content / STATE_NAME).read_text(encoding="utf-8")
    assert "quayside" not in raw  # seen once: kept as a hash, not as text
    state = load_state(content)
    assert state.line_count("the quayside trading company supports local reporting.") == 1
    assert state.line_count("never seen") == 0
    ingest([tmp_path / "b"], settings, content_dir=content, jobs=1)
    later = [read_article(p) for p in content_files(content)]
    assert len(later) == 3
    # 1 input earlier + 2 now = 3 = min_repeat: the line is boilerplate in the second batch.
    assert [chrome in a.body for a in sorted(later, key=lambda a: a.title)] == [True, False, False]
    assert (
        load_state(content).line_count("the quayside trading company supports local reporting.")
        == 3
    )
    # Without the first batch the line is in 2 inputs only and stays.
    alone = tmp_path / "alone"
    ingest([tmp_path / "b"], settings, content_dir=alone, jobs=1)
    assert all(chrome in read_article(p).body for p in content_files(alone))


def test_state_line_counts_round_trip_with_singles(tmp_path: Path) -> None:
    from collections import Counter

    from archiver.ingest.state import (
        IngestState,
        line_hash,
        load_state,
        remember_lines,
        save_state,
    )

    state = IngestState()
    remember_lines(state, Counter({"a": 1, "b": 2, "x" * 200: 1, "": 5}))
    assert dict(state.lines) == {"b": 2} and state.singles == {line_hash("a")}
    remember_lines(state, Counter({"a": 1, "c": 1}))
    assert dict(state.lines) == {"a": 2, "b": 2} and state.singles == {line_hash("c")}
    save_state(tmp_path, state)
    loaded = load_state(tmp_path)
    assert loaded.lines == state.lines and loaded.singles == state.singles
    assert [loaded.line_count(k) for k in ("a", "c", "d", "x" * 200)] == [2, 1, 0, 0]


def test_ingest_restores_the_callers_gc_thresholds(tmp_path: Path) -> None:
    import gc

    from archiver.ingest.pipeline import ingest

    _page(tmp_path / "in", "a.txt", 0, "A line.")
    before = gc.get_threshold()
    gc.set_threshold(555, 7, 9)
    try:
        report = ingest([tmp_path / "in"], Settings(), content_dir=tmp_path / "c", jobs=1)
        assert gc.get_threshold() == (555, 7, 9)
    finally:
        gc.set_threshold(*before)
    assert [o.status for o in report.outcomes] == ["new"]


def test_scan_new_hashes_the_input_under_the_size_cap(tmp_path: Path) -> None:
    import hashlib

    from archiver.config import IngestSettings
    from archiver.ingest import workers

    page = tmp_path / "page.txt"
    page.write_text("Headline\n\nSome text.\n")
    workers.init_worker(Settings(ingest=IngestSettings(max_bytes=100)))
    sha, scanned = workers.scan_new(workers.Job(str(page), "text", ""))
    assert sha == hashlib.sha256(page.read_bytes()).hexdigest()
    assert isinstance(scanned, workers.Scanned) and "headline" in (scanned.keys or ())
    page.write_text("x" * 101)
    assert workers.scan_new(workers.Job(str(page), "text", "")) == (
        "",
        "too large (101 bytes; the cap is 100: raise ingest.max_bytes)",
    )
    missing = workers.scan_new(workers.Job(str(tmp_path / "gone.txt"), "text", ""))
    assert missing[0] == "" and str(missing[1]).startswith("cannot read: ")
    workers.init_worker(Settings())


@pytest.mark.parametrize("jobs", [1, 2])
def test_first_ingest_reports_reads_like_a_later_batch(tmp_path: Path, jobs: int) -> None:
    """A first ingest reads and hashes in pass 1 (no _read_all): same outcomes, same order."""
    from archiver.config import IngestSettings
    from archiver.ingest.pipeline import ingest

    folder = tmp_path / "in"
    for topic in range(3):
        _page(folder, f"p{topic}.txt", topic, "Subscribe to our newsletter.")
    (folder / "p9-copy.txt").write_bytes((folder / "p1.txt").read_bytes())
    (folder / "e0.txt").write_bytes(b"")
    (folder / "e1-copy.txt").write_bytes(b"")
    (folder / "big.txt").write_text("word " * 2000)
    (folder / "png.txt").write_bytes(b"\x89PNG\r\n\x1a\n....")
    for index in range(40 if jobs == 2 else 0):  # enough inputs to start the process pool
        _page(folder / "zz", f"m{index}.txt", index % 3, f"Filler line {index}.")
    settings = Settings(ingest=IngestSettings(max_bytes=5000))
    other = tmp_path / "other"
    other.mkdir()
    prose = "The museum reopened its east wing after two years of careful restoration work"
    body = "\n\n".join(f"{prose}, part {i} of the tour." for i in range(8))
    (other / "o.txt").write_text(f"Museum wing reopens\n\n{body}\n", encoding="utf-8")
    known = tmp_path / "known"
    ingest([other], settings, content_dir=known, jobs=jobs)  # a later batch: the state has records
    first = ingest([folder], settings, content_dir=tmp_path / "first", jobs=jobs)
    later = ingest([folder], settings, content_dir=known, jobs=jobs)

    def mine(outcomes: list[Outcome]) -> list[tuple[str, str, str | None, str | None]]:
        return [
            (o.input, o.status, o.reason, o.duplicate_of)
            for o in outcomes
            if not o.input.startswith("zz/")
        ]

    assert mine(first.outcomes) == mine(later.outcomes)
    too_large = "too large (10,000 bytes; the cap is 5,000: raise ingest.max_bytes)"
    copy = "byte-identical to another input"
    png = "binary file (a PNG image), not a text or HTML page"
    assert mine(first.outcomes) == [
        ("big.txt", "failed", too_large, None),
        ("e0.txt", "failed", "empty file (0 bytes)", None),
        ("e1-copy.txt", "duplicate", copy, "e0.txt"),
        ("p9-copy.txt", "duplicate", copy, "p1.txt"),
        ("png.txt", "failed", png, None),
        ("p0.txt", "new", None, None),
        ("p1.txt", "new", None, None),
        ("p2.txt", "new", None, None),
    ]


def test_fork_server_preload_loads_the_text_cleaners_once() -> None:
    """The pool's fork server imports archiver.ingest.preload: it loads the cleaners, the
    gazetteer and the shipped rules (workers forked from it reuse them) and freezes them."""
    code = (
        "import gc, sys\n"
        "import archiver.ingest.preload\n"
        "from archiver.ingest import workers\n"
        "from archiver.ingest.gazetteer import load_gazetteer\n"
        "assert load_gazetteer.cache_info().currsize == 1\n"
        "assert workers.shipped_model() is workers.shipped_model()\n"
        "assert workers._RULES and gc.get_freeze_count() > 0\n"
        "assert 'archiver.ingest.textdump' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_damaged_batch_model_fails_the_input_with_a_reason_not_a_traceback(
    tmp_path: Path,
) -> None:
    from archiver.ingest import workers

    page = tmp_path / "page.txt"
    page.write_text("Headline\n\nSome text.\n")
    job = workers.Job(str(page), "text", "0" * 64)
    workers.init_worker(Settings())
    with workers.shared_model((), frozenset({"menu"})) as model:
        Path(model.path).write_bytes(b"not the model")
        assert workers.clean_scanned(model, (job, "Headline\n\nSome text.\n")) == (
            "the batch's boilerplate model changed on disk"
        )
        Path(model.path).unlink()
        reason = workers.clean_scanned(model, (job, "Headline\n\nSome text.\n"))
        assert str(reason).startswith("cannot read the batch's boilerplate model: ")
