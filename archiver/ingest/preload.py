"""Imported once by the ingest pool's fork server (see workers.Workers.start): the text cleaners,
the gazetteer and the shipped boilerplate rules load there once, and every worker forked from
the server starts with them, instead of each worker importing and compiling them again."""

from __future__ import annotations

import contextlib
import gc

import archiver.cli  # noqa: F401  (a worker runs the archiver script's imports: now cached)
from archiver.ingest import workers
from archiver.ingest.gazetteer import load_gazetteer
from archiver.ingest.textdump import extract_textdump  # noqa: F401

with contextlib.suppress(Exception):  # a worker loads them again itself and reports a problem
    load_gazetteer()
    workers.shipped_model()
gc.freeze()  # loaded for the life of every worker: never scanned, never copied on write
