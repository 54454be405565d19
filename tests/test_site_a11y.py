"""Every page type of the built sample site passes axe-core in light and dark mode.

axe-core comes from npm, pinned in tests/browser/package.json + package-lock.json; install it with
``npm ci --prefix tests/browser`` (``.ci/run`` does). Without it these tests fail, never skip.
Only violations of impact "serious" or "critical" fail a page; each is listed with its nodes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest
from playwright.sync_api import Browser, Page

if TYPE_CHECKING:
    from conftest import BuiltSite

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "browser" / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("serious", "critical")
SCHEMES: tuple[Literal["light", "dark"], ...] = ("light", "dark")
PAGE_TYPES = (
    "home",
    "article",
    "tags index",
    "tag page",
    "sources index",
    "source page",
    "authors index",
    "author page",
    "archive index",
    "year/month page",
    "search",
    "404",
)
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary || ""}))
  }));
}"""


@pytest.fixture(scope="module")
def axe_script() -> Path:
    """The axe-core bundle installed from tests/browser/package-lock.json."""
    if not AXE.is_file():
        pytest.fail(
            f"{AXE} is missing: run `npm ci --prefix tests/browser` to install the pinned axe-core"
        )
    return AXE


@pytest.fixture
def axe_page(chromium_browser: Browser) -> Iterator[Page]:
    """A fresh page whose CSP is bypassed so axe-core can be injected."""
    context = chromium_browser.new_context(bypass_csp=True)
    try:
        yield context.new_page()
    finally:
        context.close()


def _describe(violations: list[dict[str, Any]]) -> str:
    """Readable list of violations: rule, impact, help and the offending nodes."""
    lines: list[str] = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']}")
        for node in v["nodes"][:5]:
            summary = " ".join(str(node["summary"]).split())
            lines.append(f"    {node['target']}  {summary}")
        if len(v["nodes"]) > 5:
            lines.append(f"    ... and {len(v['nodes']) - 5} more nodes")
    return "\n".join(lines)


@pytest.mark.parametrize("kind", PAGE_TYPES)
def test_page_type_has_no_serious_axe_violations(
    kind: str,
    axe_page: Page,
    axe_script: Path,
    sample_site: BuiltSite,
    sample_page_types: dict[str, str],
) -> None:
    """No serious or critical axe-core violation on this page type, in light and in dark mode."""
    rel = sample_page_types[kind]
    axe_page.goto((sample_site.path / rel).resolve().as_uri(), wait_until="load")
    axe_page.add_script_tag(path=str(axe_script))
    report = []
    for scheme in SCHEMES:
        axe_page.emulate_media(color_scheme=scheme)
        active = axe_page.evaluate(f"matchMedia('(prefers-color-scheme: {scheme})').matches")
        assert active, f"{scheme} colour scheme emulation did not take effect"
        violations: list[dict[str, Any]] = axe_page.evaluate(RUN_AXE)
        bad = [v for v in violations if v["impact"] in FAILING_IMPACTS]
        if bad:
            report.append(f"{rel} in {scheme} mode:\n{_describe(bad)}")
    assert not report, "\n".join(report)


def test_dark_mode_changes_the_colours(
    chromium_browser: Browser, sample_site: BuiltSite, sample_page_types: dict[str, str]
) -> None:
    """The theme honours prefers-color-scheme: the page background differs in dark mode."""
    url = (sample_site.path / sample_page_types["article"]).resolve().as_uri()
    colours: dict[str, str] = {}
    context = chromium_browser.new_context()
    try:
        page = context.new_page()
        for scheme in SCHEMES:
            page.emulate_media(color_scheme=scheme)
            page.goto(url, wait_until="load")
            colours[scheme] = page.evaluate(
                "getComputedStyle(document.body).backgroundColor + ' / '"
                " + getComputedStyle(document.documentElement).backgroundColor"
            )
    finally:
        context.close()
    assert colours["light"] != colours["dark"], f"same background in both schemes: {colours}"
