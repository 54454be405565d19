"""Write a fresh Whoosh index in one pass: an in-memory inverted index, then one W3 segment.

Whoosh's own ``SegmentWriter`` sends every posting through a pickling external sort, reads each
posting's field length back from a column and checks every posting's types: about 40 µs a
posting. Here each document is analysed once, postings are gathered per field and term in memory,
and the posting blocks and term infos are encoded directly, byte for byte as Whoosh's W3 codec
writes them (see ``whoosh/codec/whoosh3.py``: ``W3PostingsWriter`` and ``W3TermInfo``).
Stored fields, field lengths and columns go through the codec's own per-document writer, and the
segment is committed into a new table of contents by Whoosh itself, so readers cannot tell the
difference (tests/test_search_segment.py compares the files with Whoosh's).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from whoosh import formats, index
from whoosh.codec.whoosh3 import W3Codec
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.writing import SegmentWriter

from archiver.memory import no_gc
from archiver.search.postings import Postings, encode_term

TermsFunction = Callable[[str], list[str | None]]
"""Analyse a text: the indexed term at each word position, None where nothing is indexed."""

COMPOUND = False
"""Fresh segments stay separate files (Whoosh's default joins them into one compound file).
Whoosh opens a compound file's parts as in-memory copies (BufferFile over the mmap copies
each part), so every open of a 10,000-article index copied its term files: about 0.045
CPU-seconds per search and per fast build's index update; separate files are read in place."""


class FreshSegmentWriter(SegmentWriter):  # type: ignore[misc]
    """A SegmentWriter for an empty index whose postings are written straight from memory."""

    def __init__(
        self, ix: Any, fast: Mapping[str, TermsFunction], *, updating: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(ix, **{"compound": COMPOUND, **kwargs})
        if self.segments and not updating:
            raise ValueError("FreshSegmentWriter only writes into an empty index")
        self._fast = {name: fn for name, fn in fast.items() if _positions_field(self.schema, name)}
        self._postings: dict[str, Postings] = {}
        self._memo: dict[tuple[str, Any], list[tuple[bytes, int, float, bytes]]] = {}

    def add_document(self, **fields: Any) -> None:
        """Add one document (same stored values, lengths, columns and postings as Whoosh)."""
        self._check_state()
        schema = self.schema
        names = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, names)
        if any(name.startswith("_") for name in fields):
            raise ValueError("boosts and custom stored values are not supported here")
        docnum = self.docnum
        pdw = self.perdocwriter
        pdw.start_doc(docnum)
        for name in names:
            value = fields[name]
            if value is None:
                continue
            field = schema[name]
            length = self._index_field(name, field, value, docnum) if field.indexed else 0
            pdw.add_field(name, field, value if field.stored else None, length)
            column = field.column_type
            if column:
                pdw.add_column_value(name, column, field.to_column_value(value))
        pdw.finish_doc()
        self._added = True
        self.docnum += 1

    def _index_field(self, name: str, field: Any, value: Any, docnum: int) -> int:
        """Gather the postings of one field value; returns the field length Whoosh records."""
        postings = self._postings.get(name)
        if postings is None:
            postings = self._postings[name] = Postings(field.format.field_boost)
        fast = self._fast.get(name)
        if fast is not None:
            length = postings.add_terms(docnum, fast(value))
        else:
            length = 0
            scorable = field.scorable
            for tbytes, freq, weight, vbytes in self._generic_items(name, field, value):
                postings.add(tbytes, docnum, weight, vbytes)
                if scorable:
                    length += freq
        if not field.scorable:
            length = 0
        postings.set_length(docnum, length)
        return length

    def _generic_items(
        self, name: str, field: Any, value: Any
    ) -> list[tuple[bytes, int, float, bytes]]:
        """field.index(value) as a list, remembered per value (dates, tags and sources repeat)."""
        key = (name, value) if isinstance(value, str | dt.datetime) else None
        items = self._memo.get(key) if key is not None else None
        if items is None:
            items = [(t, f, w * 1.0, v) for t, f, w, v in field.index(value)]
            if key is not None and len(self._memo) < 100_000:
                self._memo[key] = items
        return items

    def add_reader(self, reader: Any) -> None:
        """Whoosh's merge (postings copied through its pool) is not supported: merge by adding
        the documents again (archiver.search.index._merge_policy)."""
        raise NotImplementedError("merge segments by adding their documents again")

    def finish_segment(self) -> Any:
        """Write this writer's segment files (no table of contents yet); returns the segment."""
        self._check_state()
        return self._finalize_segment()

    def commit_segments(self, segments: list[Any]) -> None:
        """Commit a table of contents listing segments (finished here or elsewhere), unlock."""
        self._commit_toc(segments)
        self._finish()

    def _flush_segment(self) -> None:
        """Close the per-document files, then write every field's terms and posting blocks."""
        self.perdocwriter.close()
        codec = self.codec
        fw = self.fieldwriter
        blocklimit, level = codec._blocklimit, codec._compression
        postfile, tindex = fw._postfile, fw._tindex
        for name in sorted(self._postings):
            postings = self._postings.pop(name)
            if not postings.terms:
                continue
            field = self.schema[name]
            fw.start_field(name, field)
            prefix = pack_ushort(fw._fieldid)
            fixed = field.format.fixed_value_size()
            offset = postfile.tell()
            for term, btext, flat in postings.sorted_terms():
                data, info = encode_term(flat, postings.lengths, blocklimit, level, fixed)
                postfile.write(data)
                tindex.add(prefix + btext, info + pack_long(offset) + pack_int(len(data)))
                offset += len(data)
                del postings.terms[term]
            fw.finish_field()
        self.fieldwriter.close()


def _positions_field(schema: Any, name: str) -> bool:
    """Whether a field's postings are Whoosh Positions values (the fast path writes those)."""
    if name not in schema:
        return False
    field = schema[name]
    return bool(
        field.indexed
        and field.scorable
        and type(field.format).encode is formats.Positions.encode
        and isinstance(field.format, formats.Positions)
    )


def fast_writer_supported(ix: Any) -> bool:
    """Whether the index uses the W3 codec layout the fresh writer reproduces."""
    from whoosh.codec import default_codec

    codec = default_codec()
    if type(codec) is not W3Codec or codec._inlinelimit > 1:
        return False
    schema = ix.schema
    return not any(
        schema[name].vector or schema[name].separate_spelling() for name in schema.names()
    )


def write_fresh(
    folder: Path,
    schema: Any,
    docs: Iterable[Mapping[str, Any]],
    *,
    indexname: str,
    fast: Mapping[str, TermsFunction],
    compound: bool = COMPOUND,
) -> None:
    """Create an index in folder (empty) holding docs, written as one segment."""
    ix = index.create_in(str(folder), schema, indexname=indexname)
    with writing(ix):
        if fast_writer_supported(ix):
            writer: Any = FreshSegmentWriter(ix, fast, compound=compound)
        else:
            writer = ix.writer(limitmb=256, compound=compound)
        with cancelled_on_error(writer):
            for doc in docs:
                writer.add_document(**doc)
            writer.commit()


@contextlib.contextmanager
def writing(ix: Any) -> Iterator[None]:
    """Cyclic garbage collection paused while an index is written (millions of long-lived
    lists: collections would rescan them all); the index closed afterwards."""
    try:
        with no_gc():
            yield
    finally:
        ix.close()


@contextlib.contextmanager
def cancelled_on_error(writer: Any) -> Iterator[None]:
    """Cancel the writer (its files dropped, the lock released) when the block fails."""
    try:
        yield
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        raise
