"""The worker side of ingest: three passes run in a process pool (or in-process for small batches).

Workers get paths, never file contents: pass 1 reads, checks and decodes an input and returns
its boilerplate line keys and its decoded text (on a first ingest it also hashes the input, see
scan_new); pass 2 cleans that text with the batch's boilerplate model (whichever worker gets it:
nothing is read or decoded twice); pass 3 writes an article and its originals.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import multiprocessing
import os
import pickle
import tempfile
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from archiver.config import Settings
from archiver.content import (
    clean_slug,
    content_file,
    filename_date,
    parse_article,
    serialise,
    store_original,
)
from archiver.errors import ArchiverError, InputError
from archiver.ingest import dedup
from archiver.ingest.decode import decode
from archiver.model import Article, Extracted
from archiver.paths import atomic_write_text

if TYPE_CHECKING:
    from archiver.ingest.boilerplate import BoilerplateModel

T = TypeVar("T")
R = TypeVar("R")
POOL_MIN = 40
"""Smaller batches are cleaned in-process: starting workers would cost more than it saves."""
QUICK_CHUNK = 128
"""Chunk size for the quick passes (pass 1 and pass 3: about a millisecond an input or less)."""
POOL_GC_THRESHOLD = (20_000, 20, 20)
"""Cyclic-GC thresholds in pool processes: almost everything a pass allocates is freed by
reference counting, so collecting every 700 allocations (the default) is mostly wasted work."""


@dataclass(frozen=True)
class Job:
    """One input as a worker sees it: its path, its kind, the sha256 the main process read."""

    path: str
    kind: str
    sha256: str


@dataclass(frozen=True)
class Scanned:
    """Pass 1 result: the decoded text's digest and its distinct boilerplate line keys."""

    digest: bytes
    """blake2b of the decoded text (identical texts count once in the line counts)."""
    keys: tuple[str, ...] | None
    """Distinct normalised lines of a text dump, site-keyed visible lines of an HTML page;
    None for other kinds."""
    text: str = ""
    """The decoded text, handed back to a worker for pass 2."""


@dataclass(frozen=True)
class Cleaned:
    """What a worker returns for one input."""

    extracted: Extracted | None
    article: Article | None
    tags: tuple[str, ...]
    fingerprint: dedup.Fingerprint
    slug_base: str = ""
    """clean_slug of the wanted slug (computed here, in parallel): allocation adds -2, -3."""

    @property
    def exact(self) -> str:
        """The exact-duplicate key."""
        return self.fingerprint.exact

    @property
    def signature(self) -> bytes:
        """The MinHash signature."""
        return self.fingerprint.signature

    @property
    def title(self) -> str:
        """The title of the cleaned input."""
        if self.article is not None:
            return self.article.title
        return self.extracted.title if self.extracted else ""


@dataclass(frozen=True)
class WriteJob:
    """Pass 3: one article to write (None: originals only) and the inputs to keep as originals."""

    content: str
    slug: str
    article: Article | None
    originals: tuple[Job, ...]


@dataclass(frozen=True)
class Written:
    """Pass 3 result: the sha256 of the written file (None if none) and per-input problems."""

    file_sha256: str | None
    problems: tuple[tuple[str, str], ...]
    """(input path, reason) for originals that could not be kept."""


# --- worker state ---------------------------------------------------------------------------

_SETTINGS: list[Settings] = []
_MODEL: dict[str, BoilerplateModel] = {}
_RULES: dict[tuple[str, ...], BoilerplateModel] = {}
"""Compiled rules by user rule list (the costly part of a model), kept for the process's life."""


def init_worker(settings: Settings) -> None:
    """Give a process the batch settings once, and forget the model of an earlier batch."""
    _SETTINGS[:] = [settings]
    _MODEL.clear()


def init_pool_worker(settings: Settings) -> None:
    """init_worker for a pool process, with cyclic-GC thresholds for batch work."""
    init_worker(settings)
    gc.set_threshold(*POOL_GC_THRESHOLD)


def warm_up(kinds: frozenset[str]) -> None:
    """Import the cleaners and compile the shipped rules before the first input arrives
    (pool processes only: what it loaded stays for the process's life, outside the GC)."""
    if "text" in kinds or "markdown" in kinds:
        from archiver.ingest.gazetteer import load_gazetteer
        from archiver.ingest.textdump import extract_textdump  # noqa: F401

        load_gazetteer()
        with contextlib.suppress(ValueError):  # a bad user rule: the main process reports it
            _rules(tuple(_SETTINGS[0].ingest.boilerplate_rules) if _SETTINGS else ())
    if "html" in kinds:
        from archiver.ingest.html import extract_html  # noqa: F401
    gc.freeze()  # the tables and compiled rules live as long as the process: never scan them


def shipped_model() -> BoilerplateModel:
    """The model with the shipped rules only (no user rules, no repeated lines), compiled once."""
    return _rules(())


def _rules(user_rules: tuple[str, ...]) -> BoilerplateModel:
    """A model with the shipped and user rules and no repeated lines, compiled once."""
    model = _RULES.get(user_rules)
    if model is None:
        from archiver.ingest.boilerplate import BoilerplateModel

        model = _RULES[user_rules] = BoilerplateModel.build([], extra_rules=user_rules)
    return model


@dataclass(frozen=True)
class ModelRef:
    """Where the batch's boilerplate model spec (user rules, repeated lines) waits for the
    workers: a file, read once per worker. Sent with every pass-2 chunk instead of the spec
    itself (~3 MB for 10,000 dumps: ~300 chunks made it most of a gigabyte through the pipes)."""

    path: str
    digest: str


def _model(ref: ModelRef | None) -> BoilerplateModel:
    """The batch's boilerplate model, read and built once per process (None: the shipped
    rules alone)."""
    if ref is None:
        return shipped_model()
    model = _MODEL.get(ref.digest)
    if model is None:
        _MODEL.clear()
        what = "the batch's boilerplate model"
        blob = _checked(ref.path, ref.digest, f"cannot read {what}", f"{what} changed on disk")
        user_rules, repeated = pickle.loads(blob)  # our own pickle, checked by its digest
        model = _MODEL[ref.digest] = _rules(user_rules).with_repeated(repeated)
    return model


def read_input(path: str | Path, max_bytes: int) -> bytes:
    """Read one input's raw bytes, refusing oversized files; raises InputError with the reason."""
    try:
        size = os.stat(path).st_size
        if size > max_bytes:
            raise InputError(
                f"too large ({size:,} bytes; the cap is {max_bytes:,}: raise ingest.max_bytes)"
            )
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}") from None


def _read(job: Job) -> bytes:
    """Read an input again, refusing it if it changed since it was hashed."""
    changed = "the file changed while it was being ingested: run ingest again"
    return _checked(job.path, job.sha256, "cannot read", changed)


def _checked(path: str, sha256: str, unreadable: str, changed: str) -> bytes:
    """A file's bytes; InputError (unreadable: ..., or changed) when it cannot be read or its
    sha256 is no longer the one given."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{unreadable}: {exc.strerror or exc}") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise InputError(changed)
    return data


def _text(job: Job) -> str:
    """The decoded text of an input, read (and checked against its sha256) again."""
    return decode(_read(job), html=job.kind == "html")


def scan(job: Job) -> Scanned | str:
    """Pass 1: read and decode one input; its line keys when it is a text dump (or the reason)."""
    try:
        data = _read(job)
    except ArchiverError as exc:
        return exc.message
    return _scan(job, data)


def scan_new(job: Job) -> tuple[str, Scanned | str]:
    """Pass 1 for an input nobody has read yet (a first ingest): read it under the size cap,
    hash it, then scan it; (its sha256, or '' when it cannot be read, and the scan result)."""
    try:
        data = read_input(job.path, _SETTINGS[0].ingest.max_bytes)
    except ArchiverError as exc:
        return "", exc.message
    sha = hashlib.sha256(data).hexdigest()
    return sha, _scan(Job(job.path, job.kind, sha), data)


def _scan(job: Job, data: bytes) -> Scanned | str:
    """Decode an input's bytes: its line keys and text for pass 2 (or the reason)."""
    from archiver.ingest.boilerplate import line_keys

    try:
        text = decode(data, html=job.kind == "html")
    except ArchiverError as exc:
        return exc.message
    if job.kind not in {"text", "html"}:
        return Scanned(b"", None, text)
    digest = hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=16).digest()
    if job.kind == "html":
        from archiver.ingest.htmllines import page_keys

        return Scanned(digest, page_keys(text), text)
    return Scanned(digest, tuple(line_keys(text)), text)


def clean_scanned(model: ModelRef | None, task: tuple[Job, str]) -> Cleaned | str:
    """Pass 2: clean one input's text decoded in pass 1; the result or the reason."""
    return clean(model, *task)


def clean(model: ModelRef | None, job: Job, text: str | None = None) -> Cleaned | str:
    """Clean one input (read and decoded again when no text is given) with the batch's
    boilerplate model (None: the shipped rules alone); the result or the reason."""
    try:
        if text is None:
            text = _text(job)
        return clean_text(job.kind, text, _model(model), _SETTINGS[0], Path(job.path))
    except ArchiverError as exc:
        return exc.message
    except Exception as exc:  # a cleaner bug must cost one input, never the batch
        detail = " ".join(str(exc).split())
        return f"internal error while cleaning ({type(exc).__name__}: {detail})"


def write(job: WriteJob) -> Written:
    """Pass 3: keep the originals byte for byte, then write the article atomically."""
    content = Path(job.content)
    problems: list[tuple[str, str]] = []
    for original in job.originals:
        try:
            store_original(content, _read(original), Path(original.path).suffix)
        except ArchiverError as exc:
            problems.append((original.path, exc.message))
        except OSError as exc:
            problems.append((original.path, f"cannot keep the original: {exc.strerror or exc}"))
    if job.article is None:
        return Written(None, tuple(problems))
    text = serialise(job.article)
    atomic_write_text(content_file(content, job.slug), text)
    return Written(hashlib.sha256(text.encode("utf-8")).hexdigest(), tuple(problems))


def clean_text(
    kind: str,
    text: str,
    model: BoilerplateModel | None,
    settings: Settings,
    path: Path | None = None,
) -> Cleaned:
    """Extract, tag and fingerprint one decoded input (path: its file, which may date it)."""
    if kind == "markdown":
        article = parse_article(text)
        if article.published is None and article.archived is None and path is not None:
            article = replace(article, published=filename_date(path))  # a Jekyll post
        body = tuple(p for p in article.body.split("\n\n") if p.strip())
        tags = article.tags or _tags(article.title, article.summary, body, article, settings)
        base = clean_slug(article.slug or article.title)
        return Cleaned(None, article, tags, dedup.fingerprint(article.title, body), base)
    ex = _extract(kind, text, model)
    tags = ex.tags or _tags(ex.title, ex.summary, ex.body, ex, settings)
    return Cleaned(ex, None, tags, dedup.fingerprint(ex.title, ex.body), clean_slug(ex.title))


def _tags(
    title: str,
    summary: str | None,
    body: Sequence[str],
    meta: Article | Extracted,
    settings: Settings,
) -> tuple[str, ...]:
    """Automatic entity tags for an article without any."""
    from archiver.ingest.entities import entity_tags

    return tuple(
        entity_tags(
            title,
            summary,
            body,
            source=meta.source,
            credits=meta.credits,
            authors=meta.authors,
            max_tags=settings.ingest.max_tags,
            aliases=settings.tags.aliases,
            stop=settings.tags.stop,
        )
    )


def _extract(kind: str, text: str, model: BoilerplateModel | None) -> Extracted:
    """Run the extractor for an input kind."""
    if kind == "html":
        from archiver.ingest.html import extract_html

        return extract_html(text, boilerplate=model)
    from archiver.ingest.textdump import extract_textdump

    if model is None:
        from archiver.ingest.boilerplate import BoilerplateModel

        model = BoilerplateModel.build([])
    return extract_textdump(text, boilerplate=model)


# --- the main process's side --------------------------------------------------------------


class Workers:
    """Runs the passes over a batch: in one process pool kept for all passes, or in-process."""

    def __init__(
        self, settings: Settings, jobs: int | None, size: int, kinds: Collection[str] = ()
    ) -> None:
        self.settings = settings
        self.workers = max(1, jobs or os.cpu_count() or 1)
        self.kinds = frozenset(kinds)
        self.pool: ProcessPoolExecutor | None = None
        init_worker(settings)  # the in-process fallback (small batches) needs it too
        self.start(size)

    def start(self, size: int) -> None:
        """Start the pool if a batch of this size is worth it and it is not running yet."""
        if self.pool is not None or self.workers < 2 or size < POOL_MIN:
            return
        # forkserver: workers start small instead of inheriting the main process's memory; the
        # server loads the text cleaners once for all of them (ignored if it is running already).
        context = multiprocessing.get_context("forkserver")
        if self.kinds & {"text", "markdown"}:
            context.set_forkserver_preload(["archiver.ingest.preload"])
        self.pool = ProcessPoolExecutor(
            self.workers,
            mp_context=context,
            initializer=init_pool_worker,
            initargs=(self.settings,),
        )
        # One task per worker starts them all now: they import the cleaners and compile the
        # rules while the main process is still busy (reading inputs, counting lines).
        for _ in range(self.workers):
            self.pool.submit(warm_up, self.kinds)

    def map(self, fn: Callable[[T], R], items: Sequence[T], chunk: int = 32) -> Iterator[R]:
        """Apply fn to every item; results come back in order, as soon as they are ready.

        Items go to the workers in chunks of up to ``chunk``: quick passes (reading, writing)
        take bigger ones, so a worker does not wait for the busy main process between chunks.
        """
        if self.pool is None:
            return map(fn, items)
        size = max(1, min(chunk, len(items) // (self.workers * 8)))
        return self.pool.map(fn, items, chunksize=size)

    def close(self) -> None:
        """Stop the pool; drop the model cached in this process."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        _MODEL.clear()

    def __enter__(self) -> Workers:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@contextlib.contextmanager
def shared_model(user_rules: Sequence[str], repeated: frozenset[str]) -> Iterator[ModelRef]:
    """What a worker needs to build the batch's boilerplate model (user rules, repeated lines),
    pickled once into a private temporary file for the batch's pass 2; each worker builds the
    model once. The file is removed afterwards."""
    blob = pickle.dumps((tuple(user_rules), repeated), protocol=pickle.HIGHEST_PROTOCOL)
    fd, path = tempfile.mkstemp(prefix="archiver-model-", suffix=".pickle")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(blob)
        yield ModelRef(path, hashlib.sha256(blob).hexdigest())
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
