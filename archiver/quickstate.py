"""The one-edit fast path's state: what a full build records for it, kept in .archiver/.

Per article: its external digest (see external_digest), related articles, neighbours and
terms; the pages that embed article bodies, with their contexts; a snapshot of every article
(one pickle) plus the articles fast builds edited since; and, for a long-running process such
as ``archiver serve``, the last build's articles in memory.
"""

from __future__ import annotations

import hashlib
import importlib
import pickle
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from archiver.memory import no_gc
from archiver.model import Article
from archiver.paths import atomic_write
from archiver.quickwords import save_words

if TYPE_CHECKING:
    from archiver.pages import Contexts
    from archiver.taxonomy import Archive

STATE_NAME = "quick-state.pickle"
STATE_VERSION = 2
SNAPSHOT_NAME = "quick-articles.pickle"
"""Every article of the last full build in one pickle (one load beats 10k cache rows), without
its body: planning a metadata edit's pages needs every article but no body."""
BODIES_NAME = "quick-bodies.pickle"
"""The bodies of the snapshot's articles, by slug (for the search updates, which need them)."""


Links = tuple[str, tuple[str, ...], str | None, str | None, tuple[tuple[str, str, str, str], ...]]
"""Per article: external digest, related slugs, newer, older, (kind, key, name, slug) terms."""


@dataclass
class QuickState:
    """What the fast path needs from the last full plan (pickled in the build state)."""

    token: str
    templates: dict[str, str] = field(default_factory=dict)
    """Template name -> digest of its closure (as the page digests used it)."""
    slugs: dict[str, str] = field(default_factory=dict)
    """Content file -> slug of its article."""
    links: dict[str, bytes] = field(default_factory=dict)
    """Slug -> pickled Links (unpickled only for the articles that changed)."""
    snapshot: str = ""
    """Token of the article snapshot (written by the last full build)."""
    edited: dict[str, bytes] = field(default_factory=dict)
    """Slug -> pickled Article: articles edited by fast builds since the snapshot."""
    embedding: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Page path -> (template, context JSON) of non-article pages that embed article bodies."""
    search: tuple[str, ...] = ()
    """The client search index's files."""
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Slug -> (reading time, word count) as the full build computed them (quickmeta.py)."""
    summaries: dict[str, str] = field(default_factory=dict)
    """Slug -> summary shown in lists, for articles without their own (quickmeta.py)."""
    version: int = 0


def external_digest(article: Article, shown: tuple[str, int] | None = None) -> str:
    """Digest of everything pages other than the article's own show about it.

    shown: the (summary, reading time) lists show, when already computed.
    """
    from archiver.pages import article_size, shown_summary

    if shown is None:
        shown = (shown_summary(article), article_size(article)[0])
    fields = replace(article, body="", path=None)
    text = repr((fields, *shown))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def record(
    archive: Archive,
    ctx: Contexts,
    slugs: dict[str, str],
    templates: dict[str, str],
    embedding: dict[str, tuple[str, str]],
    search: Collection[str],
    token: str | None = None,
) -> QuickState:
    """The fast-path state of a full plan (saved with the manifest by the normal build)."""
    token = token or secrets.token_hex(8)
    state = QuickState(token, dict(templates), dict(slugs), snapshot=token, version=STATE_VERSION)
    state.embedding, state.search = dict(embedding), tuple(sorted(search))
    # what the plan computed for every article's list entry (Contexts' caches)
    state.sizes, state.summaries = dict(ctx._sizes), dict(ctx._summaries)
    dumps = pickle.dumps
    for article in archive.articles:
        slug = article.slug
        terms = []
        for kind, names in _term_names(article):
            for name in names:
                term = ctx.term_of(kind, name)
                if term is not None:
                    terms.append((kind, term.key, term.name, term.slug))
        links: Links = (
            external_digest(article, (ctx.summary(article), ctx.size(article)[0])),
            archive.related.get(slug, ()),
            archive.newer.get(slug),
            archive.older.get(slug),
            tuple(terms),
        )
        state.links[slug] = dumps(links, protocol=pickle.HIGHEST_PROTOCOL)
    return state


_MEMORY: dict[Path, tuple[str, dict[str, Article]]] = {}
"""The articles of the last build in this process, by state folder (one entry): a long-running
``archiver serve`` skips loading the snapshot. Keyed by the state token the manifest names."""


def save_state(
    state_dir: Path, state: QuickState, articles: Collection[Article] | None = None
) -> None:
    """Store the fast-path state atomically (and, from a full build, the article snapshot)."""
    if articles is not None:
        lite = [pathless(a) for a in articles]
        bodies = {a.slug: a.__dict__.pop("body") for a in lite}
        with no_gc():
            atomic_write(state_dir / SNAPSHOT_NAME, pickle.dumps((state.snapshot, lite), 5))
            atomic_write(state_dir / BODIES_NAME, pickle.dumps((state.snapshot, bodies), 5))
            save_words(state_dir, state.snapshot, lite)
        remember(state_dir, state.token, {a.slug: a for a in articles})
    atomic_write(state_dir / STATE_NAME, pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))


def remember(state_dir: Path, token: str, articles: dict[str, Article]) -> None:
    """Keep the articles of the build whose state has this token (this process only)."""
    _MEMORY.clear()
    _MEMORY[state_dir] = (token, articles)


def pathless(article: Article) -> Article:
    """A copy without its content path (cheaper to store; search never reads it)."""
    return _copy(article, path=None)


def _copy(article: Article, **values: Any) -> Article:
    """A copy with some attributes set, made without __init__ (values it caches stay)."""
    copy: Article = object.__new__(Article)
    copy.__dict__.update(article.__dict__)
    copy.__dict__.update(values)
    return copy


def links_of(state: QuickState, slug: str) -> Links | None:
    """The recorded links of one article."""
    raw = state.links.get(slug)
    return None if raw is None else pickle.loads(raw)  # type: ignore[no-any-return]


def load_state(state_dir: Path) -> QuickState | None:
    """The stored fast-path state, or None when missing, unreadable or of another version."""
    try:
        state = pickle.loads((state_dir / STATE_NAME).read_bytes())
    except Exception:  # our own file in .archiver/: damaged or missing only means no fast path
        return None
    if not isinstance(state, QuickState) or getattr(state, "version", 0) != STATE_VERSION:
        return None
    return state


def _term_names(article: Article) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """An article's names per taxonomy."""
    source = (article.source,) if article.source else ()
    return (("tags", article.tags), ("sources", source), ("authors", article.authors))


def load_snapshot(
    state_dir: Path, state: QuickState, *, bodies: bool = True
) -> dict[str, Article] | None:
    """The articles of the last full build with the fast builds' edits since (None: unusable).

    bodies=False: the full build's articles come without a body attribute at all (reading
    one raises), for planning pages; they must never reach the search updates or memory.
    """
    try:
        with no_gc():  # ~10^5 long-lived objects: collections would rescan them all
            token, snapshot = pickle.loads((state_dir / SNAPSHOT_NAME).read_bytes())
    except Exception:  # our own file in .archiver/: damaged or missing means no fast path
        return None
    if token != state.snapshot:
        return None
    if bodies:
        texts = _bodies(state_dir, token)
        if texts is None or not all(a.slug in texts for a in snapshot):
            return None
        for article in snapshot:
            article.__dict__["body"] = texts[article.slug]
    articles: dict[str, Article] = {a.slug: a for a in snapshot}
    articles.update((slug, pickle.loads(raw)) for slug, raw in state.edited.items())
    return articles


def _bodies(state_dir: Path, token: str) -> dict[str, str] | None:
    """The snapshot's bodies by slug; None unless the file is intact and of this snapshot."""
    try:
        with no_gc():
            found, texts = pickle.loads((state_dir / BODIES_NAME).read_bytes())
    except Exception:  # our own file in .archiver/: damaged or missing means no fast path
        return None
    return texts if found == token else None  # type: ignore[no-any-return]


def with_bodies(
    state_dir: Path, state: QuickState, articles: Sequence[Article]
) -> list[Article] | None:
    """The articles with the bodies a planning snapshot (bodies=False) left out put back (in
    copies); None when the bodies file is unusable."""
    if all("body" in a.__dict__ for a in articles):
        return list(articles)
    texts = _bodies(state_dir, state.snapshot)
    if texts is None or any("body" not in a.__dict__ and a.slug not in texts for a in articles):
        return None
    return [a if "body" in a.__dict__ else _copy(a, body=texts[a.slug]) for a in articles]


def remembered(state_dir: Path, token: str) -> dict[str, Article] | None:
    """A copy of the articles remembered for this state token, if this process has them."""
    known, articles = _MEMORY.get(state_dir, ("", {}))
    return dict(articles) if known == token else None


def warm_memory(state_dir: Path) -> None:
    """Remember the last build's articles in this process (``archiver serve`` after a build
    that had nothing to do), so the first fast rebuild need not load the snapshot."""
    state = load_state(state_dir)
    if state is None or remembered(state_dir, state.token) is not None:
        return
    articles = load_snapshot(state_dir, state)
    if articles is not None and articles.keys() == set(state.slugs.values()):
        remember(state_dir, state.token, articles)


def search_module(name: str) -> ModuleType | None:
    """archiver.search.<name>, or None while the search package does not provide it yet."""
    module = f"archiver.search.{name}"
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if exc.name == module:
            return None
        raise


def all_articles(
    state_dir: Path, state: QuickState, edited: Mapping[str, Article]
) -> dict[str, Article] | None:
    """Every article: the snapshot with the fast builds' edits and this edit's articles."""
    loaded = load_snapshot(state_dir, state)
    if loaded is None:
        return None
    loaded.update(edited)
    return loaded if loaded.keys() == set(state.slugs.values()) else None
