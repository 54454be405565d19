"""The preview server's HTTP side: site files, the injected live-reload script, SSE events.

The script is added to HTML responses only as they are served (never written into ``site/``).
It listens to Server-Sent Events on ``/__archiver__/events``: a new build version reloads the
page; a failed rebuild shows an overlay while the last good site keeps being served.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archiver.errors import ArchiverError
from archiver.report import Reporter

PREFIX = "/__archiver__/"
SCRIPT_PATH = PREFIX + "livereload.js"
EVENTS_PATH = PREFIX + "events"

LIVE_RELOAD_JS = """\
(function () {
  "use strict";
  var me = document.currentScript;
  var version = Number(new URL(me.src, location.href).searchParams.get("v"));
  var source = new EventSource("/__archiver__/events?v=" + version);
  function overlay(message) {
    var box = document.getElementById("archiver-error-overlay");
    if (!message) { if (box) { box.remove(); } return; }
    if (!box) {
      box = document.createElement("pre");
      box.id = "archiver-error-overlay";
      box.setAttribute("role", "alert");
      box.title = "Click to hide";
      var s = box.style;
      s.position = "fixed"; s.top = "0"; s.left = "0"; s.right = "0"; s.bottom = "0";
      s.margin = "0"; s.padding = "2em"; s.overflow = "auto"; s.zIndex = "2147483647";
      s.background = "rgba(40, 0, 0, 0.94)"; s.color = "#fff"; s.whiteSpace = "pre-wrap";
      s.font = "14px/1.5 ui-monospace, monospace";
      box.addEventListener("click", function () { box.remove(); });
      document.body.appendChild(box);
    }
    box.textContent = "archiver serve: the last rebuild failed; this is the last good site.\\n\\n"
      + message;
  }
  source.onmessage = function (event) {
    var state = JSON.parse(event.data);
    if (state.version !== version) { source.close(); location.reload(); return; }
    overlay(state.error);
  };
})();
"""


class LiveState:
    """The build version and last rebuild error, shared by the watcher and the HTTP threads."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.version = 1
        self.error: str | None = None
        self.closed = False

    def publish(self, *, error: str | None, reload: bool) -> None:
        """Announce a rebuild result: a new version (pages reload) and/or an error overlay."""
        with self._cond:
            if reload:
                self.version += 1
            self.error = error
            self._cond.notify_all()

    def snapshot(self) -> tuple[int, str | None]:
        """The current (version, error)."""
        with self._cond:
            return self.version, self.error

    def wait_change(self, seen: tuple[int, str | None], timeout: float) -> tuple[int, str | None]:
        """Block until the state differs from seen (or timeout / close); returns the state."""
        with self._cond:
            self._cond.wait_for(
                lambda: self.closed or (self.version, self.error) != seen, timeout=timeout
            )
            return self.version, self.error

    def close(self) -> None:
        """Wake every waiting event stream so the server can stop."""
        with self._cond:
            self.closed = True
            self._cond.notify_all()


def inject(page: bytes, version: int) -> bytes:
    """An HTML page with the live-reload script tag added before ``</body>``."""
    tag = f'<script src="{SCRIPT_PATH}?v={version}"></script>'.encode()
    at = page.lower().rfind(b"</body>")
    return page + tag if at < 0 else page[:at] + tag + page[at:]


class PreviewHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site folder, adding the live-reload script to HTML responses."""

    live: LiveState
    reporter: Reporter

    def do_GET(self) -> None:
        """Serve the live-reload endpoints, HTML pages (with the script) or plain files."""
        path = urlsplit(self.path).path
        if path == SCRIPT_PATH:
            self._send(200, "text/javascript; charset=utf-8", LIVE_RELOAD_JS.encode())
            return
        if path == EVENTS_PATH:
            self._events()
            return
        target = Path(self.translate_path(self.path))
        if target.is_dir() and path.endswith("/"):
            target = target / "index.html"
        if target.is_file() and target.suffix.lower() in (".html", ".htm"):
            self._send_page(200, target)
        elif not target.exists():
            self._send_page(404, Path(self.directory) / "404.html")
        else:
            super().do_GET()

    def end_headers(self) -> None:
        """Never let the browser cache a preview response."""
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Request lines only with -v."""
        self.reporter.detail("serve: " + format % args)

    def _send_page(self, status: int, page: Path) -> None:
        """Send an HTML page with the live-reload script."""
        try:
            data = page.read_bytes()
        except OSError:
            data = b"<!doctype html><title>Not found</title><h1>Not found</h1>"
        self._send(status, "text/html; charset=utf-8", inject(data, self.live.snapshot()[0]))

    def _send(self, status: int, content_type: str, data: bytes) -> None:
        """Send a complete response."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _events(self) -> None:
        """A Server-Sent Events stream of (version, error), sent now and on every change."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        state = self.live.snapshot()
        try:
            self._event(state)
            while not self.live.closed:
                new = self.live.wait_change(state, timeout=15.0)
                if new == state:
                    self.wfile.write(b": ping\n\n")
                    self.wfile.flush()
                    continue
                state = new
                self._event(state)
        except (BrokenPipeError, ConnectionResetError):
            return

    def _event(self, state: tuple[int, str | None]) -> None:
        """Write one event."""
        data = json.dumps({"version": state[0], "error": state[1]})
        self.wfile.write(f"data: {data}\n\n".encode())
        self.wfile.flush()


def make_server(
    site: Path, live: LiveState, reporter: Reporter, host: str = "127.0.0.1", port: int = 8000
) -> http.server.ThreadingHTTPServer:
    """Bind the preview server (port 0 picks a free one); a busy port is one clear line."""
    handler = type("Handler", (PreviewHandler,), {"live": live, "reporter": reporter})
    factory = functools.partial(handler, directory=str(site))
    try:
        server = http.server.ThreadingHTTPServer((host, port), factory)
    except OSError as exc:
        raise ArchiverError(f"{host}:{port}: cannot serve ({exc.strerror}); try --port") from None
    server.daemon_threads = True
    return server
