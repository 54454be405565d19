"""Golden site: tests/fixtures/site_content/ built with fixed settings and a fixed
SOURCE_DATE_EPOCH, compared FILE BY FILE (every file, bytes) with tests/golden/site/.

Any change to the rendered output (templates, CSS, JS, search files, feeds) shows up here as a
reviewable diff. The golden tree is regenerated only on purpose, after reviewing that diff:

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden_site.py
    # or, the same thing:
    .venv/bin/python -m tests.regen_golden

The build settings are GOLDEN_SETTINGS / GOLDEN_EPOCH in tests/conftest.py (fixture golden_site).
Nothing is excluded from the comparison.
"""

from __future__ import annotations

import difflib
import html
import json
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree

if TYPE_CHECKING:
    from conftest import BuiltSite

GOLDEN = Path(__file__).resolve().parent / "golden" / "site"
HOSTILE_SLUG = "hostile-title"
HOSTILE_TITLE = '<script>alert("pwned")</script> "Quoted" & \'apostrophes\' </title><b>bold</b>'
URL_ATTRS = frozenset({"href", "src", "action", "formaction", "poster", "data", "xlink:href"})
SCRIPT_TYPES = frozenset({"application/ld+json", "application/json"})
MAX_DIFFS = 5


def tree(root: Path) -> dict[str, Path]:
    """Every file under root by its relative POSIX path (hidden files included)."""
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}


def regenerate(site: Path, golden: Path = GOLDEN) -> None:
    """Replace the golden tree by a copy of a freshly built site."""
    if golden.exists():
        shutil.rmtree(golden)
    shutil.copytree(site, golden, copy_function=shutil.copyfile)


def diff_text(rel: str, expected: bytes, actual: bytes) -> str:
    """A short unified diff of two versions of one file (or a note for binary files)."""
    try:
        old, new = expected.decode("utf-8"), actual.decode("utf-8")
    except UnicodeDecodeError:
        return f"{rel}: binary files differ ({len(expected)} -> {len(actual)} bytes)"
    lines = difflib.unified_diff(
        old.splitlines(), new.splitlines(), f"golden/{rel}", f"built/{rel}", lineterm="", n=1
    )
    return "\n".join(list(lines)[:40])


def compare(golden: Path, site: Path) -> list[str]:
    """Differences between the golden tree and a built site, one entry per file."""
    expected, actual = tree(golden), tree(site)
    problems = [f"missing from the build: {rel}" for rel in sorted(expected.keys() - actual)]
    problems += [f"not in the golden tree: {rel}" for rel in sorted(actual.keys() - expected)]
    changed = [
        rel
        for rel in sorted(expected.keys() & actual.keys())
        if expected[rel].read_bytes() != actual[rel].read_bytes()
    ]
    problems += [f"differs: {rel}" for rel in changed]
    problems += [
        diff_text(rel, expected[rel].read_bytes(), actual[rel].read_bytes())
        for rel in changed[:MAX_DIFFS]
    ]
    return problems


def test_golden_site_matches_file_by_file(golden_site: BuiltSite) -> None:
    """The golden fixture builds exactly the committed tests/golden/site/, byte for byte."""
    if os.environ.get("UPDATE_GOLDEN") == "1":
        regenerate(golden_site.path)
    assert GOLDEN.is_dir(), (
        f"{GOLDEN} is missing: review the build, then run "
        "`UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden_site.py`"
    )
    problems = compare(GOLDEN, golden_site.path)
    assert not problems, (
        "the built golden site differs from tests/golden/site/ (if the change is intended, "
        "regenerate with `.venv/bin/python -m tests.regen_golden` and review the diff):\n"
        + "\n".join(problems)
    )


def test_golden_tree_is_small() -> None:
    """The fixture stays tiny, so the committed golden tree stays reviewable."""
    files = tree(GOLDEN)
    size = sum(p.stat().st_size for p in files.values())
    assert 0 < len(files) <= 150, f"{len(files)} golden files"
    assert size <= 1_500_000, f"golden tree is {size} bytes"


class _Scan(HTMLParser):
    """Collects what could execute in a page, plus the <title>, <h1> and JSON-LD texts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.stack: list[str] = []
        self.texts: dict[str, str] = {"title": "", "h1": "", "ld": ""}
        self.script_type = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Flag event handlers, script URLs, inline scripts and embedding elements."""
        values = {name: value or "" for name, value in attrs}
        for name, value in values.items():
            compact = "".join(value.split()).lower()
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> event handler")
            if name in URL_ATTRS and compact.startswith(("javascript:", "data:", "vbscript:")):
                self.problems.append(f"<{tag} {name}={value!r}> script/data URL")
        if tag in ("iframe", "object", "embed", "frame", "base"):
            self.problems.append(f"<{tag}> element")
        if tag == "script":
            self.script_type = values.get("type", "").lower()
            if "src" not in values and self.script_type not in SCRIPT_TYPES:
                self.problems.append("inline <script> without src")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        """Track the open element."""
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        """Keep title, h1 and JSON-LD text."""
        current = self.stack[-1] if self.stack else ""
        if current in ("title", "h1"):
            self.texts[current] += data
        elif current == "script" and self.script_type == "application/ld+json":
            self.texts["ld"] += data


def scan(text: str) -> _Scan:
    """Parse one HTML document with the hostile-content scanner."""
    parser = _Scan()
    parser.feed(text)
    parser.close()
    return parser


def test_hostile_article_cannot_execute_anywhere(golden_site: BuiltSite) -> None:
    """No page of the golden site carries a handler, script URL or inline script from content."""
    problems = []
    for rel, path in tree(golden_site.path).items():
        if rel.endswith(".html"):
            problems += [f"{rel}: {p}" for p in scan(path.read_text(encoding="utf-8")).problems]
    assert not problems, "\n".join(problems)


def test_hostile_title_is_shown_as_text(golden_site: BuiltSite) -> None:
    """The hostile title reaches <title>, <h1>, JSON-LD and the feed as text, not markup."""
    page = golden_site.path / "articles" / f"{HOSTILE_SLUG}.html"
    scanned = scan(page.read_text(encoding="utf-8"))
    assert HOSTILE_TITLE in " ".join(scanned.texts["title"].split())
    assert " ".join(scanned.texts["h1"].split()) == HOSTILE_TITLE
    ld = json.loads(scanned.texts["ld"])
    items = ld if isinstance(ld, list) else [ld]
    assert any(item.get("headline") == HOSTILE_TITLE for item in items), ld
    feed = ElementTree.parse(golden_site.path / "feed.atom").getroot()
    atom = "{http://www.w3.org/2005/Atom}"
    titles = []
    for entry in feed.iter(f"{atom}entry"):
        title = entry.find(f"{atom}title")
        assert title is not None
        text = title.text or ""
        titles.append(html.unescape(text) if title.get("type") == "html" else text)
    assert HOSTILE_TITLE in titles, titles


def test_undated_article_is_built_without_an_invented_date(golden_site: BuiltSite) -> None:
    """The article without a published date gets a page that does not claim one."""
    page = golden_site.path / "articles" / "council-budget-undated.html"
    text = page.read_text(encoding="utf-8")
    assert "Council publishes draft budget" in text
    assert "datePublished" not in text
