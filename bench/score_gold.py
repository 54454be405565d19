#!/usr/bin/env python3
"""Score cleaned Markdown against a gold Markdown folder (make_corpus.py --markdown).

    python bench/score_gold.py --gold /tmp/syn/gold --outputs OUT [--worst 10]

Body: the 4-shingle metric of score.py (\\w+ tokens, case kept; shingle multisets per case;
F1 = harmonic mean of mean precision and mean recall).  Title: exact match after whitespace,
quote and case normalisation.  Also: summary exact, source and published (same instant) rates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

TOKEN = re.compile(r"\w+")


def read(path: Path) -> tuple[dict[str, Any], str]:
    """Front matter and body of a Markdown file."""
    text = path.read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    if not match:
        return {}, text
    meta = yaml.safe_load(match.group(1)) or {}
    return meta, text[match.end() :]


def plain(markdown: str) -> str:
    """Markdown escapes and entities removed (our output is escaped plain text)."""
    text = re.sub(r"\\([\\`*{}\[\]()#+\-.!|>~<_])", r"\1", markdown)
    return text.replace("&lt;", "<").replace("&amp;", "&")


def shingles(text: str) -> Counter[tuple[str, ...]]:
    """Multiset of 4-token shingles."""
    tokens = TOKEN.findall(text)
    return Counter(tuple(tokens[i : i + 4]) for i in range(max(0, len(tokens) - 3)))


def norm(text: str | None) -> str:
    """Title normalisation: NFKC, quotes, whitespace, case."""
    text = unicodedata.normalize("NFKC", text or "")
    text = re.sub(r"[\u2018\u2019\u201c\u201d\"']", "'", text)
    return " ".join(text.split()).casefold()


def same_instant(a: Any, b: Any) -> bool:
    """True when two dates/datetimes name the same instant (or day, for dates)."""
    if a is None or b is None:
        return False
    if isinstance(a, str):
        a = dt.datetime.fromisoformat(a)
    if isinstance(b, str):
        b = dt.datetime.fromisoformat(b)
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        if (a.tzinfo is None) != (b.tzinfo is None):
            return a.replace(tzinfo=None) == b.replace(tzinfo=None)
        return a == b
    day_a = a.date() if isinstance(a, dt.datetime) else a
    day_b = b.date() if isinstance(b, dt.datetime) else b
    return bool(day_a == day_b)


def main(argv: list[str] | None = None) -> int:
    """Print body F1, title exact and metadata rates; the last line is F1=0.xxx."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gold", type=Path, required=True)
    parser.add_argument("--outputs", type=Path, required=True)
    parser.add_argument("--worst", type=int, default=0)
    args = parser.parse_args(argv)
    outputs: dict[str, tuple[dict[str, Any], str]] = {}
    for path in args.outputs.rglob("*.md"):
        meta, body = read(path)
        if meta.get("source_file"):
            outputs[Path(str(meta["source_file"])).name] = (meta, body)
    precisions, recalls, rows = [], [], []
    titles = summaries = sources = dates = n_dates = 0
    gold_files = sorted(args.gold.glob("*.md"))
    for gold_path in gold_files:
        gold, gold_body = read(gold_path)
        name = Path(str(gold["source_file"])).name
        meta, body = outputs.get(name, ({}, ""))
        truth, got = shingles(gold_body), shingles(plain(body))
        tp = sum((truth & got).values())
        p = tp / sum(got.values()) if got else None
        r = tp / sum(truth.values()) if truth else 0.0
        if p is not None:
            precisions.append(p)
        recalls.append(r)
        title_ok = norm(meta.get("title")) == norm(gold.get("title"))
        titles += title_ok
        summaries += norm(meta.get("summary")) == norm(gold.get("summary"))
        sources += norm(meta.get("source")).removeprefix("the ") == norm(
            gold.get("source")
        ).removeprefix("the ")
        n_dates += 1
        dates += same_instant(meta.get("published"), gold.get("date"))
        rows.append((2 * (p or 0) * r / ((p or 0) + r) if p and r else 0.0, name, p, r, title_ok))
    n = max(1, len(gold_files))
    mp = sum(precisions) / max(1, len(precisions))
    mr = sum(recalls) / max(1, len(recalls))
    f1 = 2 * mp * mr / (mp + mr) if mp + mr else 0.0
    print(f"cases {len(gold_files)}  with output {sum(1 for r in rows if r[2] is not None)}")
    print(f"body 4-gram  P {mp:.3f}  R {mr:.3f}  F1 {f1:.3f}")
    print(
        f"title exact {titles / n:.3f}  summary exact {summaries / n:.3f}  "
        f"source {sources / n:.3f}  published {dates / max(1, n_dates):.3f}"
    )
    for row in sorted(rows)[: args.worst]:
        print(f"  {row[1]}  F1 {row[0]:.2f}  P {row[2]}  R {row[3]:.2f}  title {row[4]}")
    print(f"F1={f1:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
