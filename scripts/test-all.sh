#!/usr/bin/env bash
# The whole suite from a fresh machine: install (scripts/install.sh), then lint, type-check and
# every test tier. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports
# The program's suite on the oldest Pulumi SDK the ranges allow (requirements-oldest.in).
.venv-oldest/bin/python -m pytest -q -p no:cacheprovider tests/infra tests/stacks
.venv/bin/python -m pytest "$@"
