"""Placing cleaned inputs: new article, update, or duplicate; then what to write and remember."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

from archiver.content import (
    allocate_slug,
    claim_slug,
    content_file,
    content_files,
    parse_article,
    serialise,
)
from archiver.errors import ArchiverError
from archiver.ingest import dedup
from archiver.ingest.report import IngestReport, Outcome
from archiver.ingest.state import IngestState, Record, file_hash
from archiver.ingest.workers import Cleaned, Job, WriteJob, Written
from archiver.model import Article


@dataclass(frozen=True)
class Input:
    """One file to ingest: where it is and how it will be named in the front matter."""

    path: Path
    name: str
    kind: str


@dataclass(frozen=True)
class Decoded:
    """An input read, hashed and decoded (the text itself stays with the workers)."""

    item: Input
    sha256: str

    @property
    def job(self) -> Job:
        """The input as a worker job."""
        return Job(str(self.item.path), self.item.kind, self.sha256)


class Store:
    """Decides new/updated/duplicate for cleaned inputs, then plans the writes and the state."""

    def __init__(
        self,
        content: Path,
        state: IngestState,
        dry_run: bool,
        now: dt.datetime,
        report: IngestReport,
        threshold: float = 0.8,
        existing: set[str] | None = None,
    ) -> None:
        self.content, self.state, self.dry_run, self.now = content, state, dry_run, now
        self.report, self.threshold = report, threshold
        if existing is None:
            existing = {p.stem for p in content_files(content)}
        self.taken = existing | set(state.records)
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
                    result.title, result.fingerprint, title, self.prints[slug], self.threshold
                ):
                    return slug
            elif dedup.signatures_match(
                result.title,
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
        self.titles[slug] = result.title
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
        if slug is None and result.slug_base:
            slug = claim_slug(result.slug_base, self.taken)
        elif slug is None:
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

    def plan(self) -> list[WriteJob]:
        """What to write: every pending article with its originals, then lone originals."""
        content = str(self.content)
        jobs = []
        for slug, (article, origin) in sorted(self.pending.items()):
            items = [i for i in [origin, *self.extra.get(slug, [])] if i is not None]
            jobs.append(WriteJob(content, slug, article, tuple(i.job for i in items)))
        for slug, item_list in self.extra.items():
            if slug not in self.pending:
                jobs.append(WriteJob(content, slug, None, tuple(i.job for i in item_list)))
        return jobs

    def remember(self, job: WriteJob, written: Written) -> None:
        """Update the state for one written article."""
        if job.article is None or written.file_sha256 is None:
            return
        slug = job.slug
        record = self.state.records.get(slug)
        inputs = [*(record.inputs if record else []), *(i.sha256 for i in job.originals)]
        self.state.records[slug] = Record(
            slug=slug,
            file_sha256=written.file_sha256,
            inputs=sorted(set(inputs)),
            exact=self.exact_of.get(slug, ""),
            signature=dedup.encode_signature(self.sigs.get(slug, b"")),
            title=job.article.title,
        )
