"""Per-line features of a page dump (size, punctuation, case, stop words) and Markdown escaping."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

from archiver.ingest import metadata as meta
from archiver.ingest.boilerplate import BoilerplateModel, is_end_marker

BAD, SHORT, GOOD = -1, 0, 1
LANG_SAMPLE = 1000
"""Characters of body text given to the language identifier (its cost grows with length)."""
LONG_LINE = 250
"""Lines at least this big (CJK weighing 3) are prose by size alone."""
SENTENCE_SCAN = 600
"""Characters of a line scanned for sentence ends (only small counts matter)."""
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")
_WORD = re.compile(r"\w+")
_LETTER = re.compile(r"[^\W\d_]")
_LONG_WORD = re.compile(r"[^\W\d_]{3,}")
_LETTER_RUN = re.compile(r"[^\W\d_]+")
_CLOSERS = "\"'”’»)]*_ "
_TERMINAL = tuple(".!?。！？…:;")
_SENTENCE_END = re.compile(r"[.!?。！？](?:[\"'”’»)\]]*)(?:\s|$)")
_CJK_PROSE = re.compile(r"[，。、；！？]")
_BRACKETS = tuple("【[『＜「《〔（(▉╠")
_YEAR = re.compile(r"(?:19|20)\d\d")
_URL = re.compile(r"https?://|www\.\w")
_BYLINE_START = re.compile(
    r"^(?:(?:written|posted|reported|words|story|text|photos?)\s+by|by|par|von|por|di|door|av|af|"
    r"autor(?:a|in)?\s*:|author\s*:|text\s*:|texte\s*:)\s+\S",
    re.I,
)


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """The union of the shipped stop-word lists (archiver/data/stopwords.txt)."""
    text = resources.files("archiver").joinpath("data/stopwords.txt").read_text("utf-8")
    words: set[str] = set()
    for line in text.splitlines():
        if line.strip() and not line.startswith("#") and ":" in line:
            words.update(line.split(":", 1)[1].split())
    return frozenset(words)


_UNSET = -1
"""A lazy feature of a Line not computed yet."""


class Line:
    """One non-empty dump line and the evidence about it (read-only).

    Sentence, date and byline evidence is only needed near the head of an article: it is
    computed on first use and kept.
    """

    __slots__ = ("_byline", "_date", "_sentences", "caps", "ends", "kind", "repeated", "rule",
                 "score", "size", "terminal", "text", "words")  # fmt: skip

    def __init__(self, text: str, size: float, words: int, kind: int, score: float,
                 terminal: bool, caps: bool, rule: bool, repeated: bool, ends: bool,
                 sentences: int = _UNSET) -> None:  # fmt: skip
        """Set the eagerly computed features."""
        self.text, self.size, self.words, self.kind, self.score = text, size, words, kind, score
        self.terminal, self.caps, self.rule, self.repeated = terminal, caps, rule, repeated
        self.ends, self._sentences, self._date, self._byline = ends, sentences, _UNSET, _UNSET

    def __repr__(self) -> str:
        """The text and kind, for debugging."""
        return f"Line({self.text!r}, kind={self.kind}, score={self.score})"

    def rescored(self, score: float) -> Line:
        """A copy of the line with another score."""
        line = Line(self.text, self.size, self.words, self.kind, score, self.terminal, self.caps,
                    self.rule, self.repeated, self.ends, self._sentences)  # fmt: skip
        line._date, line._byline = self._date, self._byline
        return line

    @property
    def sentences(self) -> int:
        """Sentence ends in the first SENTENCE_SCAN characters."""
        if self._sentences == _UNSET:
            self._sentences = _sentence_count(self.text)
        return self._sentences

    @property
    def has_date(self) -> bool:
        """A short line holding a year (it may state a date)."""
        return self._date_flags() > 0

    @property
    def is_date(self) -> bool:
        """A short line that is only a date with date words."""
        return self._date_flags() == 2

    def _date_flags(self) -> int:
        """0: no year, 1: a year, 2: a date line."""
        if self._date == _UNSET:
            text = self.text
            if len(text) <= SHORT_LINE and _YEAR.search(text) is not None:
                self._date = 2 if meta.is_date_line(text) else 1
            else:
                self._date = 0
        return self._date

    @property
    def is_byline(self) -> bool:
        """A short line starting like a byline ('By ...', 'Par ...', 'Author: ...')."""
        if self._byline == _UNSET:
            text = self.text
            self._byline = int(len(text) <= SHORT_LINE and _BYLINE_START.match(text) is not None)
        return self._byline == 1


SHORT_LINE = 160
"""Only lines up to this long are tested for dates and bylines."""


def _sentence_count(text: str) -> int:
    """Sentence ends in the first SENTENCE_SCAN characters of a line."""
    return len(_SENTENCE_END.findall(text, 0, SENTENCE_SCAN))


_ASCII_WORDS = bytes(c if chr(c).isalnum() or c == 0x5F else 0x20 for c in range(256))
"""Bytes table: ASCII word characters (\\w) kept, every other byte a space."""


_UTF8_WORDS = bytes(c if c >= 0x80 or chr(c).isalnum() or c == 0x5F else 0x20 for c in range(256))
"""Bytes table for UTF-8 text: ASCII word characters (\\w) and every non-ASCII byte kept, every
other byte a space."""
_UTF8_LETTERS = bytes(c if c >= 0x80 or chr(c).isalpha() else 0x20 for c in range(256))
"""The same for letters ([^\\W\\d_]): ASCII digits and '_' become spaces too."""
_NON_ASCII = bytes(range(128))
RUNS_BY_BYTES = 200
"""From this length on, word runs are cut by byte operations instead of a regex (cheaper)."""


def word_runs(text: str, letters: bool = False) -> list[str]:
    """_WORD.findall(text) (``letters``: maximal runs of [^\\W\\d_]); long texts by byte
    operations: each distinct non-ASCII non-word character becomes a space, then one byte
    table turns the ASCII non-word characters into spaces, and the text is split."""
    if len(text) < RUNS_BY_BYTES:
        return (_LETTER_RUN if letters else _WORD).findall(text)
    if not text.isascii():
        try:
            others = text.encode("utf-8").translate(None, _NON_ASCII).decode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate
            return (_LETTER_RUN if letters else _WORD).findall(text)
        for char in set(others):
            if not char.isalnum() or (letters and char.isdecimal()):
                text = text.replace(char, " ")
    table = _UTF8_LETTERS if letters else _UTF8_WORDS
    return text.encode("utf-8").translate(table).decode("utf-8").split()


def _measure(text: str) -> tuple[float, int, int]:
    """Size (CJK characters weigh 3), words (2 CJK characters = 1) and CJK count."""
    cjk = len(_CJK.findall(text)) if not text.isascii() else 0
    if len(text) + 2 * cjk >= LONG_LINE and cjk < len(text) // 2:
        return len(text) + 2 * cjk, text.count(" ") + 1 + cjk // 2, cjk
    if text.isascii():  # \w+ runs counted by byte operations: the same count, cheaper
        tokens = len(text.encode("ascii").translate(_ASCII_WORDS).split())
    else:
        tokens = len(word_runs(text)) if cjk < len(text) // 2 else 0
    return len(text) + 2 * cjk, (tokens or len(text.split())) + cjk // 2, cjk


def word_count(text: str) -> int:
    """Words of a text as the line features count them (2 CJK characters = 1 word)."""
    return _measure(text)[1]


def _density(text: str, cjk: int) -> float:
    """Stop-word share of the words of a line (0 for CJK-dominated lines)."""
    if cjk >= len(text) // 2:
        return 0.0
    tokens = word_runs(text.lower())
    return sum(map(stop_words().__contains__, tokens)) / len(tokens) if tokens else 0.0


def _is_caps(text: str) -> bool:
    """An ALL-CAPS line of several words (teasers, section labels)."""
    if text.isascii():  # the same test: no lower-case letter and some upper-case one
        return len(text) >= 12 and text.isupper()
    return len(text) >= 12 and text.upper() == text and text.lower() != text


def _is_prose(text: str, size: float, cjk: int, terminal: bool) -> bool:
    """Sentence-like text: CJK with its punctuation, else terminal, long or stop-word rich."""
    if cjk >= 10 and cjk * 2 >= len(text):
        return _CJK_PROSE.search(text) is not None or (cjk >= 20 and not text.startswith(_BRACKETS))
    return terminal or size >= LONG_LINE or _density(text, cjk) >= 0.3


def _is_menu(text: str) -> bool:
    """A row of short items between bars ('Home|News|Sport|...'): navigation, not prose."""
    bars = text.count("|")
    return bars >= 4 and len(text) < 16 * (bars + 1)


def _line(text: str, model: BoilerplateModel, repeated: bool) -> Line:
    """Features and score of one line."""
    size, words, cjk = _measure(text)
    terminal = text.rstrip(_CLOSERS).endswith(_TERMINAL)
    caps = _is_caps(text)
    rule = model.matches_rule(text)
    linky = size < 200 and ("://" in text or "ww." in text) and _URL.search(text) is not None
    linky = linky or _is_menu(text)
    sentences = _UNSET
    if rule or repeated or (caps and words >= 4 and not terminal):
        kind, score = BAD, -25.0
    elif size >= 80 and not linky and _is_prose(text, size, cjk, terminal):
        kind, score = GOOD, size
    elif (
        size >= 30
        and terminal
        and not linky
        and ((sentences := _sentence_count(text)) >= 1 or _density(text, cjk) >= 0.15)
    ):
        kind, score = SHORT, size * 0.3
    else:
        kind, score = SHORT, -(10.0 + max(0.0, 30.0 - size) * 0.3)
    ends = rule and is_end_marker(text)
    return Line(text, size, words, kind, score, terminal, caps, rule, repeated, ends, sentences)


MEMO_MAX_CHARS = 160
"""Lines up to this long (menus, share bars, footers: they recur across a batch) are memoised."""
MEMO_SIZE = 50_000
"""Memo entries kept before the memo is cleared."""
_memo: dict[tuple[str, bool], Line] = {}
_repeat_memo: dict[str, bool] = {}
_memo_owner: list[BoilerplateModel] = []


def _memo_for(model: BoilerplateModel) -> dict[tuple[str, bool], Line]:
    """The per-model memo of short lines (cleared when the model changes or it grows too big)."""
    if not _memo_owner or _memo_owner[0] is not model or len(_memo) > MEMO_SIZE:
        _memo.clear()
        _repeat_memo.clear()
        _memo_owner[:] = [model]
    return _memo


def _is_repeated(text: str, model: BoilerplateModel) -> bool:
    """model.is_repeated, memoised for short lines."""
    if len(text) > MEMO_MAX_CHARS:
        return model.is_repeated(text)
    flag = _repeat_memo.get(text)
    if flag is None:
        flag = _repeat_memo[text] = model.is_repeated(text)
    return flag


def analyse(texts: Sequence[str], model: BoilerplateModel) -> list[Line]:
    """Features of every line; repetition evidence is ignored when it would eat most prose."""
    memo = _memo_for(model)
    flags = [_is_repeated(t, model) for t in texts]
    if any(flags):
        prose = sum(len(t) for t in texts if len(t) >= 80)
        eaten = sum(len(t) for t, flag in zip(texts, flags, strict=True) if flag and len(t) >= 80)
        if eaten > 0.3 * prose:  # a re-scrape of an article already seen: trust the rules only
            flags = [False] * len(texts)
    lines = []
    for text, flag in zip(texts, flags, strict=True):
        if len(text) > MEMO_MAX_CHARS:
            lines.append(_line(text, model, flag))
            continue
        line = memo.get((text, flag))
        if line is None:
            line = memo[text, flag] = _line(text, model, flag)
        lines.append(line)
    return _bulleted_lists(lines)


LIST_RUN = 6
"""Consecutive lines opening with the same typed bullet that form a list of the text."""
_BULLETS = frozenset("-+*•–")


def _bulleted_lists(lines: list[Line]) -> list[Line]:
    """Items of a long run of lines typed with the same bullet ('+ Added ...') are the text's
    own list (a dump prints no bullets for menus): their short items stop counting as chrome."""
    marked = [k for k, line in enumerate(lines) if line.text[1:2] == " "]
    if len(marked) < LIST_RUN:
        return lines
    i, count = marked[0], len(lines)
    while i < count:
        text = lines[i].text
        j = i + 1
        if text[:1] in _BULLETS and text[1:2] == " ":
            while j < count and lines[j].text.startswith(text[:2]):
                j += 1
            if j - i >= LIST_RUN:
                lines[i:j] = [_list_item(line) for line in lines[i:j]]
        i = j
    return lines


def _list_item(line: Line) -> Line:
    """A list item scored like a short sentence of the text, unless a rule or repetition
    marks it as boilerplate."""
    if line.kind == SHORT and line.score < 0 and not (line.rule or line.repeated):
        return line.rescored(line.size * 0.3)
    return line


_TOKEN_MEMO: dict[str, frozenset[str]] = {}
"""token_set of short texts (headline candidates are tested against several neighbours)."""


def token_set(text: str) -> frozenset[str]:
    """Content tokens for overlap tests: words of 3+ letters, CJK character bigrams."""
    if len(text) <= MEMO_MAX_CHARS:
        found = _TOKEN_MEMO.get(text)
        if found is None:
            if len(_TOKEN_MEMO) >= MEMO_SIZE:
                _TOKEN_MEMO.clear()
            found = _TOKEN_MEMO[text] = _token_set(text)
        return found
    return _token_set(text)


def _token_set(text: str) -> frozenset[str]:
    """token_set, computed."""
    if len(text) < RUNS_BY_BYTES:
        words = set(_LONG_WORD.findall(text))
    else:
        words = {word for word in word_runs(text, letters=True) if len(word) >= 3}
    tokens = set(map(str.lower, words))
    if not text.isascii():
        for run in _CJK_RUN.findall(text):
            tokens.difference_update({run.lower()})
            tokens.update(run[k : k + 2] for k in range(max(1, len(run) - 1)))
    return frozenset(tokens - stop_words())


@lru_cache(maxsize=1)
def _stop_lists() -> tuple[tuple[str, ...], dict[str, tuple[tuple[int, float], ...]]]:
    """Language codes and, per stop word, (language index, weight) pairs; a word shared by k
    languages weighs 1/k in each."""
    text = resources.files("archiver").joinpath("data/stopwords.txt").read_text("utf-8")
    codes: list[str] = []
    owners: dict[str, list[int]] = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#") and ":" in line:
            code, words = line.split(":", 1)
            codes.append(code.strip())
            for word in set(words.split()):
                owners.setdefault(word, []).append(len(codes) - 1)
    table = {w: tuple((k, 1.0 / len(ks)) for k in ks) for w, ks in owners.items()}
    return tuple(codes), table


_SCRIPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("kana", re.compile(r"[\u3040-\u30ff]")),
    ("han", re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")),
    ("ko", re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
    ("ka", re.compile(r"[\u10a0-\u10ff]")),
    ("hy", re.compile(r"[\u0530-\u058f]")),
    ("cyrillic", re.compile(r"[\u0400-\u04ff]")),
    ("arabic", re.compile(r"[\u0600-\u06ff]")),
    ("devanagari", re.compile(r"[\u0900-\u097f]")),
)
_ANY_SCRIPT = re.compile("|".join(pattern.pattern for _, pattern in _SCRIPTS))
_AMBIGUOUS_SCRIPTS = frozenset({"cyrillic", "arabic", "devanagari"})
LANG_FALLBACK_SAMPLE = 400
"""Characters given to py3langid when the cheap tests cannot decide."""


def _script_language(sample: str) -> str | None:
    """'ja'/'zh'/'ko'/'el'/... from the dominant non-Latin script, '' when it is ambiguous
    (Cyrillic, Arabic, Devanagari), None for Latin-script text."""
    if sample.isascii():
        return None
    if _ANY_SCRIPT.search(sample) is None:  # every count below is 0: only 'no letters' decides
        return "zh" if _LETTER.search(sample) is None else None
    counts = {name: len(pattern.findall(sample)) for name, pattern in _SCRIPTS}
    letters = len(_LETTER.findall(sample))
    if counts["kana"] and counts["kana"] + counts["han"] >= 0.3 * letters:
        return "ja" if counts["kana"] >= 0.05 * (counts["kana"] + counts["han"]) else "zh"
    if counts["han"] >= 0.3 * letters:
        return "zh"
    name, count = max(counts.items(), key=lambda item: item[1])
    if count < 0.3 * letters:
        return None
    return "" if name in _AMBIGUOUS_SCRIPTS else name


def _stopword_language(sample: str) -> str | None:
    """The Latin-script language whose stop words dominate the sample, None if unclear."""
    tokens = word_runs(sample.lower())
    if len(tokens) < 8:
        return None
    codes, table = _stop_lists()
    scores = [0.0] * len(codes)
    for token in filter(table.__contains__, tokens):
        for k, weight in table[token]:
            scores[k] += weight
    ranked = sorted(range(len(codes)), key=scores.__getitem__, reverse=True)
    top, second = scores[ranked[0]], scores[ranked[1]]
    if top >= 3.0 and top >= 0.1 * len(tokens) and top >= 1.6 * second:
        return codes[ranked[0]]
    return None


def language_of(text: str) -> str | None:
    """ISO 639-1 code of the text: script test, then a stop-word vote, then py3langid
    (on a short sample) only when those are ambiguous."""
    sample = text[:LANG_SAMPLE]
    if len(sample.strip()) < 20:
        return None
    code = _script_language(sample)
    if code is None:
        code = _stopword_language(sample)
    if code:
        return code
    import py3langid

    found, _score = py3langid.classify(sample[:LANG_FALLBACK_SAMPLE])
    return str(found)


_LEADING = re.compile(r"^(#{1,6}(?=\s|$)|>|[-+*](?=\s|$)|(\d{1,9})([.)])(?=\s|$)|[=\-_*]{3,})")
_SPECIAL = re.compile(r"[\\`*\[\]_<&]")
_INLINE = re.compile(r"([\\`*\[\]])|(?<!\w)_|_(?!\w)|<(?=[A-Za-z/!?])|&(?=#?\w+;)")


def _inline(match: re.Match[str]) -> str:
    """The escaped form of one special character."""
    text = match.group(0)
    if text == "<":
        return "&lt;"
    if text == "&":
        return "&amp;"
    return "\\" + text


def escape_paragraph(text: str) -> str:
    """Escape Markdown syntax so a dump line renders as the literal text it is."""
    if _SPECIAL.search(text) is not None:
        text = _INLINE.sub(_inline, text)
    match = _LEADING.match(text)
    if match:
        if match.group(2):
            end = match.end(2)
            text = text[:end] + "\\" + text[end:]
        else:
            text = "\\" + text
    return text
