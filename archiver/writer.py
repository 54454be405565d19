"""Pages -> site/: a sibling temporary folder, unchanged files hard-linked, an atomic swap."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from archiver.config import Settings
from archiver.paths import safe_join

if TYPE_CHECKING:
    from archiver.render import PageSpec

BODY_OPEN, BODY_CLOSE = "\ue000", "\ue001"
"""Private-use marks around a body placeholder; the real HTML is put in after rendering."""


GENERATOR_MARK = b'<meta name="generator" content="archiver">'
"""In the head of every page the default theme renders: how a site archiver wrote is known."""


def foreign_output(output: Path, known: Callable[[], bool]) -> str | None:
    """Why a build must not replace output (None when it may): a file, or a folder holding
    files archiver did not write. known: whether the last build's manifest names this folder."""
    if not output.exists() and not output.is_symlink():
        return None
    if not output.is_dir():
        return f"the output folder {output} is a file; choose a folder"
    with os.scandir(output) as entries:
        names = sorted(entry.name for entry in entries)
    if not names or _written_by_archiver(output) or known():
        return None
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    return (
        f"the output folder {output} holds files archiver did not write ({shown}); a build "
        "replaces the whole folder, so choose a new or empty one, or move them away"
    )


def _written_by_archiver(output: Path) -> bool:
    """Whether output's home or 404 page carries archiver's generator mark."""
    for name in ("index.html", "404.html"):
        with contextlib.suppress(OSError), (output / name).open("rb") as page:
            if GENERATOR_MARK in page.read(8192):
                return True
    return False


class RenderError(Exception):
    """One page could not be rendered; the message is ``PATH: reason``."""


class SiteWriter:
    """Builds the next site in a sibling temporary folder and swaps it in at the end.

    Every path can be written once: a second claim of the same output path is refused and
    reported naming both producers, so two articles can never overwrite each other's page.
    """

    def __init__(self, output: Path, previous: Mapping[str, str]) -> None:
        output.parent.mkdir(parents=True, exist_ok=True)
        self.output = output
        self.tmp = Path(tempfile.mkdtemp(prefix=f"{output.name}.tmp-", dir=output.parent))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.tmp, 0o777 & ~umask)
        self.previous = previous if output.is_dir() else {}
        self.outputs: dict[str, str] = {}
        self.origins: dict[str, str] = {}
        self.errors: list[str] = []
        self.written = 0
        self.reused = 0
        self._dirs: set[str] = set()

    def claim(self, path: str, digest: str, origin: str) -> bool:
        """Reserve an output path; False (and an error line) if something already claimed it."""
        if path in self.origins:
            first = self.origins[path]
            self.errors.append(f"{path}: output written twice, by {first} and by {origin}")
            return False
        self.origins[path] = origin
        self.outputs[path] = digest
        return True

    def reuse(self, path: str) -> bool:
        """Hard-link the previous site's file if it was built from the same inputs."""
        digest = self.outputs[path]
        if self.previous.get(path) != digest:
            return False
        # Reused paths come from the manifest, which records only paths that went through
        # safe_join when they were first written; the temporary tree holds no symlinks.
        source, target = f"{self.output}/{path}", f"{self.tmp}/{path}"
        self._parent(path)
        try:
            os.link(source, target)
        except FileNotFoundError:
            return False
        except OSError:
            try:
                shutil.copyfile(source, target)
            except OSError:
                return False
        self.reused += 1
        return True

    def target(self, path: str) -> Path:
        """The safe location of a new output file in the temporary folder (parents created)."""
        target = safe_join(self.tmp, path)
        self._parent(path)
        return target

    def write(self, path: str, data: bytes) -> None:
        """Write a new file."""
        self.target(path).write_bytes(data)
        self.written += 1

    def copy(self, path: str, source: Path) -> None:
        """Copy a file (static asset, kept original) into the new site."""
        shutil.copyfile(source, self.target(path))
        self.written += 1

    def _parent(self, path: str) -> None:
        """Create the folder of an output path once."""
        folder = path.rpartition("/")[0]
        if folder and folder not in self._dirs:
            os.makedirs(f"{self.tmp}/{folder}", exist_ok=True)
            self._dirs.add(folder)

    def swap(self, *, background: bool = False) -> None:
        """Put the new site in place of the old one with two renames, then remove the old one.

        With background=True a detached ``rm -rf`` removes the old tree, so a large site does
        not make the build wait (a leftover is removed by the next build's clean_stale).
        """
        old: Path | None = None
        if self.output.exists() or self.output.is_symlink():
            old = self.output.with_name(f"{self.output.name}.old-{secrets.token_hex(4)}")
            os.rename(self.output, old)
        try:
            os.rename(self.tmp, self.output)
        except BaseException:
            if old is not None:
                os.rename(old, self.output)
            raise
        if old is not None:
            remove_tree(old, background=background)

    def abort(self) -> None:
        """Throw the temporary folder away; the previous site was never touched."""
        shutil.rmtree(self.tmp, ignore_errors=True)


def site_files(root: Path) -> set[str]:
    """Relative POSIX paths of every file under root (empty when root is missing)."""
    found: set[str] = set()
    prefix = len(str(root)) + 1
    for folder, _, files in os.walk(root):
        rel = folder[prefix:]
        found.update(f"{rel}/{name}" if rel else name for name in files)
    return found


def clean_stale(output: Path, *, background: bool = False) -> None:
    """Remove temporary and old site folders left behind by a killed build (or still being
    removed by an earlier build's detached ``rm``: with background=True this build does not wait
    for them either)."""
    if not output.parent.is_dir():
        return
    # Only the exact shapes of our own names (mkdtemp's and swap's): a user's "site.old-2024"
    # backup is never touched.
    ours = re.compile(rf"{re.escape(output.name)}\.(tmp-[a-z0-9_]{{8}}|old-[0-9a-f]{{8}})")
    for pattern in (f"{output.name}.tmp-*", f"{output.name}.old-*"):
        for stale in output.parent.glob(pattern):
            if ours.fullmatch(stale.name) and stale.is_dir() and not stale.is_symlink():
                remove_tree(stale, background=background)


def remove_tree(folder: Path, *, background: bool = False) -> None:
    """Remove a folder tree: now, or with background=True by a detached ``rm -rf``.

    The detached ``rm`` is started by a shell that exits at once (it is waited for), so the
    ``rm`` belongs to no process of ours: nothing is left to reap, even in a long ``serve``.
    """
    rm, sh = (shutil.which("rm"), shutil.which("sh")) if background else (None, None)
    if rm is None or sh is None:
        shutil.rmtree(folder, ignore_errors=True)
        return
    import subprocess  # here: a fast build never starts one

    subprocess.run(
        [sh, "-c", '"$1" -rf -- "$2" &', "sh", rm, str(folder)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        check=False,
    )


def body_placeholder(nonce: str, sha: str) -> str:
    """What html_of returns: a short stand-in for an article body, filled in after rendering.

    The ``<`` tells, after rendering, whether the template printed it raw (``|safe``: the body
    goes in as HTML) or escaped (a feed's ``<content type="html">``: the body goes in escaped).
    """
    return f"{BODY_OPEN}{nonce}{sha}<{BODY_CLOSE}"


def context_text(context: Mapping[str, Any]) -> str:
    """The canonical JSON text of a page's context (keys sorted): what its input digest hashes,
    where its body placeholders are found (body_pattern with text=True), and how a page that
    embeds bodies is kept for the fast path. orjson: the ~13,000 contexts of a 10,000-article
    site took 1.95 s with the json module, 0.63 s with it (profiled)."""
    return orjson.dumps(context, option=orjson.OPT_SORT_KEYS).decode("utf-8")


def body_pattern(nonce: str, *, text: bool = False) -> re.Pattern[Any]:
    """Finds body placeholders in rendered bytes (or, with text=True, in context_text)."""
    start, end = re.escape(f"{BODY_OPEN}{nonce}"), re.escape(BODY_CLOSE)
    if text:
        return re.compile(start + "([0-9a-f]{64})<" + end)
    raw = start + "([0-9a-f]{64})(<|&lt;)" + end
    return re.compile(raw.encode("utf-8"))


def _fill(match: re.Match[bytes], bodies: Mapping[str, str]) -> bytes:
    """The body HTML for one placeholder: as is, or escaped like ``{{ html|xml }}`` does."""
    from markupsafe import escape

    from archiver.render import xml_text

    html = bodies[match.group(1).decode("ascii")]
    if match.group(2) == b"<":
        return html.encode("utf-8")
    return str(escape(xml_text(html))).encode("utf-8")


class Renderer:
    """Renders page specs into the temporary folder, filling in article bodies."""

    def __init__(self, settings: Settings, root: Path, nonce: str) -> None:
        from archiver.render import make_environment

        self.env = make_environment(settings)
        self.env.bytecode_cache = _bytecode_cache(settings.state_path)
        self.root = root
        self._folders: set[Path] = set()
        """Folders made so far (one mkdir per folder, not one per page: ~0.1 ms each)."""
        self.nonce = nonce.encode("ascii")
        self.pattern = body_pattern(nonce)

    def render(self, specs: Sequence[PageSpec], bodies: Mapping[str, str]) -> list[str]:
        """Render and write each spec; returns their paths. Raises RenderError naming the page."""
        for spec in specs:
            data = self.render_bytes(spec, bodies)
            target = safe_join(self.root, spec.path)
            folder = target.parent
            if folder not in self._folders:
                folder.mkdir(parents=True, exist_ok=True)
                self._folders.add(folder)
            try:
                target.write_bytes(data)
            except FileNotFoundError:  # the folder went away since: make it again
                folder.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        return [spec.path for spec in specs]

    def render_bytes(self, spec: PageSpec, bodies: Mapping[str, str]) -> bytes:
        """One page's bytes with its article bodies filled in. Raises RenderError naming it."""
        from archiver.render import render_page

        try:
            data: bytes = self.pattern.sub(lambda m: _fill(m, bodies), render_page(self.env, spec))
        except Exception as exc:
            raise RenderError(f"{spec.path}: cannot render ({spec.template}): {exc}") from None
        if self.nonce in data:
            raise RenderError(f"{spec.path}: template {spec.template} altered an article body")
        return data


_RENDERER: list[Renderer] = []
BYTECODE_FOLDER = "template-bytecode"
BYTECODE_PATTERN = "__archiver_output_%s.cache"
"""Bytecode compiled by render._OutputCodeGenerator (it calls environment.escape_output), kept
apart from bytecode that plain Jinja compiled."""


def _bytecode_cache(state_dir: Path) -> Any:
    """Compiled templates kept in the build state (Jinja checks each against its source and
    the Python version), so a fresh process does not compile the templates it renders again."""
    from jinja2 import FileSystemBytecodeCache

    folder = state_dir / BYTECODE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return FileSystemBytecodeCache(str(folder), pattern=BYTECODE_PATTERN)


def init_worker(settings: Settings, root: Path, nonce: str) -> None:
    """Process-pool initializer: Ctrl-C is the parent's business; one renderer per worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(ImportError):
        _RENDERER.append(Renderer(settings, root, nonce))


def render_chunk(specs: Sequence[PageSpec], bodies: Mapping[str, str]) -> list[str]:
    """Worker task: render a chunk of specs with this worker's renderer."""
    return _RENDERER[0].render(specs, bodies)
