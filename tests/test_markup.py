"""Markdown -> sanitised HTML: hostile input never survives; plain text and reading time."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from archiver.content import parse_article
from archiver.markup import (
    convert_markdown,
    html_text,
    plain_paragraphs,
    plain_text,
    reading_time,
    render_markdown,
    summarise,
)

HOSTILE = [
    "<script>alert(1)</script>",
    "</script><script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![pixel](data:image/png;base64,AAAA)",
    '<a href="vbscript:msgbox(1)">x</a>',
    '<div onclick="alert(1)" style="background:url(javascript:alert(1))">raw</div>',
    '<iframe src="https://evil.example/"></iframe>',
    "<style>body{display:none}</style>",
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    '<form action="https://evil.example/"><input name="q"></form>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<p id="main" class="x">hijack the skip link</p>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "<!-- <script>alert(1)</script> -->",
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
]


FORBIDDEN = (
    "<script", "<iframe", "<style", "<svg", "<form", "<object", "<embed", "<base", "<meta",
    "<input", "javascript:", "vbscript:", "data:", "style=", 'id="', 'class="x"',
)  # fmt: skip


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markup_is_neutralised(text: str) -> None:
    out = render_markdown(f"Intro paragraph.\n\n{text}\n\nOutro {text}")
    lowered = out.lower()
    for needle in FORBIDDEN:
        assert needle not in lowered, (needle, out)
    assert not re.search(r"\son[a-z]+\s*=", lowered), out
    assert "alert(1)</script>" not in out


def test_event_handler_attributes_are_dropped_everywhere() -> None:
    out = render_markdown('<p onmouseover="x()">a</p><b onfocus="y()">b</b>')
    assert not re.search(r"\son[a-z]+=", out)
    assert "<b>b</b>" in out


def test_script_text_is_removed_with_its_content() -> None:
    out = render_markdown("before <script>steal(document.cookie)</script> after")
    assert "steal" not in out
    assert "before" in out and "after" in out


def test_safe_links_survive_with_rel_on_external_ones() -> None:
    out = render_markdown(
        "[web](https://example.org/a?b=1&c=2) [mail](mailto:a@example.org) [rel](../x.html)"
    )
    assert '<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow noopener">web</a>' in out
    assert '<a href="mailto:a@example.org">mail</a>' in out
    assert '<a href="../x.html">rel</a>' in out


def test_raw_html_link_with_href_last_still_gets_rel() -> None:
    out = render_markdown('<a title="t" href="https://example.org/">x</a>')
    assert 'rel="nofollow noopener"' in out


def test_images_become_links_and_are_never_hot_linked() -> None:
    out = render_markdown("![A chart](https://example.org/chart.png)")
    assert "<img" not in out
    assert (
        '<a class="image-link" href="https://example.org/chart.png" rel="nofollow noopener">'
        "[Image: A chart]</a>"
    ) in out


def test_relative_images_become_plain_labels() -> None:
    out = render_markdown('<img src="x" alt="Map" onerror="alert(1)"> ![b](../b.png)')
    assert "<img" not in out and "<a" not in out
    assert "[Image: Map]" in out and "[Image: b]" in out


def test_linked_image_does_not_nest_links() -> None:
    out = render_markdown("[![logo](https://example.org/l.png)](https://example.org/)")
    assert "<img" not in out
    assert out.count("<a ") == 1
    assert "[Image: logo]" in out


def test_h1_in_body_is_demoted_so_the_title_stays_the_only_h1() -> None:
    out = render_markdown("# Heading\n\ntext")
    assert "<h1" not in out
    assert "<h2>Heading</h2>" in out


def test_tables_lists_and_code_render() -> None:
    out = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n\n1. one\n2. two\n\n```\ncode <x>\n```")
    assert "<table>" in out and "<td>1</td>" in out
    assert "<ol>" in out and "<li>one</li>" in out
    assert "<code>code &lt;x&gt;\n</code>" in out


def test_rendering_is_deterministic_and_reusable() -> None:
    text = "*a* and **b**\n\n- x\n- y\n"
    first = render_markdown(text)
    render_markdown("# something else\n\n[^1]: footnote")
    assert render_markdown(text) == first


def test_plain_text_strips_markup() -> None:
    text = (
        "# Title\n\nSome *em* and [a link](https://x.org) ![img](y.png) <b>bold</b> &amp; "
        "`code`\n\n- a\n- b\n"
    )
    assert plain_text(text) == "Title Some em and a link img bold & code a b"


def test_summarise_cuts_at_a_word() -> None:
    assert summarise("short") == "short"
    assert summarise("alpha beta gamma delta", limit=12) == "alpha beta…"


def test_reading_time_counts_words_and_cjk() -> None:
    assert reading_time("") == 1
    assert reading_time("word " * 230 * 3) == 3
    assert reading_time("字" * 2500) == 5
    assert reading_time("word " * 230 + "字" * 500) == 2


def test_html_text() -> None:
    assert html_text("<p>a &amp; <b>b</b></p>").split() == ["a", "&", "b"]


# -- the plain-paragraph fast path must be byte-identical to the full conversion --------------

REPO = Path(__file__).resolve().parent.parent
SAFE_PIECES = [
    *"abcXYZ  .,'\"()-=+:;/%$@^?0123456789",
    *("é", "中", "\u0301", "\u200b", "\u200f", "\u202e", "\ufffd", "😀", "--", "...", "’"),
    *("http://x.y/z", " 1. ", "a.m.", "U.S.", "(1)", "$3.5", "50%", "e-mail", "x=y", "a+b"),
]  # fmt: skip
RISKY_PIECES = [
    *"\t.>*#_`\\[]{}<>&!|~=+-)",
    *("\xa0", "\u2028", "\u2029", "\r", "\x0c", "\x0b", "\x85", "\ue000", "\ufeff", "\x00"),
    *("\x02", "\x03", "\x7f", "\ud800", "\ufdd0", "\uffff", "    ", "1. ", "- ", "&amp;"),
    *("==", "---", "***", "  \n", " \n", "\n ", "\n\n\n", "\n\n", "\n1.", "\n2)", "\n12. "),
    *("\n=", "\n-", "\n+", "\n#", "\n>", "\n* ", "\n```", "\n~~~", "<b>", "&#65;", "[a](b)"),
]  # fmt: skip
ADVERSARIAL = [
    "", "\n", "\n\n", "a", " a", "a ", "a  \nb", "a\n\n\n\nb", "\n\na\n\n", "a\n===", "a\n---",
    "1986. A year", "1986 was a year", "12) x", "x\n1. y", "x\n- y", "x\n+ y", "x\n> y",
    "    code", "a\tb", "a\xa0b", "a &amp; b", "a & b", "a < b", "a > b", "http://a.b/c",
    "<http://a.b/c>", "a\u2028b", "a\rb", "a\r\nb", "x\n\n    y", "a\n \nb", "#tag", "a #b",
    "a_b_c", "a*b*c", "!x", "[x]", "a|b", "~~x~~", "{x}", "\ufeffa", "a\ue000b", "é\u0301中",
]  # fmt: skip


def _fast_agrees(text: str) -> bool:
    """True when the fast path declines or gives exactly what the full conversion gives."""
    fast = plain_paragraphs(text)
    return fast is None or fast == convert_markdown(text)


def _md_like(rng: random.Random, risky: float) -> str:
    """A random body: paragraphs of safe pieces, now and then a risky one."""
    parts = []
    for _ in range(rng.randint(1, 30)):
        roll = rng.random()
        if roll < risky:
            parts.append(rng.choice(RISKY_PIECES))
        elif roll < risky + 0.15:
            parts.append(rng.choice(["\n", "\n\n", " "]))
        else:
            parts.append(rng.choice(SAFE_PIECES))
    return "".join(parts)


@pytest.mark.parametrize("text", ADVERSARIAL)
def test_fast_path_matches_markdown_on_adversarial_strings(text: str) -> None:
    assert _fast_agrees(text), repr(text)
    assert render_markdown(text) == convert_markdown(text)


def test_fast_path_matches_markdown_on_random_text() -> None:
    rng = random.Random(20261128)
    taken = 0
    for _ in range(6000):
        text = _md_like(rng, risky=0.06)
        assert _fast_agrees(text), repr(text)
        taken += plain_paragraphs(text) is not None
    assert taken > 1000  # the comparison is not vacuous


def test_fast_path_matches_markdown_on_sample_content_and_fixtures() -> None:
    files = sorted((REPO / "content").glob("*.md")) + sorted(REPO.glob("tests/fixtures/**/*.md"))
    assert len(files) > 10
    taken = 0
    for path in files:
        article = parse_article(path.read_text(encoding="utf-8"), path)
        assert _fast_agrees(article.body), path
        taken += plain_paragraphs(article.body) is not None
        for paragraph in article.body.split("\n\n"):  # each block alone, too
            assert _fast_agrees(paragraph), (path, paragraph)
    assert taken > 0


def test_fast_path_matches_markdown_on_generated_news_bodies() -> None:
    rng = random.Random(7)
    words = "the council said on Monday that 2,400 homes (about 12%) would get power by May".split()
    for _ in range(300):
        paragraphs = []
        for _ in range(rng.randint(1, 12)):
            sentence = " ".join(rng.choice(words) for _ in range(rng.randint(3, 40)))
            quote = rng.random() < 0.3
            paragraphs.append(f'"{sentence.capitalize()}," she said.' if quote else sentence + ".")
        body = "\n\n".join(paragraphs) + "\n"
        assert plain_paragraphs(body) is not None
        assert _fast_agrees(body)


def test_fast_path_declines_anything_markdown_would_touch() -> None:
    for text in ("a *b*", "a\n- b", "1. a", "a  \nb", "    a", "a &amp; b", "a\xa0b", "a\n==="):
        assert plain_paragraphs(text) is None, repr(text)
    assert plain_paragraphs("One.\n\nTwo\nlines.\n") == "<p>One.</p>\n<p>Two\nlines.</p>"
