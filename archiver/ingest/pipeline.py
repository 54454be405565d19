"""The ingest stage end to end: find inputs, decode, clean, tag, deduplicate, store, report."""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from archiver.config import Settings
from archiver.content import (
    allocate_slug,
    content_file,
    content_files,
    parse_article,
    serialise,
    store_original,
)
from archiver.errors import ArchiverError, ConfigError, InputError
from archiver.ingest import dedup
from archiver.ingest.decode import decode
from archiver.ingest.report import IngestReport, Outcome
from archiver.ingest.state import IngestState, Record, file_hash, load_state, remember_lines
from archiver.ingest.state import save_state as _save_state
from archiver.model import Article, Extracted
from archiver.paths import atomic_write_text
from archiver.report import Reporter, SilentReporter

if TYPE_CHECKING:
    from archiver.ingest.boilerplate import BoilerplateModel

KINDS = {
    ".txt": "text",
    ".text": "text",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".md": "markdown",
    ".markdown": "markdown",
}


@dataclass(frozen=True)
class Input:
    """One file to ingest: where it is and how it will be named in the front matter."""

    path: Path
    name: str
    kind: str


@dataclass(frozen=True)
class Decoded:
    """An input read and decoded (or the reason it could not be)."""

    item: Input
    sha256: str
    data: bytes
    text: str


@dataclass(frozen=True)
class Cleaned:
    """What a worker returns for one input."""

    extracted: Extracted | None
    article: Article | None
    tags: tuple[str, ...]
    fingerprint: dedup.Fingerprint

    @property
    def exact(self) -> str:
        """The exact-duplicate key."""
        return self.fingerprint.exact

    @property
    def signature(self) -> bytes:
        """The MinHash signature."""
        return self.fingerprint.signature


def find_inputs(paths: Sequence[Path], report: IngestReport) -> list[Input]:
    """Expand files and folders (recursively) into inputs; unknown types go into the report."""
    found: dict[tuple[int, int], Input] = {}
    for root in paths:
        if not root.exists():
            report.fail(str(root), "no such file or folder")
            continue
        if root.is_file():
            stat = root.stat()
            candidates = [(root.name, root, (stat.st_dev, stat.st_ino))]
        else:
            candidates = sorted(_walk(root, ""))
        for rel, path, identity in candidates:
            kind = KINDS.get(path.suffix.lower())
            if kind is None:
                report.skip(
                    rel,
                    f"unsupported file type '{path.suffix or '(none)'}'"
                    " (expected .txt, .html, .htm or .md)",
                )
                continue
            found.setdefault(identity, Input(path, rel, kind))
    return sorted(found.values(), key=lambda i: (i.name, str(i.path)))


def _walk(folder: Path, prefix: str) -> Iterator[tuple[str, Path, tuple[int, int]]]:
    """(relative name, path, (device, inode)) of every non-hidden file below a folder."""
    device = folder.stat().st_dev
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            rel = f"{prefix}{entry.name}"
            if entry.is_dir():
                yield from _walk(Path(entry.path), f"{rel}/")
            elif entry.is_file():
                yield rel, Path(entry.path), (device, entry.inode())


def read_bytes(item: Input, max_bytes: int) -> bytes:
    """Read one input's raw bytes, refusing oversized files; raises InputError with the reason."""
    try:
        size = item.path.stat().st_size
        if size > max_bytes:
            raise InputError(
                f"too large ({size:,} bytes; the cap is {max_bytes:,}: raise ingest.max_bytes)"
            )
        return item.path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}") from None


# --- the worker side ------------------------------------------------------------------------

_WORKER: dict[str, object] = {}


def _init_worker(model: BoilerplateModel | None, settings: Settings) -> None:
    """Give a worker process the batch's boilerplate model and the settings once."""
    _WORKER["model"] = model
    _WORKER["settings"] = settings


def _clean_one(job: tuple[str, str]) -> Cleaned | str:
    """Clean one decoded input in a worker; returns the result or the failure reason."""
    kind, text = job
    try:
        return clean_text(kind, text, _WORKER["model"], _WORKER["settings"])  # type: ignore[arg-type]
    except ArchiverError as exc:
        return exc.message
    except Exception as exc:  # a cleaner bug must cost one input, never the batch
        detail = " ".join(str(exc).split())
        return f"internal error while cleaning ({type(exc).__name__}: {detail})"


def clean_text(kind: str, text: str, model: BoilerplateModel | None, settings: Settings) -> Cleaned:
    """Extract, tag and fingerprint one decoded input (runs in a worker)."""
    if kind == "markdown":
        article = parse_article(text)
        body = tuple(p for p in article.body.split("\n\n") if p.strip())
        tags = article.tags or _tags(article.title, article.summary, body, article, settings)
        return Cleaned(None, article, tags, dedup.fingerprint(article.title, body))
    ex = _extract(kind, text, model)
    tags = ex.tags or _tags(ex.title, ex.summary, ex.body, ex, settings)
    return Cleaned(ex, None, tags, dedup.fingerprint(ex.title, ex.body))


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


# --- the main process -----------------------------------------------------------------------


def ingest(
    paths: Sequence[Path],
    settings: Settings,
    *,
    content_dir: Path | None = None,
    dry_run: bool = False,
    force: bool = False,
    jobs: int | None = None,
    reporter: Reporter | None = None,
    now: dt.datetime | None = None,
) -> IngestReport:
    """Ingest files and folders into the content folder; every input ends up in the report."""
    reporter = reporter or SilentReporter()
    content = (content_dir or settings.content_path).resolve()
    report = IngestReport()
    inputs = find_inputs(paths, report)
    state = load_state(content)
    decoded = _read_all(inputs, settings, state, force, report, content)
    if not decoded:
        return report  # everything was unchanged, a duplicate or unreadable: nothing to write
    batch_lines = _batch_lines(decoded)
    model = _boilerplate_model(batch_lines, settings, state)
    cleaned = _clean_all(decoded, model, settings, jobs, reporter)
    store = Store(
        content, state, dry_run, now or _now(), report, settings.ingest.near_duplicate_threshold
    )
    for item, result in zip(decoded, cleaned, strict=True):
        if isinstance(result, str):
            report.fail(item.item.name, result)
        else:
            store.add(item, result)
    if not dry_run:
        store.commit()
        fresh = [d for d in decoded if d.sha256 not in state.counted]
        remember_lines(state, batch_lines if len(fresh) == len(decoded) else _batch_lines(fresh))
        state.counted.update(d.sha256 for d in decoded)
        _save_state(content, state)
    return report


def _now() -> dt.datetime:
    """The ingest time: SOURCE_DATE_EPOCH when set (reproducible runs), else now, in UTC."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    return dt.datetime.now(tz=dt.UTC).replace(microsecond=0)


def _read_all(
    inputs: Sequence[Input],
    settings: Settings,
    state: IngestState,
    force: bool,
    report: IngestReport,
    content: Path,
) -> list[Decoded]:
    """Read every input; known inputs are 'unchanged' (unless --force), bad ones fail."""
    known = state.by_input()
    existing = {p.stem for p in content_files(content)} if known else set()
    seen: dict[str, str] = {}
    out: list[Decoded] = []
    for item in inputs:
        try:
            data = read_bytes(item, settings.ingest.max_bytes)
        except ArchiverError as exc:
            report.fail(item.name, exc.message)
            continue
        sha = hashlib.sha256(data).hexdigest()
        slug = known.get(sha)
        if slug is not None and not force and slug in existing:
            report.add(Outcome(item.name, "unchanged", slug=slug))
            continue
        if sha in seen:
            report.add(
                Outcome(
                    item.name,
                    "duplicate",
                    duplicate_of=seen[sha],
                    reason="byte-identical to another input",
                )
            )
            continue
        seen[sha] = item.name
        try:
            text = decode(data, html=item.kind == "html")
        except ArchiverError as exc:
            report.fail(item.name, exc.message)
            continue
        out.append(Decoded(item, sha, data, text))
    return out


def _batch_lines(decoded: Sequence[Decoded]) -> Counter[str]:
    """In how many of the batch's text dumps each normalised line occurs."""
    from archiver.ingest.boilerplate import line_counts

    return line_counts(d.text for d in decoded if d.item.kind == "text")


def _boilerplate_model(
    batch_lines: Counter[str], settings: Settings, state: IngestState
) -> BoilerplateModel:
    """Boilerplate evidence: shipped and user rules, lines recurring in this batch or archive."""
    from archiver.ingest.boilerplate import BoilerplateModel

    try:
        return BoilerplateModel.build(
            [],
            extra_rules=settings.ingest.boilerplate_rules,
            min_repeat=settings.ingest.boilerplate_min_repeat,
            known=batch_lines + state.lines,
        )
    except ValueError as exc:
        raise ConfigError(f"ingest.boilerplate_rules: {exc}") from None


def _clean_all(
    decoded: Sequence[Decoded],
    model: BoilerplateModel,
    settings: Settings,
    jobs: int | None,
    reporter: Reporter,
) -> list[Cleaned | str]:
    """Clean every input, in a process pool when the batch is large enough to pay for it."""
    work = [(d.item.kind, d.text) for d in decoded]
    workers = max(1, jobs or os.cpu_count() or 1)
    if workers == 1 or len(work) < 40:
        _init_worker(model, settings)
        return list(reporter.progress(map(_clean_one, work), len(work), "Cleaning"))
    chunk = max(1, min(64, len(work) // (workers * 8)))
    # forkserver: workers start small instead of inheriting the batch already read in memory.
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(model, settings)
    ) as pool:
        results: Iterator[Cleaned | str] = pool.map(_clean_one, work, chunksize=chunk)
        return list(reporter.progress(results, len(work), "Cleaning"))


class Store:
    """Decides new/updated/duplicate for cleaned inputs, then writes articles and originals."""

    def __init__(
        self,
        content: Path,
        state: IngestState,
        dry_run: bool,
        now: dt.datetime,
        report: IngestReport,
        threshold: float = 0.8,
    ) -> None:
        self.content, self.state, self.dry_run, self.now = content, state, dry_run, now
        self.report, self.threshold = report, threshold
        self.taken = {p.stem for p in content_files(content)} | set(state.records)
        self.by_input = state.by_input()
        self.by_exact = state.by_exact()
        self.near = dedup.NearIndex()
        self.sigs: dict[str, bytes] = {}
        self.prints: dict[str, dedup.Fingerprint] = {}
        self.titles: dict[str, str] = {}
        for slug, rec in state.records.items():
            sig = dedup.decode_signature(rec.signature)
            self.near.add(slug, sig)
            self.sigs[slug] = sig
            self.titles[slug] = rec.title
        self.pending: dict[str, tuple[Article, Decoded | None]] = {}
        self.extra: dict[str, list[Decoded]] = {}
        self.exact_of: dict[str, str] = {rec.slug: rec.exact for rec in state.records.values()}

    def add(self, item: Decoded, result: Cleaned) -> None:
        """Place one cleaned input: a new article, an update, or a duplicate of another."""
        slug = self.by_input.get(item.sha256)
        if slug is not None and slug in self.state.records:
            self._update(slug, item, result)
            return
        twin = self._duplicate_of(result)
        if twin is not None:
            self._add_duplicate(twin, item)
            return
        article = self._article(item, result, None)
        self.pending[article.slug] = (article, item)
        self._index(article.slug, result)
        self.report.add(Outcome(item.item.name, "new", slug=article.slug))

    def _duplicate_of(self, result: Cleaned) -> str | None:
        """The slug of an article this one duplicates, exactly or nearly, if any."""
        if result.exact in self.by_exact:
            return self.by_exact[result.exact]
        for slug in self.near.candidates(result.signature):
            if slug in self.prints:
                title = self.titles.get(slug, "")
                if dedup.is_near_duplicate(
                    _title(result), result.fingerprint, title, self.prints[slug], self.threshold
                ):
                    return slug
            elif dedup.signatures_match(
                _title(result),
                result.signature,
                self.titles.get(slug, ""),
                self.sigs[slug],
                self.threshold,
            ):
                return slug
        return None

    def _index(self, slug: str, result: Cleaned) -> None:
        """Remember an article's fingerprints for the rest of the batch."""
        self.by_exact[result.exact] = slug
        self.exact_of[slug] = result.exact
        self.titles[slug] = _title(result)
        self.near.add(slug, result.signature)
        self.sigs[slug] = result.signature
        self.prints[slug] = result.fingerprint

    def _article(self, item: Decoded, result: Cleaned, slug: str | None) -> Article:
        """Build the Article for a cleaned input (allocating a slug if it has none yet)."""
        base = result.article
        if base is None:
            ex = result.extracted
            assert ex is not None
            base = ex.to_article("", tags=result.tags)
        if slug is None:
            wanted = base.slug if result.article is not None and base.slug else base.title
            slug = allocate_slug(wanted, self.taken)
        return replace(
            base,
            slug=slug,
            tags=result.tags,
            archived=base.archived or self.now,
            source_file=item.item.name,
            source_sha256=item.sha256,
            also_seen=base.also_seen,
            path=None,
        )

    def _add_duplicate(self, slug: str, item: Decoded) -> None:
        """Record an input as another copy of an existing or pending article."""
        self.report.add(Outcome(item.item.name, "duplicate", slug=slug, duplicate_of=slug))
        if slug in self.pending:
            article, origin = self.pending[slug]
            seen = tuple(sorted({*article.also_seen, item.item.name}))
            self.pending[slug] = (replace(article, also_seen=seen), origin)
            self.pending_inputs(slug).append(item)
            return
        record = self.state.records.get(slug)
        if record is None:
            return
        record.inputs.append(item.sha256)
        path = content_file(self.content, slug)
        if file_hash(path) != record.file_sha256:
            self.pending_inputs(slug).append(item)  # keep the original; the file stays as edited
            return
        try:
            article = parse_article(path.read_text(encoding="utf-8"), path)
        except (ArchiverError, OSError, UnicodeDecodeError):
            return
        seen = tuple(sorted({*article.also_seen, item.item.name}))
        self.pending[slug] = (replace(article, also_seen=seen, path=None), None)
        self.pending_inputs(slug).append(item)

    def _update(self, slug: str, item: Decoded, result: Cleaned) -> None:
        """--force on a known input: re-clean it, unless its file was edited by hand."""
        record = self.state.records[slug]
        path = content_file(self.content, slug)
        if file_hash(path) != record.file_sha256:
            self.report.add(
                Outcome(item.item.name, "kept", slug=slug, reason="edited by hand; not overwritten")
            )
            return
        try:
            old = parse_article(path.read_text(encoding="utf-8"), path)
        except (ArchiverError, OSError, UnicodeDecodeError):
            old = None
        article = self._article(item, result, slug)
        if old is not None:
            article = replace(
                article, archived=old.archived or article.archived, also_seen=old.also_seen
            )
            if serialise(old) == serialise(article):
                self.report.add(Outcome(item.item.name, "unchanged", slug=slug))
                return
        self.pending[slug] = (article, item)
        self.report.add(Outcome(item.item.name, "updated", slug=slug))

    def pending_inputs(self, slug: str) -> list[Decoded]:
        """Extra inputs (duplicates) whose originals are kept with an article."""
        return self.extra.setdefault(slug, [])

    def commit(self) -> None:
        """Write every pending article and its originals; update the state."""
        extra = self.extra
        for slug, (article, origin) in sorted(self.pending.items()):
            for item in [origin, *extra.get(slug, [])]:
                if item is not None:
                    store_original(self.content, item.data, item.item.path.suffix)
            text = serialise(article)
            atomic_write_text(content_file(self.content, slug), text)
            record = self.state.records.get(slug)
            inputs = [
                *(record.inputs if record else []),
                *[i.sha256 for i in [origin, *extra.get(slug, [])] if i is not None],
            ]
            self.state.records[slug] = Record(
                slug=slug,
                file_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
                inputs=sorted(set(inputs)),
                exact=self.exact_of.get(slug, ""),
                signature=dedup.encode_signature(self.sigs.get(slug, b"")),
                title=article.title,
            )
        for slug, item_list in extra.items():
            if slug in self.pending:
                continue
            for item in item_list:
                store_original(self.content, item.data, item.item.path.suffix)


def _title(result: Cleaned) -> str:
    """The title of a cleaned input."""
    if result.article is not None:
        return result.article.title
    return result.extracted.title if result.extracted else ""
