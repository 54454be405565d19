"""What the client index takes from each article: its words by the list they go to, and the
inversion of many articles' words into per-term doc-id lists."""

from __future__ import annotations

import os
from collections import Counter, defaultdict, deque
from collections.abc import Sequence
from itertools import chain, repeat

from archiver.memory import no_gc
from archiver.model import Article
from archiver.search.clientcache import Kinds
from archiver.search.tokenize import index_words, words

LIST_TITLE, LIST_STRONG, LIST_WEAK = 0, 1, 2
POOL_MIN = 2000
"""At least this many articles to tokenise are shared among worker processes."""


def contributions(articles: Sequence[Article]) -> list[Kinds]:
    """contribution() of each article; many are shared among worker processes."""
    workers = min(os.cpu_count() or 1, 4)
    if len(articles) < POOL_MIN or workers < 2:
        return [contribution(a) for a in articles]
    size = -(-len(articles) // (workers * 4))
    chunks = [list(articles[i : i + size]) for i in range(0, len(articles), size)]
    import multiprocessing  # here: a one-article update (a forked child) never needs them
    from concurrent.futures import ProcessPoolExecutor

    try:
        context = multiprocessing.get_context("spawn")  # safe next to threads
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            return [kinds for done in pool.map(contribution_chunk, chunks) for kinds in done]
    except (OSError, RuntimeError, AssertionError):  # no processes here (e.g. a daemon)
        return [contribution(a) for a in articles]


def contribution_chunk(articles: Sequence[Article]) -> list[Kinds]:
    """contribution() of a batch of articles (runs in a worker process)."""
    return [contribution(a) for a in articles]


def contribution(article: Article) -> Kinds:
    """One article's words, space-joined, by the list they go to: title, strong, weak."""
    best: dict[str, int] = {}
    body = Counter(index_words(article.body))
    for word, count in body.items():
        best[word] = LIST_STRONG if count >= 3 else LIST_WEAK
    for word in words(article.summary or ""):
        best[word] = LIST_STRONG
    for word in words(" ".join((*article.tags, *article.authors, article.source or ""))):
        best[word] = min(best.get(word, LIST_STRONG), LIST_STRONG)
    for word in words(article.title):
        best[word] = LIST_TITLE
    lists: tuple[list[str], list[str], list[str]] = ([], [], [])
    for word, kind in best.items():
        lists[kind].append(word)
    return (" ".join(lists[0]), " ".join(lists[1]), " ".join(lists[2]))


@no_gc()  # ~300k long-lived lists are made here: full collections would rescan them
def invert(contributions: Sequence[Kinds]) -> dict[str, list[list[int]]]:
    """Invert per-doc contributions into per-term doc-id lists (C loops: ~6M ids at 10k)."""
    lists: tuple[defaultdict[str, list[int]], ...] = tuple(defaultdict(list) for _ in range(3))
    sink: deque[None] = deque(maxlen=0)
    for doc, texts in enumerate(contributions):
        for table, text in zip(lists, texts, strict=True):
            found = text.split()
            sink.extend(map(list.append, map(table.__getitem__, found), repeat(doc, len(found))))
    title, strong, weak = lists
    terms = dict.fromkeys(chain(title, strong, weak))
    return {t: [title.get(t, []), strong.get(t, []), weak.get(t, [])] for t in terms}


def kind_map(kinds: Kinds) -> dict[str, int]:
    """Word -> list number of one contribution."""
    return {word: kind for kind, text in enumerate(kinds) for word in text.split()}
