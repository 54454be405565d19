"""Forked children: a job's result or its one-line failure comes back; a standby child gets
ready before its job is known, runs it when sent, and ends without a trace when cancelled."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from archiver.errors import BuildError
from archiver.forked import STANDBY_NICE, Forked, Standby, failure


def test_forked_work_returns_its_bytes() -> None:
    child = Forked.start(lambda: b"done " + str(os.getpid()).encode())
    assert child is not None
    code, data = child.wait()
    assert code == 0
    assert data.startswith(b"done ") and data != f"done {os.getpid()}".encode()


def test_forked_failure_is_one_line() -> None:
    def work() -> bytes:
        raise ValueError("bad\nthing happened")

    child = Forked.start(work)
    assert child is not None
    code, data = child.wait()
    assert code != 0
    error = failure(code, data, "search index update")
    assert isinstance(error, BuildError)
    assert str(error) == "search index update failed: bad thing happened"


def _ready(log: Path) -> Callable[[], Callable[[bytes], bytes]]:
    """A standby that records when it got ready and doubles the job it is sent."""

    def ready() -> Callable[[bytes], bytes]:
        log.write_text("ready")
        return lambda job: job * 2

    return ready


def test_standby_gets_ready_before_its_job_and_runs_it(tmp_path: Path) -> None:
    log = tmp_path / "log"
    standby = Standby.start(_ready(log))
    assert standby is not None
    deadline = time.monotonic() + 10
    while not log.exists() and time.monotonic() < deadline:  # ready before any job is sent
        time.sleep(0.01)
    assert log.read_text() == "ready"
    child = standby.send(b"ab")
    standby.cancel()  # a no-op once sent: the child is the caller's to wait for
    assert child.wait() == (0, b"abab")


def _may_raise_priority() -> bool:
    """Whether this process may lower its niceness again (root, or a RLIMIT_NICE allowing it)."""
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NICE)
    own = os.getpriority(os.PRIO_PROCESS, 0)
    return os.geteuid() == 0 or soft == resource.RLIM_INFINITY or 20 - soft <= own


def test_a_standby_gets_ready_at_a_lower_priority_and_runs_its_job_at_ours(
    tmp_path: Path,
) -> None:
    """It waits niced (a build with nothing to do is not slowed); its job is on the build's
    critical path, so it runs at the parent's priority wherever the system allows that."""
    own = os.getpriority(os.PRIO_PROCESS, 0)
    log = tmp_path / "ready"

    def ready() -> Callable[[bytes], bytes]:
        log.write_text(str(os.getpriority(os.PRIO_PROCESS, 0)))
        return lambda job: str(os.getpriority(os.PRIO_PROCESS, 0)).encode()

    standby = Standby.start(ready)
    assert standby is not None
    code, data = standby.send(b"job").wait()
    assert code == 0
    assert int(log.read_text()) == min(own + STANDBY_NICE, 19)
    assert int(data) == (own if _may_raise_priority() else min(own + STANDBY_NICE, 19))


def test_a_large_job_reaches_the_standby_whole(tmp_path: Path) -> None:
    standby = Standby.start(_ready(tmp_path / "log"))
    assert standby is not None
    job = os.urandom(300_000)  # larger than a pipe's buffer
    code, data = standby.send(job).wait()
    assert code == 0 and data == job * 2


def test_a_cancelled_standby_ends_at_once(tmp_path: Path) -> None:
    def slow() -> Callable[[bytes], bytes]:
        time.sleep(30)  # e.g. still importing when the build turns out to need no index
        raise AssertionError("never reached")

    standby = Standby.start(slow)
    assert standby is not None
    pid = standby.child.pid
    started = time.monotonic()
    standby.cancel()
    assert time.monotonic() - started < 5
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no zombie left behind
    standby.cancel()  # twice is harmless


def test_a_standby_failure_comes_back_as_one_line() -> None:
    def ready() -> Callable[[bytes], bytes]:
        def run(job: bytes) -> bytes:
            raise OSError(f"cannot index {job.decode()}")

        return run

    standby = Standby.start(ready)
    assert standby is not None
    code, data = standby.send(b"that").wait()
    assert code != 0
    assert str(failure(code, data, "search index update")).endswith("cannot index that")


class _Hung(Exception):
    """A wait that never ended."""


def _hung(signum: int, frame: object) -> None:
    raise _Hung


@pytest.mark.parametrize("order", ["first-waited-first", "second-waited-first"])
def test_standbys_forked_one_after_another_hold_none_of_each_others_pipes(
    tmp_path: Path, order: str
) -> None:
    """The second child must not keep a copy of the first one's job pipe: the first would
    wait for its job's end forever (and the second would block writing its result)."""
    first = Standby.start(_ready(tmp_path / "a"))
    second = Standby.start(_ready(tmp_path / "b"))
    later = Forked.start(lambda: b"plain")  # an ordinary child forked after both
    assert first is not None and second is not None and later is not None
    previous = signal.signal(signal.SIGALRM, _hung)
    signal.alarm(20)
    try:
        one, two = first.send(b"x" * 100_000), second.send(b"y" * 100_000)
        waits = [(one, b"x" * 200_000), (two, b"y" * 200_000)]  # results beyond a pipe's buffer
        for child, expected in waits if order == "first-waited-first" else waits[::-1]:
            assert child.wait() == (0, expected)
        assert later.wait() == (0, b"plain")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_child_hands_its_result_over_before_it_ends(tmp_path: Path) -> None:
    """deliver: the parent has the result while the child still works (it saves state the
    parent needs only later); wait then gives the status of that rest."""
    from archiver.forked import deliver

    done = tmp_path / "saved"

    def work() -> bytes:
        deliver(b"files " * 40_000)  # larger than a pipe's buffer
        time.sleep(0.5)
        done.write_text("state")
        return b""

    child = Forked.start(work)
    assert child is not None
    assert child.result() == b"files " * 40_000
    assert not done.exists()  # handed over before the rest of the work
    assert child.wait() == (0, b"")
    assert done.read_text() == "state"


def test_a_failure_before_or_after_handing_over_still_comes_back_as_one_line() -> None:
    from archiver.forked import deliver

    def early_failure() -> bytes:
        raise OSError("disk full while planning")

    def late_failure() -> bytes:
        deliver(b"files")
        raise OSError("disk full while saving")

    first = Forked.start(early_failure)
    assert first is not None
    assert first.result() is None  # nothing handed over: wait says why
    code, data = first.wait()
    assert str(failure(code, data, "update")) == "update failed: disk full while planning"
    second = Forked.start(late_failure)
    assert second is not None
    assert second.result() == b"files"
    code, data = second.wait()
    assert str(failure(code, data, "update")) == "update failed: disk full while saving"


def test_reaping_an_abandoned_fast_build_waits_for_whoosh_and_ends_the_client_child(
    tmp_path: Path,
) -> None:
    """A fast path that does not apply: the Whoosh child finishes (the normal build writes the
    same index next), the client index child is ended at once rather than waited for."""
    from typing import cast

    from archiver.quickchild import IndexChild
    from archiver.quickstate import QuickState

    def finishes(name: str, delay: float) -> Callable[[], bytes]:
        def work() -> bytes:
            time.sleep(delay)
            (tmp_path / name).write_text("done", encoding="utf-8")
            return b""

        return work

    whoosh = Forked.start(finishes("whoosh", 0.5), collect=False)
    client = Forked.start(finishes("client", 3), collect=False)
    assert whoosh is not None and client is not None
    child = IndexChild(whoosh, cast(QuickState, None))
    child.client_child = client
    pid = client.pid
    started = time.monotonic()
    child.reap()
    assert (tmp_path / "whoosh").exists()  # waited for
    assert time.monotonic() - started < 2.5
    time.sleep(3.5)
    assert not (tmp_path / "client").exists()  # ended, not left running
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # and reaped
