"""The related-articles postings of a metadata edit, built only for the features it reads.

taxonomy.related_articles indexes every article's features: its tag keys ("t:...") and the
significant words of its title ("w:..."), each posting the ascending newest-first positions
of the articles having it. A metadata edit reads the postings of a few hundred features at
most, so quickrelate asks this mapping, which builds each on first use: a tag's from the
grouped tags, a word's from the title-word index the last full build saved beside the
article snapshot (corrected for the articles whose title changed since). Scanning 10^4 titles
and grouping every tag in each fresh process is what it saves.
"""

from __future__ import annotations

import pickle
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import overload

from archiver.memory import no_gc
from archiver.model import Article, Term
from archiver.paths import atomic_write

WORDS_NAME = "quick-words.pickle"
"""(snapshot token, word -> slugs, slug -> title) of the last full build's articles."""

WordIndex = tuple[dict[str, list[str]], dict[str, str]]
"""Word -> slugs of the articles whose title has it; slug -> the title it was read from."""


def title_words(title: str) -> frozenset[str]:
    """The significant words of a title, exactly as taxonomy._features finds them."""
    from archiver.taxonomy import _STOP, _WORD

    return frozenset(w for w in _WORD.findall(title.casefold()) if w not in _STOP)


def save_words(state_dir: Path, token: str, articles: Sequence[Article]) -> None:
    """Store the title-word index of a full build's articles (read by load_words)."""
    titles = {article.slug: article.title for article in articles}
    index = (token, _word_index(articles), titles)
    atomic_write(state_dir / WORDS_NAME, pickle.dumps(index, protocol=5))


def _word_index(articles: Iterable[Article]) -> dict[str, list[str]]:
    """Significant title word -> slugs of the articles having it, in the articles' order."""
    words: dict[str, list[str]] = {}
    for article in articles:
        for word in title_words(article.title):
            words.setdefault(word, []).append(article.slug)
    return words


def load_words(state_dir: Path, token: str) -> WordIndex | None:
    """The title-word index saved with the snapshot of this token (None: missing or stale)."""
    try:
        with no_gc():
            found, words, titles = pickle.loads((state_dir / WORDS_NAME).read_bytes())
    except Exception:  # our own file in .archiver/: damaged or missing means scan the titles
        return None
    return (words, titles) if found == token else None


class Postings(Mapping[str, Sequence[int]]):
    """Feature -> ascending positions of the articles having it (taxonomy.related_articles'
    postings), each built on first use; a tag's positions are looked up only where read."""

    def __init__(
        self,
        ordered: Sequence[Article],
        position: Mapping[str, int],
        tags: Mapping[Term, Sequence[Article]],
        index: WordIndex | None,
        fresh: Collection[str] = (),
    ) -> None:
        """fresh: the slugs whose title may differ from the one the word index was read from
        (the articles edited since the full build that saved it)."""
        self.ordered, self.position = ordered, position
        self.tags = {"t:" + term.key: members for term, members in tags.items()}
        self.built: dict[str, Sequence[int]] = {}
        self.words = self._words(index, fresh) if index is not None else None

    def _words(self, index: WordIndex, fresh: Collection[str]) -> dict[str, list[str]]:
        """The word index with the articles whose title changed since it was saved moved
        (its lists are copied only where they change)."""
        words, titles = index
        if len(titles) != len(self.ordered) or titles.keys() - self.position.keys():
            return self._scan()  # articles came or went: not the saved archive
        fixed = words
        for slug in fresh:
            title, was = self.ordered[self.position[slug]].title, titles[slug]
            if was == title:
                continue
            before, after = title_words(was), title_words(title)
            if fixed is words:
                fixed = dict(words)
            for word in before - after:
                fixed[word] = [s for s in fixed[word] if s != slug]
            for word in after - before:
                fixed[word] = [*fixed.get(word, ()), slug]
        return fixed

    def _scan(self) -> dict[str, list[str]]:
        """The word index from every title (no usable saved one)."""
        return _word_index(self.ordered)

    def __getitem__(self, feature: str) -> Sequence[int]:
        found = self.built.get(feature)
        if found is not None:
            return found
        if feature.startswith("t:"):
            members = self.tags.get(feature)
            if members is None:
                raise KeyError(feature)
            found = _Positions(members, self.position)
        else:
            if self.words is None:
                self.words = self._scan()
            slugs = self.words.get(feature[2:])
            if not slugs or not feature.startswith("w:"):
                raise KeyError(feature)
            position = self.position
            found = sorted(position[s] for s in slugs)
        self.built[feature] = found
        return found

    def size(self, feature: str) -> int:
        """The length of a feature's posting (0: it has none), without building it."""
        found = self.built.get(feature)
        if found is not None:
            return len(found)
        if feature.startswith("t:"):
            return len(self.tags.get(feature, ()))
        if not feature.startswith("w:"):
            return 0
        if self.words is None:
            self.words = self._scan()
        return len(self.words.get(feature[2:], ()))

    def __iter__(self) -> Iterator[str]:
        if self.words is None:
            self.words = self._scan()
        yield from self.tags
        yield from ("w:" + w for w, slugs in self.words.items() if slugs)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Positions(Sequence[int]):
    """The positions of articles listed in order, looked up only where read (a tag's posting:
    its window is found by bisection, a few lookups in thousands); once the lookups add up to
    its length, every position is looked up once and kept."""

    def __init__(self, members: Sequence[Article], position: Mapping[str, int]) -> None:
        self.members, self.position = members, position
        self.items: list[int] | None = None
        self.budget = len(members)

    def __len__(self) -> int:
        return len(self.members)

    @overload
    def __getitem__(self, index: int) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> list[int]: ...

    def __getitem__(self, index: int | slice) -> int | list[int]:
        if self.items is not None:
            return self.items[index]
        if isinstance(index, slice):
            found = [self.position[a.slug] for a in self.members[index]]
            self.budget -= len(found)
            if self.budget < 0:
                self.items = [self.position[a.slug] for a in self.members]
            return found
        return self.position[self.members[index].slug]

    def __iter__(self) -> Iterator[int]:
        if self.items is None:
            self.items = [self.position[a.slug] for a in self.members]
        return iter(self.items)
