"""``archiver serve``: build, serve ``site/`` on 127.0.0.1, rebuild on change and live-reload.

The HTTP side (files, the injected live-reload script, Server-Sent Events) is archiver.livereload;
this module watches the inputs and rebuilds. A failed rebuild keeps the last good site served.
"""

from __future__ import annotations

import importlib
import threading
import time
import webbrowser
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from archiver.config import CONFIG_NAME, Settings, load_settings
from archiver.errors import ArchiverError
from archiver.livereload import LiveState, make_server
from archiver.quick import announcing
from archiver.report import Reporter

Builder = Callable[..., Any]
SMALL_EDIT = 20
WARM_MODULES = (
    "archiver.markup",
    "archiver.taxonomy",
    "archiver.render",
    "archiver.writer",
    "archiver.search.index",
    "archiver.search.client",
)
"""Rebuilds after at most this many changed articles run in-process (jobs=1)."""


class Preview:
    """Rebuilds the site when its inputs change and tells the pages."""

    def __init__(
        self,
        settings: Settings,
        reporter: Reporter,
        live: LiveState,
        builder: Builder,
        config: Path | None = None,
    ) -> None:
        self.settings = settings
        self.reporter = reporter
        self.live = live
        self.builder = builder
        self.config = config
        self.strict = False
        self.built_at = 0

    def build(self, *, first: bool = False, jobs: int | None = None) -> bool:
        """Build once; on failure keep the last good site and show the error. True if built."""
        self.built_at = time.time_ns()
        options: dict[str, Any] = {"reporter": self.reporter, "strict": self.strict}
        if jobs is not None:
            options["jobs"] = jobs
        announced: list[bool] = []

        def reload_now() -> None:
            """The fast path's pages are in place: reload before the search index update."""
            if not first:
                announced.append(True)
                self.live.publish(error=None, reload=True)

        try:
            with announcing(reload_now):
                report = self.builder(self.settings, **options)
        except ArchiverError as exc:
            self._failed(exc.message)
            return False
        except Exception as exc:  # a bug in a build stage must not stop the preview
            self._failed(f"{type(exc).__name__}: {exc}")
            return False
        errors = tuple(getattr(report, "errors", ()))
        for line in errors:
            self.reporter.problem(line)
        if first:
            self.strict = not errors
        seconds = float(getattr(report, "seconds", 0.0))
        self.reporter.info(f"Built in {seconds:.2f} s" + _summary(report))
        self.live.publish(error="\n".join(errors) or None, reload=not first and not announced)
        return True

    def reload_settings(self) -> bool:
        """Re-read archiver.toml after it changed; False (error shown) when it is invalid."""
        try:
            present = self.config if self.config and self.config.is_file() else None
            self.settings = load_settings(present, cwd=self.settings.root)
        except ArchiverError as exc:
            self._failed(exc.message)
            return False
        return True

    def watch(
        self, stop: threading.Event | None = None, on_ready: Callable[[], None] | None = None
    ) -> None:
        """Watch content/, templates/ and archiver.toml until stop is set (or Ctrl-C).

        on_ready runs once the watcher is live; edits made before that are caught up.
        """
        import watchfiles

        roots = self.watched_folders()
        ready = False
        config_stamp = _stamp(self.config)
        changes: Iterable[set[tuple[Any, str]]] = watchfiles.watch(
            *roots,
            watch_filter=self._wanted,
            debounce=400,
            step=30,
            rust_timeout=400,
            yield_on_timeout=True,
            stop_event=stop,
        )
        for batch in changes:
            if not ready:
                ready = True
                if on_ready is not None:
                    on_ready()
                if not batch and _newer_than(roots, self.built_at):
                    self.reporter.info("Changed while starting; rebuilding")
                    self.build()
            stamp = _stamp(self.config)
            config_changed = stamp != config_stamp
            config_stamp = stamp
            if not batch and not config_changed:
                continue
            self.reporter.info(_describe_changes(batch, config_changed))
            if config_changed and not self.reload_settings():
                continue
            self.build(jobs=1 if _small_edit(batch, config_changed) else None)

    def watched_folders(self) -> list[Path]:
        """The existing input folders (content, templates), else the archive folder."""
        folders = [self.settings.content_path, self.settings.path(self.settings.templates_dir)]
        existing = [f for f in folders if f.is_dir()]
        return existing or [self.settings.root.resolve()]

    def _wanted(self, change: Any, path: str) -> bool:
        """Ignore hidden/temporary files and anything under the output or state folders."""
        name = Path(path).name
        if name.startswith((".", "#")) or name.endswith(("~", ".tmp", ".swp", ".swx")):
            return False
        resolved = Path(path)
        outputs = (self.settings.output_path, self.settings.state_path)
        return not any(resolved.is_relative_to(o) for o in outputs)

    def _failed(self, message: str) -> None:
        """Report a failed (re)build in the terminal and on the page."""
        self.reporter.problem(f"rebuild failed (still serving the last good site): {message}")
        self.live.publish(error=message, reload=False)


def serve(
    settings: Settings,
    reporter: Reporter,
    *,
    port: int = 8000,
    host: str = "127.0.0.1",
    open_browser: bool = False,
    config: Path | None = None,
    builder: Builder | None = None,
    stop: threading.Event | None = None,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Build, serve and watch until Ctrl-C (or stop is set); returns cleanly."""
    if builder is None:
        builder = importlib.import_module("archiver.build").build_site
    live = LiveState()
    config = config or settings.root / CONFIG_NAME
    preview = Preview(settings, reporter, live, builder, config)
    server = make_server(settings.output_path, live, reporter, host, port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2})
    try:
        preview.build(first=True)
        _warm_up(preview.settings)
        thread.start()
        url = f"http://{host}:{server.server_address[1]}/"

        def announce() -> None:
            reporter.info(f"Serving {settings.output_path} at {url} (Ctrl-C to stop)")
            if ready is not None:
                ready(url)
            if open_browser:
                webbrowser.open(url)

        preview.watch(stop, announce)
    except KeyboardInterrupt:
        pass
    finally:
        live.close()
        if thread.is_alive():
            server.shutdown()
            thread.join(timeout=5)
        server.server_close()
        reporter.info("Stopped.")


def _warm_up(settings: Settings) -> None:
    """Import the build stages and remember the articles now, so the first rebuild after an
    edit is as fast as the rest."""
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
    from archiver.quickstate import warm_memory

    warm_memory(settings.state_path)


def _newer_than(folders: Iterable[Path], since_ns: int) -> bool:
    """Whether any file under folders was modified after since_ns."""
    for folder in folders:
        for path in folder.rglob("*"):
            try:
                if path.stat().st_mtime_ns > since_ns:
                    return True
            except OSError:
                continue
    return False


def _stamp(path: Path | None) -> tuple[int, int] | None:
    """(mtime_ns, size) of a file, None when missing."""
    if path is None:
        return None
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def _small_edit(batch: set[tuple[Any, str]], config_changed: bool) -> bool:
    """A few article files changed: rebuilding in-process beats starting worker processes."""
    paths = {p for _, p in batch}
    return not config_changed and len(paths) <= SMALL_EDIT and all(p.endswith(".md") for p in paths)


def _describe_changes(batch: set[tuple[Any, str]], config_changed: bool) -> str:
    """One line naming what changed."""
    names = sorted({Path(p).name for _, p in batch})
    if config_changed:
        names.insert(0, CONFIG_NAME)
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"Changed: {shown}; rebuilding"


def _summary(report: Any) -> str:
    """': N written, M reused, K deleted' from a BuildReport (counts or collections)."""
    parts = []
    for name in ("written", "reused", "deleted"):
        value = getattr(report, name, None)
        if value is None:
            continue
        count = value if isinstance(value, int) else len(value)
        parts.append(f"{count} {name}")
    return (": " + ", ".join(parts)) if parts else ""
