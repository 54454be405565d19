"""Front matter YAML without PyYAML's representer: exactly the bytes serialise's yaml.dump writes.

content.serialise dumps with CSafeDumper, sort_keys=False, allow_unicode=True,
default_flow_style=None, width=100. This module writes the same bytes for the values it can
prove libyaml writes plainly (or single-quoted, one word), folded at the width as libyaml folds;
a value it is unsure of goes through PyYAML alone, or the whole mapping does when values could
share an anchor. tests/test_content.py compares it with PyYAML on thousands of hostile values.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from typing import Any

import yaml

# The fast path writes what _dump writes for the values it can prove it writes the same way
# (libyaml's plain/single-quoted rules, width 100); any other value goes through PyYAML.
_WIDTH = 100
_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"
_STAMP_TAG = "tag:yaml.org,2002:timestamp"
_PRINTABLE = re.compile("[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]*")
_BLOCK_UNSAFE = re.compile(r"\A[-?:,\[\]{}#&*!|>'\"%@`]|\A(?:---|\.\.\.)|: |:\Z| #|  |\A | \Z")
_FLOW_UNSAFE = re.compile(r"[,?:\[\]{}]")


def fast_front(data: Mapping[str, Any]) -> str | None:
    """The front matter without PyYAML's representer, or None when a value needs it."""
    if not any(type(value) in (list, dict) for value in data.values()):
        return None  # PyYAML would write an all-scalar mapping in flow style
    lines: list[str] = []
    for key, value in data.items():
        if type(key) is not str or key == "_" or len(key) > _WIDTH or not _flow_plain(key):
            return None
        line = _fast_item(key, value)
        if line is None:
            if not _isolated(value):
                return None  # it might share an anchor with another value: dump it all
            line = _dump_one(key, value)
        lines.append(line)
    return "".join(lines)


def _isolated(value: Any) -> bool:
    """Whether PyYAML dumps a value the same alone as next to others (no anchor possible)."""
    if type(value) is list:
        return all(type(item) is str for item in value)
    if type(value) is dict:
        return all(type(k) is str and type(v) is str for k, v in value.items())
    return type(value) is str


def _fast_item(key: str, value: Any) -> str | None:
    """One ``key: value`` entry written exactly as PyYAML would, or None if unsure."""
    if type(value) is str:
        if _plain(value, _STR_TAG, flow=False):
            return _fold(key, value)
        text = _quoted(key, value)
    elif type(value) is list:
        items = [_flow_scalar(item) for item in value]
        return None if None in items else _flow(key, "[]", [(None, str(i)) for i in items])
    elif type(value) is dict:
        pairs = [(_flow_scalar(k), _flow_scalar(v)) for k, v in value.items()]
        if not all(k is not None and len(k) <= _WIDTH and v is not None for k, v in pairs):
            return None
        return _flow(key, "{}", [(k, str(v)) for k, v in pairs])
    elif type(value) is dt.datetime or type(value) is dt.date:
        stamp = value.isoformat(" ") if type(value) is dt.datetime else value.isoformat()
        text = f"{key}: {stamp}" if _plain(stamp, _STAMP_TAG, flow=False) else None
    else:
        return None
    return None if text is None or len(text) > _WIDTH else text + "\n"


def _plain(value: str, tag: str, *, flow: bool) -> bool:
    """Whether libyaml writes this value of this tag as a plain scalar, on one line."""
    if not value or not _PRINTABLE.fullmatch(value) or _BLOCK_UNSAFE.search(value):
        return False
    if flow and _FLOW_UNSAFE.search(value):
        return False
    return _resolve(value) == tag


def _flow_scalar(value: Any) -> str | None:
    """A string inside a flow list or mapping, if it is written plain."""
    return value if type(value) is str and _flow_plain(value) else None


@functools.lru_cache(maxsize=4096)  # tags and extraction methods recur across articles
def _flow_plain(value: str) -> bool:
    """Whether a string is written plain inside a flow collection."""
    return _plain(value, _STR_TAG, flow=True)


def _quoted(key: str, value: str) -> str | None:
    """A one-word string quoted only because it would read back as another type ('2024')."""
    if " " in value or "'" in value or not _plain(value, _resolve(value), flow=False):
        return None
    return f"{key}: '{value}'"


def _resolve(value: str) -> str:
    """The tag a plain scalar would be read back with."""
    return str(_RESOLVER.resolve(yaml.ScalarNode, value, (True, False)))  # type: ignore[no-untyped-call]


def _fold(key: str, value: str) -> str:
    """A plain top-level value, broken at a space once the line is past the width (libyaml)."""
    out = [f"{key}:"]
    _words(out, value, len(key) + 1, True, "\n  ")
    out.append("\n")
    return "".join(out)


def _flow(key: str, brackets: str, entries: list[tuple[str | None, str]]) -> str:
    """A flow list or mapping (entries: optional key, plain value) wrapped as libyaml wraps it."""
    out = [f"{key}: {brackets[0]}"]
    column = len(out[0])
    for index, (name, value) in enumerate(entries):
        space = index > 0
        if index:
            out.append(",")
            column += 1
        if column > _WIDTH:
            out.append("\n  ")
            column, space = 2, False
        if name is not None:
            out.append(f" {name}:" if space else f"{name}:")
            column += len(name) + 1 + space
            space = True
        column = _words(out, value, column, space, "\n    ")
    out.append(brackets[1] + "\n")
    return "".join(out)


def _words(out: list[str], value: str, column: int, space: bool, newline: str) -> int:
    """Append a plain scalar's words, breaking at a space past the width; the new column."""
    for index, word in enumerate(value.split(" ")):
        if index and column > _WIDTH:
            out.append(newline)
            column = len(newline) - 1
        elif index or space:
            out.append(" ")
            column += 1
        out.append(word)
        column += len(word)
    return column


def _dump_one(key: str, value: Any) -> str:
    """PyYAML's ``key: value`` entry, alone (a list after it keeps the mapping in block style)."""
    text = yaml.dump(
        {key: value, "_": []},
        Dumper=yaml.CSafeDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=None,
        width=_WIDTH,
    )
    return str(text).removesuffix("_: []\n")
