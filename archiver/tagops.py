"""Tag curation: counts, rename and merge, editing only the tags lines of each front matter.

Files are never re-serialised: the ``tags:`` (or ``categories:``) value is rewritten in place, so
comments, key order, quoting and every other hand edit survive. Each rewrite is verified by
parsing the new text (only the tags may differ) before anything is written, atomically.
"""

from __future__ import annotations

import difflib
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from archiver.content import content_files, parse_article
from archiver.errors import ArchiverError, ContentError
from archiver.model import Article, term_key, term_slug
from archiver.paths import atomic_write_text

TAG_KEYS = ("tags", "categories", "category")
_KEY_LINE = re.compile(r"^(tags|categories|category)[ \t]*:(.*)$")
_ITEM_LINE = re.compile(r"^([ \t]*-[ \t]+)(\S.*?)[ \t]*$")
_FENCE = re.compile(r"^---[ \t]*$")
_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$")
_WIDE = 1_000_000


class TagEditError(ArchiverError):
    """A file's tags cannot be rewritten safely (the reason says why)."""


@dataclass(frozen=True)
class TagCount:
    """One tag: its most used spelling, slug, number of articles and every spelling seen."""

    name: str
    slug: str
    count: int
    variants: tuple[tuple[str, int], ...]

    def as_json(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "name": self.name,
            "slug": self.slug,
            "count": self.count,
            "variants": {name: n for name, n in self.variants},
        }


@dataclass(frozen=True)
class FileEdit:
    """A planned rewrite of one content file."""

    path: Path
    old: str
    new: str

    def diff(self, root: Path) -> str:
        """Unified diff of the rewrite, paths shown relative to root."""
        try:
            rel = self.path.relative_to(root).as_posix()
        except ValueError:
            rel = self.path.as_posix()
        lines = difflib.unified_diff(
            self.old.splitlines(keepends=True),
            self.new.splitlines(keepends=True),
            fromfile=f"a/{rel}",
            tofile=f"b/{rel}",
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


@dataclass(frozen=True)
class TagEditReport:
    """Planned (or applied) edits plus one (file, reason) per file that could not be handled."""

    edits: tuple[FileEdit, ...]
    problems: tuple[tuple[str, str], ...]


def tag_counts(articles: Iterable[Article]) -> list[TagCount]:
    """Count articles per tag (spellings differing in case/accents are one tag), most used first."""
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for article in articles:
        seen: set[str] = set()
        for tag in article.tags:
            key = term_key(tag)
            if key and key not in seen:
                seen.add(key)
                spellings[key][tag] += 1
    out = []
    for counter in spellings.values():
        variants = tuple(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))
        name = variants[0][0]
        out.append(TagCount(name, term_slug(name), sum(counter.values()), variants))
    return sorted(out, key=lambda t: (-t.count, term_key(t.name), t.name))


def rename_mapping(old: str, new: str) -> dict[str, str]:
    """Key -> new name for ``tags rename OLD NEW`` (every spelling of OLD becomes NEW)."""
    _require_name(old)
    _require_name(new)
    return {term_key(old): " ".join(new.split())}


def merge_mapping(target: str, sources: Sequence[str]) -> dict[str, str]:
    """Key -> name for ``tags merge A B...``: B... (and every spelling of A) become A."""
    _require_name(target)
    for source in sources:
        _require_name(source)
    name = " ".join(target.split())
    mapping = {term_key(source): name for source in sources}
    mapping[term_key(target)] = name
    return mapping


def plan_retag(content_dir: Path, mapping: Mapping[str, str]) -> TagEditReport:
    """Work out every file rewrite for a key -> name mapping; writes nothing."""
    edits: list[FileEdit] = []
    problems: list[tuple[str, str]] = []
    for path in content_files(content_dir):
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append((str(path), f"skipped: cannot read ({exc})"))
            continue
        if not _may_mention(text, mapping):
            continue
        try:
            new = retag_text(text, mapping)
        except (TagEditError, ContentError) as exc:
            problems.append((str(path), exc.message))
            continue
        if new != text:
            edits.append(FileEdit(path, text, new))
    return TagEditReport(tuple(edits), tuple(problems))


def apply_edits(report: TagEditReport) -> TagEditReport:
    """Write planned edits atomically (file modes kept); files changed meanwhile are reported."""
    done: list[FileEdit] = []
    problems = list(report.problems)
    for edit in report.edits:
        try:
            current = edit.path.read_bytes().decode("utf-8")
            mode = edit.path.stat().st_mode & 0o7777
        except (OSError, UnicodeDecodeError) as exc:
            problems.append((str(edit.path), f"not rewritten: {exc}"))
            continue
        if current != edit.old:
            problems.append((str(edit.path), "changed while rewriting; not touched, run again"))
            continue
        atomic_write_text(edit.path, edit.new)
        os.chmod(edit.path, mode)
        done.append(edit)
    return TagEditReport(tuple(done), tuple(problems))


def retag_text(text: str, mapping: Mapping[str, str]) -> str:
    """Rewrite the tag lists of one content file's text; raises TagEditError when unsafe."""
    before = parse_article(text)
    expected = _dedupe(_map(before.tags, mapping))
    if expected == before.tags:
        return text
    lines = text.splitlines(keepends=True)
    start, end = _front_matter_bounds(lines)
    out = lines[: start + 1]
    index = start + 1
    while index < end:
        match = _KEY_LINE.match(lines[index].rstrip("\r\n"))
        if not match:
            out.append(lines[index])
            index += 1
            continue
        stop = _value_end(lines, index, end)
        try:
            out.extend(_rewrite_key(lines[index:stop], match.group(1), mapping))
        except yaml.YAMLError:
            raise TagEditError("cannot rewrite tags safely (unusual YAML); edit by hand") from None
        index = stop
    new_text = "".join(out + lines[end:])
    after = parse_article(new_text)
    if after != replace(before, tags=expected):
        raise TagEditError("cannot rewrite tags safely (unusual YAML); edit this file by hand")
    return new_text


def _front_matter_bounds(lines: Sequence[str]) -> tuple[int, int]:
    """Indexes of the opening and closing fence of YAML front matter."""
    if not lines or not _FENCE.match(lines[0].lstrip("\ufeff").rstrip("\r\n")):
        raise TagEditError("only YAML front matter ('---' block) can be rewritten; edit by hand")
    for index in range(1, len(lines)):
        if _END.match(lines[index].rstrip("\r\n")):
            return 0, index
    raise TagEditError("front matter has no closing '---'")


def _value_end(lines: Sequence[str], start: int, end: int) -> int:
    """End (exclusive) of a key's value: up to the next top-level key or comment."""
    stop = start + 1
    last = start + 1
    while stop < end:
        line = lines[stop].rstrip("\r\n")
        if line.strip() and not line.startswith((" ", "\t", "-")):
            break
        stop += 1
        if line.strip():
            last = stop
    return last


def _rewrite_key(span: list[str], key: str, mapping: Mapping[str, str]) -> list[str]:
    """New lines for one ``key: value`` span, keeping its style and untouched items verbatim."""
    newline = "\r\n" if span[0].endswith("\r\n") else "\n"
    value = (yaml.safe_load("".join(span)) or {}).get(key)
    names = _names(value)
    new_names = _dedupe(_map(names, mapping))
    if new_names == names:
        return span
    head = span[0].rstrip("\r\n")
    inline = head.split(":", 1)[1].strip()
    if isinstance(value, list) and (not inline or inline.startswith("#")) and len(span) > 1:
        block = _rewrite_block(span, mapping, newline)
        if block is not None:
            return block
        prefix = (_ITEM_LINE.match(span[1].rstrip("\r\n")) or _dash()).group(1)
        return [f"{key}:{newline}"] + [f"{prefix}{_scalar(n)}{newline}" for n in new_names]
    if isinstance(value, list) and inline.startswith("["):
        flow = _rewrite_flow("".join(span), mapping)
        if flow is not None:
            return flow
    if isinstance(value, str) and not any("," in n for n in new_names) and len(new_names) != 1:
        dumped = yaml.safe_dump({key: ", ".join(new_names)}, allow_unicode=True, width=_WIDE)
        return _with_newline(dumped, newline)
    if isinstance(value, str) and len(new_names) == 1:
        return _with_newline(yaml.safe_dump({key: new_names[0]}, allow_unicode=True), newline)
    dumped = yaml.safe_dump(
        {key: list(new_names)}, allow_unicode=True, default_flow_style=None, width=100
    )
    lines = _with_newline(dumped, newline)
    comment = _trailing_comment(head) if len(span) == 1 else ""
    if comment and len(lines) == 1:
        lines[0] = lines[0].rstrip("\r\n") + comment + newline
    return lines


def _rewrite_block(span: list[str], mapping: Mapping[str, str], newline: str) -> list[str] | None:
    """Edit a block sequence item by item (comments kept); None when an item is not simple."""
    out = [span[0]]
    seen: set[str] = set()
    for line in span[1:]:
        bare = line.rstrip("\r\n")
        if not bare.strip() or bare.strip().startswith("#"):
            out.append(line)
            continue
        match = _ITEM_LINE.match(bare)
        if not match:
            return None
        value, comment = _split_comment(match.group(2))
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            return None
        name = " ".join(str(value).split())
        new = mapping.get(term_key(name), name)
        if new in seen:
            continue
        seen.add(new)
        out.append(line if new == name else f"{match.group(1)}{_scalar(new)}{comment}{newline}")
    return out


def _rewrite_flow(text: str, mapping: Mapping[str, str]) -> list[str] | None:
    """Edit a ``[a, "b", c]`` list token by token, keeping untouched items as written."""
    tokens = list(yaml.scan(text))
    starts = [i for i, t in enumerate(tokens) if isinstance(t, yaml.FlowSequenceStartToken)]
    ends = [i for i, t in enumerate(tokens) if isinstance(t, yaml.FlowSequenceEndToken)]
    if len(starts) != 1 or len(ends) != 1:
        return None
    inside = tokens[starts[0] + 1 : ends[0]]
    if not all(isinstance(t, yaml.ScalarToken | yaml.FlowEntryToken) for t in inside):
        return None
    items: list[str] = []
    seen: set[str] = set()
    for token in inside:
        if not isinstance(token, yaml.ScalarToken):
            continue
        name = " ".join(str(token.value).split())
        new = mapping.get(term_key(name), name)
        if new in seen:
            continue
        seen.add(new)
        original = text[token.start_mark.index : token.end_mark.index]
        items.append(original if new == name else _scalar(new))
    begin, end = tokens[starts[0]].start_mark.index, tokens[ends[0]].end_mark.index
    return (text[:begin] + "[" + ", ".join(items) + "]" + text[end:]).splitlines(keepends=True)


def _split_comment(text: str) -> tuple[Any, str]:
    """A flow scalar and its trailing `` # comment`` (kept verbatim)."""
    full = yaml.safe_load(text)
    for match in re.finditer(r"[ \t]+#", text):
        left = text[: match.start()]
        try:
            if yaml.safe_load(left) == full:
                return full, text[match.start() :]
        except yaml.YAMLError:
            continue
    return full, ""


def _trailing_comment(head: str) -> str:
    """The `` # comment`` after a one-line value, or ''."""
    rest = head.partition(":")[2]
    _, comment = _split_comment(rest) if "#" in rest else (None, "")
    return comment


def _names(value: Any) -> tuple[str, ...]:
    """Tag names of a YAML value, read the way archiver.content reads them."""
    if value is None or value == "":
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise TagEditError("tags must be a list of names")
    return _dedupe(" ".join(str(item).split()) for item in items if str(item).strip())


def _map(names: Iterable[str], mapping: Mapping[str, str]) -> tuple[str, ...]:
    """Apply a key -> name mapping to names."""
    return tuple(mapping.get(term_key(name), name) for name in names)


def _dedupe(names: Iterable[str]) -> tuple[str, ...]:
    """Names without exact repeats, first occurrence kept."""
    return tuple(dict.fromkeys(names))


def _scalar(name: str) -> str:
    """A YAML scalar for a name, quoted only when needed (valid in flow and block context)."""
    dumped: str = yaml.safe_dump([name], default_flow_style=True, allow_unicode=True, width=_WIDE)
    return dumped.strip()[1:-1]


def _with_newline(dumped: str, newline: str) -> list[str]:
    """Dumped YAML lines with the file's own line ending."""
    return [line + newline for line in dumped.splitlines()]


def _dash() -> re.Match[str]:
    """The default block-sequence item prefix."""
    match = _ITEM_LINE.match("- x")
    assert match is not None
    return match


def _may_mention(text: str, mapping: Mapping[str, str]) -> bool:
    """Cheap pre-filter: whether the front matter could hold one of the mapped tags."""
    end = text.find("\n---", 3)
    head = term_key(text[: end if end > 0 else 65536])
    return any(key in head for key in mapping)


def _require_name(name: str) -> None:
    """Refuse an empty tag name."""
    if not term_key(name):
        from archiver.errors import UsageError

        raise UsageError("a tag name must not be empty")


def describe(edits: Sequence[FileEdit], problems: Sequence[tuple[str, str]]) -> str:
    """One-line summary of a tag edit."""
    text = f"{len(edits)} file{'s' if len(edits) != 1 else ''}"
    return text + (f", {len(problems)} problem(s)" if problems else "")
