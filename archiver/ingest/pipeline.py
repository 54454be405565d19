"""The ingest stage end to end: find inputs, decode, clean, tag, deduplicate, store, report.

The main process reads and hashes every input (cheap) to decide what is unchanged or a
byte-identical copy; the rest goes to the workers (see workers.py) in three passes: decode and
count boilerplate lines, clean with the batch's boilerplate model, write. On a first ingest
(nothing to be unchanged) the workers read and hash the inputs themselves in pass 1. The main
process places each cleaned input (new, update, duplicate) as results stream in.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import os
import re
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from functools import partial
from pathlib import Path

from archiver.config import Settings
from archiver.content import content_files
from archiver.errors import ArchiverError, ConfigError
from archiver.ingest import workers
from archiver.ingest.report import IngestReport, Outcome
from archiver.ingest.state import IngestState, load_state, remember_lines
from archiver.ingest.state import save_state as _save_state
from archiver.ingest.store import Decoded, Input, Store
from archiver.ingest.workers import Cleaned, Scanned, Workers
from archiver.report import Reporter, SilentReporter

__all__ = ["KINDS", "Cleaned", "Decoded", "Input", "Store", "find_inputs", "ingest", "read_bytes"]

KINDS = {
    ".txt": "text",
    ".text": "text",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".md": "markdown",
    ".markdown": "markdown",
}


def find_inputs(
    paths: Sequence[Path], report: IngestReport, archive: Collection[Path] = ()
) -> list[Input]:
    """Expand files and folders (recursively) into inputs; unknown types go into the report.

    archive: the archive's own folders (content, site, state, templates), never read as inputs
    (``archiver ingest .`` in the archive folder must not take its articles or site pages).
    """
    found: dict[tuple[int, int], Input] = {}
    own = dict.fromkeys(
        (_identity(folder) for folder in archive if folder.is_dir()),
        "one of the archive's own folders (content, site, state or templates): not an input",
    )
    for root in paths:
        if not root.exists():
            report.fail(str(root), "no such file or folder")
            continue
        if root.is_file():
            stat = root.stat()
            candidates = [(root.name, root, (stat.st_dev, stat.st_ino))]
        else:
            candidates = sorted(_walk(root, "", report, dict(own)))
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


def _walk(
    folder: Path, prefix: str, report: IngestReport, seen: dict[tuple[int, int], str]
) -> Iterator[tuple[str, Path, tuple[int, int]]]:
    """(relative name, path, (device, inode)) of every non-hidden file below a folder.

    Linked folders are followed once each (seen: the folders already walked, or not to walk,
    with the reason), so a link to an enclosing folder cannot loop; a folder or link that
    cannot be read is one report line.
    """
    where = prefix.rstrip("/") or str(folder)
    try:
        identity = _identity(folder)
        if identity in seen:
            report.skip(where, seen[identity])
            return
        seen[identity] = "a folder already read (a link to it or to a folder above it)"
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        report.fail(where, f"cannot read folder: {exc.strerror or exc}")
        return
    pages = _saved_pages(entries)
    for entry in entries:
        if entry.name.startswith("."):
            continue
        rel = f"{prefix}{entry.name}"
        try:
            if entry.is_dir() and _companion(entry.name, pages):
                report.skip(rel, "the images, styles and scripts of a saved page beside it")
            elif entry.is_dir():
                yield from _walk(Path(entry.path), f"{rel}/", report, seen)
            elif entry.is_file():
                target = entry.stat()  # the file a link points at: one input per file
                yield rel, Path(entry.path), (target.st_dev, target.st_ino)
            elif entry.is_symlink():
                report.fail(rel, "broken link (its target does not exist)")
        except OSError as exc:
            report.fail(rel, f"cannot read: {exc.strerror or exc}")


_COMPANION = re.compile(
    r"(.+)[_-](files|dateien|fichiers|archivos|arquivos|file|bestanden|pliki|filer|tiedostot"
    r"|soubory|fájlok|dosyalar|файлы|αρχεία)",
    re.IGNORECASE,
)
"""A browser's "web page, complete" folder: the page's name, then _files (Chrome, Edge), or
the word in the browser's language (Firefox: -Dateien, _fichiers, _archivos ...)."""


def _saved_pages(entries: Sequence[os.DirEntry[str]]) -> set[str]:
    """The names, without extension, of the HTML files among a folder's entries."""
    return {
        name.rsplit(".", 1)[0]
        for name in (entry.name for entry in entries)
        if KINDS.get(Path(name).suffix.lower()) == "html"
    }


def _companion(name: str, pages: set[str]) -> bool:
    """Whether a folder holds the files of a saved page beside it (``page_files``)."""
    match = _COMPANION.fullmatch(name)
    return match is not None and match.group(1) in pages


def _identity(folder: Path) -> tuple[int, int]:
    """(device, inode) of a folder."""
    stat = folder.stat()
    return stat.st_dev, stat.st_ino


def read_bytes(item: Input, max_bytes: int) -> bytes:
    """Read one input's raw bytes, refusing oversized files; raises InputError with the reason."""
    return workers.read_input(item.path, max_bytes)


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
    with _batch_gc():
        return _ingest(paths, settings, content_dir, dry_run, force, jobs, reporter, now)


@contextlib.contextmanager
def _batch_gc() -> Iterator[None]:
    """Rare cyclic-GC passes during a batch, the caller's thresholds after it.

    A batch builds large, acyclic tables (line counts, fingerprints, articles): with the default
    thresholds the collector scans them again and again, about a third of this process's time.
    """
    old = gc.get_threshold()
    gc.set_threshold(*workers.POOL_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*old)


def _ingest(
    paths: Sequence[Path],
    settings: Settings,
    content_dir: Path | None,
    dry_run: bool,
    force: bool,
    jobs: int | None,
    reporter: Reporter | None,
    now: dt.datetime | None,
) -> IngestReport:
    """The steps of ingest() (which wraps them in _batch_gc)."""
    reporter = reporter or SilentReporter()
    content = (content_dir or settings.content_path).resolve()
    report = IngestReport()
    templates = settings.path(settings.templates_dir)
    inputs = find_inputs(
        paths, report, (content, settings.output_path, settings.state_path, templates)
    )
    state = load_state(content)
    existing = {p.stem for p in content_files(content)}
    # A first ingest starts its workers at once: they read, hash and scan every input.
    first = 0 if state.records else len(inputs)
    with Workers(settings, jobs, first, {i.kind for i in inputs}) as pool:
        tally = LineTally(state)
        if state.records:
            slots = _read_all(inputs, settings, state, force, existing)
            scanned = _scan_read(slots, pool, tally)
        else:
            slots, scanned = _scan_new(inputs, pool, tally)
        decoded = _report_reads(slots, scanned, report)
        if not decoded:
            return report  # everything was unchanged, a duplicate or failed: nothing to write
        texts = [_text_of(scanned[d]) for d in decoded]
        del scanned
        repeated = _repeated_lines(tally.batch, state, settings.ingest.boilerplate_min_repeat)
        fresh_lines = tally.fresh
        del tally
        store: Store | None = None  # built on the first success: re-runs that only fail skip it
        rules = _user_rules(settings)
        with workers.shared_model(rules, repeated) as model:  # until every worker read it
            clean = partial(workers.clean_scanned, model)
            tasks = [(d.job, text) for d, text in zip(decoded, texts, strict=True)]
            results = pool.map(clean, tasks)
            del texts, tasks
            # While the workers clean: fold the new line counts into the state (saved last).
            counted_lines = bool(fresh_lines)
            remember_lines(state, fresh_lines)
            del fresh_lines
            for item, result in zip(
                decoded, reporter.progress(results, len(decoded), "Cleaning"), strict=True
            ):
                if isinstance(result, str):
                    report.fail(item.item.name, result)
                    continue
                if store is None:
                    threshold = settings.ingest.near_duplicate_threshold
                    store = Store(
                        content, state, dry_run, now or _now(), report, threshold, existing
                    )
                store.add(item, result)
        if dry_run:
            return report
        if store is not None:
            _commit(store, pool, report)
    if store is None and not counted_lines and all(d.sha256 in state.counted for d in decoded):
        return report  # only inputs that failed before failed again: the state is unchanged
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
    existing: set[str],
) -> list[Outcome | Decoded]:
    """Read and hash every input: known inputs are 'unchanged' (unless --force), byte-identical
    copies are duplicates, unreadable ones fail; the rest are candidates for the workers."""
    known = state.by_input()
    seen: dict[str, str] = {}
    out: list[Outcome | Decoded] = []
    for item in inputs:
        try:
            data = read_bytes(item, settings.ingest.max_bytes)
        except ArchiverError as exc:
            out.append(Outcome(item.name, "failed", reason=exc.message))
            continue
        sha = hashlib.sha256(data).hexdigest()
        slug = known.get(sha)
        if slug is not None and not force and slug in existing:
            out.append(Outcome(item.name, "unchanged", slug=slug))
        elif sha in seen:
            out.append(_identical(item.name, seen[sha]))
        else:
            seen[sha] = item.name
            out.append(Decoded(item, sha))
    return out


def _identical(name: str, first: str) -> Outcome:
    """The outcome of an input byte-identical to an earlier input of the batch."""
    return Outcome(name, "duplicate", duplicate_of=first, reason="byte-identical to another input")


def _scan_read(
    slots: Sequence[Outcome | Decoded], pool: Workers, tally: LineTally
) -> dict[Decoded, Scanned | str]:
    """Pass 1 over the inputs _read_all left to clean, counting their lines as results come."""
    candidates = [slot for slot in slots if isinstance(slot, Decoded)]
    scanned: dict[Decoded, Scanned | str] = {}
    if not candidates:
        return scanned
    pool.start(len(candidates))
    jobs = [d.job for d in candidates]
    for slot, result in zip(
        candidates, pool.map(workers.scan, jobs, workers.QUICK_CHUNK), strict=True
    ):
        scanned[slot] = result
        tally.add(slot, result)
    return scanned


def _scan_new(
    inputs: Sequence[Input], pool: Workers, tally: LineTally
) -> tuple[list[Outcome | Decoded], dict[Decoded, Scanned | str]]:
    """_read_all and pass 1 at once for an archive that knows no input yet (nothing can be
    unchanged): the workers read, hash and scan every input; byte-identical copies and
    unreadable inputs become outcomes here, in input order, exactly as _read_all makes them."""
    jobs = [workers.Job(str(item.path), item.kind, "") for item in inputs]
    seen: dict[str, str] = {}
    slots: list[Outcome | Decoded] = []
    scanned: dict[Decoded, Scanned | str] = {}
    for item, (sha, result) in zip(
        inputs, pool.map(workers.scan_new, jobs, workers.QUICK_CHUNK), strict=True
    ):
        if not sha:
            assert isinstance(result, str)
            slots.append(Outcome(item.name, "failed", reason=result))
        elif sha in seen:
            slots.append(_identical(item.name, seen[sha]))
        else:
            seen[sha] = item.name
            slot = Decoded(item, sha)
            slots.append(slot)
            scanned[slot] = result
            tally.add(slot, result)
    return slots, scanned


def _text_of(result: Scanned | str) -> str:
    """The decoded text pass 1 returned for an input it read."""
    assert isinstance(result, Scanned)
    return result.text


def _report_reads(
    slots: Sequence[Outcome | Decoded], scanned: dict[Decoded, Scanned | str], report: IngestReport
) -> list[Decoded]:
    """Report the read and decode outcomes in input order; returns the inputs decoded."""
    decoded = []
    for slot in slots:
        if isinstance(slot, Outcome):
            report.add(slot)
            continue
        result = scanned[slot]
        if isinstance(result, str):
            report.fail(slot.item.name, result)
        else:
            decoded.append(slot)
    return decoded


class LineTally:
    """In how many of the batch's text dumps each normalised line occurs (identical texts count
    once): over the whole batch, and over the inputs not counted in an earlier run.

    Fed in input order as pass-1 results arrive, so the counting overlaps the workers' scan.
    """

    def __init__(self, state: IngestState) -> None:
        self.counted = state.counted
        self.batch: Counter[str] = Counter()
        self.seen: set[bytes] = set()
        # Nothing counted before (a first run): both tables are the same.
        self.fresh = self.batch if not state.counted else Counter()
        self.seen_fresh = self.seen if not state.counted else set()

    def add(self, item: Decoded, result: Scanned | str) -> None:
        """Count the line keys of one scanned input (failures and other kinds have none)."""
        if isinstance(result, str) or result.keys is None:
            return
        if result.digest not in self.seen:
            self.seen.add(result.digest)
            self.batch.update(result.keys)
        if (
            self.fresh is not self.batch
            and item.sha256 not in self.counted
            and result.digest not in self.seen_fresh
        ):
            self.seen_fresh.add(result.digest)
            self.fresh.update(result.keys)


def _repeated_lines(batch: Counter[str], state: IngestState, min_repeat: int) -> frozenset[str]:
    """Lines in at least min_repeat (>= 2) inputs of this batch and the archive together."""
    need = max(2, min_repeat)
    if not state.lines and not state.singles:  # a first run: the batch alone decides
        return frozenset(key for key, count in batch.items() if count >= need)
    repeated = {key for key, count in state.lines.items() if count >= need}
    for key, count in batch.items():
        if count >= need or count + state.line_count(key) >= need:
            repeated.add(key)
    return frozenset(repeated)


def _user_rules(settings: Settings) -> tuple[str, ...]:
    """The user's boilerplate rules, checked here so a bad one is one clear config error."""
    from archiver.ingest.boilerplate import compile_rules

    rules = tuple(settings.ingest.boilerplate_rules)
    try:
        compile_rules(rules)
    except ValueError as exc:
        raise ConfigError(f"ingest.boilerplate_rules: {exc}") from None
    return rules


def _commit(store: Store, pool: Workers, report: IngestReport) -> None:
    """Write every planned article and original (in the workers) and record them in the state."""
    jobs = store.plan()
    names = {d.job.path: d.item.name for d in _planned_inputs(store)}
    for job, written in zip(jobs, pool.map(workers.write, jobs, workers.QUICK_CHUNK), strict=True):
        store.remember(job, written)
        for path, reason in written.problems:
            report.fail(names.get(path, path), reason)


def _planned_inputs(store: Store) -> Iterator[Decoded]:
    """Every input whose original is kept."""
    for _, origin in store.pending.values():
        if origin is not None:
            yield origin
    for items in store.extra.values():
        yield from items
