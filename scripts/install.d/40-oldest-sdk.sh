# shellcheck shell=bash
# .venv-oldest: the program and its suite on the oldest Pulumi SDK the ranges allow
# (requirements-oldest.in), from its hash-pinned lock; scripts/test-all.sh runs tests/infra and
# tests/stacks in it. Sourced by scripts/install.sh; a changed lock reinstalls.
stamp=".venv-oldest/.installed-$(sha256sum requirements-oldest.txt | cut -c1-16)"
if [ ! -e "$stamp" ]; then
  [ -x .venv-oldest/bin/python ] || "${PYTHON:-python3}" -m venv .venv-oldest
  .venv-oldest/bin/pip install -q --require-hashes -r requirements-oldest.txt
  rm -f .venv-oldest/.installed-*
  touch "$stamp"
fi
