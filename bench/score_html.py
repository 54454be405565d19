"""Run extract_html over a folder of saved pages and write scoreable Markdown files.

    python bench/score_html.py INPUT_DIR OUTPUT_DIR
    python3 /work/shared/devset/score.py --inputs /work/shared/devset/html --outputs OUTPUT_DIR \
        --kind page
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from archiver.content import serialise
from archiver.errors import NotAnArticleError
from archiver.ingest.decode import declared_charset
from archiver.ingest.html import extract_html
from archiver.model import Article, Extracted


def decode(data: bytes) -> str:
    """Decode page bytes: declared charset, else UTF-8, else cp1252."""
    charset = declared_charset(data)
    for name in (charset, "utf-8"):
        if name:
            try:
                return data.decode(name)
            except (UnicodeDecodeError, LookupError):
                continue
    return data.decode("cp1252", errors="replace")


def to_article(found: Extracted, source_file: str) -> Article:
    """The Article a pipeline would store for this extraction (no slug allocation)."""
    return found.to_article(Path(source_file).stem, source_file=source_file)


def main(argv: list[str] | None = None) -> int:
    """Extract every *.html/*.htm under INPUT_DIR into OUTPUT_DIR/<stem>.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", type=Path)
    parser.add_argument("outputs", type=Path)
    args = parser.parse_args(argv)
    args.outputs.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in args.inputs.rglob("*") if p.suffix.lower() in (".html", ".htm"))
    refused = 0
    for path in files:
        text = decode(path.read_bytes())
        try:
            found = extract_html(text)
        except NotAnArticleError as exc:
            refused += 1
            print(f"{path.name}: {exc.message}", file=sys.stderr)
            continue
        out = args.outputs / f"{path.stem}.md"
        out.write_text(serialise(to_article(found, path.name)), encoding="utf-8")
    print(f"{len(files) - refused} written, {refused} refused", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
