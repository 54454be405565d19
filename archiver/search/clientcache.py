"""The client index's build state: per article its words and display entry, plus the encoded
term lists and file bytes of the previous build, so rebuilds only redo what changed.

Stored as a pickle in the build-state folder (written atomically); a missing, damaged or stale
file (other code version) just means a full computation.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archiver.model import Article
from archiver.paths import atomic_write

CACHE_NAME = "client-index.pickle"
CACHE_VERSION = 1
Kinds = tuple[str, str, str]
"""An article's words, space-joined, for the title, strong and weak lists."""


@dataclass
class ClientState:
    """What the previous build computed, kept in the build state to make rebuilds incremental."""

    order: list[str]
    """Slugs in doc-id order."""
    docs: dict[str, tuple[str, Kinds, list[str]]] = field(default_factory=dict)
    """Per slug: fingerprint, contribution, display entry."""
    encoded: dict[str, list[str]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    files: dict[str, tuple[Any, bytes]] = field(default_factory=dict)
    """Per file name: the key its content was made from, and its bytes."""
    version: str = ""


def _code_version() -> str:
    """Cache key of the code that shapes the index (client, tokenize, markup and this module)."""
    here = Path(__file__).parent
    digest = hashlib.blake2b(str(CACHE_VERSION).encode(), digest_size=12)
    for path in (
        here / "client.py",
        here / "tokenize.py",
        here.parent / "markup.py",
        here / "clientcache.py",
    ):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load_state(state_dir: Path) -> ClientState | None:
    """The previous build's client-index state, or None when missing, stale or unreadable."""
    try:
        state = pickle.loads((state_dir / CACHE_NAME).read_bytes())
    except Exception:  # a missing or damaged cache only costs a full computation
        return None
    if not isinstance(state, ClientState) or state.version != _code_version():
        return None
    return state


def save_state(state_dir: Path, state: ClientState) -> None:
    """Store the state atomically for the next build."""
    state.version = _code_version()
    atomic_write(state_dir / CACHE_NAME, pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))


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
    digest = hashlib.blake2b(
        "\x1e".join((*head, "")).encode("utf-8", "surrogatepass"), digest_size=12
    )
    digest.update(article.body.encode("utf-8", "surrogatepass"))  # no joined copy of the body
    return digest.hexdigest()
