#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: the project venv (.venv) and
# every step in scripts/install.d/ (system packages, tool venvs, services), in name order.
# Every venv is installed from its hash-pinned lock (--require-hashes), never from the ranges
# in the .in files (`make lock` regenerates the locks). Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
export PIP_DISABLE_PIP_VERSION_CHECK=1

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/pip install -q --require-hashes -r requirements-dev.txt

for step in scripts/install.d/*.sh; do
  [ -e "$step" ] || continue
  echo "== $step"
  # shellcheck source=/dev/null # each step is checked on its own (tests/delivery/test_shell.py)
  source "$step"
done
