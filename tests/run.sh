#!/usr/bin/env bash
# The whole test suite: lint, format check, types, then pytest (browser tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" -m ruff check archiver tests bench
"$PY" -m ruff format --check archiver tests bench
"$PY" -m mypy archiver
"$PY" -m pytest -q "$@"
