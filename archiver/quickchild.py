"""The search index children of a fast build: the Whoosh and client index updates, run in
forked children (IndexChild) while the parent renders, or by children forked at the start of
the build that got ready while the parent scanned (Standbys). A failure in a child comes back
as one line; an unusable snapshot or a damaged site sends the edit to the normal build."""

from __future__ import annotations

import hashlib
import pickle
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from types import ModuleType

from archiver.config import Settings
from archiver.errors import LockedError
from archiver.forked import ChildExit, Forked, Standby, deliver, failure
from archiver.model import Article, Page
from archiver.quickstate import (
    QuickState,
    all_articles,
    load_snapshot,
    load_state,
    search_module,
    with_bodies,
)
from archiver.report import Reporter, SilentReporter


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
    if index is None or read_meta is None or problem is None or index.merge_due(settings):
        return False  # (a merge indexes some unchanged articles again: they must be whole)
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

    def bodiless(
        self,
        settings: Settings,
        edited: Mapping[str, Article],
        later: list[Callable[[], None]] | None = None,
    ) -> ClientResult | None:
        """The update that reads no body but the edited articles' (ordered may lack them);
        None: not applicable (then full, with bodies, when ordered is given). later: where
        saving its state goes instead of happening now (the caller runs it, see keep_words)."""
        client = search_module("client")
        if client is None:
            return {}, set()
        pages = self.bodiless_pages(client, settings, edited, later)
        return None if pages is None else changed_files(pages, self.outputs)

    def bodiless_pages(
        self,
        client: ModuleType,
        settings: Settings,
        edited: Mapping[str, Article],
        later: list[Callable[[], None]] | None,
    ) -> list[Page] | None:
        """bodiless's files: search.client's client_pages_edited, which applies only while
        the edited articles keep their place (no ordered given); None: not applicable."""
        if self.ordered is not None:
            return None
        pages: list[Page] | None = client.client_pages_edited(
            edited,
            settings,
            generation=self.generation,
            new_generation=self.new_generation,
            later=later,
        )
        return pages

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
        self.saving = False
        """The client index child handed its files over and is saving its state (finish)."""
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
        *,
        place: bool = False,
    ) -> IndexChild:
        """Also run the client index update, in a second child (a Whoosh child started early,
        before the caller knew which client update applies); its result comes back in wait.
        The client standby runs it when there is one (only the articles' order travels: it
        read the snapshot itself). Once one is running, another call changes nothing.

        place: the standby works out the order itself, as the metadata fast path does (the
        edited-only update when the edited articles keep their place, tags and source, else
        the update from every article, newest first): the job can go before the caller
        planned; without a standby nothing starts then.
        """
        if self.client_child is not None:
            return self
        ready = None if standby is None else standby.client
        if ready is not None and not ready.sent:
            slugs = None if client.ordered is None else [a.slug for a in client.ordered]
            bare = replace(client, outputs={}, ordered=None)  # it has both already
            job = (self.state.token, bare, slugs, dict(edited), place)
            self.client_child = ready.send(pickle.dumps(job, pickle.HIGHEST_PROTOCOL))
            return self
        if place:
            return self

        def client_work() -> bytes:  # pragma: no cover - runs in the forked child
            return _client_work(settings, self.state, client, edited)

        self.client_child = Forked.start(client_work, collect=False)
        return self

    def wait(self) -> bool:
        """True when the index was updated; False: snapshot unusable; else raise one line.

        The client index child may hand its files over before it saves its state: finish
        waits for that, before the caller saves the manifest that refers to it."""
        code, data = self.child.wait()
        client_code, client_data = 0, b""
        if self.client_child is not None:
            early = self.client_child.result()
            self.saving = early is not None
            if early is not None:
                client_data = early
            else:
                client_code, client_data = self.client_child.wait()
        if _UNUSABLE in (code, client_code):
            return False
        for status, output in ((code, data), (client_code, client_data)):
            if status != 0:
                raise failure(status, output, "search index update")
        self.client = pickle.loads(client_data) if client_data else None  # our child's pickle
        return True

    def finish(self) -> None:
        """Wait for the client index child to save its state (after it handed its files over,
        see wait); raise its failure as one line."""
        if self.client_child is None or not self.saving:
            return
        self.saving = False
        code, data = self.client_child.wait()
        if code != 0:
            raise failure(code, data, "search index update")

    def reap(self) -> None:
        """End children the parent stopped caring about (an error, Ctrl-C, or a fast path
        that does not apply): the Whoosh child is waited for (the normal build that may follow
        writes the same index), the client index child is ended at once (it writes nothing
        but its own state, atomically, and the manifest never points at a state it saved for
        an abandoned build; a date moved years away keeps it busy for seconds)."""
        self.child.stop()
        if self.client_child is not None:
            self.client_child.stop(kill=True)


def _client_work(
    settings: Settings, state: QuickState, client: ClientJob, edited: Mapping[str, Article]
) -> bytes:  # pragma: no cover - runs in the forked child
    """The client index child's work: the update reading no body but the edited articles',
    else (planned from a snapshot without bodies) the full update with the bodies put back.
    The former hands its files over (deliver) before it saves the state they came from."""
    later: list[Callable[[], None]] = []
    result = client.bodiless(settings, edited, later)
    if result is None and client.ordered is not None:
        ordered = with_bodies(settings.state_path, state, client.ordered)
        if ordered is None:
            raise ChildExit(_UNUSABLE)
        result = client.full(settings, ordered)
    data = b"" if result is None else pickle.dumps(result, pickle.HIGHEST_PROTOCOL)
    if not later:
        return data
    deliver(data)  # the parent writes the files while the state is saved
    for step in later:
        step()
    return b""


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
            token, client, slugs, edited, place = pickle.loads(data)  # from our own parent
            if state is None or state.token != token:
                raise ChildExit(_UNUSABLE)
            ordered = None
            if place:
                if articles is None or not edited.keys() <= articles.keys():
                    raise ChildExit(_UNUSABLE)
                ordered = _order(articles, edited)
            elif slugs is not None:
                if articles is None or not set(slugs) <= articles.keys() | edited.keys():
                    raise ChildExit(_UNUSABLE)
                ordered = [edited[s] if s in edited else articles[s] for s in slugs]
            job = replace(client, outputs=outputs, ordered=ordered)
            return _client_work(settings, state, job, edited)

        return run

    return Standby.start(ready)


def _order(articles: Mapping[str, Article], edited: Mapping[str, Article]) -> list[Article] | None:
    """The order the metadata fast path gives the client index update: None when the edited
    articles keep their place, tags and source (the edited-only update), else every article
    (the edited ones as edited) newest first."""
    from archiver.quickorder import in_place
    from archiver.taxonomy import sort_articles

    if in_place({slug: articles[slug] for slug in edited}, edited):
        return None
    return list(sort_articles({**articles, **edited}.values()))


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
