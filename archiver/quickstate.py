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
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from archiver.config import Settings
from archiver.errors import LockedError
from archiver.forked import ChildExit, Forked, Standby, failure
from archiver.memory import no_gc
from archiver.model import Article, Page
from archiver.paths import atomic_write
from archiver.quickwords import save_words
from archiver.report import Reporter, SilentReporter

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


def update_search_index(
    settings: Settings, articles: dict[str, Article], changed: set[str], reporter: Reporter
) -> None:
    """The Whoosh update of a fast build (nothing added or deleted)."""
    index = search_module("index")
    if index is None:
        return
    from archiver.taxonomy import sort_articles

    ordered = sort_articles(articles.values())
    index.update_index(
        settings, ordered, changed=changed, deleted=set(), clean=False, reporter=reporter
    )


def _update_indexed(
    settings: Settings, state: QuickState, edited: Mapping[str, Article], reporter: Reporter
) -> bool:
    """The Whoosh update without loading the snapshot, when the index is intact and already
    holds every unchanged article: then it re-indexes exactly the edited articles and reads
    nothing but the slug of the others, so stand-ins carrying only a slug give the very same
    index. False (nothing changed, or an attempt the caller repeats with every article) when
    that cannot be shown."""
    index = search_module("index")
    read_meta, problem = getattr(index, "_read_meta", None), getattr(index, "_problem", None)
    if index is None or read_meta is None or problem is None:
        return False
    folder = index.index_path(settings)
    meta = read_meta(folder)
    if meta is None or problem(folder, meta) is not None:
        return False
    indexed = meta["docs"]
    slugs = sorted(set(state.slugs.values()))
    if not all(indexed.get(slug) for slug in slugs if slug not in edited):
        return False
    articles = [edited[slug] if slug in edited else _stand_in(slug) for slug in slugs]
    try:
        index.update_index(
            settings, articles, changed=set(edited), deleted=set(), clean=False,
            reporter=SilentReporter(),
        )  # fmt: skip
    except LockedError:
        raise
    except Exception:  # a stand-in was asked for more than its slug: redo with every article
        return False
    return True


def _stand_in(slug: str) -> Article:
    """An article that has only a slug (reading any other field raises AttributeError)."""
    article: Article = object.__new__(Article)
    article.__dict__["slug"] = slug
    return article


ClientResult = tuple[dict[str, tuple[str, bytes]], set[str]]
"""The client index files that changed (path -> (digest, bytes)) and every file's path."""


@dataclass(frozen=True)
class ClientJob:
    """The client index update run in the index child: from the edited articles alone
    (search.client's client_pages_edited; valid while they keep their place, source and tags:
    the caller's business), or from every article (ordered)."""

    generation: str
    new_generation: str
    outputs: Mapping[str, str]
    """The previous manifest's output digests: only changed files travel back."""
    ordered: Sequence[Article] | None = None
    """Every article, newest first: the full (cached) update instead (tags or source changed)."""

    def run(self, settings: Settings, edited: Mapping[str, Article]) -> ClientResult | None:
        """The changed files and every path; None: not applicable (the caller does it)."""
        if self.ordered is not None:
            return self.full(settings, self.ordered)
        return self.bodiless(settings, edited)

    def bodiless(self, settings: Settings, edited: Mapping[str, Article]) -> ClientResult | None:
        """The update that reads no body but the edited articles' (ordered may lack them);
        None: not applicable (then full, with bodies, when ordered is given)."""
        client = search_module("client")
        if client is None:
            return {}, set()
        if self.ordered is not None:
            return None
        pages = client.client_pages_edited(
            edited, settings, generation=self.generation, new_generation=self.new_generation
        )
        return None if pages is None else changed_files(pages, self.outputs)

    def full(self, settings: Settings, ordered: Sequence[Article]) -> ClientResult:
        """The update from every article (ordered, with their bodies)."""
        client = search_module("client")
        if client is None:
            return {}, set()
        pages = client.client_pages(ordered, settings, generation=self.new_generation)
        return changed_files(pages, self.outputs)


def changed_files(pages: Sequence[Page], outputs: Mapping[str, str]) -> ClientResult:
    """The files whose digest differs from the last build's, and every file's path."""
    from archiver.manifest import combine

    writes: dict[str, tuple[str, bytes]] = {}
    produced: set[str] = set()
    for page in pages:
        produced.add(page.path)
        digest = combine("search", hashlib.sha256(page.data).hexdigest())
        if outputs.get(page.path) != digest:
            writes[page.path] = (digest, page.data)
    return writes, produced


_UNUSABLE = 3
"""The child's exit status when the snapshot cannot be used (the caller builds normally)."""


class IndexChild:
    """A fast build's Whoosh update in a forked child, running while the parent renders.

    The child loads the article snapshot itself (the parent never needs every article), so
    its cost is off the critical path. The client index update, when given, runs in a second
    child at the same time. A failure in a child comes back as one line and the parent writes
    nothing: the same guarantees as the updates running in-process.
    """

    def __init__(self, child: Forked, state: QuickState) -> None:
        self.child, self.state = child, state
        self.client_child: Forked | None = None
        self.client: ClientResult | None = None
        """The client index update (ClientJob), when one was given and it applied."""

    @classmethod
    def start(
        cls,
        settings: Settings,
        state: QuickState,
        edited: Mapping[str, Article],
        reporter: Reporter,
        client: ClientJob | None = None,
        standby: Standbys | None = None,
    ) -> IndexChild | None:
        """Fork the children; None where forking is unavailable or unsafe (other threads).

        client: also update the client index from the edited articles, in a second child (its
        result, the changed files, comes back through the pipe: see wait and ClientJob);
        standby: children forked earlier (Standbys) run the updates instead.
        """
        if threading.active_count() > 1:
            return None

        def work() -> bytes:  # pragma: no cover - runs in the forked child
            _update_whoosh(settings, state, edited, reporter)
            return b""

        ready = None if standby is None else standby.whoosh
        if ready is not None and not ready.sent:
            job = pickle.dumps((state.token, dict(edited)), protocol=pickle.HIGHEST_PROTOCOL)
            child: Forked | None = ready.send(job)
        else:
            child = Forked.start(work, collect=False)
        if child is None:
            return None
        started = cls(child, state)
        if client is None:
            return started
        return started.add_client(settings, edited, client, standby)

    def add_client(
        self,
        settings: Settings,
        edited: Mapping[str, Article],
        client: ClientJob,
        standby: Standbys | None = None,
    ) -> IndexChild:
        """Also run the client index update, in a second child (a Whoosh child started early,
        before the caller knew which client update applies); its result comes back in wait.
        The client standby runs it when there is one (only the articles' order travels: it
        read the snapshot itself)."""
        ready = None if standby is None else standby.client
        if ready is not None and not ready.sent:
            slugs = None if client.ordered is None else [a.slug for a in client.ordered]
            bare = replace(client, outputs={}, ordered=None)  # it has both already
            job = (self.state.token, bare, slugs, dict(edited))
            self.client_child = ready.send(pickle.dumps(job, pickle.HIGHEST_PROTOCOL))
            return self

        def client_work() -> bytes:  # pragma: no cover - runs in the forked child
            return _client_work(settings, self.state, client, edited)

        self.client_child = Forked.start(client_work, collect=False)
        return self

    def wait(self) -> bool:
        """True when the index was updated; False: snapshot unusable; else raise one line."""
        code, data = self.child.wait()
        client_code, client_data = (
            (0, b"") if self.client_child is None else self.client_child.wait()
        )
        if _UNUSABLE in (code, client_code):
            return False
        for status, output in ((code, data), (client_code, client_data)):
            if status != 0:
                raise failure(status, output, "search index update")
        self.client = pickle.loads(client_data) if client_data else None  # our child's pickle
        return True

    def reap(self) -> None:
        """Wait for children the parent stopped caring about (an error or Ctrl-C)."""
        self.child.stop()
        if self.client_child is not None:
            self.client_child.stop()


def _client_work(
    settings: Settings, state: QuickState, client: ClientJob, edited: Mapping[str, Article]
) -> bytes:  # pragma: no cover - runs in the forked child
    """The client index child's work: the update reading no body but the edited articles',
    else (planned from a snapshot without bodies) the full update with the bodies put back."""
    result = client.bodiless(settings, edited)
    if result is None and client.ordered is not None:
        ordered = with_bodies(settings.state_path, state, client.ordered)
        if ordered is None:
            raise ChildExit(_UNUSABLE)
        result = client.full(settings, ordered)
    return b"" if result is None else pickle.dumps(result, pickle.HIGHEST_PROTOCOL)


@dataclass
class Standbys:
    """The search index children of a fast build, forked at its start (see Standby): the
    Whoosh one and the client index one."""

    whoosh: Standby | None
    client: Standby | None

    @classmethod
    def start(
        cls, settings: Settings, reporter: Reporter, outputs: Mapping[str, str], generation: str
    ) -> Standbys:
        """Fork both (each None where forking is unavailable); outputs and generation: the
        last build's output digests and token."""
        whoosh = whoosh_standby(settings, reporter, outputs.keys())
        return cls(whoosh, client_standby(settings, outputs, generation))

    def cancel(self) -> None:
        """End the children that were not sent a job."""
        for standby in (self.whoosh, self.client):
            if standby is not None:
                standby.cancel()


def client_standby(
    settings: Settings, outputs: Mapping[str, str], generation: str
) -> Standby | None:
    """The client index child of a fast build, forked before the build knows its edit
    (IndexChild.add_client sends it): it imports the client index code and reads its state,
    the fast-path state and the article snapshot (without bodies) while the parent scans and
    plans; its job then carries only the edited articles and, for an update from every
    article, their order. outputs: the last build's output digests (only changed files
    travel back); generation: its token (whose client index state is read)."""

    def ready() -> Callable[[bytes], bytes]:  # pragma: no cover - runs in the forked child
        if search_module("client") is not None:
            from archiver.search.clientcache import preload

            preload(settings.state_path, generation)
        state = load_state(settings.state_path)
        articles = (
            None if state is None else load_snapshot(settings.state_path, state, bodies=False)
        )

        def run(data: bytes) -> bytes:
            token, client, slugs, edited = pickle.loads(data)  # from our own parent
            if state is None or state.token != token:
                raise ChildExit(_UNUSABLE)
            ordered = None
            if slugs is not None:
                if articles is None or not set(slugs) <= articles.keys() | edited.keys():
                    raise ChildExit(_UNUSABLE)
                ordered = [edited[s] if s in edited else articles[s] for s in slugs]
            job = replace(client, outputs=outputs, ordered=ordered)
            return _client_work(settings, state, job, edited)

        return run

    return Standby.start(ready)


def whoosh_standby(
    settings: Settings, reporter: Reporter, outputs: Collection[str]
) -> Standby | None:
    """The Whoosh child of a fast build, forked before the build knows its edit (IndexChild
    .start sends it): it imports the search index code, loads the fast-path state and checks
    that the site holds exactly the files the last build wrote (outputs) while the parent
    scans the content and reads the edit, on a core that is idle until then. A damaged site
    ends it as an unusable snapshot does: the parent then runs the normal build."""

    def ready() -> Callable[[bytes], bytes]:  # pragma: no cover - runs in the forked child
        from archiver.writer import site_files

        intact = site_files(settings.output_path) == outputs
        search_module("index")
        state = load_state(settings.state_path)

        def run(job: bytes) -> bytes:
            token, edited = pickle.loads(job)  # from our own parent
            if state is None or state.token != token or not intact:
                raise ChildExit(_UNUSABLE)
            _update_whoosh(settings, state, edited, reporter)
            return b""

        return run

    return Standby.start(ready)


def _update_whoosh(
    settings: Settings, state: QuickState, edited: Mapping[str, Article], reporter: Reporter
) -> None:  # pragma: no cover - runs in the forked child
    """The Whoosh child's work: update the index, loading every article if need be."""
    if not _update_indexed(settings, state, edited, reporter):
        articles = all_articles(settings.state_path, state, edited)
        if articles is None:
            raise ChildExit(_UNUSABLE)
        update_search_index(settings, articles, set(edited), reporter)
