"""The client index's build state: per article its words and display entry, plus the encoded
term lists and file bytes of the previous build, so rebuilds only redo what changed.

Stored as a pickle in the build-state folder (written atomically); a missing, damaged or stale
file (other code version) just means a full computation.
"""

from __future__ import annotations

import contextlib
import hashlib
import pickle
import sqlite3
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archiver.memory import no_gc
from archiver.model import Article
from archiver.paths import atomic_write

CACHE_NAME = "client-index.pickle"
WORDS_NAME = "client-words.sqlite"
CACHE_VERSION = 2
Kinds = tuple[str, str, str]
"""An article's words, space-joined, for the title, strong and weak lists."""


@dataclass
class ClientState:
    """What the previous build computed, kept in the build state to make rebuilds incremental."""

    order: list[str]
    """Slugs in doc-id order."""
    docs: dict[str, tuple[str, list[str], int]] = field(default_factory=dict)
    """Per slug: fingerprint, display entry and the length of its JSON (words: WordStore)."""
    encoded: dict[str, str] = field(default_factory=dict)
    """Per term its three encoded id lists, space-joined (one string: quicker to store)."""
    terms: list[str] = field(default_factory=list)
    """The terms of the term shards (stop words left out), sorted."""
    facets: tuple[Any, Any] | None = None
    """(per doc its source and tags, what they give the meta and tags files)."""
    files: dict[str, tuple[Any, bytes]] = field(default_factory=dict)
    """Per file name: the key its content was made from, and its bytes."""
    years: list[list[int]] = field(default_factory=list)
    """The meta file's year ranges (they follow from the doc order and dates)."""
    generation: str = ""
    """Token of the build this state belongs to (see client_pages_edited); "" when unknown."""
    version: str = ""

    def __getstate__(self) -> dict[str, Any]:
        """Pickled with the term lists as two long strings (10^5 small objects are slow to
        pickle and unpickle; splitting a string is quick)."""
        fields = dict(self.__dict__)
        encoded, terms = fields.pop("encoded"), fields.pop("terms")
        from archiver.search.tokenize import STOP_WORDS  # here: it imports markup

        stop = [t for t in sorted(STOP_WORDS) if t in encoded]  # the terms left out of terms
        names = [*terms, *stop]
        fields["terms"] = len(terms)
        fields["encoded"] = ("\n".join(names), "\n".join(map(encoded.__getitem__, names)))
        return fields

    def __setstate__(self, fields: dict[str, Any]) -> None:
        """Inverse of __getstate__."""
        joined, values = fields.pop("encoded")
        count = fields.pop("terms")
        names = joined.split("\n") if joined else []
        lists = values.split("\n") if joined else []
        fields["encoded"] = dict(zip(names, lists, strict=True))
        fields["terms"] = names[:count]
        self.__dict__.update(fields)


def _code_version() -> str:
    """Cache key of the code that shapes the index (client*, tokenize, markup modules)."""
    here = Path(__file__).parent
    digest = hashlib.blake2b(str(CACHE_VERSION).encode(), digest_size=12)
    for path in (
        here / "client.py",
        here / "clientcodec.py",
        here / "clientwords.py",
        here / "tokenize.py",
        here.parent / "markup.py",
        here / "clientcache.py",
        here / "clientfiles.py",
        here / "clientsplice.py",
    ):
        digest.update(path.read_bytes())
    return digest.hexdigest()


_LAST: dict[Path, ClientState] = {}
"""The state this process saved (or preloaded) last, by state folder (one entry): a
long-running process such as ``archiver serve`` does not read back what it wrote. Used only
when asked for its build's token (tokens are random: the same token means the very build
that saved it)."""


def load_state(state_dir: Path, generation: str = "") -> ClientState | None:
    """The previous build's client-index state, or None when missing, stale or unreadable.

    generation: the token of the build whose state is wanted; the state this process saved
    for that build is returned without reading the file.
    """
    version = _code_version()
    last = _LAST.get(state_dir)
    if generation and last is not None and last.generation == generation:
        return last if last.version == version else None
    try:
        with no_gc():
            state = pickle.loads((state_dir / CACHE_NAME).read_bytes())
    except Exception:  # a missing or damaged cache only costs a full computation
        return None
    if not isinstance(state, ClientState) or state.version != version:
        return None
    return state


def preload(state_dir: Path, generation: str) -> bool:
    """Read the state of build generation ahead of its use (e.g. in a forked child while its
    parent still scans the content): load_state(state_dir, generation) then returns it from
    memory. False: no such state (load_state will find none either)."""
    state = load_state(state_dir) if generation else None
    if state is None or state.generation != generation:
        return False
    _LAST.clear()
    _LAST[state_dir] = state
    return True


def save_state(state_dir: Path, state: ClientState) -> None:
    """Store the state atomically for the next build (and remember it in this process)."""
    _LAST.clear()
    state.version = _code_version()
    with no_gc():
        data = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    atomic_write(state_dir / CACHE_NAME, data)
    _LAST[state_dir] = state


class WordStore:
    """Each article's words (its contribution) by slug and fingerprint, in SQLite next to the
    state, so a rebuild reads and writes only the articles that changed.

    A row is only used when its fingerprint is the one asked for: rows written by a build that
    crashed before saving its state are never mistaken for the state's articles.
    """

    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        path = state_dir / WORDS_NAME
        try:
            self.db = self._open(path)
        except sqlite3.DatabaseError:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            self.db = self._open(path)

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        """Open (creating if needed); emptied when written by other code."""
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("PRAGMA synchronous=OFF")
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute(
            "CREATE TABLE IF NOT EXISTS words (slug TEXT PRIMARY KEY, mark TEXT NOT NULL,"
            " title TEXT NOT NULL, strong TEXT NOT NULL, weak TEXT NOT NULL)"
        )
        version = _code_version()
        row = db.execute("SELECT value FROM meta WHERE key='code'").fetchone()
        if row is None or row[0] != version:
            db.executescript("BEGIN; DELETE FROM words; COMMIT;")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('code', ?)", (version,))
        return db

    def read(self, wanted: Mapping[str, str]) -> dict[str, Kinds]:
        """The words of each wanted slug whose stored fingerprint is the one given."""
        out: dict[str, Kinds] = {}
        slugs = sorted(wanted)
        if len(slugs) > 500:  # most of the table: one scan beats many lookups
            rows = self.db.execute("SELECT slug, mark, title, strong, weak FROM words")
            out = {r[0]: (r[2], r[3], r[4]) for r in rows if wanted.get(r[0]) == r[1]}
            return out
        for start in range(0, len(slugs), 500):
            chunk = slugs[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT slug, mark, title, strong, weak FROM words WHERE slug IN ({marks})"
            for slug, mark, *kinds in self.db.execute(query, chunk):
                if wanted[slug] == mark:
                    out[slug] = (kinds[0], kinds[1], kinds[2])
        return out

    def write(
        self, rows: Mapping[str, tuple[str, Kinds]], keep: Collection[str] | None = None
    ) -> None:
        """Store new words (slug -> fingerprint, words); with keep, forget the other slugs."""
        from archiver.cache import transaction

        with transaction(self.db):
            self.db.executemany(
                "INSERT OR REPLACE INTO words VALUES (?, ?, ?, ?, ?)",
                [(slug, mark, *kinds) for slug, (mark, kinds) in rows.items()],
            )
            if keep is not None:
                slugs = [s for (s,) in self.db.execute("SELECT slug FROM words")]
                gone = [(s,) for s in slugs if s not in keep]
                self.db.executemany("DELETE FROM words WHERE slug=?", gone)

    def close(self) -> None:
        """Close the database."""
        self.db.close()


def fingerprint(article: Article) -> str:
    """A hash of every field the client index reads from an article."""
    published = article.published.isoformat() if article.published else ""
    head = (
        article.slug,
        article.title,
        article.summary or "",
        "\x1f".join(article.tags),
        "\x1f".join(article.authors),
        article.source or "",
        published,
    )
    digest = hashlib.sha256("\x1e".join((*head, "")).encode("utf-8", "surrogatepass"))
    digest.update(article.body.encode("utf-8", "surrogatepass"))  # no joined copy of the body
    return digest.hexdigest()[:24]  # sha256: the fastest hash here (CPU instructions for it)
