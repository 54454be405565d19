"""Work in a forked child process: its result, or its failure as one line, comes back by pipe.

Search index updates run this way while the build renders (search.index.IndexJob for a cold
build, quickchild.IndexChild for a fast edit). The child never returns into the caller's code:
it runs the work, writes the result (or ``Kind\\nmessage``) to the pipe and exits.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import struct
import sys
import threading
from collections.abc import Callable
from typing import NoReturn

from archiver.errors import BuildError, LockedError

FAILED = 1
"""The child's exit status when its work raised."""

_HELD: set[int] = set()
"""Pipe ends this process holds for its children (result reads, job writes). A child forked
later closes its inherited copies first: a copy of a job pipe's write end in a sibling would
keep the standby waiting for its job's end forever."""


class ChildExit(Exception):
    """Raised by a child's work to exit with a given status and no result."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


_EARLY = b"\x00early\x00"
"""The mark before a result a child hands over early (deliver), then its length."""

_OUT: list[int] = []
"""In a forked child: the pipe end its result goes to (deliver writes there)."""


def deliver(data: bytes) -> None:
    """In a forked child: hand the parent its result now and go on working (saving state the
    parent needs only later); the parent reads it with Forked.result, and its wait then gives
    the exit status of the rest of the work."""
    if not _OUT:
        raise RuntimeError("deliver: not in a forked child")
    _write_all(_OUT[0], _EARLY + struct.pack("<Q", len(data)) + data)


class Forked:
    """A forked child running one piece of work (see start); wait() or stop() reaps it."""

    def __init__(self, pid: int, fd: int, group: bool) -> None:
        self.pid, self.fd, self.group = pid, fd, group
        self.buffer = b""
        """Bytes read by result() that were not an early result (wait returns them)."""

    @classmethod
    def start(
        cls,
        work: Callable[[], bytes],
        *,
        group: bool = False,
        nice: int = 0,
        collect: bool = True,
    ) -> Forked | None:
        """Fork a child running work(); None where forking is unavailable.

        group: the child leads its own process group, so stop() also ends processes it starts;
        nice: lower the child's priority by this much (the parent's work goes first);
        collect=False: no garbage collection in a short-lived child (a collection would walk,
        and so copy, the parent's heap).
        """
        if not hasattr(os, "fork"):
            return None
        _flush()
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child process (checked by the callers' tests)
            os.close(read)
            for held in _HELD:  # the parent's ends of its other children's pipes
                with contextlib.suppress(OSError):
                    os.close(held)
            _HELD.clear()
            if not collect:
                gc.disable()
            _child(write, work, group, nice)
        os.close(write)
        _HELD.add(read)
        if group:
            with contextlib.suppress(OSError):
                os.setpgid(pid, pid)  # (the child does so too: whichever runs first)
        return cls(pid, read, group)

    def result(self) -> bytes | None:
        """The result the child handed over early (deliver), once it has; None when it ended
        without doing so (wait then gives its status and what it wrote)."""
        head = self._read(len(_EARLY) + 8)
        if head[: len(_EARLY)] != _EARLY or len(head) < len(_EARLY) + 8:
            self.buffer = head
            return None
        (size,) = struct.unpack("<Q", head[len(_EARLY) :])
        data = self._read(size)
        if len(data) < size:  # it died while writing it
            self.buffer = data
            return None
        return data

    def _read(self, size: int) -> bytes:
        """Up to size bytes from the child (fewer only when it closed its end)."""
        chunks, left = [], size
        while left > 0 and (chunk := os.read(self.fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def wait(self) -> tuple[int, bytes]:
        """Wait for the child: its exit status and everything it wrote (after any early
        result read by result())."""
        chunks = [self.buffer]
        while chunk := os.read(self.fd, 65536):
            chunks.append(chunk)
        _release(self.fd)
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        return os.waitstatus_to_exitcode(status), b"".join(chunks)

    def stop(self, *, kill: bool = False) -> None:
        """Abandon the child (an error or Ctrl-C elsewhere): end it when kill, then reap it."""
        if not self.pid:
            return
        if kill:
            with contextlib.suppress(OSError):
                if self.group:
                    os.killpg(self.pid, signal.SIGTERM)
                else:
                    os.kill(self.pid, signal.SIGTERM)
        with contextlib.suppress(OSError):
            _release(self.fd)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        self.pid = 0


BACKGROUND_NICE = 4
"""Niceness of a build's background child (a search index update started early): the build's
own chain (plan, render) goes first, the child takes the CPU time left over, and both cores
stay busy to the end."""

STANDBY_NICE = 5
"""A standby's lower priority while it gets ready: a build that turns out to have nothing to do
is not slowed by children getting ready for a job that does not come. The job it is sent runs
at the parent's priority again where the system allows raising it (root, or RLIMIT_NICE)."""


class Standby:
    """A forked child that gets ready (imports, loads) while the parent is still finding out
    what it will be asked, then runs the one job sent to it (send), or ends unused (cancel).

    ready() runs in the child and returns the job's function, which receives the job's bytes
    and returns the result's bytes (its failure comes back as with Forked.start).
    """

    def __init__(self, child: Forked, jobs: int) -> None:
        self.child, self.jobs = child, jobs
        self.sent = False

    @classmethod
    def start(cls, ready: Callable[[], Callable[[bytes], bytes]]) -> Standby | None:
        """Fork the child; None where forking is unavailable or unsafe (other threads)."""
        if not hasattr(os, "fork") or threading.active_count() > 1:
            return None
        read, write = os.pipe()
        priority = os.getpriority(os.PRIO_PROCESS, 0)

        def work() -> bytes:  # pragma: no cover - runs in the forked child
            run = ready()  # (the parent's end, write, was closed with the other held ends)
            chunks = []
            while chunk := os.read(read, 65536):
                chunks.append(chunk)
            if not chunks:
                raise ChildExit(0)  # cancelled
            with contextlib.suppress(OSError):  # the job goes at the parent's priority, where
                os.setpriority(os.PRIO_PROCESS, 0, priority)  # the system lets us raise it
            return run(b"".join(chunks))

        _HELD.add(write)  # so the child closes its copy: reading the job then sees its end
        child = Forked.start(work, collect=False, nice=STANDBY_NICE)
        os.close(read)
        if child is None:
            _release(write)
            return None
        return cls(child, write)

    def send(self, job: bytes) -> Forked:
        """Hand the child its job; the returned Forked is waited for (or stopped) as usual."""
        self.sent = True
        try:
            _write_all(self.jobs, job)
        except OSError:  # the child is gone: its exit status tells why when it is waited for
            pass
        finally:
            _release(self.jobs)
        return self.child

    def cancel(self) -> None:
        """End the child unless it was sent its job (then its Forked is the caller's)."""
        if self.sent:
            return
        self.sent = True
        _release(self.jobs)
        self.child.stop(kill=True)


def _release(fd: int) -> None:
    """Close a pipe end this process held for a child."""
    _HELD.discard(fd)
    os.close(fd)


def failure(code: int, data: bytes, what: str) -> BuildError | LockedError:
    """The one-line error for a child that failed with status code after writing data."""
    kind, _, message = data.decode("utf-8", "replace").partition("\n")
    if kind == "LockedError":
        return LockedError(message)
    return BuildError(f"{what} failed: {message or kind or f'exit status {code}'}")


def _child(fd: int, work: Callable[[], bytes], group: bool, nice: int) -> NoReturn:
    """Run the work in the child and exit with its status (never returns)."""
    code = FAILED
    _OUT[:] = [fd]
    try:
        if group:
            os.setpgid(0, 0)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if nice:
            with contextlib.suppress(OSError):
                os.nice(nice)
        _write_all(fd, work())
        code = 0
    except ChildExit as exc:
        code = exc.code
    except BaseException as exc:
        line = " ".join(str(exc).split()) or type(exc).__name__
        with contextlib.suppress(OSError):
            os.write(fd, f"{type(exc).__name__}\n{line}".encode("utf-8", "replace")[:8192])
    finally:
        _flush()
        os._exit(code)


def _write_all(fd: int, data: bytes) -> None:
    """Write every byte to a pipe (os.write may write only part of a large buffer)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _flush() -> None:
    """Flush stdout and stderr (before forking, and before the child exits)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
