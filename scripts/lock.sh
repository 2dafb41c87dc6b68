#!/usr/bin/env bash
# Regenerates the hash-pinned locks, one per venv, from their ranges (`make lock`):
#   requirements.in        -> requirements.txt         the program (.venv; `pulumi install`, deploys)
#   requirements-dev.in    -> requirements-dev.txt     .venv: runtime lock + tests and linters
#   requirements-tools.in  -> requirements-tools.txt   .venv-tools
#   policy/requirements.in -> policy/requirements.txt  policy/.venv (the CrossGuard pack)
#   requirements-oldest.in -> requirements-oldest.txt  .venv-oldest: the program's suite on the
#                                                      oldest Pulumi SDK the ranges allow
# pip-compile (pip-tools, from .venv-tools) resolves for this interpreter, CPython 3.11 on Linux,
# what CI, the deploy jobs and scripts/install.sh use, and records every file's hash.
# Existing pins are kept unless an input needs another; pass --upgrade (or -P NAME) to move them.
# Only PyPI is consulted: a machine's own pip config (extra indexes, wheel dirs, constraints)
# must not leak into a lock. tests/delivery/test_locks.py fails when a lock is out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
COMPILE=${LOCK_PIP_COMPILE:-.venv-tools/bin/pip-compile}
if [ ! -x "$COMPILE" ]; then
  echo "error: $COMPILE is missing: run scripts/install.sh first" >&2
  exit 1
fi
COMPILE=$(realpath "$COMPILE")
unset PIP_FIND_LINKS PIP_EXTRA_INDEX_URL PIP_INDEX_URL PIP_CONSTRAINT
export PIP_CONFIG_FILE=/dev/null
# The runtime lock first: the dev lock takes it as a constraint.
for source in requirements.in requirements-dev.in requirements-tools.in policy/requirements.in \
  requirements-oldest.in; do
  lock=${source%.in}.txt
  echo "== $source -> $lock"
  (cd "$(dirname "$source")" && "$COMPILE" --quiet --no-config \
    --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
    --index-url https://pypi.org/simple --output-file "$(basename "$lock")" "$@" "$(basename "$source")")
done
