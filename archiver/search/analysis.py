"""The Whoosh index's text analysis: fold case and accents, split words, drop stop words, stem.

``FoldStemAnalyzer`` is a Whoosh analyser (used at query time and by Whoosh's own writer for
incremental updates); ``position_terms`` is the same analysis as a plain list, one entry per word
position, which the fresh-index writer (archiver.search.segment) groups itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from whoosh import formats
from whoosh.analysis import Composable, Token
from whoosh.lang.porter import stem

from archiver.search.tokenize import STOP_WORDS, fold

WORD_RE = re.compile(r"[^\W_]+")
_CACHE_LIMIT = 500_000


class _Terms(dict[str, str | None]):
    """Folded word -> indexed term (None for a stop word), filled on first use."""

    def __init__(self, stemming: bool) -> None:
        super().__init__()
        self.stemming = stemming

    def __missing__(self, word: str) -> str | None:
        term = None if word in STOP_WORDS else stem(word) if self.stemming else word
        if len(self) < _CACHE_LIMIT:
            self[word] = term
        return term


class FoldStemAnalyzer(Composable):  # type: ignore[misc]
    """One-pass analyser: fold case and accents, split words, drop stop words, Porter-stem."""

    def __init__(self, stemming: bool = True) -> None:
        self.stemming = stemming
        self._terms = _Terms(stemming)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle (into the index's table of contents) without the stem cache."""
        return {"stemming": self.stemming}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.stemming = bool(state.get("stemming", True))
        self._terms = _Terms(self.stemming)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FoldStemAnalyzer) and other.stemming == self.stemming

    def __hash__(self) -> int:
        return hash(("FoldStemAnalyzer", self.stemming))

    def stem_word(self, word: str) -> str:
        """The indexed form of one folded word (stop words included)."""
        term = self._terms[word]
        if term is None:
            return stem(word) if self.stemming else word
        return term

    def position_terms(self, value: str) -> list[str | None]:
        """The indexed term at each word position of value (None where a stop word stands)."""
        # The apostrophe replacement in __call__ cannot change which words WORD_RE finds.
        return list(map(self._terms.__getitem__, WORD_RE.findall(fold(value))))

    def term_positions(self, value: str) -> dict[str, list[int]]:
        """Indexed term -> ascending word positions (what __call__ yields, without Tokens)."""
        found: dict[str | None, list[int]] = {}
        for pos, term in enumerate(self.position_terms(value)):
            poslist = found.get(term)
            if poslist is None:
                found[term] = [pos]
            else:
                poslist.append(pos)
        found.pop(None, None)
        return found  # type: ignore[return-value]

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        """Yield the tokens of value (Whoosh's analyser protocol; one Token object reused)."""
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        folded = fold(value).replace("\u2019", "'")
        same_length = len(folded) == len(value)
        for pos, match in enumerate(WORD_RE.finditer(folded)):
            word = match.group(0)
            if word in STOP_WORDS:
                if removestops:
                    continue
                token.stopped = True
            else:
                token.stopped = False
            token.text = self.stem_word(word)
            token.boost = 1.0
            if keeporiginal:
                token.original = word
            if positions:
                token.pos = start_pos + pos
            if chars:
                start, end = (match.start(), match.end()) if same_length else (0, 0)
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


class FastPositions(formats.Positions):  # type: ignore[misc]
    """Whoosh's Positions format (same bytes), fed straight from FoldStemAnalyzer's dict."""

    def word_values(
        self, value: str, analyzer: Any, **kwargs: Any
    ) -> Iterator[tuple[str, int, float, bytes]]:
        """(term, frequency, weight, encoded positions) for each distinct term of value."""
        if not isinstance(analyzer, FoldStemAnalyzer):
            yield from super().word_values(value, analyzer, **kwargs)
            return
        boost = self.field_boost
        for term, poslist in analyzer.term_positions(value).items():
            yield term, len(poslist), len(poslist) * boost, self.encode(poslist)
