#!/usr/bin/env python3
"""Clean a folder of .txt page dumps into Markdown files with front matter, for scoring.

python bench/score_text.py IN_DIR OUT_DIR [--min-repeat 3] [--no-repeat]
python3 ../shared/devset/score.py --inputs IN_DIR --outputs OUT_DIR --kind page
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archiver.content import serialise
from archiver.errors import NotAnArticleError
from archiver.ingest.boilerplate import BoilerplateModel
from archiver.ingest.textdump import extract_textdump


def decode(data: bytes) -> str:
    """UTF-8 (BOM tolerated) else cp1252; line ends and NBSPs normalised."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")


def main(argv: list[str] | None = None) -> int:
    """Run the text-dump cleaner over IN_DIR and write OUT_DIR/<stem>.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("inputs", type=Path)
    parser.add_argument("outputs", type=Path)
    parser.add_argument("--min-repeat", type=int, default=3)
    parser.add_argument("--no-repeat", action="store_true", help="rules only, no batch evidence")
    args = parser.parse_args(argv)
    files = sorted(args.inputs.glob("*.txt"))
    texts = {f: decode(f.read_bytes()) for f in files}
    started = time.perf_counter()
    if args.no_repeat:
        model = BoilerplateModel.empty()
    else:
        model = BoilerplateModel.build(texts.values(), min_repeat=args.min_repeat)
    built = time.perf_counter()
    args.outputs.mkdir(parents=True, exist_ok=True)
    failed = 0
    extract_time = extract_cpu = 0.0
    for path, text in texts.items():
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            found = extract_textdump(text, boilerplate=model)
        except NotAnArticleError as err:
            failed += 1
            print(f"{path.name}: {err.message}", file=sys.stderr)
            continue
        finally:
            extract_time += time.perf_counter() - t0
            extract_cpu += time.process_time() - c0
        article = found.to_article(path.stem, source_file=path.name)
        (args.outputs / f"{path.stem}.md").write_text(serialise(article), encoding="utf-8")
    n = max(1, len(files))
    print(
        f"{len(files)} dumps, {failed} not articles; model {1000 * (built - started):.1f} ms; "
        f"extract {1000 * extract_time / n:.3f} ms/dump (CPU {1000 * extract_cpu / n:.3f})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
