#!/usr/bin/env bash
# The whole suite from a fresh machine: install (scripts/install.sh), then lint, type-check and
# every test tier. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
