"""The one safe join for every output path, atomic file writes and the archive lock."""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from archiver.errors import LockedError, UnsafePathError


def safe_join(root: Path, relative: str) -> Path:
    """Join a relative POSIX path under root, refusing anything that could escape it."""
    if not relative or "\x00" in relative or "\\" in relative:
        raise UnsafePathError(f"unsafe output path {relative!r}")
    pure = PurePosixPath(relative)
    if pure.is_absolute() or any(part in ("", ".", "..") for part in relative.split("/")):
        raise UnsafePathError(f"unsafe output path {relative!r}")
    target = root.joinpath(*pure.parts)
    resolved_root = _resolved(str(root))
    if not Path(os.path.realpath(target)).is_relative_to(resolved_root):
        raise UnsafePathError(f"unsafe output path {relative!r}")
    return target


@functools.lru_cache(maxsize=64)
def _resolved(root: str) -> Path:
    """A root folder's real path (cached: output roots do not move during a run)."""
    return Path(os.path.realpath(root))


def atomic_write(path: Path, data: bytes) -> None:
    """Write bytes to path atomically (temporary file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _mode_for(path: Path) -> int:
    """Keep an existing file's permissions; new files get the usual 0666 minus the umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


@functools.lru_cache(maxsize=1)
def _umask() -> int:
    """The process umask (read once: reading it means setting it)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 text atomically."""
    atomic_write(path, text.encode("utf-8"))


@contextlib.contextmanager
def archive_lock(state_dir: Path, what: str) -> Iterator[None]:
    """Hold an exclusive, non-blocking lock on the archive; a second holder gets one clear line."""
    import fcntl

    state_dir.mkdir(parents=True, exist_ok=True)
    lock_path = state_dir / "lock"
    handle = lock_path.open("a+")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise LockedError(
                f"another archiver process is already working on this archive "
                f"({lock_path}); wait for it to finish before running {what}"
            ) from None
        yield
    finally:
        handle.close()
