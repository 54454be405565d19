"""Write a fresh index in two processes: each half of the documents becomes one segment.

The helper process is forked (the documents are inherited, not pickled; a spawned helper would
re-import the caller's main module and receive tens of megabytes through a pipe) and writes the
second half as a complete index in a sibling folder; this process writes the first
half, then moves the helper's segment file in and commits one table of contents listing both
segments, in document order. Whoosh scores with collection-wide statistics, so results are the
same as with one segment (tests/test_search_segment.py checks hits and scores).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from whoosh import index

from archiver.search.segment import (
    FreshSegmentWriter,
    TermsFunction,
    cancelled_on_error,
    fast_writer_supported,
    writing,
)
from archiver.search.segment import write_fresh as write_one

T = TypeVar("T")
MIN_SPLIT = 2000
"""Below this many documents one process is quicker (starting the helper costs ~0.5 s)."""


def write_fresh(
    folder: Path,
    schema: Any,
    items: Sequence[T],
    make_doc: Callable[[T], Mapping[str, Any]],
    *,
    indexname: str,
    fast_of: Callable[[Any], Mapping[str, TermsFunction]],
    split: bool | None = None,
) -> None:
    """Create an index of items in folder (empty); the second half in a helper when it pays.

    make_doc and fast_of must be module-level functions (they are sent to the helper).
    """
    if split is None:
        split = len(items) >= MIN_SPLIT and (os.cpu_count() or 1) > 1
    split = split and "fork" in multiprocessing.get_all_start_methods()
    if not split or not _can_split(schema):
        write_one(folder, schema, map(make_doc, items), indexname=indexname, fast=fast_of(schema))
        return
    part = folder.with_name(folder.name + ".part")
    shutil.rmtree(part, ignore_errors=True)
    half = len(items) // 2
    helper = multiprocessing.get_context("fork").Process(
        target=_write_part,
        args=(str(part), schema, list(items[half:]), make_doc, fast_of, indexname),
        daemon=True,
    )
    helper.start()
    try:
        done = _write_halves(
            folder, schema, items[:half], make_doc, fast_of, indexname, helper, part
        )
    finally:
        if helper.is_alive():
            helper.terminate()
        helper.join()
        shutil.rmtree(part, ignore_errors=True)
    if not done:  # the helper failed: do it all here
        shutil.rmtree(folder)
        folder.mkdir()
        write_one(folder, schema, map(make_doc, items), indexname=indexname, fast=fast_of(schema))


def _can_split(schema: Any) -> bool:
    """Whether the fresh writer handles this schema (else Whoosh's writer does it all)."""
    return not any(
        schema[name].vector or schema[name].separate_spelling() for name in schema.names()
    )


def _write_halves(
    folder: Path,
    schema: Any,
    items: Sequence[T],
    make_doc: Callable[[T], Mapping[str, Any]],
    fast_of: Callable[[Any], Mapping[str, TermsFunction]],
    indexname: str,
    helper: Any,
    part: Path,
) -> bool:
    """Write the first half, wait for the helper, commit both segments; False if it failed."""
    ix = index.create_in(str(folder), schema, indexname=indexname)
    with writing(ix):
        if not fast_writer_supported(ix):
            raise ValueError("the fresh writer does not support this codec")
        writer = FreshSegmentWriter(ix, fast_of(schema))
        with cancelled_on_error(writer):
            for item in items:
                writer.add_document(**make_doc(item))
            ours = writer.finish_segment()
            helper.join()
            if helper.exitcode != 0:
                writer.cancel()
                return False
            theirs = _adopt(part, folder, indexname)
            writer.commit_segments([ours, *theirs])
    return True


def _adopt(part: Path, folder: Path, indexname: str) -> list[Any]:
    """Move the helper index's segment files into folder; returns its segments."""
    sub = index.open_dir(str(part), indexname=indexname)
    try:
        segments: list[Any] = sub._segments()
        for segment in segments:
            for name in segment.list_files(sub.storage):
                os.replace(part / name, folder / name)
    finally:
        sub.close()
    return segments


def _write_part(
    folder: str,
    schema: Any,
    items: list[Any],
    make_doc: Callable[[Any], Mapping[str, Any]],
    fast_of: Callable[[Any], Mapping[str, TermsFunction]],
    indexname: str,
) -> None:
    """Helper process: write items as a complete index of one segment in folder."""
    path = Path(folder)
    path.mkdir(parents=True)
    write_one(path, schema, map(make_doc, items), indexname=indexname, fast=fast_of(schema))
