"""The one safe join for every output path, atomic file writes and the archive lock."""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
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
    if not _real(target).is_relative_to(_resolved(str(root))):
        raise UnsafePathError(f"unsafe output path {relative!r}")
    return target


def _real(target: Path) -> Path:
    """The real path of target: its folder's (cached) real path, then its own link if it is one."""
    if os.path.islink(target):
        return Path(os.path.realpath(target))
    return _resolved(str(target.parent)) / target.name


@functools.lru_cache(maxsize=4096)
def _resolved(folder: str) -> Path:
    """A folder's real path (cached: output folders do not move during a run)."""
    return Path(os.path.realpath(folder))


ORIGINALS = "originals"
"""The folder of content/ holding the kept originals (never an article folder)."""
_TEMP_NUMBERS = itertools.count()
"""Numbers temporary file names within this process (with the pid they never collide)."""


def atomic_write(path: Path, data: bytes) -> None:
    """Write bytes to path atomically (temporary file in the same folder, then rename)."""
    fd, tmp = _create_temporary(path)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        mode = _existing_mode(path)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _create_temporary(path: Path) -> tuple[int, str]:
    """Create a hidden temporary file beside path (folders made on demand); (fd, name).

    New files get the usual 0666 minus the umask, as ``open()`` would give them.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    for _attempt in range(100):
        tmp = f"{path.parent}/.{path.name}.{os.getpid()}.{next(_TEMP_NUMBERS)}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:  # left over by a crashed run with the same pid: take another
            continue
    raise FileExistsError(f"cannot create a temporary file beside {path}")


def _existing_mode(path: Path) -> int | None:
    """An existing file's permissions (kept when it is replaced); None for a new file."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return None


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
