"""The repository's site/ is the sample archive built by `archiver build`, kept up to date.

After changing templates, content/ or rendering code, rebuild it on purpose with
`.venv/bin/archiver build` at the repository root and commit the result.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import BuiltSite


def _tree(root: Path) -> dict[str, bytes]:
    """Every file under root by relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_committed_site_matches_a_fresh_build(sample_site: BuiltSite, repo_root: Path) -> None:
    committed = repo_root / "site"
    assert committed.is_dir(), "site/ is missing: run `archiver build` at the repository root"
    fresh, kept = _tree(sample_site.path), _tree(committed)
    assert sorted(fresh) == sorted(kept), "site/ has other files than a fresh build"
    stale = [name for name in fresh if fresh[name] != kept[name]]
    assert not stale, f"site/ is out of date ({len(stale)} files, e.g. {stale[:3]}): rebuild it"
