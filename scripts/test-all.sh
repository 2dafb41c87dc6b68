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
# The program's suite on the oldest Pulumi SDK the ranges allow (requirements-oldest.in). Left
# out: what never loads the SDK in-process (the canary library, the e2e driver) and the canary
# runs, whose stand-in CLI renders the program the tests above render already (about 2.5 min).
.venv-oldest/bin/python -m pytest -q -p no:cacheprovider tests/infra tests/stacks --ignore tests/infra/canary --ignore tests/infra/e2e --ignore tests/infra/release/test_canary_run.py
.venv/bin/python -m pytest "$@"
